package dwarf_test

import (
	"bytes"
	godwarf "debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rules-btf/rules_btf/converter/dwarf"
	"github.com/rules-btf/rules_btf/converter/elfobj"
)

const vmlinux = "/var/cache/rules_btf/kernel/vmlinux"

func open(t testing.TB, path string) (*elfobj.File, *dwarf.Data) {
	t.Helper()
	f, err := elfobj.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	s, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	d, err := dwarf.New(dwarf.Sections{
		Info: s.Info, Abbrev: s.Abbrev, Str: s.Str, LineStr: s.LineStr, StrOffsets: s.StrOffsets,
		Addr: s.Addr, Ranges: s.Ranges, Rnglists: s.Rnglists, Loc: s.Loc, Loclists: s.Loclists,
		ByteOrder: s.ByteOrder,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, d
}

// compare walks the units with index in units (all if nil) with both decoders and
// checks that they agree on every DIE's offset, tag, children flag and on every
// attribute this decoder reads.
func compare(t *testing.T, path string, units func(n int) []int) {
	_, d := open(t, path)
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	gd, err := ef.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	us := d.Units()
	idx := units(len(us))
	r := d.NewReader()
	var e dwarf.Entry
	dies := 0
	for _, i := range idx {
		u := &us[i]
		if err := r.Reset(u); err != nil {
			t.Fatal(err)
		}
		gr := gd.Reader()
		gr.Seek(godwarf.Offset(u.DataOffset))
		for !r.Done() {
			ok, err := r.Next(&e)
			if err != nil || !ok {
				t.Fatalf("unit %d: Next: %v %v", i, ok, err)
			}
			ge, err := gr.Next()
			if err != nil || ge == nil {
				t.Fatalf("debug/dwarf at %#x: %v", e.Offset, err)
			}
			dies++
			if (ge.Tag != 0 && uint64(ge.Offset) != e.Offset) || uint32(ge.Tag) != uint32(e.Tag) || ge.Children != e.Children {
				t.Fatalf("DIE at %#x: got tag %v children %v at %#x; debug/dwarf: %v %v at %#x",
					e.Offset, e.Tag, e.Children, e.Offset, ge.Tag, ge.Children, ge.Offset)
			}
			checkAttrs(t, r, &e, ge)
		}
	}
	if dies == 0 {
		t.Fatal("no DIEs compared")
	}
	t.Logf("%s: %d DIEs in %d units agree", filepath.Base(path), dies, len(idx))
}

func checkAttrs(t *testing.T, r *dwarf.Reader, e *dwarf.Entry, ge *godwarf.Entry) {
	t.Helper()
	for a := dwarf.Attr(0); a < dwarf.NumAttrs; a++ {
		code := godwarf.Attr(a.ATCode())
		f := ge.AttrField(code)
		if (f != nil) != e.Has(a) {
			t.Fatalf("DIE %#x %v: attribute %v: present %v, debug/dwarf %v", e.Offset, e.Tag, code, e.Has(a), f != nil)
		}
		if f == nil {
			continue
		}
		where := func() string { return ge.Tag.String() + " " + code.String() }
		switch f.Class {
		case godwarf.ClassString:
			s, err := r.String(e, a)
			if err != nil || string(s) != f.Val.(string) {
				t.Fatalf("DIE %#x %s: %q %v, want %q", e.Offset, where(), s, err, f.Val)
			}
		case godwarf.ClassReference:
			off, ok := e.Ref(a)
			if !ok || off != uint64(f.Val.(godwarf.Offset)) {
				t.Fatalf("DIE %#x %s: ref %#x %v, want %#x", e.Offset, where(), off, ok, f.Val)
			}
		case godwarf.ClassConstant:
			if int64(e.Val(a)) != f.Val.(int64) {
				t.Fatalf("DIE %#x %s: %d, want %d", e.Offset, where(), int64(e.Val(a)), f.Val)
			}
		case godwarf.ClassFlag:
			if e.Flag(a) != f.Val.(bool) {
				t.Fatalf("DIE %#x %s: %v, want %v", e.Offset, where(), e.Flag(a), f.Val)
			}
		case godwarf.ClassAddress:
			v, _, _, err := r.Addr(e, a)
			if err != nil || v != f.Val.(uint64) {
				t.Fatalf("DIE %#x %s: %#x %v, want %#x", e.Offset, where(), v, err, f.Val)
			}
		case godwarf.ClassExprLoc, godwarf.ClassBlock:
			if !bytes.Equal(r.Block(e, a), f.Val.([]byte)) {
				t.Fatalf("DIE %#x %s: %x, want %x", e.Offset, where(), r.Block(e, a), f.Val)
			}
		}
	}
}

func all(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestAgainstDebugDWARF(t *testing.T) {
	for _, name := range []string{"types.dwarf5.o", "types.dwarf4.o", "types.zlib.o", "types.exec", "annot.clang5.o", "annot.clang4.o", "annot.gcc16.o"} {
		t.Run(name, func(t *testing.T) {
			compare(t, filepath.Join("..", "encode", "testdata", name), all)
		})
	}
}

func TestVmlinuxUnits(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if _, err := os.Stat(vmlinux); err != nil {
		t.Skip("no kernel data:", err)
	}
	compare(t, vmlinux, func(n int) []int { return []int{0, 1, n / 3, n / 2, n - 1} })
}

func TestModule(t *testing.T) {
	mods, _ := filepath.Glob("/var/cache/rules_btf/kernel/modules/fs/*/*.ko")
	if len(mods) == 0 {
		t.Skip("no kernel modules")
	}
	compare(t, mods[0], all)
}

func TestTruncated(t *testing.T) {
	_, d := open(t, filepath.Join("..", "encode", "testdata", "types.dwarf5.o"))
	s := *d.Sections()
	for cut := 1; cut < len(s.Info); cut += 7 {
		s2 := s
		s2.Info = s.Info[:cut]
		d2, err := dwarf.New(s2)
		if err != nil {
			var de *dwarf.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, dwarf.ErrFormat) {
				t.Fatalf("cut %d: error %v is not a located format error", cut, err)
			}
			continue
		}
		walkAll(t, d2)
	}
	// Garbage abbreviations: every error must be located, never a panic.
	for cut := 0; cut < len(s.Abbrev); cut += 3 {
		s2 := s
		s2.Abbrev = append(append([]byte(nil), s.Abbrev[:cut]...), bytes.Repeat([]byte{0xff}, 8)...)
		d2, err := dwarf.New(s2)
		if err != nil {
			continue
		}
		walkAll(t, d2)
	}
}

func walkAll(t *testing.T, d *dwarf.Data) {
	t.Helper()
	r := d.NewReader()
	var e dwarf.Entry
	for i := range d.Units() {
		if err := r.Reset(&d.Units()[i]); err != nil {
			if !errors.Is(err, dwarf.ErrFormat) {
				t.Fatalf("Reset: %v", err)
			}
			continue
		}
		for {
			ok, err := r.Next(&e)
			if err != nil {
				var de *dwarf.DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("unlocated error %v", err)
				}
				break
			}
			if !ok {
				break
			}
			r.String(&e, dwarf.AttrName)
		}
	}
}

func BenchmarkVmlinuxWalk(b *testing.B) {
	if _, err := os.Stat(vmlinux); err != nil {
		b.Skip("no kernel data")
	}
	_, d := open(b, vmlinux)
	b.ReportAllocs()
	b.SetBytes(int64(len(d.Sections().Info)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := d.NewReader()
		var e dwarf.Entry
		n := 0
		for j := range d.Units() {
			if err := r.Reset(&d.Units()[j]); err != nil {
				b.Fatal(err)
			}
			for {
				ok, err := r.Next(&e)
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					break
				}
				n++
			}
		}
		b.ReportMetric(float64(n), "DIEs")
	}
}

// TestCrossUnitRefs: the decision to load all units as one (LTO, dwz) rests on a
// DW_FORM_ref_addr anywhere in an abbreviation table.
func TestCrossUnitRefs(t *testing.T) {
	_, d := open(t, filepath.Join("..", "encode", "testdata", "types.dwarf5.o"))
	if m, err := d.CrossUnitRefs(); err != nil || m {
		t.Fatalf("types.dwarf5.o: CrossUnitRefs = %v, %v; want false", m, err)
	}
	s := *d.Sections()
	// DW_AT_type (0x49) as DW_FORM_ref4 (0x13) becomes DW_FORM_ref_addr (0x10).
	i := bytes.Index(s.Abbrev, []byte{0x49, 0x13})
	if i < 0 {
		t.Fatal("no DW_AT_type of form ref4 in the abbreviations")
	}
	s.Abbrev = bytes.Clone(s.Abbrev)
	s.Abbrev[i+1] = 0x10
	d2, err := dwarf.New(s)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := d2.CrossUnitRefs(); err != nil || !m {
		t.Fatalf("with a ref_addr: CrossUnitRefs = %v, %v; want true", m, err)
	}
	for _, name := range []string{"gcc-lto", "clang-lto", "gcc-dwz"} {
		_, d := open(t, filepath.Join("..", "..", "tools", "btf", "testdata", "lto", name))
		if m, err := d.CrossUnitRefs(); err != nil || !m {
			t.Errorf("%s: CrossUnitRefs = %v, %v; want true", name, m, err)
		}
	}
	// A table cut short is a located format error.
	s.Abbrev = s.Abbrev[:i]
	if d3, err := dwarf.New(s); err == nil {
		if _, err := d3.CrossUnitRefs(); !errors.Is(err, dwarf.ErrFormat) {
			t.Errorf("truncated table: error %v, want a format error", err)
		}
	}
}

// TestLTOAgainstDebugDWARF: units whose DIEs refer into other units decode as
// debug/dwarf decodes them.
func TestLTOAgainstDebugDWARF(t *testing.T) {
	for _, name := range []string{"gcc-lto", "clang-lto", "gcc-dwz"} {
		t.Run(name, func(t *testing.T) {
			compare(t, filepath.Join("..", "..", "tools", "btf", "testdata", "lto", name), all)
		})
	}
}

// Unit headers read through Sections.InfoReader are the ones read from Info; a
// truncated or failing reader is a located error, as a truncated Info is.
func TestInfoReader(t *testing.T) {
	paths := []string{filepath.Join("..", "encode", "testdata", "types.exec")}
	if _, err := os.Stat(vmlinux); err == nil && !testing.Short() {
		paths = append(paths, vmlinux)
	}
	for _, path := range paths {
		f, d := open(t, path)
		s, err := f.DWARF()
		if err != nil {
			t.Fatal(err)
		}
		if s.InfoReader == nil {
			t.Fatalf("%s: no InfoReader for an executable's .debug_info", path)
		}
		withReader := *d.Sections()
		withReader.InfoReader = s.InfoReader
		d2, err := dwarf.New(withReader)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Units(), d2.Units()) {
			t.Errorf("%s: units read through InfoReader differ", path)
		}
	}

	_, d := open(t, filepath.Join("..", "encode", "testdata", "types.dwarf5.o"))
	s := *d.Sections()
	for cut := 1; cut < len(s.Info); cut += 5 {
		s2 := s
		s2.Info = s.Info[:cut]
		_, want := dwarf.New(s2)
		s2.InfoReader = bytes.NewReader(s.Info[:cut])
		if _, err := dwarf.New(s2); fmt.Sprint(err) != fmt.Sprint(want) {
			t.Fatalf("cut %d: %v, from Info %v", cut, err, want)
		}
	}
	s.InfoReader = bytes.NewReader(nil) // shorter than Info
	var de *dwarf.DecodeError
	if _, err := dwarf.New(s); !errors.As(err, &de) || de.Offset != 0 {
		t.Errorf("failing InfoReader: %v", err)
	}
}

// Released .debug_info pages are read again from the file, unchanged.
func TestReleaseInfo(t *testing.T) {
	f, _ := open(t, filepath.Join("..", "encode", "testdata", "types.exec"))
	s, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(s.Info)
	s.ReleaseInfo(0, uint64(len(s.Info)))
	s.ReleaseInfo(5, 3)                      // empty
	s.ReleaseInfo(0, uint64(len(s.Info))+99) // past the end: ignored
	if !bytes.Equal(s.Info, want) {
		t.Error(".debug_info changed after ReleaseInfo")
	}
}
