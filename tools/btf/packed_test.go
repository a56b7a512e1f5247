package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// The packed fixtures (testdata/packed/packed.c, build.sh) pass structs by value past
// the argument registers. pahole 1.32 gives no FUNC to a function with such a
// parameter whose struct it infers to be packed (converter/encode/packed.go); 1.24 has
// no such rule.

var packedFixtures = []string{"gcc", "gcc-dwarf4", "clang", "clang-s390x.o", "clang-i386.o"}

// packedSkipped are the functions of packed.c pahole 1.32 skips on x86-64, but for
// the two whose fate depends on the order of the functions in the unit.
var packedSkipped = []string{
	"f_eighth", "f_holes256", "f_ninth", "f_outer3", "f_pad64k", "f_pk_arr", "f_pk_bf_enum",
	"f_pk_bf_mixed", "f_pk_big", "f_pk_bits", "f_pk_bits_span", "f_pk_cv", "f_pk_enum",
	"f_pk_flex", "f_pk_fnptr", "f_pk_matrix", "f_pk_nest", "f_pk_off", "f_pk_ptr",
	"f_pk_tail", "f_pk_unionmem", "f_two", "f_wraps", "h_pk_off",
}

func TestPackedMatchesPahole(t *testing.T) {
	for _, name := range packedFixtures {
		funcs := map[string][]string{}
		for _, compat := range []string{"1.24", "1.32"} {
			t.Run(name+"/"+compat, func(t *testing.T) {
				raw := checkFixture(t, filepath.Join("testdata", "packed", name), compat, 1, 2)
				funcs[compat] = funcNames(t, raw)
			})
		}
		if name != "gcc" && name != "clang" || len(funcs) != 2 {
			continue
		}
		// The side effect: struct outer has a hole, and inner at an unnatural offset
		// in it, so once f_outer is checked inner is packed for the rest of the unit.
		// GCC -O2 lists the functions in reverse source order, clang in source order.
		t.Run(name+"/skipped", func(t *testing.T) {
			want := append(slices.Clone(packedSkipped), "f_inner_before")
			if name == "clang" {
				want[len(want)-1] = "f_inner_after"
			}
			slices.Sort(want)
			var skipped []string
			for _, f := range funcs["1.24"] {
				if !slices.Contains(funcs["1.32"], f) {
					skipped = append(skipped, f)
				}
			}
			if !slices.Equal(skipped, want) {
				t.Errorf("1.32 skips %q, want %q", skipped, want)
			}
		})
	}
}

func TestPackedMatchesInstalledPahole(t *testing.T) {
	pahole, compat := installedPahole(t)
	for _, name := range packedFixtures {
		t.Run(name, func(t *testing.T) {
			checkInstalledPahole(t, pahole, compat, filepath.Join("testdata", "packed", name))
		})
	}
}

// funcNames are the sorted names of the FUNCs of raw BTF whose names start with f_
// or h_ (packed.c's).
func funcNames(t *testing.T, raw []byte) []string {
	t.Helper()
	spec, err := btf.Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range spec.Types {
		if ty := &spec.Types[i]; ty.Kind == btf.KindFunc && (strings.HasPrefix(ty.Name, "f_") || strings.HasPrefix(ty.Name, "h_")) {
			names = append(names, ty.Name)
		}
	}
	slices.Sort(names)
	return names
}
