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
		k := e.offIdx[off-e.unitOff]
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
	k := e.offIdx[off-e.unitOff]
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
	spec := e.shard.Types
	base := spec.NextID() - 1
	g := func(local btf.TypeID) btf.TypeID {
		if local == 0 {
			return 0
		}
		return base + local
	}
	for k, i := range e.order {
		e.nodes[i].id = btf.TypeID(k + 1)
	}
	// The arrays' index type: the CU's "int", or one appended after the types.
	var indexID btf.TypeID
	for _, i := range e.order {
		n := &e.nodes[i]
		if n.tag == dwarf.TagBaseType && n.name == "int" {
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
			t = btf.Type{Kind: btf.KindTypedef, Name: n.name, Type: g(e.resolve(n.typ))}
		case dwarf.TagLLVMAnnotation: // btf_type_tag of a pointer
			t = btf.Type{Kind: btf.KindTypeTag, Name: n.value, Type: g(e.tagTarget(n))}
		case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagClassType, dwarf.TagInterfaceType:
			if n.flags&fDecl != 0 {
				t = btf.Type{Kind: btf.KindFwd, Name: n.name, KindFlag: n.tag == dwarf.TagUnionType}
				break
			}
			t = e.composite(n, g, little)
		case dwarf.TagEnumerationType:
			t = e.enum(n)
		case dwarf.TagArrayType:
			needIndex = true
			nelems := uint32(1)
			for c := n.child; c >= 0; c = e.nodes[c].next {
				if e.nodes[c].tag == dwarf.TagSubrangeType {
					nelems *= e.nodes[c].count
				}
			}
			t = btf.Type{Kind: btf.KindArray, Type: g(e.resolve(n.typ)), IndexType: g(indexID), Nelems: nelems}
		case dwarf.TagSubroutineType:
			t = e.proto(n, n, g)
		case dwarf.TagStringType:
			// Fortran strings: pahole has no BTF for them either; an INT keeps IDs dense.
			t = btf.Type{Kind: btf.KindInt, Name: sanitizedIntName, Size: 4, IntBits: 32}
		}
		spec.Add(t)
	}
	if needIndex && int(indexID) == len(e.order)+1 {
		spec.Add(btf.Type{Kind: btf.KindInt, Name: "int", Size: 4, IntBits: 32, IntEncoding: btf.IntSigned})
	}

	// Declaration tags, in type order.
	if e.opts.Features&FeatureDeclTag != 0 {
		for _, i := range e.order {
			n := &e.nodes[i]
			switch n.tag {
			case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagTypedef:
			default:
				continue
			}
			member := int32(0)
			for c := n.child; c >= 0; c = e.nodes[c].next {
				cn := &e.nodes[c]
				switch cn.tag {
				case dwarf.TagMember, 0x1c:
					for a := cn.child; a >= 0; a = e.nodes[a].next {
						if an := &e.nodes[a]; an.flags&fDeclTag != 0 {
							spec.Add(btf.Type{Kind: btf.KindDeclTag, Name: an.value, Type: g(n.id), ComponentIdx: member})
						}
					}
					member++
				case dwarf.TagLLVMAnnotation:
					if cn.flags&fDeclTag != 0 {
						spec.Add(btf.Type{Kind: btf.KindDeclTag, Name: cn.value, Type: g(n.id), ComponentIdx: -1})
					}
				}
			}
		}
	}

	// Candidates, in DIE order.
	for i := range e.nodes {
		n := &e.nodes[i]
		switch n.tag {
		case dwarf.TagSubprogram:
			e.function(n, g)
		case dwarf.TagVariable:
			e.variable(n, g)
		}
	}
	return nil
}

// baseType follows btf_encoder__add_base_type.
func (e *encoder) baseType(n *node) btf.Type {
	byteSz := n.size // pahole: bit_size = byte_size * 8, rounded up to bytes again
	signed := n.encoding == dwarf.ATESigned || n.encoding == dwarf.ATESignedChar
	switch {
	case signed:
	case n.encoding == dwarf.ATEBoolean:
	case n.encoding == dwarf.ATEFloat && e.opts.Features&FeatureFloat != 0:
		return btf.Type{Kind: btf.KindFloat, Name: n.name, Size: uint32(byteSz)}
	}
	var enc uint8
	if signed {
		enc = btf.IntSigned
	} else if n.encoding == dwarf.ATEBoolean {
		enc = btf.IntBool
	}
	name := n.name
	if byteSz == 0 || byteSz&(byteSz-1) != 0 || byteSz > 16 {
		name, byteSz = sanitizedIntName, 4
	}
	return btf.Type{Kind: btf.KindInt, Name: name, Size: uint32(byteSz), IntEncoding: enc, IntBits: uint8(byteSz * 8)}
}

// pointee is the target of a pointer: its last btf_type_tag annotation if it
// has any (pointer -> tagN -> ... -> tag1 -> pointee), else the pointed-to type.
func (e *encoder) pointee(n *node) btf.TypeID {
	var last btf.TypeID
	for c := n.child; c >= 0; c = e.nodes[c].next {
		if cn := &e.nodes[c]; cn.flags&fTypeTag != 0 {
			last = cn.id
		}
	}
	if last != 0 {
		return last
	}
	return e.resolve(n.typ)
}

// tagTarget is what a pointer's btf_type_tag annotation applies to: the
// previous annotation, or for the first one the pointee.
func (e *encoder) tagTarget(n *node) btf.TypeID {
	p := &e.nodes[n.parent]
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
	t := btf.Type{Kind: btf.KindStruct, Name: n.name, Size: uint32(n.size)}
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
			bitOffset = int64(m.dataBitOffset)
		} else {
			bitOffset = int64(m.memberLoc) * 8
		}
		bitfield := uint32(0)
		if m.flags&fBitSize != 0 {
			bitfield = uint32(m.bitSize)
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
					bitOffset = int64(m.memberLoc)*8 + int64(byteSize*8) - int64(m.bitOffset) - int64(bitfield)
				} else {
					bitOffset = int64(m.memberLoc)*8 + int64(m.bitOffset)
				}
			}
		}
		if bitfield != 0 || bitOffset%8 != 0 {
			t.KindFlag = true
		}
		t.Members = append(t.Members, btf.Member{Name: m.name, Type: g(e.resolve(m.typ)), Offset: uint32(bitOffset), Size: bitfield})
	}
	return t
}

// enum follows btf_encoder__add_enum_type, with libbpf's rule that a negative
// value makes an ENUM signed.
func (e *encoder) enum(n *node) btf.Type {
	size := n.size
	if size == 0 {
		size = 4
	}
	enum64 := size > 4 && e.opts.Features&FeatureEnum64 != 0
	t := btf.Type{Kind: btf.KindEnum, Name: n.name, Size: uint32(size)}
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
		v := en.constVal
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
		t.Members = append(t.Members, btf.Member{Name: en.name, Value: v})
	}
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
			name, typ := p.name, p.typ
			if o := e.node(p.origin); o != nil {
				if name == "" {
					name = o.name
				}
				if typ == 0 {
					typ = o.typ
				}
			}
			t.Members = append(t.Members, btf.Member{Name: name, Type: g(e.resolve(typ))})
		case dwarf.TagUnspecifiedParameters:
			varargs = true
		}
	}
	if varargs {
		t.Members = append(t.Members, btf.Member{})
	}
	return t
}

// function appends a candidate for a subprogram, with its abstract origin and
// specification folded in.
func (e *encoder) function(n *node, g func(btf.TypeID) btf.TypeID) {
	if n.flags&fDecl != 0 {
		return // pahole never encodes declarations
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
			name = c.name
		}
		if c.flags&fExternal != 0 {
			external = true
		}
		if ret.typ == 0 && c.typ != 0 {
			ret = c
		}
	}
	if name == "" {
		return
	}
	// Parameters: the function's own, or its origin's when it lists none.
	params := n
	if n.child < 0 && k > 1 {
		params = chain[1]
	}
	pt := e.proto(ret, params, g)
	allNamed, optimized := true, n.flags&fNoCall != 0
	for c := params.child; c >= 0; c = e.nodes[c].next {
		p := &e.nodes[c]
		if p.tag != dwarf.TagFormalParameter {
			continue
		}
		if n.flags&fLowPC != 0 && p.flags&(fLocation|fConst) == 0 {
			optimized = true
		}
	}
	for _, m := range pt.Members {
		if m.Name == "" && m.Type != 0 {
			allNamed = false
		}
	}
	id := e.shard.Types.Add(pt)
	e.shard.Funcs = append(e.shard.Funcs, shard.Func{
		Name:            name,
		Proto:           id,
		CU:              e.cu,
		External:        external,
		Inline:          n.inline == 1 || n.inline == 3, // DW_INL_inlined, DW_INL_declared_inlined
		HasLowPC:        n.flags&fLowPC != 0,
		LowPC:           n.lowPC,
		AllParamsNamed:  allNamed,
		OptimizedParams: optimized,
	})
}

// variable appends a candidate for a variable at file scope or with a static
// address.
func (e *encoder) variable(n *node, g func(btf.TypeID) btf.TypeID) {
	if n.depth != 1 && n.flags&fAddr == 0 {
		return
	}
	name, typ, external := n.name, n.typ, n.flags&fExternal != 0
	for _, ref := range []uint64{n.spec, n.origin} {
		if s := e.node(ref); s != nil {
			if name == "" {
				name = s.name
			}
			if typ == 0 {
				typ = s.typ
			}
			if s.flags&fExternal != 0 {
				external = true
			}
		}
	}
	e.shard.Vars = append(e.shard.Vars, shard.Var{
		Name:        name,
		Type:        g(e.resolve(typ)),
		CU:          e.cu,
		External:    external,
		Declaration: n.flags&fDecl != 0,
		HasAddr:     n.flags&fAddr != 0,
		Addr:        n.addr,
		Section:     n.section,
	})
}
