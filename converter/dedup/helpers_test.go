package dedup

import (
	"bytes"
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

func val(name string, v uint64) btf.Member { return btf.Member{Name: name, Value: v} }

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
				fmt.Fprintf(&b, " '%s'=%d", m.Name, int64(m.Value))
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
			fmt.Fprintf(&b, "%s@%d:%d=%d", m.Name, m.Offset, m.Size, m.Value)
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

// parseRaw decodes raw BTF (little-endian) for the real-data tests, on base if not
// nil. It reads what vmlinux's and modules' BTF hold and checks little else.
func parseRaw(data []byte, base *btf.Spec) (*btf.Spec, error) {
	le := binary.LittleEndian
	if len(data) < 24 || le.Uint16(data) != 0xeb9f {
		return nil, fmt.Errorf("not little-endian raw BTF")
	}
	hdrLen := le.Uint32(data[4:])
	typeOff, typeLen := le.Uint32(data[8:]), le.Uint32(data[12:])
	strOff, strLen := le.Uint32(data[16:]), le.Uint32(data[20:])
	body := data[hdrLen:]
	if uint64(typeOff)+uint64(typeLen) > uint64(len(body)) || uint64(strOff)+uint64(strLen) > uint64(len(body)) {
		return nil, fmt.Errorf("sections past the end")
	}
	types := body[typeOff : typeOff+typeLen]
	strs := body[strOff : strOff+strLen]

	s := &btf.Spec{FirstID: 1}
	all := strs
	if base != nil {
		s.Base, s.FirstID = base, base.NextID()
		all = append(append([]byte(nil), rawStrings[base]...), strs...)
	}
	cache := map[uint32]string{}
	str := func(off uint32) (string, error) {
		if x, ok := cache[off]; ok {
			return x, nil
		}
		if off >= uint32(len(all)) {
			return "", fmt.Errorf("string offset %d past the end", off)
		}
		end := bytes.IndexByte(all[off:], 0)
		if end < 0 {
			return "", fmt.Errorf("unterminated string at %d", off)
		}
		x := string(all[off : off+uint32(end)])
		cache[off] = x
		return x, nil
	}
	u32 := func(p []byte, i int) uint32 { return le.Uint32(p[4*i:]) }
	for pos := 0; pos < len(types); {
		if len(types)-pos < 12 {
			return nil, fmt.Errorf("truncated type at %d", pos)
		}
		rec := types[pos:]
		name, err := str(u32(rec, 0))
		if err != nil {
			return nil, err
		}
		info := u32(rec, 1)
		t := btf.Type{Name: name, Kind: btf.Kind(info >> 24 & 0x1f), KindFlag: info>>31 == 1}
		n := int(info & 0xffff)
		word := u32(rec, 2)
		extra := rec[12:]
		size := 12
		need := func(k int) error {
			if len(extra) < k {
				return fmt.Errorf("truncated type at %d", pos)
			}
			size += k
			return nil
		}
		switch t.Kind {
		case btf.KindInt:
			if err := need(4); err != nil {
				return nil, err
			}
			v := u32(extra, 0)
			t.Size, t.IntEncoding, t.IntOffset, t.IntBits = word, uint8(v>>24&0xf), uint8(v>>16), uint8(v)
		case btf.KindPtr, btf.KindTypedef, btf.KindVolatile, btf.KindConst, btf.KindRestrict, btf.KindTypeTag:
			t.Type = btf.TypeID(word)
		case btf.KindFunc:
			t.Type, t.Linkage = btf.TypeID(word), uint32(n)
		case btf.KindFwd:
		case btf.KindFloat:
			t.Size = word
		case btf.KindArray:
			if err := need(12); err != nil {
				return nil, err
			}
			t.Type, t.IndexType, t.Nelems = btf.TypeID(u32(extra, 0)), btf.TypeID(u32(extra, 1)), u32(extra, 2)
		case btf.KindStruct, btf.KindUnion:
			if err := need(12 * n); err != nil {
				return nil, err
			}
			t.Size = word
			for i := 0; i < n; i++ {
				mn, err := str(u32(extra, 3*i))
				if err != nil {
					return nil, err
				}
				m := btf.Member{Name: mn, Type: btf.TypeID(u32(extra, 3*i+1)), Offset: u32(extra, 3*i+2)}
				if t.KindFlag {
					m.Size, m.Offset = m.Offset>>24, m.Offset&0xffffff
				}
				t.Members = append(t.Members, m)
			}
		case btf.KindEnum:
			if err := need(8 * n); err != nil {
				return nil, err
			}
			t.Size = word
			for i := 0; i < n; i++ {
				mn, err := str(u32(extra, 2*i))
				if err != nil {
					return nil, err
				}
				v := uint64(u32(extra, 2*i+1))
				if t.KindFlag {
					v = uint64(int64(int32(v)))
				}
				t.Members = append(t.Members, btf.Member{Name: mn, Value: v})
			}
		case btf.KindEnum64:
			if err := need(12 * n); err != nil {
				return nil, err
			}
			t.Size = word
			for i := 0; i < n; i++ {
				mn, err := str(u32(extra, 3*i))
				if err != nil {
					return nil, err
				}
				v := uint64(u32(extra, 3*i+1)) | uint64(u32(extra, 3*i+2))<<32
				t.Members = append(t.Members, btf.Member{Name: mn, Value: v})
			}
		case btf.KindFuncProto:
			if err := need(8 * n); err != nil {
				return nil, err
			}
			t.Type = btf.TypeID(word)
			for i := 0; i < n; i++ {
				mn, err := str(u32(extra, 2*i))
				if err != nil {
					return nil, err
				}
				t.Members = append(t.Members, btf.Member{Name: mn, Type: btf.TypeID(u32(extra, 2*i+1))})
			}
		case btf.KindVar:
			if err := need(4); err != nil {
				return nil, err
			}
			t.Type, t.Linkage = btf.TypeID(word), u32(extra, 0)
		case btf.KindDatasec:
			if err := need(12 * n); err != nil {
				return nil, err
			}
			t.Size = word
			for i := 0; i < n; i++ {
				t.Members = append(t.Members, btf.Member{Type: btf.TypeID(u32(extra, 3*i)), Offset: u32(extra, 3*i+1), Size: u32(extra, 3*i+2)})
			}
		case btf.KindDeclTag:
			if err := need(4); err != nil {
				return nil, err
			}
			t.Type, t.ComponentIdx = btf.TypeID(word), int32(u32(extra, 0))
		default:
			return nil, fmt.Errorf("unknown kind %d at %d", t.Kind, pos)
		}
		s.Types = append(s.Types, t)
		pos += size
	}
	rawStrings[s] = all // for split BTF parsed on this one
	return s, nil
}

// rawStrings keeps each parsed Spec's string section, for split BTF on top of it.
var rawStrings = map[*btf.Spec][]byte{}

// writeRaw encodes s as raw BTF (little-endian), for the differential test against
// libbpf. Split BTF continues the string section of its base, which must have been
// read by parseRaw; every string of s is written anew.
func writeRaw(s *btf.Spec) []byte {
	le := binary.LittleEndian
	var strStart uint32
	if s.Base != nil {
		strStart = uint32(len(rawStrings[s.Base]))
	}
	var strs []byte
	if s.Base == nil {
		strs = []byte{0}
	}
	offs := map[string]uint32{}
	str := func(x string) uint32 {
		if x == "" && s.Base == nil {
			return 0
		}
		if off, ok := offs[x]; ok {
			return off
		}
		off := strStart + uint32(len(strs))
		strs = append(append(strs, x...), 0)
		offs[x] = off
		return off
	}
	var types []byte
	put := func(vs ...uint32) {
		for _, v := range vs {
			types = le.AppendUint32(types, v)
		}
	}
	for i := range s.Types {
		t := &s.Types[i]
		info := uint32(t.Kind)<<24 | uint32(len(t.Members))
		if t.Kind == btf.KindFunc {
			info = uint32(t.Kind)<<24 | t.Linkage
		}
		if t.KindFlag {
			info |= 1 << 31
		}
		word := uint32(t.Type)
		switch t.Kind {
		case btf.KindInt, btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64, btf.KindDatasec, btf.KindFloat:
			word = t.Size
		case btf.KindArray, btf.KindFwd:
			word = 0
		}
		put(str(t.Name), info, word)
		switch t.Kind {
		case btf.KindInt:
			put(uint32(t.IntEncoding)<<24 | uint32(t.IntOffset)<<16 | uint32(t.IntBits))
		case btf.KindArray:
			put(uint32(t.Type), uint32(t.IndexType), t.Nelems)
		case btf.KindStruct, btf.KindUnion:
			for _, m := range t.Members {
				off := m.Offset
				if t.KindFlag {
					off |= m.Size << 24
				}
				put(str(m.Name), uint32(m.Type), off)
			}
		case btf.KindEnum:
			for _, m := range t.Members {
				put(str(m.Name), uint32(m.Value))
			}
		case btf.KindEnum64:
			for _, m := range t.Members {
				put(str(m.Name), uint32(m.Value), uint32(m.Value>>32))
			}
		case btf.KindFuncProto:
			for _, m := range t.Members {
				put(str(m.Name), uint32(m.Type))
			}
		case btf.KindVar:
			put(t.Linkage)
		case btf.KindDatasec:
			for _, m := range t.Members {
				put(uint32(m.Type), m.Offset, m.Size)
			}
		case btf.KindDeclTag:
			put(uint32(t.ComponentIdx))
		}
	}
	var out []byte
	out = le.AppendUint16(out, 0xeb9f)
	out = append(out, 1, 0)
	for _, v := range []uint32{24, 0, uint32(len(types)), uint32(len(types)), uint32(len(strs))} {
		out = le.AppendUint32(out, v)
	}
	return append(append(out, types...), strs...)
}
