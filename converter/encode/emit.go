package encode

import (
	"encoding/binary"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/dwarf"
	"github.com/rules-btf/rules_btf/converter/shard"
)

const sanitizedIntName = "__SANITIZED_FAKE_INT__"

// resolve returns the CU-local type ID a DW_AT_type offset stands for: the
// type's ID; void for absent or unknown targets and for DW_TAG_unspecified_type;
// the qualified type for DW_TAG_atomic_type (BTF has no atomic qualifier; clang
// drops it too), or void with Compat124.
func (e *encoder) resolve(off uint64) btf.TypeID {
	for hops := 0; off != 0 && hops < 32; hops++ {
		k := e.offIdx[off-e.base]
		if k == 0 {
			return 0
		}
		n := &e.nodes[k-1]
		switch {
		case n.id != 0:
			return n.id
		case n.tag == dwarf.TagAtomicType && e.opts.Compat != Compat124:
			off = n.typ
		default:
			return 0
		}
	}
	return 0
}

func (e *encoder) node(off uint64) *node {
	if off == 0 {
		return nil
	}
	k := e.offIdx[off-e.base]
	if k == 0 {
		return nil
	}
	return &e.nodes[k-1]
}

// typeSize is pahole's tag__size after stripping typedefs and qualifiers: the
// byte size of the type a bitfield member is declared with.
func (e *encoder) typeSize(off uint64) uint64 {
	for hops := 0; hops < 32; hops++ {
		n := e.node(off)
		if n == nil {
			return 0
		}
		switch n.tag {
		case dwarf.TagTypedef, dwarf.TagConstType, dwarf.TagVolatileType, dwarf.TagRestrictType, dwarf.TagAtomicType:
			off = n.typ
			continue
		case dwarf.TagPointerType, dwarf.TagReferenceType, dwarf.TagRvalueReferenceType:
			return uint64(e.u.AddrSize)
		case dwarf.TagEnumerationType:
			if n.size == 0 {
				return 4
			}
		}
		return n.size
	}
	return 0
}

// emit numbers the CU's type nodes and appends the CU's types and candidates to
// the shard.
func (e *encoder) emit() error {
	base := e.shard.Types.NextID() - 1
	g := func(local btf.TypeID) btf.TypeID {
		if local == 0 {
			return 0
		}
		return base + local
	}
	if e.chains {
		if err := e.expandChains(); err != nil {
			return err
		}
	}
	for k, i := range e.order {
		e.nodes[i].id = btf.TypeID(k + 1)
	}
	// The arrays' index type: the CU's "int", or one appended after the types.
	var indexID btf.TypeID
	for _, i := range e.order {
		n := &e.nodes[i]
		if n.tag == dwarf.TagBaseType && e.s(n.name) == "int" {
			indexID = n.id
			break
		}
	}
	needIndex := false
	if indexID == 0 {
		indexID = btf.TypeID(len(e.order) + 1)
	}
	little := e.sec.ByteOrder == binary.LittleEndian

	for _, i := range e.order {
		n := &e.nodes[i]
		t := btf.Type{}
		switch n.tag {
		case dwarf.TagBaseType:
			t = e.baseType(n)
		case dwarf.TagPointerType, dwarf.TagReferenceType, dwarf.TagRvalueReferenceType, dwarf.TagPtrToMemberType:
			t = btf.Type{Kind: btf.KindPtr, Type: g(e.pointee(n))}
		case dwarf.TagConstType:
			t = btf.Type{Kind: btf.KindConst, Type: g(e.resolve(n.typ))}
		case dwarf.TagVolatileType:
			t = btf.Type{Kind: btf.KindVolatile, Type: g(e.resolve(n.typ))}
		case dwarf.TagRestrictType:
			t = btf.Type{Kind: btf.KindRestrict, Type: g(e.resolve(n.typ))}
		case dwarf.TagTypedef:
			t = btf.Type{Kind: btf.KindTypedef, Name: e.s(n.name), Type: g(e.resolve(n.typ))}
		case dwarf.TagLLVMAnnotation, dwarf.TagGNUAnnotation: // btf_type_tag of a pointer
			t = btf.Type{Kind: btf.KindTypeTag, Name: e.s(n.value()), Type: g(e.tagTarget(n))}
		case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagClassType, dwarf.TagInterfaceType:
			if n.flags&fDecl != 0 {
				t = btf.Type{Kind: btf.KindFwd, Name: e.s(n.name), KindFlag: n.tag == dwarf.TagUnionType}
				break
			}
			t = e.composite(n, g, little)
		case dwarf.TagEnumerationType:
			t = e.enum(n)
		case dwarf.TagArrayType:
			needIndex = true
			elem, nelems := e.arrayDim(n, n.child)
			t = btf.Type{Kind: btf.KindArray, Type: g(elem), IndexType: g(indexID), Nelems: nelems}
		case dwarf.TagSubrangeType: // a nested dimension (fDim)
			elem, nelems := e.arrayDim(&e.nodes[n.parent], i)
			t = btf.Type{Kind: btf.KindArray, Type: g(elem), IndexType: g(indexID), Nelems: nelems}
		case dwarf.TagSubroutineType:
			t = e.proto(n, n, g)
		case dwarf.TagStringType:
			// Fortran strings: pahole has no BTF for them either; an INT keeps IDs dense.
			t = btf.Type{Kind: btf.KindInt, Name: sanitizedIntName, Size: 4, IntBits: 32}
		}
		if _, err := e.add(n, &t); err != nil {
			return err
		}
	}
	if needIndex && int(indexID) == len(e.order)+1 {
		if _, err := e.shard.Types.Add(&btf.Type{Kind: btf.KindInt, Name: "int", Size: 4, IntBits: 32, IntEncoding: btf.IntSigned}); err != nil {
			return err
		}
	}

	// Declaration tags of structs, unions and typedefs, in type order.
	if e.opts.Features&FeatureDeclTag != 0 {
		var tags []shard.DeclTag
		for _, i := range e.order {
			n := &e.nodes[i]
			switch n.tag {
			case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagTypedef:
			default:
				continue
			}
			var err error
			if tags, err = e.declTags(n, tags[:0]); err != nil {
				return err
			}
			for _, t := range tags {
				if _, err := e.add(n, &btf.Type{Kind: btf.KindDeclTag, Name: t.Value, Type: g(n.id), ComponentIdx: t.Component}); err != nil {
					return err
				}
			}
		}
	}

	// Candidates, in DIE order.
	e.analyzeParams()
	for i := range e.nodes {
		n := &e.nodes[i]
		var err error
		switch n.tag {
		case dwarf.TagSubprogram:
			err = e.function(n, g)
		case dwarf.TagVariable:
			err = e.variable(n, g)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// arrayDim is the element type (CU-local) and element count of the ARRAY that
// array node a encodes from its subranges starting with child c (the array's
// first child for the array itself, a fDim subrange for a nested dimension).
// Where dimensions nest (fDim), a dimension's element is the next dimension's
// ARRAY and only the last one's is the array's element type. Otherwise the
// remaining dimensions are flattened: the count is their product (1 without
// subranges), as pahole up to 1.31 does.
func (e *encoder) arrayDim(a *node, c int32) (btf.TypeID, uint32) {
	nelems, seen := uint32(1), false
	for ; c >= 0; c = e.nodes[c].next {
		sub := &e.nodes[c]
		if sub.tag != dwarf.TagSubrangeType {
			continue
		}
		if seen && sub.flags&fDim != 0 {
			return sub.id, nelems
		}
		nelems *= sub.count()
		seen = true
	}
	return e.resolve(a.typ), nelems
}

// declTags appends to tags the btf_decl_tag annotations pahole records for
// node n (a struct, union, typedef, subprogram or variable), with their
// component indexes, in pahole's order:
//
//   - the children of n in DIE order: an annotation child is a tag of n itself
//     (component -1); a member (or inheritance) of a struct or union, or a
//     formal parameter of a subprogram, contributes its own annotation
//     children and then (1.32) its DW_AT_GNU_annotation chain, with its
//     index among the members or parameters as component; every member or
//     parameter counts, tagged or not, static members included;
//   - then (1.32) the DW_AT_GNU_annotation chain of n itself, for structs
//     (die__create_new_class) and subprograms (die__create_new_function);
//     pahole 1.32 reads no chain for unions, typedefs and variables.
//
// Only btf_decl_tag annotations count (a chain may hold btf_type_tags too: they
// are skipped, and the chain followed on).
func (e *encoder) declTags(n *node, tags []shard.DeclTag) ([]shard.DeclTag, error) {
	if e.opts.Features&FeatureDeclTag == 0 {
		return tags, nil
	}
	// The children that are components: members and inheritances of a struct
	// or union, formal parameters of a subprogram.
	isComponent := func(t dwarf.Tag) bool {
		switch n.tag {
		case dwarf.TagStructType, dwarf.TagUnionType:
			return t == dwarf.TagMember || t == 0x1c // DW_TAG_inheritance
		case dwarf.TagSubprogram:
			return t == dwarf.TagFormalParameter
		}
		return false
	}
	var err error
	component := int32(0)
	for c := n.child; c >= 0; c = e.nodes[c].next {
		cn := &e.nodes[c]
		switch {
		case isComponent(cn.tag):
			for a := cn.child; a >= 0; a = e.nodes[a].next {
				if an := &e.nodes[a]; an.flags&fDeclTag != 0 {
					tags = append(tags, shard.DeclTag{Value: e.s(an.value()), Component: component})
				}
			}
			if tags, err = e.chainDeclTags(cn, component, tags); err != nil {
				return tags, err
			}
			component++
		case cn.flags&fDeclTag != 0:
			tags = append(tags, shard.DeclTag{Value: e.s(cn.value()), Component: -1})
		}
	}
	if n.tag == dwarf.TagStructType || n.tag == dwarf.TagSubprogram {
		tags, err = e.chainDeclTags(n, -1, tags)
	}
	return tags, err
}

// chainDeclTags appends the btf_decl_tags of n's DW_AT_GNU_annotation chain.
func (e *encoder) chainDeclTags(n *node, component int32, tags []shard.DeclTag) ([]shard.DeclTag, error) {
	if n.annot == 0 {
		return tags, nil
	}
	var err error
	e.scratch, err = e.gnuChain(n.off, n.annot, e.scratch[:0])
	if err != nil {
		return tags, err
	}
	for _, a := range e.scratch {
		if an := &e.nodes[a]; e.s(an.name) == "btf_decl_tag" {
			tags = append(tags, shard.DeclTag{Value: e.s(an.value()), Component: component})
		}
	}
	return tags, nil
}

// baseType follows btf_encoder__add_base_type.
func (e *encoder) baseType(n *node) btf.Type {
	byteSz := n.size // pahole: bit_size = byte_size * 8, rounded up to bytes again
	signed := n.encoding == dwarf.ATESigned || n.encoding == dwarf.ATESignedChar
	switch {
	case signed:
	case n.encoding == dwarf.ATEBoolean:
	case n.encoding == dwarf.ATEFloat && e.opts.Features&FeatureFloat != 0:
		return btf.Type{Kind: btf.KindFloat, Name: e.s(n.name), Size: uint32(byteSz)}
	}
	var enc uint8
	if signed {
		enc = btf.IntSigned
	} else if n.encoding == dwarf.ATEBoolean {
		enc = btf.IntBool
	}
	name := e.s(n.name)
	if byteSz == 0 || byteSz&(byteSz-1) != 0 || byteSz > 16 {
		name, byteSz = sanitizedIntName, 4
	}
	return btf.Type{Kind: btf.KindInt, Name: name, Size: uint32(byteSz), IntEncoding: enc, IntBits: uint8(byteSz * 8)}
}

// pointee is the target of a pointer: its outermost btf_type_tag if it has
// any, else the pointed-to type. clang lists the tags innermost first
// (pointer -> tagN -> ... -> tag1 -> pointee); a GCC chain (fChain copies)
// outermost first (pointer -> chain1 -> ... -> chainN -> pointee).
func (e *encoder) pointee(n *node) btf.TypeID {
	var first, last btf.TypeID
	chain := false
	for c := n.child; c >= 0; c = e.nodes[c].next {
		if cn := &e.nodes[c]; cn.flags&fTypeTag != 0 {
			if first == 0 {
				first = cn.id
			}
			last = cn.id
			chain = cn.flags&fChain != 0
		}
	}
	switch {
	case chain:
		return first
	case last != 0:
		return last
	}
	return e.resolve(n.typ)
}

// tagTarget is what a pointer's btf_type_tag annotation applies to: the
// previous annotation (the next one in a GCC chain), or for the innermost one
// the pointee.
func (e *encoder) tagTarget(n *node) btf.TypeID {
	p := &e.nodes[n.parent]
	if n.flags&fChain != 0 {
		for c := n.next; c >= 0; c = e.nodes[c].next {
			if cn := &e.nodes[c]; cn.flags&fTypeTag != 0 {
				return cn.id
			}
		}
		return e.resolve(p.typ)
	}
	var prev btf.TypeID
	for c := p.child; c >= 0; c = e.nodes[c].next {
		cn := &e.nodes[c]
		if cn == n {
			break
		}
		if cn.flags&fTypeTag != 0 {
			prev = cn.id
		}
	}
	if prev != 0 {
		return prev
	}
	return e.resolve(p.typ)
}

// composite follows btf_encoder__add_struct_type, with member bit offsets
// computed as dwarf_loader's class_member__cache_byte_size does.
func (e *encoder) composite(n *node, g func(btf.TypeID) btf.TypeID, little bool) btf.Type {
	t := btf.Type{Kind: btf.KindStruct, Name: e.s(n.name), Size: uint32(n.size)}
	union := n.tag == dwarf.TagUnionType
	if union {
		t.Kind = btf.KindUnion
	}
	for c := n.child; c >= 0; c = e.nodes[c].next {
		m := &e.nodes[c]
		if m.tag != dwarf.TagMember && m.tag != 0x1c {
			continue
		}
		hasBitOffset := m.flags&fDataBitOffset != 0
		if !hasBitOffset && m.flags&fMemberLoc == 0 && !union {
			continue // a static member
		}
		var bitOffset int64
		if hasBitOffset {
			bitOffset = int64(m.dataBitOffset())
		} else {
			bitOffset = int64(m.memberLoc()) * 8
		}
		bitfield := uint32(0)
		if m.flags&fBitSize != 0 {
			bitfield = uint32(m.bitSize())
		}
		if bitfield != 0 && !hasBitOffset {
			byteSize := m.size
			if m.flags&fSize == 0 || byteSize == 0 {
				byteSize = e.typeSize(m.typ)
			}
			if byteSize != 0 {
				// DWARF 2-4 DW_AT_bit_offset counts from the most significant bit of
				// the storage unit; BTF counts from the start of the struct.
				if little {
					bitOffset = int64(m.memberLoc())*8 + int64(byteSize*8) - int64(m.bitOffset()) - int64(bitfield)
				} else {
					bitOffset = int64(m.memberLoc())*8 + int64(m.bitOffset())
				}
			}
		}
		if bitfield != 0 || bitOffset%8 != 0 {
			t.KindFlag = true
		}
		e.mbuf = append(e.mbuf, btf.Member{Name: e.s(m.name), Type: g(e.resolve(m.typ)), Offset: uint32(bitOffset), Size: bitfield})
	}
	t.Members = e.takeMembers()
	return t
}

// takeMembers returns e.mbuf, the members of the type just built, and empties it
// for the next type: the list is valid until the next type is built, so the type
// must be added to the table (which copies it) before that.
func (e *encoder) takeMembers() []btf.Member {
	n := len(e.mbuf)
	if n == 0 {
		return nil
	}
	ms := e.mbuf[:n:n]
	e.mbuf = e.mbuf[:0]
	return ms
}

// add appends t to the shard's table; n is the DIE it was made from, for errors.
func (e *encoder) add(n *node, t *btf.Type) (btf.TypeID, error) {
	id, err := e.shard.Types.Add(t)
	if err != nil {
		return 0, e.errf(n.off, "%v %q: %w", t.Kind, t.Name, err)
	}
	return id, nil
}

// enum follows btf_encoder__add_enum_type, with libbpf's rule that a negative
// value makes an ENUM signed.
func (e *encoder) enum(n *node) btf.Type {
	size := n.size
	if size == 0 {
		size = 4
	}
	enum64 := size > 4 && e.opts.Features&FeatureEnum64 != 0
	t := btf.Type{Kind: btf.KindEnum, Name: e.s(n.name), Size: uint32(size)}
	if enum64 {
		t.Kind = btf.KindEnum64
		if b := e.node(n.typ); b != nil && b.tag == dwarf.TagBaseType &&
			(b.encoding == dwarf.ATESigned || b.encoding == dwarf.ATESignedChar) {
			t.KindFlag = true
		}
	}
	for c := n.child; c >= 0; c = e.nodes[c].next {
		en := &e.nodes[c]
		if en.tag != dwarf.TagEnumerator {
			continue
		}
		v := en.constVal()
		if !enum64 {
			if e.opts.Features&FeatureEnum64 == 0 {
				v = uint64(uint32(v)) // pahole passes (uint32_t)value
			} else if int64(v) < 0 {
				t.KindFlag = true
			}
			if t.KindFlag {
				v = uint64(int64(int32(uint32(v))))
			} else {
				v = uint64(uint32(v))
			}
		}
		e.mbuf = append(e.mbuf, btf.Enumerator(e.s(en.name), v))
	}
	t.Members = e.takeMembers()
	return t
}

// proto builds a FUNC_PROTO from the parameters of params (a subroutine type or
// a subprogram) with the return type of ret.
func (e *encoder) proto(ret, params *node, g func(btf.TypeID) btf.TypeID) btf.Type {
	t := btf.Type{Kind: btf.KindFuncProto, Type: g(e.resolve(ret.typ))}
	varargs := false
	for c := params.child; c >= 0; c = e.nodes[c].next {
		p := &e.nodes[c]
		switch p.tag {
		case dwarf.TagFormalParameter:
			name, typ := e.s(p.name), p.typ
			if o := e.node(p.origin); o != nil {
				if name == "" {
					name = e.s(o.name)
				}
				if typ == 0 {
					typ = o.typ
				}
			}
			e.mbuf = append(e.mbuf, btf.Member{Name: name, Type: g(e.resolve(typ))})
		case dwarf.TagUnspecifiedParameters:
			varargs = true
		}
	}
	if varargs {
		e.mbuf = append(e.mbuf, btf.Member{})
	}
	t.Members = e.takeMembers()
	return t
}

// function appends a candidate for a subprogram, with its abstract origin and
// specification folded in.
//
// Declarations (DW_AT_declaration: the DIEs GCC and clang emit for functions a
// unit calls or declares, 91 K of the 246 K subprograms of the kernel's
// DWARF) are no candidates: pahole 1.24 and 1.32 skip them before any other
// test (btf_encoder__encode_cu: "if (fn->declaration) continue"), so they
// never become a FUNC nor consume a name. A definition whose
// DW_AT_specification points at a declaration is a candidate like any other
// definition, named from the declaration when it has no name of its own, as
// pahole does; its DECL_TAGs are its own, like pahole's (a declaration's
// annotations only count in the unit where it is also the definition, and then
// clang and GCC put them on the one DIE). So a candidate's Declaration is
// always false.
func (e *encoder) function(n *node, g func(btf.TypeID) btf.TypeID) error {
	if n.flags&fDecl != 0 {
		return nil
	}
	// The chain of DIEs describing this function: itself, its abstract origin,
	// their specifications.
	chain := [4]*node{n}
	k := 1
	if o := e.node(n.origin); o != nil {
		chain[k] = o
		k++
		if s := e.node(o.spec); s != nil {
			chain[k] = s
			k++
		}
	}
	if s := e.node(n.spec); s != nil {
		chain[k] = s
		k++
	}
	name, external := "", false
	ret := n
	for _, c := range chain[:k] {
		if name == "" {
			name = e.s(c.name)
		}
		if c.flags&fExternal != 0 {
			external = true
		}
		if ret.typ == 0 && c.typ != 0 {
			ret = c
		}
	}
	if name == "" {
		return nil
	}
	// Parameters: the function's own, or its origin's when it lists none.
	params := n
	if n.child < 0 && k > 1 {
		params = chain[1]
	}
	pt := e.proto(ret, params, g)
	pf := e.analyzeFunction(n)
	allNamed := true
	for _, m := range pt.Members {
		if m.Name == "" && m.Type != 0 {
			allNamed = false
		}
	}
	tags, err := e.declTags(n, nil)
	if err != nil {
		return err
	}
	// pahole 1.32 checks the functions it saves, in DIE order (packed.go).
	uncertain := false
	if allNamed && e.opts.Compat != Compat124 {
		if uncertain, err = e.uncertainParamLoc(n); err != nil {
			return err
		}
	}
	id, err := e.add(n, &pt)
	if err != nil {
		return err
	}
	e.shard.Funcs = append(e.shard.Funcs, shard.Func{
		Name:              name,
		Proto:             id,
		CU:                e.cu,
		External:          external,
		Inline:            n.inline == 1 || n.inline == 3, // DW_INL_inlined, DW_INL_declared_inlined
		HasLowPC:          n.flags&fLowPC != 0,
		LowPC:             n.lowPC(),
		AllParamsNamed:    allNamed,
		OptimizedParams:   pf.optimized,
		UnexpectedReg:     pf.unexpectedReg,
		ReorderedParams:   pf.reordered,
		SignatureChanged:  pf.signatureChanged,
		UncertainParamLoc: uncertain,
		DeclTags:          tags,
	})
	return nil
}

// variable appends a candidate for a variable at file scope or with a static
// address.
//
// Its DECL_TAGs are those pahole attaches to the VAR: the annotation children
// of the DIE its DW_AT_specification names, if any (btf_encoder follows
// var->spec before adding them), else its own. pahole 1.32 reads no
// DW_AT_GNU_annotation chain for variables, so GCC's variable tags are lost.
func (e *encoder) variable(n *node, g func(btf.TypeID) btf.TypeID) error {
	if n.depth != 1 && n.flags&fAddr == 0 {
		return nil
	}
	// The type and linkage are the DIE's own or its specification's (pahole
	// follows var->spec); a DW_AT_abstract_origin gives only the name. GCC's
	// LTRANS units describe a global as a DIE with an abstract origin (in an
	// early-debug unit) and a location but no type: pahole reports it as a
	// variable "that has void type", and so does finalize.
	name, typ, external := e.s(n.name), n.typ, n.flags&fExternal != 0
	if s := e.node(n.spec); s != nil {
		if name == "" {
			name = e.s(s.name)
		}
		if typ == 0 {
			typ = s.typ
		}
		if s.flags&fExternal != 0 {
			external = true
		}
	}
	if o := e.node(n.origin); o != nil && name == "" {
		name = e.s(o.name)
	}
	src := n
	if s := e.node(n.spec); s != nil && s.tag == dwarf.TagVariable {
		src = s
	}
	tags, err := e.declTags(src, nil)
	if err != nil {
		return err
	}
	e.shard.Vars = append(e.shard.Vars, shard.Var{
		Name:          name,
		Type:          g(e.resolve(typ)),
		CU:            e.cu,
		External:      external,
		Declaration:   n.flags&fDecl != 0,
		Specification: n.spec != 0,
		TopLevel:      n.depth == 1,
		Artificial:    n.flags&fArtificial != 0,
		HasAddr:       n.flags&fAddr != 0,
		Addr:          n.addr(),
		Section:       e.sectionName(n.section()),
		DeclTags:      tags,
	})
	return nil
}
