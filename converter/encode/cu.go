package encode

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/dwarf"
	"github.com/rules-btf/rules_btf/converter/elfobj"
	"github.com/rules-btf/rules_btf/converter/shard"
	"github.com/rules-btf/rules_btf/internal/hugepage"
)

// node is what the encoder keeps of one DIE. It holds no pointers (strings are
// texts, sections indexes), so that the garbage collector never scans the node
// tables: tens of megabytes per encoder, reserved for the largest CU and mostly
// untouched, which a scan would read (faulting in every page) at every
// collection, and which a pooled table would otherwise have to clear of
// references between uses.
type node struct {
	off    uint64
	tag    dwarf.Tag
	parent int32 // node index of the DIE's parent, -1 if the parent is not recorded
	child  int32 // first recorded child, -1 if none
	last   int32 // last recorded child
	next   int32 // next recorded sibling
	depth  int32

	name   text
	typ    uint64 // DW_AT_type target offset, 0 if none
	origin uint64 // DW_AT_abstract_origin
	spec   uint64 // DW_AT_specification
	annot  uint64 // DW_AT_GNU_annotation: first DW_TAG_GNU_annotation of the DIE's chain (Compat132 only)

	size uint64
	// aux holds the fields only one kind of DIE has, by tag (the methods of
	// the same names read them):
	//
	//	member, inheritance: bitSize, bitOffset, dataBitOffset, memberLoc
	//	enumerator: constVal
	//	subrange: count (of elements)
	//	subprogram: lowPC
	//	variable: addr, section (encoder.sections index + 1; 0: none)
	//	annotation: value (DW_AT_const_value string)
	aux      [4]uint64
	encoding uint8
	inline   uint8
	// regSmall and regBig are the register a formal parameter of a subprogram
	// is in on entry, as pahole's parameter__decode_location finds it for a
	// parameter of at most one word and for a bigger one (noReg if none);
	// paramInfo picks one by the parameter's type size.
	regSmall, regBig int8

	flags uint32
	id    btf.TypeID // CU-local ID of a type node, 0 if none
}

const (
	fSize uint32 = 1 << iota
	fBitSize
	fBitOffset
	fDataBitOffset
	fMemberLoc
	fDecl
	fExternal
	fLowPC
	fLocation
	fAddr
	fConst
	fNoCall
	fTypeTag // an annotation node encoded as TYPE_TAG
	fDeclTag // an annotation node that is a btf_decl_tag
	fHasName // DW_AT_name present
	fArtificial
	fChain // a pointer's copy of one entry of its DW_AT_GNU_annotation chain, encoded as TYPE_TAG
	fDim   // a subrange of a multi-dimensional array encoded as its own ARRAY (Compat132)
)

// text is a string of a DIE by position: in .debug_str or .debug_line_str at
// off (dwarf.StrSecStr, StrSecLineStr), or the encoder's interned inline string
// number off (dwarf.StrSecInfo). encoder.text and encoder.s convert.
type text struct {
	off uint64
	n   uint32
	sec uint8
}

// Indexes of node.aux.
const (
	auxBitSize, auxBitOffset, auxDataBitOffset, auxMemberLoc = 0, 1, 2, 3
	auxConstVal, auxCount, auxLowPC                          = 0, 0, 0
	auxAddr, auxSection                                      = 0, 1
	auxValueOff, auxValueLen                                 = 0, 1 // text.off; text.n | text.sec<<32
)

func (n *node) bitSize() uint64       { return n.aux[auxBitSize] }
func (n *node) bitOffset() uint64     { return n.aux[auxBitOffset] }
func (n *node) dataBitOffset() uint64 { return n.aux[auxDataBitOffset] }
func (n *node) memberLoc() uint64     { return n.aux[auxMemberLoc] }
func (n *node) constVal() uint64      { return n.aux[auxConstVal] }
func (n *node) count() uint32         { return uint32(n.aux[auxCount]) }
func (n *node) lowPC() uint64         { return n.aux[auxLowPC] }
func (n *node) addr() uint64          { return n.aux[auxAddr] }
func (n *node) section() uint32       { return uint32(n.aux[auxSection]) }

func (n *node) value() text {
	v := n.aux[auxValueLen]
	return text{off: n.aux[auxValueOff], n: uint32(v), sec: uint8(v >> 32)}
}

func (n *node) setValue(t text) {
	n.aux[auxValueOff], n.aux[auxValueLen] = t.off, uint64(t.n)|uint64(t.sec)<<32
}

// noReg is a regSmall or regBig that is not known.
const noReg int8 = -1

type encoder struct {
	file    *elfobj.File
	data    *dwarf.Data
	sec     *elfobj.DWARF
	opts    Options
	excl    map[uint64]bool
	rd      *dwarf.Reader
	inline  map[string]uint32 // interned inline strings (str): index in inlines
	inlines []string
	// sections are the names of the sections variables are in (node.section).
	sections   []string
	sectionIdx map[string]uint32
	shard      *shard.Shard
	relocED    bool

	unitOff uint64 // the unit being read, for errors
	u       *dwarf.Unit
	base    uint64 // the group's units span .debug_info [base, end)
	end     uint64
	chains  bool // order holds GNU type tag markers
	abi     abi
	clang   bool // the unit's DW_AT_producer names clang
	cu      uint32
	*buffers
}

// bytesPerNode is about the fewest bytes of .debug_info a recorded DIE takes
// in kernel builds: 11 to 13 on average over vmlinux and its modules, never
// below 7 for a whole CU. Capacity reserved by it and not used is never
// touched, so costs no memory.
const bytesPerNode = 8

// buffers are an encoder's per-CU working memory. They grow to the largest CU
// seen and are reused, across CUs and across Encode calls (pooled), so that the
// ranges of one file do not each grow them again from nothing.
type buffers struct {
	nodes   []node
	order   []int32 // type nodes in pahole's table order; -1-i: the GNU type tags of pointer i (expandChains)
	scratch []int32
	ops     []dwarf.Op
	params  []paramInfo  // by node index: formal parameters of subprograms (analyzeParams)
	offIdx  []int32      // DIE offset - base -> node index + 1; all zero between CUs
	mbuf    []btf.Member // the members of the type being built (takeMembers)
}

// pooled holds the buffers of finished Encode calls for the next ones. It is a
// list, not a sync.Pool, so that ReleaseBuffers can empty it when the caller
// knows no Encode follows soon.
var pooled struct {
	sync.Mutex
	free []*buffers
}

func getBuffers() *buffers {
	pooled.Lock()
	defer pooled.Unlock()
	if n := len(pooled.free); n > 0 {
		b := pooled.free[n-1]
		pooled.free = pooled.free[:n-1]
		return b
	}
	return new(buffers)
}

// release returns b to the pool, without the names its members refer to (they
// may alias the string sections of a file the caller will close).
func (b *buffers) release() {
	clear(b.mbuf[:cap(b.mbuf)])
	b.nodes, b.mbuf = b.nodes[:0], b.mbuf[:0]
	pooled.Lock()
	pooled.free = append(pooled.free, b)
	pooled.Unlock()
}

// ReleaseBuffers drops the working memory that Encode keeps for later calls:
// node tables as large as the largest CU converted, tens of megabytes for a
// vmlinux. Call it when no Encode follows soon, for the garbage collector to
// free that memory for other uses (such as the merge of the shards).
func ReleaseBuffers() {
	pooled.Lock()
	defer pooled.Unlock()
	clear(pooled.free)
	pooled.free = pooled.free[:0]
}

func (e *encoder) errf(off uint64, format string, args ...any) error {
	return &dwarf.DecodeError{Unit: e.unitOff, Offset: off, Err: fmt.Errorf(format, args...)}
}

// str returns the string ref names. Strings in .debug_str and .debug_line_str
// alias the section (which elfobj keeps in Go memory for this): no allocation and
// no look-up for the millions of names of a vmlinux-sized input, as pahole's
// char pointers into libdw's data. Inline strings (DW_FORM_string, in
// .debug_info, which stays mapped) are copied, and interned by content.
func (e *encoder) str(ref dwarf.StrRef) (string, error) {
	t, err := e.text(ref)
	if err != nil {
		return "", err
	}
	return e.s(t), nil
}

// text checks the string ref names and returns it as a text, interning an
// inline string.
func (e *encoder) text(ref dwarf.StrRef) (text, error) {
	b, err := e.data.Str(ref)
	if err != nil || len(b) == 0 {
		return text{}, err
	}
	if ref.Sec == dwarf.StrSecStr || ref.Sec == dwarf.StrSecLineStr {
		return text{off: ref.Off, n: uint32(len(b)), sec: ref.Sec}, nil
	}
	i, ok := e.inline[string(b)]
	if !ok {
		i = uint32(len(e.inlines))
		s := string(b)
		e.inlines = append(e.inlines, s)
		e.inline[s] = i
	}
	return text{off: uint64(i), n: uint32(len(b)), sec: dwarf.StrSecInfo}, nil
}

// s returns the string t stands for: see str.
func (e *encoder) s(t text) string {
	if t.n == 0 {
		return ""
	}
	var sec []byte
	switch t.sec {
	case dwarf.StrSecStr:
		sec = e.data.Sections().Str
	case dwarf.StrSecLineStr:
		sec = e.data.Sections().LineStr
	default:
		return e.inlines[t.off]
	}
	return unsafe.String(&sec[t.off], int(t.n))
}

func (e *encoder) attrString(ent *dwarf.Entry, a dwarf.Attr) (string, bool, error) {
	t, ok, err := e.attrText(ent, a)
	return e.s(t), ok, err
}

func (e *encoder) attrText(ent *dwarf.Entry, a dwarf.Attr) (text, bool, error) {
	ref, ok, err := e.rd.StringRef(ent, a)
	if !ok || err != nil {
		return text{}, false, err
	}
	t, err := e.text(ref)
	if err != nil {
		return text{}, false, e.errf(ent.Offset, "%w", err)
	}
	return t, true, nil
}

// section returns the node.section of the section named name ("": none).
func (e *encoder) section(name string) uint32 {
	if name == "" {
		return 0
	}
	i, ok := e.sectionIdx[name]
	if !ok {
		e.sections = append(e.sections, name)
		i = uint32(len(e.sections))
		e.sectionIdx[name] = i
	}
	return i
}

// sectionName is the name of node.section i.
func (e *encoder) sectionName(i uint32) string {
	if i == 0 {
		return ""
	}
	return e.sections[i-1]
}

// recorded reports whether DIEs with this tag become nodes.
func recorded(t dwarf.Tag) bool {
	switch t {
	case dwarf.TagBaseType, dwarf.TagPointerType, dwarf.TagReferenceType, dwarf.TagRvalueReferenceType,
		dwarf.TagPtrToMemberType, dwarf.TagConstType, dwarf.TagVolatileType, dwarf.TagRestrictType,
		dwarf.TagAtomicType, dwarf.TagTypedef, dwarf.TagStructType, dwarf.TagUnionType,
		dwarf.TagClassType, dwarf.TagInterfaceType, dwarf.TagEnumerationType, dwarf.TagArrayType,
		dwarf.TagSubroutineType, dwarf.TagUnspecifiedType, dwarf.TagStringType,
		dwarf.TagMember, 0x1c /* DW_TAG_inheritance */, dwarf.TagEnumerator, dwarf.TagSubrangeType,
		dwarf.TagFormalParameter, dwarf.TagUnspecifiedParameters, dwarf.TagLLVMAnnotation,
		dwarf.TagGNUAnnotation, dwarf.TagSubprogram, dwarf.TagVariable:
		return true
	}
	return false
}

// isTypeTag reports whether a node with this tag gets a type table entry.
func isTypeTag(t dwarf.Tag) bool {
	switch t {
	case dwarf.TagBaseType, dwarf.TagPointerType, dwarf.TagReferenceType, dwarf.TagRvalueReferenceType,
		dwarf.TagPtrToMemberType, dwarf.TagConstType, dwarf.TagVolatileType, dwarf.TagRestrictType,
		dwarf.TagTypedef, dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagClassType,
		dwarf.TagInterfaceType, dwarf.TagEnumerationType, dwarf.TagArrayType, dwarf.TagSubroutineType,
		dwarf.TagStringType:
		return true
	}
	return false
}

// group encodes units as one CU and appends it to the shard: a single unit,
// or with merged every unit of a file with cross-unit references (lto.go).
func (e *encoder) group(units []dwarf.Unit, merged bool) error {
	e.base, e.end = units[0].Offset, units[len(units)-1].End
	defer e.clearOffsets()
	e.nodes = e.nodes[:0]
	e.reserve(e.end - e.base)
	e.offIdx = e.offIdx[:e.end-e.base]
	e.order = e.order[:0]
	e.chains = false
	name := ""
	kept := 0
	for i := range units {
		u := &units[i]
		cu, keep, err := e.unit(u, i == 0, merged)
		if err != nil {
			return err
		}
		if i == 0 {
			if !keep {
				return nil // pahole drops the whole (merged) CU by its first unit's language
			}
			if !merged {
				name = cu
			}
		}
		if keep {
			kept++
		}
	}
	e.cu = uint32(len(e.shard.CUs))
	e.shard.CUs = append(e.shard.CUs, shard.CU{Name: name, Offset: e.base})
	err := e.emit()
	e.shard.CUs[e.cu].TypesEnd = e.shard.Types.NextID()
	return err
}

// reserve makes room for the nodes and the offset index of a group spanning
// span bytes of .debug_info. Encode reserves for its largest group first, so
// that the tables are allocated once, not again (and the smaller ones left as
// garbage) for each larger CU met. Reserving up front also spares growing by
// appending, which would copy the nodes (and fault in their pages) about twice
// over, in a copy that cannot be preempted and stalls the GC's stack scan.
func (b *buffers) reserve(span uint64) {
	if est := int(span/bytesPerNode) + 64; cap(b.nodes) < est {
		b.nodes = hugepage.Make[node](0, est)
	}
	if need := int(span); cap(b.offIdx) < need {
		b.offIdx = hugepage.Make[int32](need, need)
	}
}

// unit records the nodes of one unit of a group. It returns the unit's name,
// and whether its DIEs were kept: units of excluded languages are not (the
// whole group when it is the first unit), and neither are partial units
// outside a merged group, which pahole skips.
func (e *encoder) unit(u *dwarf.Unit, first, merged bool) (string, bool, error) {
	e.u, e.unitOff = u, u.Offset
	switch {
	case u.UnitType == dwarf.UTCompile:
	case u.UnitType == dwarf.UTPartial && merged:
	case u.UnitType == dwarf.UTPartial:
		return "", false, nil
	default:
		return "", false, e.errf(u.Offset, "%w: unit type %#x (type units, split DWARF) not supported", ErrUnsupported, u.UnitType)
	}
	if err := e.rd.Reset(u); err != nil {
		return "", false, err
	}
	var ent dwarf.Entry
	ok, err := e.rd.Next(&ent)
	if err != nil {
		return "", false, err
	}
	if !ok || ent.Tag == 0 {
		return "", !first, nil
	}
	switch {
	case ent.Tag == dwarf.TagCompileUnit:
	case ent.Tag == dwarf.TagPartialUnit && merged:
	case ent.Tag == dwarf.TagPartialUnit: // DWARF 4 partial units (dwz)
		return "", false, nil
	default:
		return "", false, e.errf(ent.Offset, "unit's first DIE is %v, not a compile unit", ent.Tag)
	}
	if e.excl[ent.Val(dwarf.AttrLanguage)] && (first || e.opts.Compat != Compat124) {
		return "", false, nil
	}
	cuName, _, err := e.attrString(&ent, dwarf.AttrName)
	if err != nil {
		return "", false, err
	}
	if first {
		producer, _, err := e.attrString(&ent, dwarf.AttrProducer)
		if err != nil {
			return "", false, err
		}
		e.clang = strings.Contains(producer, "clang")
	}
	if !ent.Children {
		return cuName, true, nil
	}

	// stack holds, per open DIE with children, its node index (or -1).
	stack := make([]int32, 0, 32)
	stack = append(stack, -1)
	for len(stack) > 0 {
		ok, err := e.rd.Next(&ent)
		if err != nil {
			return "", false, err
		}
		if !ok {
			return "", false, e.errf(e.rd.Offset(), "children of the unit DIE run past the end of the unit")
		}
		if ent.Tag == 0 {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top >= 0 {
				e.close(top)
			}
			continue
		}
		parent := stack[len(stack)-1]
		idx := int32(-1)
		if recorded(ent.Tag) { // not DW_TAG_imported_unit: see lto.go
			idx, err = e.record(&ent, parent, int32(len(stack)))
			if err != nil {
				return "", false, err
			}
		}
		if ent.Children {
			stack = append(stack, idx)
		} else if idx >= 0 {
			e.close(idx)
		}
	}
	return cuName, true, nil
}

func (e *encoder) clearOffsets() {
	for i := range e.nodes {
		e.offIdx[e.nodes[i].off-e.base] = 0
	}
}

// record appends the node of DIE ent.
func (e *encoder) record(ent *dwarf.Entry, parent, depth int32) (int32, error) {
	idx := int32(len(e.nodes))
	e.nodes = append(e.nodes, node{off: ent.Offset, tag: ent.Tag, parent: parent, child: -1, last: -1, next: -1, depth: depth, regSmall: noReg, regBig: noReg})
	n := &e.nodes[idx]
	e.offIdx[ent.Offset-e.base] = idx + 1
	if parent >= 0 {
		p := &e.nodes[parent]
		if p.child < 0 {
			p.child = idx
		} else {
			e.nodes[p.last].next = idx
		}
		p.last = idx
	}
	if ent.Has(dwarf.AttrName) {
		t, _, err := e.attrText(ent, dwarf.AttrName)
		if err != nil {
			return 0, err
		}
		n.name = t
		n.flags |= fHasName
	}
	ref := func(a dwarf.Attr) (uint64, error) {
		if !ent.Has(a) {
			return 0, nil
		}
		off, ok := ent.Ref(a)
		if !ok {
			return 0, e.errf(ent.Offset, "%w: %v attribute DW_AT_%#x of form %v (type units or supplementary files)", ErrUnsupported, ent.Tag, a.ATCode(), ent.Form(a))
		}
		if off < e.base || off >= e.end {
			// Only DW_FORM_ref_addr leaves a unit, and files that use it are
			// encoded as one group (lto.go), unless a Linux LTO note says
			// otherwise; pahole then fails to resolve such references silently.
			return 0, e.errf(ent.Offset, "%w: %v refers to DIE %#x outside its units, yet the file's units are encoded apart (its Linux LTO note says it is no LTO build)", dwarf.ErrFormat, ent.Tag, off)
		}
		return off, nil
	}
	var err error
	if n.typ, err = ref(dwarf.AttrType); err != nil {
		return 0, err
	}
	if n.origin, err = ref(dwarf.AttrAbstractOrigin); err != nil {
		return 0, err
	}
	if n.spec, err = ref(dwarf.AttrSpecification); err != nil {
		return 0, err
	}
	if e.gnu() {
		if n.annot, err = ref(dwarf.AttrGNUAnnotation); err != nil {
			return 0, err
		}
	}
	if ent.Has(dwarf.AttrByteSize) {
		n.size, n.flags = ent.Val(dwarf.AttrByteSize), n.flags|fSize
	}
	if ent.Has(dwarf.AttrDeclaration) && ent.Flag(dwarf.AttrDeclaration) {
		n.flags |= fDecl
	}
	if ent.Flag(dwarf.AttrExternal) {
		n.flags |= fExternal
	}
	switch ent.Tag {
	case dwarf.TagBaseType:
		n.encoding = uint8(ent.Val(dwarf.AttrEncoding))
	case dwarf.TagMember, 0x1c:
		if ent.Has(dwarf.AttrBitSize) {
			n.aux[auxBitSize], n.flags = ent.Val(dwarf.AttrBitSize), n.flags|fBitSize
		}
		if ent.Has(dwarf.AttrBitOffset) {
			n.aux[auxBitOffset], n.flags = ent.Val(dwarf.AttrBitOffset), n.flags|fBitOffset
		}
		if ent.Has(dwarf.AttrDataBitOffset) {
			n.aux[auxDataBitOffset], n.flags = ent.Val(dwarf.AttrDataBitOffset), n.flags|fDataBitOffset
		}
		if ent.Has(dwarf.AttrDataMemberLocation) {
			v, ok := e.memberLocation(ent)
			if ok {
				n.aux[auxMemberLoc], n.flags = v, n.flags|fMemberLoc
			}
		}
	case dwarf.TagEnumerator:
		n.aux[auxConstVal] = ent.Val(dwarf.AttrConstValue)
	case dwarf.TagSubrangeType:
		n.aux[auxCount] = uint64(subrangeCount(ent))
	case dwarf.TagLLVMAnnotation, dwarf.TagGNUAnnotation:
		if ent.Has(dwarf.AttrConstValue) && ent.Form(dwarf.AttrConstValue).IsString() {
			t, _, err := e.attrText(ent, dwarf.AttrConstValue)
			if err != nil {
				return 0, err
			}
			n.setValue(t)
		}
	case dwarf.TagSubprogram:
		n.inline = uint8(ent.Val(dwarf.AttrInline))
		if ent.Has(dwarf.AttrLowPC) {
			v, _, _, err := e.rd.Addr(ent, dwarf.AttrLowPC)
			if err != nil {
				return 0, err
			}
			n.aux[auxLowPC], n.flags = v, n.flags|fLowPC
		} else if ent.Has(dwarf.AttrRanges) || ent.Has(dwarf.AttrEntryPC) {
			n.flags |= fLowPC
		}
		if ent.Val(dwarf.AttrCallingConvention) == 5 { // DW_CC_nocall: GCC changed the ABI
			n.flags |= fNoCall
		}
	case dwarf.TagFormalParameter:
		if ent.Has(dwarf.AttrLocation) {
			n.flags |= fLocation
			if parent >= 0 && e.nodes[parent].tag == dwarf.TagSubprogram {
				if err := e.paramRegs(ent, n); err != nil {
					return 0, err
				}
			}
		}
		if ent.Has(dwarf.AttrConstValue) {
			n.flags |= fConst
		}
		if ent.Flag(dwarf.AttrArtificial) {
			n.flags |= fArtificial
		}
	case dwarf.TagVariable:
		if ent.Has(dwarf.AttrArtificial) { // pahole: dwarf_hasattr, whatever the value
			n.flags |= fArtificial
		}
		if ent.Has(dwarf.AttrLocation) {
			n.flags |= fLocation
			if err := e.varAddr(ent, n); err != nil {
				return 0, err
			}
		}
	}
	return idx, nil
}

// paramRegs records where a parameter of a subprogram is on entry, as pahole
// 1.32's parameter__decode_location decodes DW_AT_location (the first register
// found wins; loc_num counts list entries, empty ones included):
//
//   - an expression of one operation (after dropping a trailing
//     DW_OP_stack_value from a two-operation one): DW_OP_regN in the first
//     entry; DW_OP_bregN in the first entry if it was followed by
//     DW_OP_stack_value; DW_OP_entry_value (or GNU_entry_value) of a single
//     DW_OP_regN in any entry;
//   - a longer expression that does not start with a constant (DW_OP_litN,
//     constu, consts): for a parameter of at most a word, DW_OP_regN or
//     (with a DW_OP_stack_value anywhere after it) DW_OP_bregN as the first
//     operation of the first entry; for a bigger one (an aggregate passed in
//     two registers) any DW_OP_regN among the operations, in any entry.
//
// Expressions libdw cannot decode end the list, as they end pahole's loop.
func (e *encoder) paramRegs(ent *dwarf.Entry, n *node) error {
	locNum := -1
	setSmall := func(r int8) {
		if n.regSmall == noReg {
			n.regSmall = r
		}
	}
	setBig := func(r int8) {
		if n.regBig == noReg {
			n.regBig = r
		}
	}
	isReg := func(c uint8) bool { return c >= dwarf.OpReg0 && c <= dwarf.OpReg31 }
	isBreg := func(c uint8) bool { return c >= dwarf.OpBreg0 && c <= dwarf.OpBreg31 }
	var decodeErr error
	err := e.rd.Locations(ent, dwarf.AttrLocation, func(expr []byte) bool {
		locNum++
		ops, err := e.rd.Ops(expr, e.ops[:0])
		e.ops = ops[:0]
		if err != nil {
			decodeErr = err
			return false
		}
		if len(ops) == 0 {
			return true
		}
		stackValue := ops[len(ops)-1].Code == dwarf.OpStackValue
		if len(ops) == 2 && stackValue {
			ops = ops[:1]
		}
		first := ops[0].Code
		if len(ops) == 1 {
			var r int8 = noReg
			switch {
			case isReg(first):
				if locNum == 0 {
					r = int8(first - dwarf.OpReg0)
				}
			case isBreg(first):
				if locNum == 0 && stackValue {
					r = int8(first - dwarf.OpBreg0)
				}
			case first == dwarf.OpEntryValue || first == dwarf.OpGNUEntryValue:
				sub, err := e.rd.Ops(ops[0].Block, nil)
				if err == nil && len(sub) == 1 && isReg(sub[0].Code) {
					r = int8(sub[0].Code - dwarf.OpReg0)
				}
			}
			if r != noReg {
				setSmall(r)
				setBig(r)
			}
			return true
		}
		if first >= dwarf.OpLit0 && first <= dwarf.OpLit31 || first == dwarf.OpConstu || first == dwarf.OpConsts {
			return true
		}
		if locNum == 0 {
			switch {
			case isReg(first):
				setSmall(int8(first - dwarf.OpReg0))
			case isBreg(first):
				for _, o := range ops[1:] {
					if o.Code == dwarf.OpStackValue {
						setSmall(int8(first - dwarf.OpBreg0))
						break
					}
				}
			}
		}
		for _, o := range ops {
			if isReg(o.Code) {
				setBig(int8(o.Code - dwarf.OpReg0))
				break
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if decodeErr != nil {
		// libdw fails on the list and pahole stops reading it: keep what was found.
		return nil
	}
	return nil
}

// memberLocation decodes DW_AT_data_member_location: a constant, or (DWARF 2/3)
// an expression DW_OP_plus_uconst N.
func (e *encoder) memberLocation(ent *dwarf.Entry) (uint64, bool) {
	f := ent.Form(dwarf.AttrDataMemberLocation)
	if f.IsBlock() {
		b := e.rd.Block(ent, dwarf.AttrDataMemberLocation)
		if len(b) > 1 && b[0] == dwarf.OpPlusUconst {
			v, n := dwarf.ULEB128(b[1:])
			if n > 0 {
				return v, true
			}
		}
		return 0, false
	}
	if f == dwarf.FormSecOffset || f == dwarf.FormLoclistx {
		return 0, false
	}
	return ent.Val(dwarf.AttrDataMemberLocation), true
}

// subrangeCount is pahole's attr_upper_bound: upper_bound + 1, or count, when
// they are constants (dwarf_formudata succeeds); 0 otherwise (flexible and
// variable-length arrays). The result is truncated to 32 bits like pahole's
// nr_entries.
func subrangeCount(ent *dwarf.Entry) uint32 {
	isConst := func(f dwarf.Form) bool {
		switch f {
		case dwarf.FormData1, dwarf.FormData2, dwarf.FormData4, dwarf.FormData8,
			dwarf.FormUdata, dwarf.FormSdata, dwarf.FormImplicitConst:
			return true
		}
		return false
	}
	if ent.Has(dwarf.AttrUpperBound) {
		if isConst(ent.Form(dwarf.AttrUpperBound)) {
			return uint32(ent.Val(dwarf.AttrUpperBound) + 1)
		}
		return 0
	}
	if ent.Has(dwarf.AttrCount) && isConst(ent.Form(dwarf.AttrCount)) {
		return uint32(ent.Val(dwarf.AttrCount))
	}
	return 0
}

// varAddr records a variable's static address, as pahole's dwarf__location
// finds it: a location expression (not a list) whose first operation is
// DW_OP_addr or DW_OP_addrx gives the address, whatever follows (clang's
// "DW_OP_addrx; DW_OP_piece" for a global it split, GCC's "DW_OP_addr;
// DW_OP_stack_value" for a constant address). pahole 1.32 adds the operand of
// a DW_OP_plus_uconst that is the second and last operation; 1.24 does not.
// The section the address is in is recorded too.
func (e *encoder) varAddr(ent *dwarf.Entry, n *node) error {
	if !ent.Form(dwarf.AttrLocation).IsBlock() {
		return nil // a location list: not static
	}
	b := e.rd.Block(ent, dwarf.AttrLocation)
	if len(b) == 0 {
		return nil
	}
	asz := int(e.u.AddrSize)
	var rest []byte
	switch b[0] {
	case dwarf.OpAddr:
		if len(b) < 1+asz {
			return nil
		}
		var v uint64
		if asz == 8 {
			v = e.sec.ByteOrder.Uint64(b[1:])
		} else {
			v = uint64(e.sec.ByteOrder.Uint32(b[1:]))
		}
		n.aux[auxAddr], n.flags = v, n.flags|fAddr
		if e.relocED {
			// The operand's offset in .debug_info: the block starts at Val.
			n.aux[auxSection] = uint64(e.section(e.sec.InfoSection(ent.Val(dwarf.AttrLocation) + 1)))
		}
		rest = b[1+asz:]
	case dwarf.OpAddrx, dwarf.OpGNUAddrIdx:
		idx, k := dwarf.ULEB128(b[1:])
		if k == 0 {
			return nil
		}
		v, at, err := e.rd.AddrIndex(ent.Offset, idx)
		if err != nil {
			return err
		}
		n.aux[auxAddr], n.flags = v, n.flags|fAddr
		if e.relocED {
			n.aux[auxSection] = uint64(e.section(e.sec.AddrSection(at)))
		}
		rest = b[1+k:]
	default:
		return nil
	}
	if e.opts.Compat != Compat124 && len(rest) > 1 && rest[0] == dwarf.OpPlusUconst {
		if v, k := dwarf.ULEB128(rest[1:]); k > 0 && 1+k == len(rest) {
			n.aux[auxAddr] += v
		}
	}
	if !e.relocED {
		n.aux[auxSection] = uint64(e.section(e.file.SectionAt(n.addr())))
	}
	return nil
}

// gnu reports whether GCC's DW_TAG_GNU_annotation and DW_AT_GNU_annotation
// count: pahole 1.32 reads them, 1.24 (and everything before 1.32) ignores them.
func (e *encoder) gnu() bool { return e.opts.Compat != Compat124 }

// isAnnotation reports whether a child DIE with tag t is an annotation of its
// parent: DW_TAG_LLVM_annotation, and with pahole 1.32 DW_TAG_GNU_annotation too.
func (e *encoder) isAnnotation(t dwarf.Tag) bool {
	return t == dwarf.TagLLVMAnnotation || (t == dwarf.TagGNUAnnotation && e.gnu())
}

// close is called when the subtree of node i is complete: type nodes take
// their place in the type table.
func (e *encoder) close(i int32) {
	n := &e.nodes[i]
	switch {
	case isTypeTag(n.tag):
		if n.tag == dwarf.TagPointerType && n.annot != 0 && e.opts.Features&FeatureTypeTag != 0 && !e.hasTypeTags(n) {
			// GCC: the pointer's btf_type_tags are a chain of DW_TAG_GNU_annotation
			// DIEs, possibly further on in the unit. pahole gives them IDs just
			// before the pointer's; expandChains puts them here.
			e.order = append(e.order, -1-i)
			e.chains = true
		}
		if n.tag == dwarf.TagArrayType && e.opts.Compat != Compat124 {
			e.nestDims(i)
		}
		e.order = append(e.order, i)
	case e.isAnnotation(n.tag) && n.parent >= 0:
		p := &e.nodes[n.parent]
		switch e.s(n.name) {
		case "btf_type_tag":
			if p.tag == dwarf.TagPointerType && e.opts.Features&FeatureTypeTag != 0 {
				n.flags |= fTypeTag
				e.order = append(e.order, i)
			}
		case "btf_decl_tag":
			if e.opts.Features&FeatureDeclTag != 0 {
				n.flags |= fDeclTag
			}
		}
	}
}

// nestDims gives each dimension but the first of multi-dimensional array i its
// own place in the type order, innermost first, just before the array: pahole
// 1.32 encodes int a[2][3] as ARRAY[2] of ARRAY[3] of int, where 1.24 (and
// Compat124) flattens it into one ARRAY[6] of int.
func (e *encoder) nestDims(i int32) {
	start := len(e.order)
	first := true
	for c := e.nodes[i].child; c >= 0; c = e.nodes[c].next {
		if e.nodes[c].tag != dwarf.TagSubrangeType {
			continue
		}
		if first {
			first = false
			continue
		}
		e.nodes[c].flags |= fDim
		e.order = append(e.order, c)
	}
	slices.Reverse(e.order[start:])
}

// hasTypeTags reports whether pointer n has btf_type_tag annotation children.
func (e *encoder) hasTypeTags(n *node) bool {
	for c := n.child; c >= 0; c = e.nodes[c].next {
		if e.nodes[c].flags&fTypeTag != 0 {
			return true
		}
	}
	return false
}

// gnuChain appends to buf the nodes of the DW_AT_GNU_annotation chain that
// starts at DIE offset off (the attribute of the DIE at from), in chain order.
// Like pahole, it follows DW_AT_GNU_annotation from one DW_TAG_GNU_annotation
// DIE to the next and stops at the first reference to anything else.
func (e *encoder) gnuChain(from, off uint64, buf []int32) ([]int32, error) {
	for steps := 0; off != 0; steps++ {
		if steps > len(e.nodes) {
			return buf, e.errf(from, "%w: the DW_AT_GNU_annotation chain never ends", dwarf.ErrFormat)
		}
		k := e.offIdx[off-e.base]
		if k == 0 || e.nodes[k-1].tag != dwarf.TagGNUAnnotation {
			break
		}
		buf = append(buf, k-1)
		off = e.nodes[k-1].annot
	}
	return buf, nil
}

// expandChains replaces the markers close left in the type order by copies of
// the pointers' btf_type_tag chains, as pahole 1.32's
// die__create_new_pointer_tag does: one TYPE_TAG per chain entry and pointer
// (GCC shares annotation DIEs between types), in chain order, up to the first
// entry that is not a btf_type_tag. The copies become children of the pointer
// flagged fChain; pointee and tagTarget link them.
func (e *encoder) expandChains() error {
	order := make([]int32, 0, len(e.order)+8)
	for _, i := range e.order {
		if i >= 0 {
			order = append(order, i)
			continue
		}
		p := -1 - i
		var err error
		e.scratch, err = e.gnuChain(e.nodes[p].off, e.nodes[p].annot, e.scratch[:0])
		if err != nil {
			return err
		}
		for _, a := range e.scratch {
			an := e.nodes[a]
			if e.s(an.name) != "btf_type_tag" {
				break
			}
			k := int32(len(e.nodes))
			e.nodes = append(e.nodes, node{
				off: an.off, tag: dwarf.TagGNUAnnotation, parent: p, child: -1, last: -1, next: -1,
				depth: e.nodes[p].depth + 1, name: an.name, aux: an.aux, flags: fTypeTag | fChain,
			})
			pn := &e.nodes[p]
			if pn.child < 0 {
				pn.child = k
			} else {
				e.nodes[pn.last].next = k
			}
			pn.last = k
			order = append(order, k)
		}
	}
	e.order = order
	e.chains = false
	return nil
}
