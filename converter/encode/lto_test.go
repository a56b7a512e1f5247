package encode

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-btf/rules_btf/converter/dwarf"
	"github.com/rules-btf/rules_btf/converter/elfobj"
)

// The LTO fixtures of tools/btf (testdata/lto/build.sh), whose BTF the tests there
// compare with pahole's; here, how the encoder decides to encode a file's units as
// one CU.
func ltoFixture(t *testing.T, name string) *elfobj.File {
	t.Helper()
	f, err := elfobj.Open(filepath.Join("..", "..", "tools", "btf", "testdata", "lto", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestMerging(t *testing.T) {
	for _, tc := range []struct {
		file  func(t *testing.T) *elfobj.File
		name  string
		merge bool
	}{
		{func(t *testing.T) *elfobj.File { return ltoFixture(t, "gcc-lto") }, "gcc-lto: DW_FORM_ref_addr", true},
		{func(t *testing.T) *elfobj.File { return ltoFixture(t, "gcc-dwz") }, "gcc-dwz: DW_FORM_ref_addr", true},
		{func(t *testing.T) *elfobj.File { return ltoFixture(t, "note-lto") }, "note-lto: no ref_addr, LTO note 1", true},
		{func(t *testing.T) *elfobj.File { return ltoFixture(t, "gcc-lto-note0") }, "gcc-lto-note0: ref_addr, LTO note 0", false},
		{func(t *testing.T) *elfobj.File {
			f, err := elfobj.Open(filepath.Join("testdata", "types.dwarf5.o"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}, "types.dwarf5.o: neither", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.file(t)
			d, _, err := sections(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := merging(f, d)
			if err != nil || m != tc.merge {
				t.Fatalf("merging = %v, %v; want %v", m, err, tc.merge)
			}
		})
	}
}

// TestRangesKeepMergedUnitsTogether: a file encoded as one CU is not split, and a
// range that would split it is refused.
func TestRangesKeepMergedUnitsTogether(t *testing.T) {
	f := ltoFixture(t, "note-lto")
	d, _, err := sections(f)
	if err != nil {
		t.Fatal(err)
	}
	n := len(d.Units())
	if n < 3 {
		t.Fatalf("note-lto has %d units, want several", n)
	}
	rs, err := Ranges(f, 3)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].First != 0 || rs[0].Last != n || rs[1].First != rs[1].Last || rs[2].First != rs[2].Last ||
		rs[0].Bytes != d.Units()[n-1].End || rs[1].Bytes != 0 {
		t.Errorf("ranges %+v: want every unit in the first", rs)
	}
	sh, err := Encode(f, rs[0], DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(sh.CUs) != 1 || sh.CUs[0].Name != "" {
		t.Errorf("CUs %+v: want one merged CU named \"\", as pahole's", sh.CUs)
	}
	empty, err := Encode(f, rs[1], DefaultOptions())
	if err != nil || len(empty.CUs) != 0 || empty.Types.Len() != 0 {
		t.Errorf("an empty range gives %v, %v; want an empty shard", empty, err)
	}
	_, err = Encode(f, Range{Index: 0, Count: 2, First: 0, Last: 1}, DefaultOptions())
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "refer to each other") {
		t.Errorf("splitting the units: error %v, want ErrUnsupported", err)
	}
}

// TestCrossUnitRefWithoutMerging: references between units that the LTO note says
// are not to be merged are a located format error, not a panic or a wrong type.
func TestCrossUnitRefWithoutMerging(t *testing.T) {
	_, err := Encode(ltoFixture(t, "gcc-lto-note0"), Range{}, DefaultOptions())
	var de *dwarf.DecodeError
	if !errors.As(err, &de) || !errors.Is(err, dwarf.ErrFormat) || !strings.Contains(err.Error(), "outside its units") {
		t.Fatalf("error %v, want a located format error about a reference outside its units", err)
	}
}
