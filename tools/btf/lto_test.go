package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Units that refer to each other (DW_FORM_ref_addr): GCC and clang LTO, and dwz's
// partial units. The fixtures in testdata/lto (build.sh) are examples/c linked with
// -flto, or run through dwz.

var ltoFixtures = []string{"gcc-lto", "gcc-lto-noinline", "clang-lto", "clang-lto-noinline", "gcc-dwz"}

// TestLTOMatchesPahole checks each fixture against both pahole generations, through
// encode and through shards of CU ranges merged: all of a fixture's units must end up
// in one range, so every split gives the same bytes.
func TestLTOMatchesPahole(t *testing.T) {
	for _, name := range ltoFixtures {
		for _, compat := range []string{"1.24", "1.32"} {
			t.Run(name+"/"+compat, func(t *testing.T) {
				bin := filepath.Join("testdata", "lto", name)
				if _, err := os.Stat(paholeRef(bin, compat)); os.IsNotExist(err) && name == "gcc-dwz" && compat == "1.24" {
					t.Skip("pahole 1.24 writes no BTF for dwz output (a variable \"that has void type\" stops it)")
				}
				checkFixture(t, bin, compat, 1, 3)
			})
		}
	}
}

func TestLTOMatchesInstalledPahole(t *testing.T) {
	pahole, compat := installedPahole(t)
	for _, name := range ltoFixtures {
		if name == "gcc-dwz" && compat == "1.24" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			checkInstalledPahole(t, pahole, compat, filepath.Join("testdata", "lto", name))
		})
	}
}
