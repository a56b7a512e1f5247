package shard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
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
		Types:  btf.MustTableOf(s),
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
	checkEqual(t, got, want)
	again, err := Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("re-marshalling gave different bytes")
	}
}

// checkEqual compares two shards, their tables by content.
func checkEqual(t *testing.T, got, want *Shard) {
	t.Helper()
	if !reflect.DeepEqual(got.Types.Spec(), want.Types.Spec()) {
		t.Errorf("types differ:\ngot  %+v\nwant %+v", got.Types.Spec().Types, want.Types.Spec().Types)
	}
	g, w := *got, *want
	g.Types, w.Types = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("round trip changed the shard:\ngot  %+v\nwant %+v", g, w)
	}
}

func TestEmpty(t *testing.T) {
	data, err := Marshal(&Shard{Types: btf.NewTable()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Unmarshal(data, "empty")
	if err != nil {
		t.Fatal(err)
	}
	if s.Types.Len() != 0 || len(s.Funcs) != 0 {
		t.Errorf("empty shard decoded as %+v", s)
	}
}

func TestRejectsNoTypes(t *testing.T) {
	if _, err := Marshal(&Shard{Source: "x.o"}); err == nil {
		t.Error("Marshal accepted a shard without types")
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

// A type record the kernel would reject, in a file whose checksum is right, is
// reported with the type's ID and the record's offset in the file.
func TestBadRecordLocated(t *testing.T) {
	want := sample()
	data, err := Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	_, recs := want.Types.Sections()
	at := bytes.Index(data, recs)
	if at < 0 {
		t.Fatal("records not found in the file")
	}
	// The second record (PTR, ID 2) starts 16 bytes in (INT: 12 + 4); its kind is
	// the top byte of its info word.
	bad := bytes.Clone(data[:len(data)-4])
	bad[at+16+7] = 25
	bad = binary.LittleEndian.AppendUint32(bad, crc32.Checksum(bad, crcTable))
	_, err = Unmarshal(bad, "bad.shard")
	wantMsg := fmt.Sprintf("shard bad.shard: offset %d: malformed shard: type 2: unknown kind 25", at+16)
	if !errors.Is(err, ErrFormat) || err.Error() != wantMsg {
		t.Errorf("err = %v, want %q", err, wantMsg)
	}
}
