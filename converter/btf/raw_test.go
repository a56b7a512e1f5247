package btf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	cbtf "github.com/cilium/ebpf/btf"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

const (
	kernelDir  = "/var/cache/rules_btf/kernel"
	vmlinuxBTF = kernelDir + "/vmlinux.btf"
	moduleKO   = kernelDir + "/modules/net/key/af_key.ko"
)

// allKinds is a small Spec with every kind and every flag the format has.
func allKinds() *Spec {
	s := NewSpec()
	intID := s.Add(Type{Kind: KindInt, Name: "int", Size: 4, IntEncoding: IntSigned, IntBits: 32}) // 1
	charID := s.Add(Type{Kind: KindInt, Name: "char", Size: 1, IntEncoding: IntChar | IntSigned, IntBits: 8})
	boolID := s.Add(Type{Kind: KindInt, Name: "_Bool", Size: 1, IntEncoding: IntBool, IntBits: 1, IntOffset: 0})
	ptrID := s.Add(Type{Kind: KindPtr, Type: 5}) // 4: pointer to struct s
	structID := s.Add(Type{Kind: KindStruct, Name: "s", Size: 16, KindFlag: true, Members: []Member{
		{Name: "a", Type: intID, Offset: 0},
		{Name: "b", Type: intID, Offset: 32, Size: 3},
		{Name: "c", Type: boolID, Offset: 35, Size: 1},
		{Name: "next", Type: ptrID, Offset: 64},
	}}) // 5
	arrID := s.Add(Type{Kind: KindArray, Type: charID, IndexType: intID, Nelems: 16})
	s.Add(Type{Kind: KindUnion, Name: "", Size: 16, Members: []Member{
		{Name: "s", Type: structID}, {Name: "buf", Type: arrID},
	}})
	s.Add(Type{Kind: KindEnum, Name: "e", Size: 4, Members: []Member{Enumerator("A", 0), Enumerator("B", 0xffffffff)}})
	s.Add(Type{Kind: KindEnum, Name: "se", Size: 4, KindFlag: true, Members: []Member{Enumerator("M", ^uint64(0)), Enumerator("P", 7)}})
	s.Add(Type{Kind: KindEnum64, Name: "e64", Size: 8, Members: []Member{Enumerator("BIG", 1<<40), {Name: "A"}}})
	s.Add(Type{Kind: KindFwd, Name: "fs"})
	s.Add(Type{Kind: KindFwd, Name: "fu", KindFlag: true})
	tdID := s.Add(Type{Kind: KindTypedef, Name: "s_t", Type: structID})
	volID := s.Add(Type{Kind: KindVolatile, Type: intID})
	constID := s.Add(Type{Kind: KindConst, Type: volID})
	s.Add(Type{Kind: KindRestrict, Type: ptrID})
	protoID := s.Add(Type{Kind: KindFuncProto, Type: intID, Members: []Member{
		{Name: "x", Type: constID}, {Name: "p", Type: ptrID}, {}, // varargs
	}})
	funcID := s.Add(Type{Kind: KindFunc, Name: "f", Type: protoID, Linkage: LinkageGlobal})
	varID := s.Add(Type{Kind: KindVar, Name: "v", Type: tdID, Linkage: LinkageGlobalVar})
	s.Add(Type{Kind: KindDatasec, Name: ".data..percpu", Size: 64, Members: []Member{{Type: varID, Offset: 8, Size: 16}}})
	s.Add(Type{Kind: KindFloat, Name: "double", Size: 8})
	s.Add(Type{Kind: KindDeclTag, Name: "tag1", Type: structID, ComponentIdx: -1})
	s.Add(Type{Kind: KindDeclTag, Name: "tag2", Type: funcID, ComponentIdx: 1})
	s.Add(Type{Kind: KindTypeTag, Name: "user", Type: intID})
	s.Add(Type{Kind: KindDeclTag, Name: "attr", Type: structID, ComponentIdx: 0, KindFlag: true})
	return s
}

func TestRoundTrip(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			s := allKinds()
			raw, err := s.Marshal(MarshalOptions{ByteOrder: bo})
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Types, s.Types) {
				for i := range s.Types {
					if !reflect.DeepEqual(got.Types[i], s.Types[i]) {
						t.Errorf("type ID %d: got %+v, want %+v", i+1, got.Types[i], s.Types[i])
					}
				}
			}
			again, err := got.Marshal(MarshalOptions{ByteOrder: bo})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, raw) {
				t.Error("marshal(parse(marshal(s))) differs from marshal(s)")
			}
			golden := filepath.Join("testdata", "allkinds."+bo.String()+".btf")
			if *update {
				if err := os.WriteFile(golden, raw, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, want) {
				t.Errorf("marshalled bytes differ from %s (run with -update if intended)", golden)
			}
		})
	}
}

// ParseAliased gives Parse's Spec, whose sections are views of the input, not
// copies; split BTF parsed on it too.
func TestParseAliased(t *testing.T) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		raw, err := allKinds().Marshal(MarshalOptions{ByteOrder: bo})
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseAliased(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Types, want.Types) {
			t.Fatalf("%v: ParseAliased's types differ from Parse's", bo)
		}
		inRaw := func(b []byte) bool { // does b lie in raw's memory?
			if len(b) == 0 {
				return false
			}
			p, lo := uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&raw[0]))
			return p >= lo && p < lo+uintptr(len(raw))
		}
		if !inRaw(got.strings.data) || (bo == binary.LittleEndian && !inRaw(got.records)) {
			t.Errorf("%v: ParseAliased copied its input", bo)
		}
		if inRaw(want.strings.data) {
			t.Errorf("%v: Parse did not copy its input", bo)
		}
		again, err := got.Marshal(MarshalOptions{ByteOrder: bo})
		if err != nil || !bytes.Equal(again, raw) {
			t.Errorf("%v: marshal(ParseAliased(raw)) differs from raw (%v)", bo, err)
		}
	}
}

func TestStringTable(t *testing.T) {
	s := NewSpec()
	i := s.Add(Type{Kind: KindInt, Name: "int", Size: 4, IntBits: 32})
	s.Add(Type{Kind: KindStruct, Name: "b", Size: 4, Members: []Member{{Name: "a", Type: i}, {Name: "int", Type: i}}})
	s.Add(Type{Kind: KindTypedef, Name: "a", Type: i})
	raw, err := s.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	strs := raw[len(raw)-int(binary.LittleEndian.Uint32(raw[20:])):]
	if want := "\x00int\x00b\x00a\x00"; string(strs) != want {
		t.Errorf("string section %q, want %q (first use, no duplicates)", strs, want)
	}
}

func TestSplitInMemory(t *testing.T) {
	base := allKinds()
	split := NewSplitSpec(base)
	p := split.Add(Type{Kind: KindPtr, Type: 5})
	split.Add(Type{Kind: KindStruct, Name: "s", Size: 8, Members: []Member{{Name: "next", Type: p}, {Name: "brand_new", Type: 1, Offset: 32}}})
	split.Add(Type{Kind: KindTypedef, Name: "int", Type: split.FirstID + 1})
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		raw, err := split.Marshal(MarshalOptions{ByteOrder: bo})
		if err != nil {
			t.Fatal(err)
		}
		strLen := bo.Uint32(raw[20:])
		if got, want := string(raw[len(raw)-int(strLen):]), "brand_new\x00"; got != want {
			t.Errorf("%v: split string section %q, want %q (base strings by base offset)", bo, got, want)
		}
		// The base as it would be written, parsed back, gives the same offsets.
		baseRaw, err := base.Marshal(MarshalOptions{ByteOrder: bo})
		if err != nil {
			t.Fatal(err)
		}
		parsedBase, err := Parse(baseRaw, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []*Spec{base, parsedBase} {
			got, err := Parse(raw, b)
			if err != nil {
				t.Fatal(err)
			}
			if got.FirstID != split.FirstID || !reflect.DeepEqual(got.Types, split.Types) {
				t.Errorf("%v: split round trip: got first ID %d %+v, want %d %+v", bo, got.FirstID, got.Types, split.FirstID, split.Types)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	le := binary.LittleEndian
	good, err := allKinds().Marshal(MarshalOptions{ByteOrder: le})
	if err != nil {
		t.Fatal(err)
	}
	typeLen := int(le.Uint32(good[12:]))
	strStart := rawHeaderLen + typeLen
	// Record offsets of the first types: INT 1 at 24, INT 2 at 40, INT 3 at 56, PTR 4 at 72.
	patch := func(off int, v uint32) []byte {
		b := append([]byte(nil), good...)
		le.PutUint32(b[off:], v)
		return b
	}
	tests := []struct {
		name string
		raw  []byte
		want string
	}{
		{"empty", nil, "btf: offset 0x0: not BTF"},
		{"bad magic", []byte("\x7fELF\x02\x01\x01\x00"), "not BTF: bad magic 0x457f"},
		{"version", append([]byte{0x9f, 0xeb, 2, 0}, good[4:]...), "offset 0x2: unsupported version 2"},
		{"header length", patch(4, 1000000), "offset 0x4: header length 1000000"},
		{"type section beyond", patch(12, uint32(len(good))), "offset 0x8: type section"},
		{"string section beyond", patch(20, uint32(len(good))), "offset 0x10: string section"},
		{"truncated record", good[:strStart-2], "beyond"},
		{"strings without NUL", patch(20, le.Uint32(good[20:])-1)[:len(good)-1], "does not end with NUL"},
		{"reserved info bits", patch(24+4, 1<<24|1<<20), "type ID 1 at offset 0x18: info 0x01100000 has reserved bits set"},
		{"unknown kind", patch(24+4, 25<<24), "type ID 1 at offset 0x18: unknown kind 25"},
		{"kind flag on INT", patch(24+4, 1<<31|1<<24), "type ID 1 at offset 0x18: INT with kind_flag set"},
		{"name offset", patch(40, 1<<30), "type ID 2 at offset 0x28: name: string offset 1073741824 out of range"},
		{"reference", patch(72+8, 1000), "type ID 4 at offset 0x48: PTR refers to type ID 1000, beyond the last ID"},
		{"vlen", patch(84+4, 4<<24|0xffff), "type ID 5 at offset 0x54: truncated STRUCT record with vlen 65535"},
		{"vlen on PTR", patch(72+4, 2<<24|1), "type ID 4 at offset 0x48: PTR with vlen 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.raw, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error %v, want one containing %q", err, tt.want)
			}
		})
	}
	// Every truncation of a valid blob fails cleanly (or, cut inside the string
	// section's header-declared range, as truncated).
	for n := 0; n < len(good); n++ {
		if _, err := Parse(good[:n], nil); err == nil {
			t.Errorf("Parse of the first %d bytes succeeded", n)
		}
	}
	if _, err := Parse(good[:3], nil); !errors.Is(err, ErrNotBTF) {
		t.Errorf("short input: %v, want ErrNotBTF", err)
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		t    []Type
		want string
	}{
		{"bitfield without kind_flag", []Type{{Kind: KindInt, Name: "int", Size: 4, IntBits: 32}, {Kind: KindStruct, Size: 4, Members: []Member{{Name: "x", Type: 1, Size: 3}}}},
			"type ID 2 (STRUCT \"\"): member 0 (\"x\"): bitfield size 3 needs kind_flag"},
		{"reference", []Type{{Kind: KindPtr, Type: 2}}, "type ID 1 (PTR \"\"): PTR refers to type ID 2"},
		{"func not to proto", []Type{{Kind: KindInt, Name: "int", Size: 4, IntBits: 32}, {Kind: KindFunc, Name: "f", Type: 1}}, "FUNC refers to type ID 1, which is not a FUNC_PROTO"},
		{"nul in name", []Type{{Kind: KindInt, Name: "a\x00b", Size: 4, IntBits: 32}}, "contains a NUL byte"},
		{"kind flag", []Type{{Kind: KindPtr, KindFlag: true}}, "kind_flag set on PTR"},
		{"unknown kind", []Type{{Kind: 30}}, "unknown kind 30"},
		{"members on typedef", []Type{{Kind: KindTypedef, Name: "t", Members: []Member{{}}}}, "TYPEDEF with 1 members"},
		{"enum value", []Type{{Kind: KindEnum, Name: "e", Size: 4, Members: []Member{Enumerator("X", 1<<33)}}}, "value 0x200000000 does not fit 32 bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSpec()
			s.Types = tt.t
			_, err := s.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Marshal error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := allKinds().Marshal(MarshalOptions{}); err == nil {
		t.Error("Marshal without a byte order succeeded")
	}
}

// describe gives a Spec's type in a form comparable with ciliumDescribe's.
func describe(s *Spec, id TypeID) string {
	t := s.Type(id)
	var b strings.Builder
	switch t.Kind {
	case KindInt:
		fmt.Fprintf(&b, "INT %s size=%d enc=%d", t.Name, t.Size, t.IntEncoding)
	case KindEnum, KindEnum64:
		fmt.Fprintf(&b, "ENUM %s size=%d signed=%v", t.Name, t.Size, t.KindFlag)
		for _, m := range t.Members {
			fmt.Fprintf(&b, " %s=%d", m.Name, m.Value())
		}
	case KindStruct, KindUnion:
		fmt.Fprintf(&b, "%s %s size=%d", t.Kind, t.Name, t.Size)
		for _, m := range t.Members {
			fmt.Fprintf(&b, " %s:%d@%d:%d", m.Name, m.Type, m.Offset, m.Size)
		}
	case KindFwd:
		fmt.Fprintf(&b, "FWD %s union=%v", t.Name, t.KindFlag)
	case KindArray:
		fmt.Fprintf(&b, "ARRAY %d[%d] idx=%d", t.Type, t.Nelems, t.IndexType)
	case KindFuncProto:
		fmt.Fprintf(&b, "FUNC_PROTO ret=%d", t.Type)
		for _, m := range t.Members {
			fmt.Fprintf(&b, " %s:%d", m.Name, m.Type)
		}
	case KindFunc, KindVar:
		fmt.Fprintf(&b, "%s %s type=%d linkage=%d", t.Kind, t.Name, t.Type, t.Linkage)
	case KindDatasec:
		fmt.Fprintf(&b, "DATASEC %s size=%d", t.Name, t.Size)
		for _, m := range t.Members {
			fmt.Fprintf(&b, " %d@%d:%d", m.Type, m.Offset, m.Size)
		}
	case KindFloat:
		fmt.Fprintf(&b, "FLOAT %s size=%d", t.Name, t.Size)
	default:
		fmt.Fprintf(&b, "%s %s type=%d", t.Kind, t.Name, t.Type)
	}
	return b.String()
}

func ciliumDescribe(t *testing.T, s *cbtf.Spec, typ cbtf.Type) string {
	id := func(x cbtf.Type) TypeID {
		i, err := s.TypeID(x)
		if err != nil {
			t.Fatalf("cilium TypeID(%v): %v", x, err)
		}
		return TypeID(i)
	}
	var b strings.Builder
	switch x := typ.(type) {
	case *cbtf.Int:
		fmt.Fprintf(&b, "INT %s size=%d enc=%d", x.Name, x.Size, x.Encoding)
	case *cbtf.Enum:
		fmt.Fprintf(&b, "ENUM %s size=%d signed=%v", x.Name, x.Size, x.Signed)
		for _, v := range x.Values {
			fmt.Fprintf(&b, " %s=%d", v.Name, v.Value)
		}
	case *cbtf.Struct, *cbtf.Union:
		k, name, size, members := "STRUCT", "", uint32(0), []cbtf.Member(nil)
		if st, ok := x.(*cbtf.Struct); ok {
			name, size, members = st.Name, st.Size, st.Members
		} else {
			u := x.(*cbtf.Union)
			k, name, size, members = "UNION", u.Name, u.Size, u.Members
		}
		fmt.Fprintf(&b, "%s %s size=%d", k, name, size)
		for _, m := range members {
			fmt.Fprintf(&b, " %s:%d@%d:%d", m.Name, id(m.Type), m.Offset, m.BitfieldSize)
		}
	case *cbtf.Fwd:
		fmt.Fprintf(&b, "FWD %s union=%v", x.Name, x.Kind == cbtf.FwdUnion)
	case *cbtf.Array:
		fmt.Fprintf(&b, "ARRAY %d[%d] idx=%d", id(x.Type), x.Nelems, id(x.Index))
	case *cbtf.FuncProto:
		fmt.Fprintf(&b, "FUNC_PROTO ret=%d", id(x.Return))
		for _, p := range x.Params {
			fmt.Fprintf(&b, " %s:%d", p.Name, id(p.Type))
		}
	case *cbtf.Func:
		fmt.Fprintf(&b, "FUNC %s type=%d linkage=%d", x.Name, id(x.Type), x.Linkage)
	case *cbtf.Var:
		fmt.Fprintf(&b, "VAR %s type=%d linkage=%d", x.Name, id(x.Type), x.Linkage)
	case *cbtf.Datasec:
		fmt.Fprintf(&b, "DATASEC %s size=%d", x.Name, x.Size)
		for _, v := range x.Vars {
			fmt.Fprintf(&b, " %d@%d:%d", id(v.Type), v.Offset, v.Size)
		}
	case *cbtf.Float:
		fmt.Fprintf(&b, "FLOAT %s size=%d", x.Name, x.Size)
	case *cbtf.Pointer:
		fmt.Fprintf(&b, "PTR  type=%d", id(x.Target))
	case *cbtf.Typedef:
		fmt.Fprintf(&b, "TYPEDEF %s type=%d", x.Name, id(x.Type))
	case *cbtf.Volatile:
		fmt.Fprintf(&b, "VOLATILE  type=%d", id(x.Type))
	case *cbtf.Const:
		fmt.Fprintf(&b, "CONST  type=%d", id(x.Type))
	case *cbtf.Restrict:
		fmt.Fprintf(&b, "RESTRICT  type=%d", id(x.Type))
	case *cbtf.TypeTag:
		fmt.Fprintf(&b, "TYPE_TAG %s type=%d", x.Value, id(x.Type))
	default:
		t.Fatalf("unexpected cilium type %T", typ)
	}
	return b.String()
}

// compareWithCilium checks that ours describes every type of cs the way cilium/ebpf
// decoded it, ID by ID.
func compareWithCilium(t *testing.T, ours *Spec, cs *cbtf.Spec) {
	t.Helper()
	n := 0
	for typ, err := range cs.All() {
		if err != nil {
			t.Fatal(err)
		}
		cid, err := cs.TypeID(typ)
		if err != nil {
			t.Fatal(err)
		}
		id := TypeID(cid)
		if id == 0 {
			continue // void
		}
		if ours.Type(id) == nil {
			t.Fatalf("cilium has type ID %d, we do not", id)
		}
		if want, got := ciliumDescribe(t, cs, typ), describe(ours, id); got != want {
			if n++; n <= 10 {
				t.Errorf("type ID %d:\n got  %s\n want %s", id, got, want)
			}
		}
	}
	if n > 10 {
		t.Errorf("... %d types differ", n)
	}
}

func readOrSkip(t testing.TB, path string) []byte {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not present", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestVmlinux(t *testing.T) {
	raw := readOrSkip(t, vmlinuxBTF)
	spec, err := Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cbtf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Types) != 94975 {
		t.Errorf("%d types, want 94975", len(spec.Types))
	}
	compareWithCilium(t, spec, cs)
	for _, name := range []string{"task_struct", "sk_buff", "list_head"} {
		ts, err := cs.AnyTypesByName(name)
		if err != nil {
			t.Fatalf("cilium: %s: %v", name, err)
		}
		cid, _ := cs.TypeID(ts[0])
		if got := spec.Type(TypeID(cid)); got == nil || got.Name != name {
			t.Errorf("type ID %d: got %+v, want %s", cid, got, name)
		}
	}

	out, err := spec.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	cs2, err := cbtf.LoadSpecFromReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	compareWithCilium(t, spec, cs2)

	be, err := spec.Marshal(MarshalOptions{ByteOrder: binary.BigEndian})
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(be, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Types, spec.Types) {
		t.Error("big-endian round trip differs")
	}
}

func moduleBTF(t testing.TB, path string) []byte {
	t.Helper()
	f, err := elf.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not present", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sec := f.Section(".BTF")
	if sec == nil {
		t.Fatalf("%s has no .BTF", path)
	}
	data, err := sec.Data()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestModuleSplit(t *testing.T) {
	baseRaw := readOrSkip(t, vmlinuxBTF)
	raw := moduleBTF(t, moduleKO)
	base, err := Parse(baseRaw, nil)
	if err != nil {
		t.Fatal(err)
	}
	split, err := Parse(raw, base)
	if err != nil {
		t.Fatal(err)
	}
	if split.FirstID != base.NextID() || len(split.Types) == 0 {
		t.Fatalf("split: first ID %d (want %d), %d types", split.FirstID, base.NextID(), len(split.Types))
	}
	cbase, err := cbtf.LoadSpecFromReader(bytes.NewReader(baseRaw))
	if err != nil {
		t.Fatal(err)
	}
	csplit, err := cbtf.LoadSplitSpecFromReader(bytes.NewReader(raw), cbase)
	if err != nil {
		t.Fatal(err)
	}
	compareWithCilium(t, split, csplit)

	out, err := split.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > len(raw) {
		t.Errorf("re-marshalled split BTF is %d bytes, the module's %d: base strings not reused?", len(out), len(raw))
	}
	csplit2, err := cbtf.LoadSplitSpecFromReader(bytes.NewReader(out), cbase)
	if err != nil {
		t.Fatal(err)
	}
	compareWithCilium(t, split, csplit2)
	again, err := Parse(out, base)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Types, split.Types) {
		t.Error("split round trip differs")
	}
}

func BenchmarkParseVmlinux(b *testing.B) {
	raw := readOrSkip(b, vmlinuxBTF)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Parse(raw, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalVmlinux(b *testing.B) {
	spec, err := Parse(readOrSkip(b, vmlinuxBTF), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := spec.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		raw, err := allKinds().Marshal(MarshalOptions{ByteOrder: bo})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		spec, err := Parse(raw, nil)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a DecodeError", err)
			}
			return
		}
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			out, err := spec.Marshal(MarshalOptions{ByteOrder: bo})
			if err != nil {
				t.Fatalf("re-marshal of parsed input: %v", err)
			}
			again, err := Parse(out, nil)
			if err != nil {
				t.Fatalf("parse of re-marshalled input: %v", err)
			}
			if len(again.Types) != len(spec.Types) || (len(spec.Types) > 0 && !reflect.DeepEqual(again.Types, spec.Types)) {
				t.Fatal("round trip differs")
			}
		}
	})
}

// TestConcurrentSplitMarshal marshals split BTF on one parsed base from several
// goroutines (the base's string index is built lazily, once); run with -race.
func TestConcurrentSplitMarshal(t *testing.T) {
	raw, err := allKinds().Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	base, err := Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([][]byte, 8)
	errs := make([]error, len(outs))
	done := make(chan int)
	for i := range outs {
		go func() {
			split := NewSplitSpec(base)
			split.Add(Type{Kind: KindTypedef, Name: fmt.Sprintf("t%d", i%2), Type: 5})
			outs[i], errs[i] = split.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
			done <- i
		}()
	}
	for range outs {
		<-done
	}
	for i := range outs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(outs[i], outs[i%2]) {
			t.Errorf("goroutine %d: output differs", i)
		}
	}
}

// An index of a base's strings written by one process (MarshalStringIndex) serves
// another parse of the same base (LoadStringIndex): split BTF marshalled on it is the
// same bytes, its base strings found there. Anything else is refused.
func TestStringIndexFile(t *testing.T) {
	baseRaw, err := allKinds().Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	first, err := Parse(baseRaw, nil)
	if err != nil {
		t.Fatal(err)
	}
	index, err := first.MarshalStringIndex()
	if err != nil {
		t.Fatal(err)
	}
	splitOn := func(base *Spec) []byte {
		split := NewSplitSpec(base)
		split.Add(Type{Kind: KindStruct, Name: "s", Size: 4, Members: []Member{{Name: "brand_new", Type: 1}}})
		split.Add(Type{Kind: KindTypedef, Name: "int", Type: split.FirstID})
		raw, err := split.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	want := splitOn(first)
	second, err := Parse(baseRaw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.LoadStringIndex(index); err != nil {
		t.Fatal(err)
	}
	if got := splitOn(second); !bytes.Equal(got, want) {
		t.Error("split BTF on a base with a loaded string index differs")
	}
	if err := second.LoadStringIndex(index); err == nil {
		t.Error("a second index was loaded into an indexed section")
	}

	flip := bytes.Clone(index)
	flip[len(flip)-1] ^= 1
	other, err := NewSpec().Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		raw, index []byte
	}{
		"damaged":       {baseRaw, flip},
		"truncated":     {baseRaw, index[:len(index)-4]},
		"empty":         {baseRaw, nil},
		"other strings": {other, index},
	} {
		s, err := Parse(tc.raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.LoadStringIndex(tc.index); !errors.Is(err, ErrStringIndex) {
			t.Errorf("%s: %v, want ErrStringIndex", name, err)
		}
	}
}

// ParseTrusted leaves the types undecoded, and its Spec serves as a base as Parse's
// does: the same IDs and table, split BTF marshalled on it the same bytes, and the
// types decoded on demand equal to Parse's.
func TestParseTrusted(t *testing.T) {
	raw, err := allKinds().Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseTrusted(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Types != nil || got.NextID() != want.NextID() || got.Len() != want.Len() {
		t.Fatalf("trusted: %d decoded types, next ID %d; want none decoded, next ID %d", len(got.Types), got.NextID(), want.NextID())
	}
	split := func(base *Spec) []byte {
		s := NewSplitSpec(base)
		p := s.Add(Type{Kind: KindPtr, Type: 1})
		s.Add(Type{Kind: KindStruct, Name: "s", Size: 8, Members: []Member{{Name: "p", Type: p}}})
		s.Add(Type{Kind: KindFunc, Name: "f", Type: 17}) // a FUNC on the base FUNC_PROTO
		out, err := s.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if !bytes.Equal(split(got), split(want)) {
		t.Error("split BTF on a trusted base differs")
	}
	if got.Types != nil {
		t.Error("marshalling split BTF on a trusted base decoded the base")
	}
	tw, _ := want.Table()
	tg, _ := got.Table()
	if a, b := tw.Sections(); true {
		c, d := tg.Sections()
		if !bytes.Equal(a, c) || !bytes.Equal(b, d) {
			t.Error("a trusted base's table differs")
		}
	}
	if !reflect.DeepEqual(got.Type(7), want.Type(7)) || !reflect.DeepEqual(got.Types, want.Types) {
		t.Error("types decoded on demand differ from Parse's")
	}
}
