package encode

import (
	"encoding/binary"

	"github.com/rules-btf/rules_btf/converter/dwarf"
)

// Packed structs passed on the stack, and what pahole 1.32 concludes from them.
//
// A struct argument that does not fit in the argument registers is copied to
// the stack, and where it lands depends on its alignment, which DWARF does not
// say (pahole -J even drops DW_AT_alignment: conf_load.ignore_alignment_attr).
// So pahole 1.32 (btf_encoder.c: ftype__has_uncertain_arg_loc, since 1.31)
// gives up on a function with a parameter that
//
//   - is at index nr_register_params or more (6 on x86-64 and sparc, 5 on
//     s390, 8 on arm, arm64, arc, mips, ppc and riscv; 0 elsewhere, where
//     every parameter counts), in a function with at least nr_register_params
//     parameters,
//   - has as type, as written (DW_AT_type of the parameter, or of its abstract
//     origin: a typedef or a const in between hides the struct), a named
//     struct (not a union), and
//   - whose struct pahole infers to be packed (dwarves.c,
//     class__infer_packed_attributes):
//
//     1. With holes or tail padding (class__find_holes), it is not packed;
//     and then every member whose type (typedefs and qualifiers stripped) is a
//     struct at an offset that is no multiple of that struct's natural
//     alignment marks that struct packed (type__check_structs_at_unnatural_alignments).
//     2. Else it is packed if a member's offset is no multiple of its type's
//     natural alignment, or if its size is no multiple of the largest natural
//     alignment of its members. (The third rule, DW_AT_alignment 1, never
//     applies: see above.)
//
// The natural alignment of a type (tag__natural_alignment) is the address
// size for a pointer, the size of a base type or enum, the largest natural
// alignment of the members of a struct or union (packed or not), the element's
// for an array, and 1 for anything else, for zero and for void.
//
// The conclusion is memoized per struct and per CU, and rule 1 marks other
// structs packed, memoized or not. So the order of the checks matters: pahole
// checks the functions in the CU's DIE order (GCC -O2 emits them in reverse
// source order, clang in source order) and each function's parameters in
// order, stopping at the first packed one. pahole only checks functions it will save: definitions
// with every parameter named and a name in the ELF's function symbols. We
// check every definition with a name and every parameter named: the symbols
// are the linked image's, which a shard may not have. The difference could
// only show in a function of the same CU that has no symbol (an inline-only
// one), with enough parameters, taking by value on the stack a struct with
// holes whose members include a struct at an unnatural offset; and only when
// a later function then takes that member struct the same way.
//
// Member offsets and sizes are pahole's (dwarf_loader.c: class_member__new,
// class_member__cache_byte_size): a bitfield's byte offset is rounded down to
// its storage unit (the size of its type), a non-bitfield member with
// DW_AT_data_bit_offset keeps byte offset 0, and pahole's integer widths are
// kept where they wrap (a uint8 hole count, a uint16 padding, an int8 bit
// offset within the storage unit).
//
// The memo lives in the per-node slots of e.params (analyzeParams clears them
// for each CU): only struct nodes use packed and natAlign.

// packed states of a struct node (paramInfo.packed).
const (
	packedUnknown uint8 = iota
	packedNo
	packedYes
)

// maxNest bounds the nesting of types by value: only invalid DWARF (a struct
// containing itself) goes deeper.
const maxNest = 256

// uncertainParamLoc is ftype__has_uncertain_arg_loc for subprogram n: a
// parameter past the argument registers is a named struct pahole infers to be
// packed.
func (e *encoder) uncertainParamLoc(n *node) (bool, error) {
	nregs := e.abi.nrRegParams()
	nparms := 0
	for c := n.child; c >= 0; c = e.nodes[c].next {
		if e.nodes[c].tag == dwarf.TagFormalParameter {
			nparms++
		}
	}
	if nparms < nregs {
		return false, nil
	}
	idx := 0
	for c := n.child; c >= 0; c = e.nodes[c].next {
		p := &e.nodes[c]
		if p.tag != dwarf.TagFormalParameter {
			continue
		}
		idx++
		if idx <= nregs {
			continue
		}
		typ := p.typ
		if typ == 0 && p.origin != 0 {
			if o := e.node(p.origin); o != nil {
				typ = o.typ
			}
		}
		s := e.index(typ)
		if s < 0 || !isStructTag(e.nodes[s].tag) || e.nodes[s].flags&fHasName == 0 {
			continue
		}
		packed, err := e.inferPacked(s, 0)
		if err != nil || packed {
			return packed, err
		}
	}
	return false, nil
}

// isStructTag is pahole's tag__is_struct: a struct or class, not a union.
func isStructTag(t dwarf.Tag) bool {
	return t == dwarf.TagStructType || t == dwarf.TagClassType || t == dwarf.TagInterfaceType
}

// isMember reports whether t is a member of a struct or union for pahole
// (type__for_each_member): a data member or an inheritance.
func isMember(t dwarf.Tag) bool { return t == dwarf.TagMember || t == 0x1c }

// index returns the node index of the DIE at off, or -1.
func (e *encoder) index(off uint64) int32 {
	if off == 0 {
		return -1
	}
	return e.offIdx[off-e.base] - 1
}

// strip is tag__strip_typedefs_and_modifiers of a DW_AT_type: the node of the
// type behind typedefs and const, volatile, restrict and atomic qualifiers, or
// -1 for void or an unknown type.
func (e *encoder) strip(off uint64) int32 {
	for hops := 0; hops < 64; hops++ {
		i := e.index(off)
		if i < 0 {
			return -1
		}
		switch e.nodes[i].tag {
		case dwarf.TagTypedef, dwarf.TagConstType, dwarf.TagVolatileType, dwarf.TagRestrictType, dwarf.TagAtomicType:
			off = e.nodes[i].typ
		default:
			return i
		}
	}
	return -1
}

// inferPacked is class__infer_packed_attributes of struct node s.
func (e *encoder) inferPacked(s int32, depth int) (bool, error) {
	if st := e.params[s].packed; st != packedUnknown {
		return st == packedYes, nil
	}
	n := &e.nodes[s]
	holes, padding := e.findHoles(n)
	if padding != 0 || holes != 0 {
		if err := e.markUnnatural(n, depth); err != nil {
			return false, err
		}
		e.params[s].packed = packedNo
		return false, nil
	}
	packed := false
	maxAlign := uint16(1)
	for c := n.child; c >= 0; c = e.nodes[c].next {
		m := &e.nodes[c]
		if !isMember(m.tag) {
			continue
		}
		l := e.memberLayout(m, false)
		if l.static {
			continue
		}
		na, err := e.naturalAlign(e.strip(m.typ), depth+1)
		if err != nil {
			return false, err
		}
		if na == 1 {
			continue
		}
		if uint64(maxAlign) < na {
			maxAlign = uint16(na)
		}
		if uint64(l.byteOffset)%na != 0 {
			packed = true
			break
		}
	}
	if !packed && maxAlign != 0 && uint32(n.size)%uint32(maxAlign) != 0 {
		packed = true
	}
	e.params[s].packed = packedNo
	if packed {
		e.params[s].packed = packedYes
	}
	return packed, nil
}

// markUnnatural is type__check_structs_at_unnatural_alignments: members of
// struct n whose type is a struct at an offset that is no multiple of its
// natural alignment make that struct packed. Static members count, at offset 0.
func (e *encoder) markUnnatural(n *node, depth int) error {
	for c := n.child; c >= 0; c = e.nodes[c].next {
		m := &e.nodes[c]
		if !isMember(m.tag) {
			continue
		}
		t := e.strip(m.typ)
		if t < 0 || !isStructTag(e.nodes[t].tag) {
			continue
		}
		na, err := e.naturalAlign(t, depth+1)
		if err != nil {
			return err
		}
		if uint64(e.memberLayout(m, false).byteOffset)%na != 0 {
			e.params[t].packed = packedYes
		}
	}
	return nil
}

// naturalAlign is tag__natural_alignment of node t (-1 for void): never 0.
func (e *encoder) naturalAlign(t int32, depth int) (uint64, error) {
	if t < 0 {
		return 1, nil
	}
	if depth > maxNest {
		return 0, e.errf(e.nodes[t].off, "%w: types nest more than %d deep", dwarf.ErrFormat, maxNest)
	}
	n := &e.nodes[t]
	var a uint64
	switch n.tag {
	case dwarf.TagPointerType:
		a = uint64(e.u.AddrSize)
	case dwarf.TagBaseType:
		a = baseBytes(n)
	case dwarf.TagEnumerationType:
		a = enumBytes(n)
	case dwarf.TagStructType, dwarf.TagClassType, dwarf.TagInterfaceType, dwarf.TagUnionType:
		var err error
		if a, err = e.typeNaturalAlign(t, depth); err != nil {
			return 0, err
		}
	case dwarf.TagArrayType:
		if el := e.strip(n.typ); el >= 0 {
			var err error
			if a, err = e.naturalAlign(el, depth+1); err != nil {
				return 0, err
			}
		} else {
			a = 1
		}
	default:
		a = 1
	}
	if a == 0 {
		a = 1
	}
	return a, nil
}

// typeNaturalAlign is type__natural_alignment of struct or union node t: the
// largest natural alignment of its non-static members' types, 0 without
// members; memoized, as a uint16, when not 0.
func (e *encoder) typeNaturalAlign(t int32, depth int) (uint64, error) {
	if a := e.params[t].natAlign; a != 0 {
		return uint64(a), nil
	}
	n := &e.nodes[t]
	union := n.tag == dwarf.TagUnionType
	var a uint16
	for c := n.child; c >= 0; c = e.nodes[c].next {
		m := &e.nodes[c]
		if !isMember(m.tag) || isStatic(m, union) {
			continue
		}
		mt := e.strip(m.typ)
		if mt < 0 {
			continue
		}
		na, err := e.naturalAlign(mt, depth+1)
		if err != nil {
			return 0, err
		}
		if uint64(a) < na {
			a = uint16(na)
		}
	}
	e.params[t].natAlign = a
	return uint64(a), nil
}

// enumBytes is an enum's size as pahole keeps it: DW_AT_byte_size (in bits,
// in a uint32), 4 without.
func enumBytes(n *node) uint64 {
	if n.size == 0 {
		return 4
	}
	return uint64(uint32(n.size*8) / 8)
}

// baseBytes is a base type's size as pahole keeps it: DW_AT_byte_size, in bits,
// in a uint16.
func baseBytes(n *node) uint64 { return uint64(uint16(n.size*8) / 8) }

// isStatic is class_member__new's is_static: a struct member with neither
// DW_AT_data_bit_offset nor DW_AT_data_member_location.
func isStatic(m *node, union bool) bool {
	return !union && m.flags&(fDataBitOffset|fMemberLoc) == 0
}

// memberLayout is what pahole knows of a member's place after
// class_member__cache_byte_size.
type memberLayout struct {
	static       bool
	bitOffset    uint32
	byteOffset   uint32
	byteSize     uint64
	bitSize      uint32
	bitfieldSize uint8
}

// memberLayout is class_member__new followed by class_member__cache_byte_size
// for member m of a struct (union false) or union, in pahole's integer widths.
func (e *encoder) memberLayout(m *node, union bool) memberLayout {
	var l memberLayout
	hasBitOffset := m.flags&fDataBitOffset != 0
	var bfo int8 // bitfield_offset
	if hasBitOffset {
		l.bitOffset = uint32(m.dataBitOffset())
	} else {
		if m.flags&fMemberLoc != 0 {
			l.byteOffset = uint32(m.memberLoc())
		} else {
			l.static = !union
		}
		l.bitOffset = l.byteOffset * 8
		bfo = int8(m.bitOffset())
	}
	if m.flags&fSize != 0 {
		l.byteSize = m.size
	}
	l.bitfieldSize = uint8(m.bitSize())
	if l.static {
		return l
	}
	if l.bitfieldSize == 0 {
		if l.byteSize == 0 {
			l.byteSize = e.paholeSize(m.typ, 0)
		}
		l.bitSize = uint32(l.byteSize * 8)
		return l
	}
	if l.byteSize == 0 {
		t := e.strip(m.typ)
		l.byteSize = e.paholeSize(e.offOf(t), 0)
		if l.byteSize == 0 && t >= 0 {
			// pahole rounds the type's bit size up to bytes, and keeps that as
			// the byte size.
			var bits uint64
			switch tn := &e.nodes[t]; tn.tag {
			case dwarf.TagEnumerationType:
				bits = enumBytes(tn) * 8
			case dwarf.TagBaseType:
				bits = baseBytes(tn) * 8
			}
			l.byteSize = (bits + 7) / 8 * 8
		}
	}
	l.bitSize = uint32(l.byteSize * 8)
	if l.byteSize == 0 || l.bitSize == 0 {
		return l
	}
	if !hasBitOffset {
		// DW_AT_bit_offset counts from the storage unit's most significant bit.
		if e.sec.ByteOrder == binary.LittleEndian {
			bfo = int8(int64(l.bitSize) - int64(bfo) - int64(l.bitfieldSize))
		}
		l.bitOffset = l.byteOffset*8 + uint32(int32(bfo))
	} else {
		l.byteOffset = l.bitOffset / 8
		bfo = int8(l.bitOffset - l.byteOffset*8)
	}
	if bfo < 0 {
		bfo = int8(int32(bfo) + int32(l.bitSize))
		l.byteOffset -= uint32(l.byteSize)
		l.bitOffset = l.byteOffset*8 + uint32(int32(bfo))
	}
	bfo = int8(uint64(int64(bfo)) + uint64(l.byteOffset)%l.byteSize*8)
	l.byteOffset = l.bitOffset / l.bitSize * l.bitSize / 8
	if uint32(int32(bfo)) >= l.bitSize { // an int8 compared as unsigned
		l.byteOffset += uint32(l.byteSize)
	}
	return l
}

// offOf is the DIE offset of node i, 0 for -1.
func (e *encoder) offOf(i int32) uint64 {
	if i < 0 {
		return 0
	}
	return e.nodes[i].off
}

// paholeSize is pahole's tag__size of the type at off: pointers are a word,
// enums and base types their size, structs and unions their DW_AT_byte_size
// (0 for one of size 1 without members), arrays their element's size times
// their element count, other types their target's; 0 for void.
func (e *encoder) paholeSize(off uint64, depth int) uint64 {
	i := e.index(off)
	if i < 0 || depth > maxNest {
		return 0
	}
	n := &e.nodes[i]
	switch n.tag {
	case dwarf.TagPointerType, dwarf.TagReferenceType:
		return uint64(e.u.AddrSize)
	case dwarf.TagBaseType:
		return baseBytes(n)
	case dwarf.TagEnumerationType:
		return enumBytes(n)
	case dwarf.TagSubroutineType:
		if n.size != 0 {
			return n.size
		}
		return uint64(e.u.AddrSize)
	}
	if n.typ == 0 {
		if n.size == 1 {
			union := n.tag == dwarf.TagUnionType
			for c := n.child; c >= 0; c = e.nodes[c].next {
				if m := &e.nodes[c]; m.tag == dwarf.TagMember && !isStatic(m, union) {
					return n.size
				}
			}
			return 0 // pahole's "empty base optimization trick"
		}
		return n.size
	}
	size := e.paholeSize(n.typ, depth+1)
	if n.tag == dwarf.TagArrayType {
		entries := uint64(1)
		for c := n.child; c >= 0; c = e.nodes[c].next {
			if e.nodes[c].tag == dwarf.TagSubrangeType {
				entries *= uint64(e.nodes[c].count())
			}
		}
		size *= entries
	}
	return size
}

// findHoles is the part of class__find_holes the inference uses: the number
// of byte holes between members (a uint8 in pahole: it wraps) and the tail
// padding (a uint16), of struct n.
func (e *encoder) findHoles(n *node) (holes uint8, padding uint16) {
	size := uint32(n.size)
	curBitfieldEnd, curBitfieldSize := size*8, uint32(0)
	var lastSeenBit uint32
	inBitfield := false
	for c := n.child; c >= 0; c = e.nodes[c].next {
		m := &e.nodes[c]
		if !isMember(m.tag) {
			continue
		}
		l := e.memberLayout(m, false)
		if m.tag == 0x1c && l.byteSize == 0 || l.static {
			continue
		}
		bitStart := l.bitOffset
		var bitEnd uint32
		if l.bitfieldSize != 0 {
			bitEnd = bitStart + uint32(l.bitfieldSize)
		} else {
			bitEnd = bitStart + uint32(l.byteSize*8)
		}
		byteHoles := int32(0)
		if inBitfield {
			lastSeenBit = min(bitStart, curBitfieldEnd)
		}
		if l.bitfieldSize != 0 {
			alignedStart := l.byteOffset * 8
			if lastSeenBit < alignedStart && alignedStart <= bitStart {
				byteHoles = int32(l.byteOffset - lastSeenBit/8)
			}
		} else {
			byteHoles = int32(bitStart/8 - lastSeenBit/8)
		}
		lastSeenBit = bitEnd
		if l.bitfieldSize != 0 {
			inBitfield = true
			if bitEnd > curBitfieldEnd || l.bitSize > curBitfieldSize {
				curBitfieldSize = l.bitSize
				curBitfieldEnd = l.byteOffset*8 + curBitfieldSize
				if bitEnd > curBitfieldEnd {
					curBitfieldEnd += curBitfieldSize
				}
			}
		} else {
			inBitfield = false
			curBitfieldSize = 0
			curBitfieldEnd = bitEnd
		}
		if byteHoles > 0 {
			holes++
		}
	}
	if inBitfield {
		lastSeenBit = min(size*8, curBitfieldEnd)
	}
	return holes, uint16(size - lastSeenBit/8)
}
