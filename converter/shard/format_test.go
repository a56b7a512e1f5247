package shard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// sample returns a shard that uses every field of every record.
func sample() *Shard {
	s := btf.NewSpec()
	intID := s.Add(btf.Type{Kind: btf.KindInt, Name: "int", Size: 4, IntEncoding: btf.IntSigned, IntBits: 32})
	ptr := s.Add(btf.Type{Kind: btf.KindPtr, Type: intID})
	s.Add(btf.Type{Kind: btf.KindStruct, Name: "s", Size: 8, KindFlag: true, Members: []btf.Member{
		{Name: "a", Type: intID, Offset: 0, Size: 3},
		{Name: "", Type: intID, Offset: 3, Size: 5},
		{Name: "p", Type: ptr, Offset: 32},
	}})
	s.Add(btf.Type{Kind: btf.KindEnum64, Name: "e", Size: 8, KindFlag: true, Members: []btf.Member{
		btf.Enumerator("NEG", ^uint64(0)), btf.Enumerator("BIG", 1<<40),
	}})
	s.Add(btf.Type{Kind: btf.KindArray, Type: intID, IndexType: intID, Nelems: 7})
	s.Add(btf.Type{Kind: btf.KindDeclTag, Name: "tag", Type: intID, ComponentIdx: -1})
	proto := s.Add(btf.Type{Kind: btf.KindFuncProto, Type: intID, Members: []btf.Member{{Name: "x", Type: ptr}, {}}})
	s.Add(btf.Type{Kind: btf.KindInt, Name: "odd", Size: 16, IntBits: 128, IntOffset: 0})
	return &Shard{
		Source: "a/b.o",
		Types:  s,
		Linked: true,
		CUs:    []CU{{Name: "b.c", Offset: 0, TypesEnd: 5}, {Name: "c.c", Offset: 1234, TypesEnd: 9}},
		Funcs: []Func{
			{Name: "f", Proto: proto, CU: 1, External: true, HasLowPC: true, LowPC: 0xffffffff81000000, AllParamsNamed: true,
				DeclTags: []DeclTag{{Value: "bpf_kfunc", Component: -1}, {Value: "nonnull", Component: 0}}},
			{Name: "g", Proto: proto, Declaration: true, Inline: true, OptimizedParams: true, UnexpectedReg: true,
				ReorderedParams: true, SignatureChanged: true, UncertainParamLoc: true},
		},
		Vars: []Var{
			{Name: "v", Type: intID, CU: 1, External: true, HasAddr: true, Addr: 0x40, Section: ".data..percpu",
				DeclTags: []DeclTag{{Value: "user", Component: -1}}},
			{Name: "d", Type: ptr, Declaration: true},
			{Name: "s", Type: intID, Specification: true, TopLevel: true, Artificial: true, HasAddr: true},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	want := sample()
	data, err := Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(data, "sample")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the shard:\ngot  %+v\nwant %+v", got, want)
	}
	again, err := Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("re-marshalling gave different bytes")
	}
}

func TestEmpty(t *testing.T) {
	data, err := Marshal(&Shard{Types: btf.NewSpec()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Unmarshal(data, "empty")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Types.Types) != 0 || len(s.Funcs) != 0 {
		t.Errorf("empty shard decoded as %+v", s)
	}
}

func TestRejectsSplitSpec(t *testing.T) {
	if _, err := Marshal(&Shard{Types: btf.NewSplitSpec(btf.NewSpec())}); err == nil {
		t.Error("Marshal accepted a split spec")
	}
}

// Every truncation and every single-byte corruption must give an error, not a panic
// and not a silently different shard.
func TestCorruption(t *testing.T) {
	data, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(data); n++ {
		if _, err := Unmarshal(data[:n], "trunc"); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d bytes: err = %v, want ErrFormat", n, err)
		}
	}
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x5a
		if _, err := Unmarshal(bad, "flip"); !errors.Is(err, ErrFormat) {
			t.Fatalf("byte %d flipped: err = %v, want ErrFormat", i, err)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	data, err := Marshal(sample())
	if err != nil {
		f.Fatal(err)
	}
	// The fuzzer mutates the payload; the checksum is recomputed so that the
	// decoder behind it is what gets exercised.
	f.Add(data[:len(data)-4])
	f.Fuzz(func(t *testing.T, payload []byte) {
		b := binary.LittleEndian.AppendUint32(bytes.Clone(payload), crc32.Checksum(payload, crcTable))
		s, err := Unmarshal(b, "fuzz")
		if err != nil {
			return
		}
		again, err := Marshal(s)
		if err != nil {
			t.Fatalf("decoded shard does not re-encode: %v", err)
		}
		if _, err := Unmarshal(again, "fuzz2"); err != nil {
			t.Fatalf("re-encoded shard does not decode: %v", err)
		}
	})
}

// A unit's TypesEnd must not go backwards nor past the types.
func TestRejectsBadTypesEnd(t *testing.T) {
	for _, ends := range [][2]btf.TypeID{{5, 4}, {5, 10}, {10, 10}} {
		s := sample()
		s.CUs[0].TypesEnd, s.CUs[1].TypesEnd = ends[0], ends[1]
		data, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Unmarshal(data, "ends"); !errors.Is(err, ErrFormat) {
			t.Errorf("TypesEnd %v: err = %v, want ErrFormat", ends, err)
		}
	}
}

// An enumerator's value is a field of its own in the file, though btf.Member keeps
// it in Offset and Size: an enum member with an offset or size, or another member
// with a value, is corrupt.
func TestMemberFieldsByKind(t *testing.T) {
	marshal := func(k btf.Kind, m btf.Member) []byte {
		s := btf.NewSpec()
		s.Add(btf.Type{Kind: k, Name: "t", Size: 4, Members: []btf.Member{m}})
		data, err := Marshal(&Shard{Source: "k.o", Types: s})
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for _, tc := range []struct {
		a, b btf.Kind // differ in the kind byte only
		m    btf.Member
		to   btf.Kind // what the kind byte is changed to
	}{
		{btf.KindStruct, btf.KindUnion, btf.Member{Name: "m", Offset: 8}, btf.KindEnum},
		{btf.KindEnum, btf.KindEnum64, btf.Enumerator("m", 8), btf.KindStruct},
	} {
		a, b := marshal(tc.a, tc.m), marshal(tc.b, tc.m)
		if s, err := Unmarshal(a, "a"); err != nil || !reflect.DeepEqual(s.Types.Types[0].Members[0], tc.m) {
			t.Fatalf("%v member does not round-trip: %v", tc.a, err)
		}
		at := -1
		for i := range len(a) - 4 {
			if a[i] != b[i] {
				at = i
				break
			}
		}
		if at < 0 || a[at] != byte(tc.a) {
			t.Fatalf("no kind byte found")
		}
		bad := bytes.Clone(a[:len(a)-4])
		bad[at] = byte(tc.to)
		bad = binary.LittleEndian.AppendUint32(bad, crc32.Checksum(bad, crcTable))
		if _, err := Unmarshal(bad, "bad"); !errors.Is(err, ErrFormat) || !bytes.Contains([]byte(err.Error()), []byte("enumerator")) {
			t.Errorf("%v member read as %v: err = %v, want ErrFormat about enumerators", tc.a, tc.to, err)
		}
	}
}
