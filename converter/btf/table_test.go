package btf

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// specRefs lists every reference of every type of s, as ForEachRef visits them.
func specRefs(s *Spec) [][]TypeID {
	refs := make([][]TypeID, len(s.Types))
	for i := range s.Types {
		t := &s.Types[i]
		var r []TypeID
		switch {
		case t.Kind == KindArray:
			r = append(r, t.Type, t.IndexType)
		case t.Kind.HasRef():
			r = append(r, t.Type)
		}
		if t.Kind.IsComposite() || t.Kind == KindFuncProto || t.Kind == KindDatasec {
			for _, m := range t.Members {
				r = append(r, m.Type)
			}
		}
		refs[i] = r
	}
	return refs
}

func tableRefs(tab *Table) [][]TypeID {
	refs := make([][]TypeID, tab.Len())
	for i := range refs {
		tab.ForEachRef(TypeID(i+1), func(id TypeID) { refs[i] = append(refs[i], id) })
	}
	return refs
}

func checkTable(t *testing.T, tab *Table, want *Spec) {
	t.Helper()
	if tab.Len() != len(want.Types) || tab.NextID() != want.NextID() {
		t.Fatalf("table has %d types (next ID %d), want %d (%d)", tab.Len(), tab.NextID(), len(want.Types), want.NextID())
	}
	got := tab.Spec()
	for i := range want.Types {
		id := TypeID(i + 1)
		if !reflect.DeepEqual(got.Types[i], want.Types[i]) {
			t.Errorf("type ID %d: got %+v, want %+v", id, got.Types[i], want.Types[i])
		}
		if k := tab.Kind(id); k != want.Types[i].Kind {
			t.Errorf("type ID %d: Kind %v, want %v", id, k, want.Types[i].Kind)
		}
		if n := tab.Vlen(id); n != len(want.Types[i].Members) {
			t.Errorf("type ID %d: Vlen %d, want %d", id, n, len(want.Types[i].Members))
		}
		if one := tab.Type(id); !reflect.DeepEqual(*one, want.Types[i]) {
			t.Errorf("type ID %d: Type %+v, want %+v", id, *one, want.Types[i])
		}
	}
	if !reflect.DeepEqual(tableRefs(tab), specRefs(want)) {
		t.Errorf("ForEachRef: %v, want %v", tableRefs(tab), specRefs(want))
	}
	if tab.Type(0) != nil || tab.Type(tab.NextID()) != nil {
		t.Error("Type of 0 or of NextID is not nil")
	}
}

func TestTableRoundTrip(t *testing.T) {
	want := allKinds()
	tab, err := TableOf(want)
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, tab, want)
	parsed, err := ParseTable(tab.Sections())
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, parsed, want)
	// The records are the wire format: with a header, they are raw BTF.
	raw, err := want.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	strs, recs := tab.Sections()
	if !slices.Equal(raw[rawHeaderLen:rawHeaderLen+len(recs)], recs) || !slices.Equal(raw[rawHeaderLen+len(recs):], strs) {
		t.Error("a table of a Spec is not the Spec's raw BTF without the header")
	}
}

func TestTableAddError(t *testing.T) {
	tab := NewTable()
	if _, err := tab.Add(&Type{Kind: KindInt, Name: "int", Size: 4, IntBits: 32}); err != nil {
		t.Fatal(err)
	}
	_, err := tab.Add(&Type{Kind: KindStruct, Name: "s", Members: []Member{{Name: "b", Type: 1, Size: 3}}})
	if err == nil || !strings.Contains(err.Error(), "needs kind_flag") {
		t.Fatalf("Add of a bitfield without kind_flag: %v", err)
	}
	if tab.Len() != 1 {
		t.Errorf("a failed Add left %d types, want 1", tab.Len())
	}
	if id, err := tab.Add(&Type{Kind: KindPtr, Type: 1}); err != nil || id != 2 {
		t.Errorf("Add after a failure: ID %d, %v; want 2", id, err)
	}
}

func TestParseTableErrors(t *testing.T) {
	tab, err := TableOf(allKinds())
	if err != nil {
		t.Fatal(err)
	}
	strs, recs := tab.Sections()
	le := binary.LittleEndian
	patch := func(off int, v uint32) []byte {
		b := slices.Clone(recs)
		le.PutUint32(b[off:], v)
		return b
	}
	// Records: INT 1 at 0, INT 2 at 16, INT 3 at 32, PTR 4 at 48, STRUCT 5 at 60.
	tests := []struct {
		name       string
		strs, recs []byte
		want       string
	}{
		{"no strings", nil, recs, "does not start with the empty string"},
		{"strings without NUL", strs[:len(strs)-1], recs, "does not end with NUL"},
		{"truncated", strs, recs[:len(recs)-2], "truncated"},
		{"reserved info bits", strs, patch(4, 1<<24|1<<20), "type ID 1 at offset 0x0: info 0x01100000 has reserved bits set"},
		{"unknown kind", strs, patch(4, 25<<24), "unknown kind 25"},
		{"name", strs, patch(16, 1<<30), "type ID 2 at offset 0x10: name: string offset 1073741824 out of range"},
		{"reference", strs, patch(48+8, 1000), "type ID 4 at offset 0x30: PTR refers to type ID 1000, beyond the last ID"},
		{"member reference", strs, patch(60+12+4, 1000), "type ID 5 at offset 0x3c: STRUCT refers to type ID 1000"},
	}
	for id := TypeID(1); id < tab.NextID(); id++ {
		if tab.Kind(id) == KindFunc {
			tests = append(tests, struct {
				name       string
				strs, recs []byte
				want       string
			}{"FUNC to a non-proto", strs, patch(int(tab.offs[id-1])+8, 1), "FUNC refers to type ID 1, which is not a FUNC_PROTO"})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTable(tt.strs, tt.recs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseTable error %v, want one containing %q", err, tt.want)
			}
		})
	}
	// Cut anywhere but at a record boundary, the records do not parse; at a
	// boundary they do unless a kept type refers to a cut one.
	boundary := map[int]bool{}
	for id := TypeID(1); id <= TypeID(tab.Len()); id++ {
		boundary[int(tab.offs[id-1])] = true
	}
	for n := range len(recs) {
		_, err := ParseTable(strs, recs[:n])
		if !boundary[n] && err == nil {
			t.Errorf("records cut at %d (inside a record) parsed", n)
		}
	}
	// Corrupting any byte of the records must give an error or a table whose every
	// type decodes, never a panic.
	for i := range recs {
		for _, v := range []byte{0xff, 0x80, 0x01} {
			b := slices.Clone(recs)
			b[i] ^= v
			bad, err := ParseTable(strs, b)
			if err != nil {
				continue
			}
			for id := TypeID(1); id < bad.NextID(); id++ {
				bad.Type(id)
				bad.ForEachRef(id, func(TypeID) {})
			}
		}
	}
}

func TestTableVmlinux(t *testing.T) {
	spec, err := Parse(readOrSkip(t, vmlinuxBTF), nil)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := TableOf(spec)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseTable(tab.Sections())
	if err != nil {
		t.Fatal(err)
	}
	got := parsed.Spec()
	for i := range spec.Types {
		if !reflect.DeepEqual(got.Types[i], spec.Types[i]) {
			t.Fatalf("type ID %d through a Table: %+v, want %+v", i+1, got.Types[i], spec.Types[i])
		}
	}
}

func TestCopierAndRebase(t *testing.T) {
	want := allKinds()
	src, err := TableOf(want)
	if err != nil {
		t.Fatal(err)
	}
	// Into a table that has a type already: every ID moves up by one, names are
	// interned anew.
	dst := NewTable()
	if _, err := dst.Add(&Type{Kind: KindFloat, Name: "f", Size: 4}); err != nil {
		t.Fatal(err)
	}
	remap := make([]TypeID, src.Len()+1)
	for i := 1; i < len(remap); i++ {
		remap[i] = TypeID(i + 1)
	}
	cp := NewCopier(dst, src)
	for id := TypeID(1); id < src.NextID(); id++ {
		got, err := cp.Copy(id, remap)
		if err != nil || got != id+1 {
			t.Fatalf("Copy(%d) = %d, %v; want %d", id, got, err, id+1)
		}
	}
	shifted := &Spec{FirstID: 1, Types: append([]Type{{Kind: KindFloat, Name: "f", Size: 4}}, want.Types...)}
	base := &Spec{FirstID: 1, Types: shifted.Types[:1]}
	moved, err := (&Spec{FirstID: 1, Types: want.Types}).Rebase(base)
	if err != nil {
		t.Fatal(err)
	}
	shifted.Types = append(shifted.Types[:1:1], moved.Types...)
	checkTable(t, dst, shifted)

	// A reference past the remap adds nothing.
	if _, err := cp.Copy(4, remap[:3]); err == nil || !strings.Contains(err.Error(), "refers to type 5, out of range") {
		t.Errorf("Copy with a short remap: %v", err)
	}
	if dst.Len() != src.Len()+1 {
		t.Errorf("a failed Copy left %d types, want %d", dst.Len(), src.Len()+1)
	}

	// Rebase: the same as Spec.Rebase, names taken from the base where it has them.
	rebased, err := src.Rebase(base)
	if err != nil {
		t.Fatal(err)
	}
	if rebased.FirstID() != 2 || rebased.Base() != base {
		t.Fatalf("rebased table starts at %d on %p", rebased.FirstID(), rebased.Base())
	}
	if got := rebased.Spec(); !reflect.DeepEqual(got.Types, moved.Types) {
		t.Errorf("Table.Rebase differs from Spec.Rebase")
	}
	if _, err := rebased.Rebase(base); err == nil {
		t.Error("a split table was rebased")
	}
	// The split table's names continue the base's string section: "f" is the
	// base's, at the offset its Marshal gives it.
	raw, err := base.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := base.Table()
	if err != nil {
		t.Fatal(err)
	}
	off := binary.LittleEndian.Uint32(tab.Record(1))
	if name, err := rebased.Name(off); err != nil || name != "f" || int(off) >= len(raw) {
		t.Errorf("base name at %d: %q, %v", off, name, err)
	}
}

// A Spec parsed from raw BTF gives its own records as its Table.
func TestSpecTable(t *testing.T) {
	want := allKinds()
	raw, err := want.Marshal(MarshalOptions{ByteOrder: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Spec{want, parsed} {
		tab, err := s.Table()
		if err != nil {
			t.Fatal(err)
		}
		checkTable(t, tab, want)
		_, recs := tab.Sections()
		if !slices.Equal(recs, raw[rawHeaderLen:rawHeaderLen+len(recs)]) {
			t.Error("the table's records are not the raw BTF's")
		}
	}
}

// Link gives what Copy gives, with the records left where they are.
func TestCopierLink(t *testing.T) {
	want := allKinds()
	copied, linked := NewTable(), NewTable()
	for _, dst := range []*Table{copied, linked} {
		if _, err := dst.Add(&Type{Kind: KindFloat, Name: "f", Size: 4}); err != nil {
			t.Fatal(err)
		}
	}
	src1, src2 := MustTableOf(want), MustTableOf(want)
	remap := make([]TypeID, src1.Len()+1)
	for i := 1; i < len(remap); i++ {
		remap[i] = TypeID(i + 1)
	}
	cp, ln := NewCopier(copied, src1), NewCopier(linked, src2)
	if _, err := ln.Link(4, remap[:3]); err == nil || !strings.Contains(err.Error(), "refers to type 5, out of range") {
		t.Errorf("Link with a short remap: %v", err)
	}
	for id := TypeID(1); id < src1.NextID(); id++ {
		a, err := cp.Copy(id, remap)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ln.Link(id, remap)
		if err != nil || a != b {
			t.Fatalf("Link(%d) = %d, %v; Copy gave %d", id, b, err, a)
		}
	}
	// Types added after linked ones are in the table's own records.
	for _, dst := range []*Table{copied, linked} {
		if _, err := dst.Add(&Type{Kind: KindPtr, Type: 1}); err != nil {
			t.Fatal(err)
		}
	}
	checkTable(t, linked, copied.Spec())
	if _, recs := linked.Sections(); recs != nil {
		t.Error("a table with linked records has Sections")
	}
	if _, err := NewCopier(NewTable(), linked).Link(1, remap); err == nil {
		t.Error("linked from a table with linked records")
	}
}

// Patch and Append, after InternNames, give what Link gives, with Copiers to one
// destination patching concurrently; a name inside a string is left for Link.
func TestCopierPatch(t *testing.T) {
	want := allKinds()
	linked, patched := NewTable(), NewTable()
	remap := make([]TypeID, want.NextID())
	for i := range remap {
		remap[i] = TypeID(i)
	}
	var lns, cps []*Copier
	for range 2 {
		lns = append(lns, NewCopier(linked, MustTableOf(want)))
		cps = append(cps, NewCopier(patched, MustTableOf(want)))
	}
	for _, cp := range cps {
		if err := cp.InternNames(); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := cps[0].Patch(4, remap[:3]); ok || err == nil || !strings.Contains(err.Error(), "refers to type 5, out of range") {
		t.Errorf("Patch with a short remap: %v, %v", ok, err)
	}
	var wg sync.WaitGroup
	for _, cp := range cps {
		wg.Go(func() {
			for id := TypeID(1); id < want.NextID(); id++ {
				if ok, err := cp.Patch(id, remap); !ok || err != nil {
					t.Errorf("Patch(%d): %v, %v", id, ok, err)
				}
			}
		})
	}
	wg.Wait()
	for i := range cps {
		for id := TypeID(1); id < want.NextID(); id++ {
			if _, err := lns[i].Link(id, remap); err != nil {
				t.Fatal(err)
			}
			if _, err := cps[i].AppendRange(id, id+1); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkTable(t, patched, linked.Spec())

	// A name at an offset inside a string ("nt" of "int") is valid BTF that
	// InternNames does not see: Patch leaves the record, Link takes it.
	strs, recs := MustTableOf(want).Sections()
	strs, recs = slices.Clone(strs), slices.Clone(recs)
	off := binary.LittleEndian.Uint32(recs) // type 1, "int"
	binary.LittleEndian.PutUint32(recs, off+1)
	src, err := ParseTable(strs, recs)
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(src.Record(1))
	cp := NewCopier(NewTable(), src)
	if err := cp.InternNames(); err != nil {
		t.Fatal(err)
	}
	if ok, err := cp.Patch(1, remap); ok || err != nil || !slices.Equal(src.Record(1), before) {
		t.Fatalf("Patch of a name inside a string: %v, %v, record %x (was %x)", ok, err, src.Record(1), before)
	}
	if _, err := cp.Link(1, remap); err != nil {
		t.Fatal(err)
	}
	if got := cp.dst.Type(1); got.Name != "nt" {
		t.Errorf("linked name %q, want %q", got.Name, "nt")
	}
	if _, err := NewCopier(NewTable(), linked).Patch(1, remap); err == nil {
		t.Error("patched from a table with linked records")
	}
	if err := NewCopier(NewTable(), patched).InternNames(); err != nil {
		t.Errorf("InternNames from a standalone table: %v", err)
	}
}

// A table told that names alias a string section (InternFrom) finds them by
// position, and holds what it holds without: a prefix of a section string, a
// string of the section met again, a copy of one, a name from elsewhere.
func TestInternFrom(t *testing.T) {
	region := []byte("\x00foo.isra.0\x00bar\x00foo\x00")
	at := func(off, n int) string { return unsafe.String(&region[off], n) }
	names := []string{
		at(1, 10), // "foo.isra.0"
		at(1, 3),  // "foo", a prefix: not a whole string of region
		at(12, 3), // "bar"
		at(16, 3), // "foo" again, a whole string elsewhere in region
		"bar",     // a copy
		at(12, 3),
		at(1, 10),
		"baz", // not in region
	}
	plain, from := NewTable(), NewTable()
	from.InternFrom(region)
	for _, tab := range []*Table{plain, from} {
		for _, n := range names {
			if _, err := tab.Add(&Type{Kind: KindFwd, Name: n}); err != nil {
				t.Fatal(err)
			}
		}
	}
	from.InternFrom(nil)
	ps, pr := plain.Sections()
	fs, fr := from.Sections()
	if !bytes.Equal(ps, fs) || !bytes.Equal(pr, fr) {
		t.Errorf("InternFrom changed the table:\nstrings %q\nwant    %q", fs, ps)
	}
	for i, n := range names {
		if got := from.Type(TypeID(i + 1)).Name; got != n {
			t.Errorf("type %d named %q, want %q", i+1, got, n)
		}
	}
	var x posIndex
	for pos := range uint32(5000) {
		if _, ok := x.get(pos * 7); ok {
			t.Fatalf("position %d found before it was put", pos*7)
		}
		x.put(pos*7, pos)
	}
	for pos := range uint32(5000) {
		if off, ok := x.get(pos * 7); !ok || off != pos {
			t.Fatalf("position %d: %d, %v", pos*7, off, ok)
		}
	}
}

// A staged type gets its ID when it is numbered, after types added since.
func TestStage(t *testing.T) {
	tab := NewTable()
	off, err := tab.Stage(&Type{Kind: KindPtr, Type: 2})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 0 {
		t.Fatalf("a staged type was numbered: %d types", tab.Len())
	}
	if id, err := tab.Add(&Type{Kind: KindInt, Name: "int", Size: 4, IntBits: 32}); err != nil || id != 1 {
		t.Fatalf("Add: %d, %v", id, err)
	}
	src := MustTableOf(allKinds())
	cp := NewCopier(tab, src)
	remap := make([]TypeID, src.NextID())
	for i := range remap {
		remap[i] = TypeID(i)
	}
	off2, err := cp.Stage(3, remap)
	if err != nil {
		t.Fatal(err)
	}
	if id := tab.Number(off, off2); id != 2 || tab.Len() != 3 {
		t.Fatalf("Number: first ID %d, %d types", id, tab.Len())
	}
	if got := tab.Type(2); got.Kind != KindPtr || got.Type != 2 {
		t.Errorf("type 2 is %+v", got)
	}
	if got, want := tab.Type(3), src.Type(3); !reflect.DeepEqual(got, want) {
		t.Errorf("type 3 is %+v, want %+v", got, want)
	}
}

// TestTableWritesEveryByte checks that adding a type writes every byte of its
// record: Reserve leaves the capacity uncleared (hugepage.MakeNoZero), so a byte
// the encoder skipped would carry whatever the heap held into the output.
func TestTableWritesEveryByte(t *testing.T) {
	want, err := TableOf(allKinds())
	if err != nil {
		t.Fatal(err)
	}
	for _, poison := range []byte{0x00, 0xff, 0xa5} {
		tab := NewTable()
		tab.Reserve(64, 8<<20) // past hugepage.MinBytes: not cleared
		spare := tab.recs[:cap(tab.recs)]
		for i := range spare {
			spare[i] = poison
		}
		for i, typ := range allKinds().Types {
			if _, err := tab.Add(&typ); err != nil {
				t.Fatalf("type %d: %v", i+1, err)
			}
		}
		_, got := tab.Sections()
		if _, recs := want.Sections(); !bytes.Equal(got, recs) {
			t.Errorf("poison %#x: the records differ from a fresh table's", poison)
		}
	}
}
