package dedup

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// Builders for readable test tables.

func intT(name string, size uint32) btf.Type {
	return btf.Type{Kind: btf.KindInt, Name: name, Size: size, IntBits: uint8(size * 8), IntEncoding: btf.IntSigned}
}

func floatT(name string, size uint32) btf.Type {
	return btf.Type{Kind: btf.KindFloat, Name: name, Size: size}
}

func ref(k btf.Kind, name string, to btf.TypeID) btf.Type {
	return btf.Type{Kind: k, Name: name, Type: to}
}

func ptr(to btf.TypeID) btf.Type { return ref(btf.KindPtr, "", to) }

func constT(to btf.TypeID) btf.Type { return ref(btf.KindConst, "", to) }

func typedef(name string, to btf.TypeID) btf.Type { return ref(btf.KindTypedef, name, to) }

func fwd(name string, union bool) btf.Type {
	return btf.Type{Kind: btf.KindFwd, Name: name, KindFlag: union}
}

func array(elem, index btf.TypeID, n uint32) btf.Type {
	return btf.Type{Kind: btf.KindArray, Type: elem, IndexType: index, Nelems: n}
}

func mem(name string, typ btf.TypeID, bitOff uint32) btf.Member {
	return btf.Member{Name: name, Type: typ, Offset: bitOff}
}

func structT(name string, size uint32, ms ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindStruct, Name: name, Size: size, Members: ms}
}

func unionT(name string, size uint32, ms ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindUnion, Name: name, Size: size, Members: ms}
}

func enumT(name string, size uint32, vals ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindEnum, Name: name, Size: size, Members: vals}
}

func val(name string, v uint64) btf.Member { return btf.Enumerator(name, v) }

func proto(ret btf.TypeID, params ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindFuncProto, Type: ret, Members: params}
}

func param(name string, typ btf.TypeID) btf.Member { return btf.Member{Name: name, Type: typ} }

func funcT(name string, protoID btf.TypeID, linkage uint32) btf.Type {
	return btf.Type{Kind: btf.KindFunc, Name: name, Type: protoID, Linkage: linkage}
}

func varT(name string, typ btf.TypeID, linkage uint32) btf.Type {
	return btf.Type{Kind: btf.KindVar, Name: name, Type: typ, Linkage: linkage}
}

func datasec(name string, size uint32, vars ...btf.Member) btf.Type {
	return btf.Type{Kind: btf.KindDatasec, Name: name, Size: size, Members: vars}
}

func secinfo(v btf.TypeID, off, size uint32) btf.Member {
	return btf.Member{Type: v, Offset: off, Size: size}
}

func declTag(name string, target btf.TypeID, component int32) btf.Type {
	return btf.Type{Kind: btf.KindDeclTag, Name: name, Type: target, ComponentIdx: component}
}

func spec(types ...btf.Type) *btf.Spec {
	return &btf.Spec{FirstID: 1, Types: types}
}

func split(base *btf.Spec, types ...btf.Type) *btf.Spec {
	return &btf.Spec{Base: base, FirstID: base.NextID(), Types: types}
}

// concat appends the types of specs (standalone or all on the same base) into one
// Spec, shifting each one's IDs past the previous ones.
func concat(specs ...*btf.Spec) *btf.Spec {
	out := &btf.Spec{Base: specs[0].Base, FirstID: specs[0].FirstID}
	for _, s := range specs {
		shift := out.NextID() - s.FirstID
		mv := func(id btf.TypeID) btf.TypeID {
			if id < s.FirstID {
				return id // void or base
			}
			return id + shift
		}
		for _, t := range s.Types {
			t.Members = append([]btf.Member(nil), t.Members...)
			if t.Kind.HasRef() {
				t.Type = mv(t.Type)
			}
			if t.Kind == btf.KindArray {
				t.IndexType = mv(t.IndexType)
			}
			switch t.Kind {
			case btf.KindStruct, btf.KindUnion, btf.KindFuncProto, btf.KindDatasec:
				for i := range t.Members {
					t.Members[i].Type = mv(t.Members[i].Type)
				}
			}
			out.Types = append(out.Types, t)
		}
	}
	return out
}

// dump prints a Spec's own types one per line, in the manner of bpftool.
func dump(s *btf.Spec) string {
	var b strings.Builder
	for i := range s.Types {
		t := &s.Types[i]
		fmt.Fprintf(&b, "[%d] %s '%s'", s.FirstID+btf.TypeID(i), t.Kind, t.Name)
		switch t.Kind {
		case btf.KindInt:
			fmt.Fprintf(&b, " size=%d bits_offset=%d nr_bits=%d encoding=%d", t.Size, t.IntOffset, t.IntBits, t.IntEncoding)
		case btf.KindArray:
			fmt.Fprintf(&b, " type_id=%d index_type_id=%d nr_elems=%d", t.Type, t.IndexType, t.Nelems)
		case btf.KindStruct, btf.KindUnion:
			fmt.Fprintf(&b, " size=%d vlen=%d", t.Size, len(t.Members))
			for _, m := range t.Members {
				fmt.Fprintf(&b, " '%s':%d@%d", m.Name, m.Type, m.Offset)
				if m.Size != 0 {
					fmt.Fprintf(&b, ":%d", m.Size)
				}
			}
		case btf.KindEnum, btf.KindEnum64:
			fmt.Fprintf(&b, " size=%d vlen=%d", t.Size, len(t.Members))
			for _, m := range t.Members {
				fmt.Fprintf(&b, " '%s'=%d", m.Name, int64(m.Value()))
			}
		case btf.KindFwd:
			fmt.Fprintf(&b, " union=%v", t.KindFlag)
		case btf.KindFuncProto:
			fmt.Fprintf(&b, " ret=%d vlen=%d", t.Type, len(t.Members))
			for _, m := range t.Members {
				fmt.Fprintf(&b, " '%s':%d", m.Name, m.Type)
			}
		case btf.KindFunc, btf.KindVar:
			fmt.Fprintf(&b, " type_id=%d linkage=%d", t.Type, t.Linkage)
		case btf.KindDatasec:
			fmt.Fprintf(&b, " size=%d vlen=%d", t.Size, len(t.Members))
			for _, m := range t.Members {
				fmt.Fprintf(&b, " %d@%d:%d", m.Type, m.Offset, m.Size)
			}
		case btf.KindFloat:
			fmt.Fprintf(&b, " size=%d", t.Size)
		case btf.KindDeclTag:
			fmt.Fprintf(&b, " type_id=%d component_idx=%d", t.Type, t.ComponentIdx)
		default:
			fmt.Fprintf(&b, " type_id=%d", t.Type)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// shapes renders every type of s (base types included for split BTF) by structure,
// following references to the given depth and never printing IDs, and returns the
// sorted list: equal lists mean the two Specs hold the same types up to numbering.
func shapes(s *btf.Spec, depth int) []string {
	var render func(id btf.TypeID, depth int) string
	render = func(id btf.TypeID, depth int) string {
		t := s.Type(id)
		if t == nil {
			return "void"
		}
		head := fmt.Sprintf("%s'%s'/%d/%v/%d.%d.%d/%d/%d/%d", t.Kind, t.Name, t.Size, t.KindFlag,
			t.IntEncoding, t.IntOffset, t.IntBits, t.Nelems, t.Linkage, t.ComponentIdx)
		if depth == 0 {
			return head
		}
		var b strings.Builder
		b.WriteString(head)
		if t.Kind.HasRef() {
			b.WriteString("->" + render(t.Type, depth-1))
		}
		if t.Kind == btf.KindArray {
			b.WriteString("[" + render(t.IndexType, depth-1) + "]")
		}
		b.WriteString("{")
		for _, m := range t.Members {
			fmt.Fprintf(&b, "%s@%d:%d", m.Name, m.Offset, m.Size) // an enumerator's value is in Offset and Size
			switch t.Kind {
			case btf.KindStruct, btf.KindUnion, btf.KindFuncProto, btf.KindDatasec:
				b.WriteString(":" + render(m.Type, depth-1))
			}
			b.WriteString(";")
		}
		b.WriteString("}")
		return b.String()
	}
	var out []string
	for id := btf.TypeID(1); id < s.NextID(); id++ {
		out = append(out, render(id, depth))
	}
	sort.Strings(out)
	return out
}

// parseRaw and writeRaw are the kernel wire format (package btf), under the names
// the real-data tests use.
func parseRaw(data []byte, base *btf.Spec) (*btf.Spec, error) { return btf.Parse(data, base) }

func writeRaw(s *btf.Spec) []byte {
	data, err := s.Marshal(btf.MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		panic(err)
	}
	return data
}
