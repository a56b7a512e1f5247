package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Units that refer to each other (DW_FORM_ref_addr): GCC and clang LTO, and dwz's
// partial units. The fixtures in testdata/lto (build.sh) are examples/c linked with
// -flto, or run through dwz; next to each, pahole 1.24's and 1.32's BTF for it.

var ltoFixtures = []string{"gcc-lto", "gcc-lto-noinline", "clang-lto", "clang-lto-noinline", "gcc-dwz"}

// ltoFlags are the flags each pahole generation gets in build.sh, for pahole and
// for us.
var ltoFlags = map[string][]string{
	"1.24": {"--btf_gen_floats", "--btf_encode_force", "--lang_exclude=rust"},
	"1.32": {"--lang_exclude=rust", "--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs"},
}

// TestLTOMatchesPahole checks each fixture against the committed BTF of both pahole
// generations, through encode and through shards of CU ranges merged: all of a
// fixture's units must end up in one range, so every split gives the same bytes.
func TestLTOMatchesPahole(t *testing.T) {
	for _, name := range ltoFixtures {
		for _, compat := range []string{"1.24", "1.32"} {
			t.Run(name+"/"+compat, func(t *testing.T) {
				bin := filepath.Join("testdata", "lto", name)
				ref := filepath.Join("testdata", "lto", name+".pahole"+compat[0:1]+compat[2:]+".btf")
				if _, err := os.Stat(ref); os.IsNotExist(err) && name == "gcc-dwz" && compat == "1.24" {
					t.Skip("pahole 1.24 writes no BTF for dwz output (a variable \"that has void type\" stops it)")
				}
				dir := t.TempDir()
				flags := append([]string{"--compat", compat}, ltoFlags[compat]...)
				encoded := filepath.Join(dir, "encoded.btf")
				runBTF(t, append(append([]string{"encode", "-j", "2", "-o", encoded}, flags...), bin)...)
				diffBTF(t, encoded, ref, "")
				want, err := os.ReadFile(encoded)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range []int{1, 3} {
					var shards []string
					for i := 1; i <= n; i++ {
						s := filepath.Join(dir, fmt.Sprintf("%d-%d.shard", i, n))
						runBTF(t, append(append([]string{"shard", "--cus", fmt.Sprintf("%d/%d", i, n), "-o", s}, flags...), bin)...)
						shards = append(shards, s)
					}
					merged := filepath.Join(dir, fmt.Sprintf("merged-%d.btf", n))
					runBTF(t, append(append([]string{"merge", "--elf", bin, "-o", merged}, flags...), shards...)...)
					if got, _ := os.ReadFile(merged); !bytes.Equal(got, want) {
						t.Errorf("%d CU-range shards merged: not the bytes of encode", n)
					}
				}
			})
		}
	}
}

// TestLTOMatchesInstalledPahole runs the pahole on this machine on the fixtures: the
// committed references must still be what it writes.
func TestLTOMatchesInstalledPahole(t *testing.T) {
	pahole := needTool(t, "pahole")
	compat := "1.32"
	if paholeVersion(t, pahole) < "1.25" {
		compat = "1.24"
	}
	for _, name := range ltoFixtures {
		if name == "gcc-dwz" && compat == "1.24" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			bin := filepath.Join("testdata", "lto", name)
			ref := filepath.Join(t.TempDir(), "pahole.btf")
			runCmd(t, pahole, append(ltoFlags[compat], "--btf_encode_detached="+ref, bin)...)
			ours := filepath.Join(t.TempDir(), "ours.btf")
			runBTF(t, append(append([]string{"encode", "-o", ours, "--compat", compat}, ltoFlags[compat]...), bin)...)
			diffBTF(t, ours, ref, "")
		})
	}
}
