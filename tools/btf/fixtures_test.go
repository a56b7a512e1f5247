package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Fixtures under testdata/<dir> are linked binaries committed with pahole's BTF for
// them (<name>.pahole124.btf, <name>.pahole132.btf, made by the directory's
// build.sh), so that both pahole generations are checked whatever pahole the machine
// has.

// paholeFlags are the flags each pahole generation gets in the build.sh scripts, for
// pahole and for us: Linux 6.1's for 1.24 (plus encode_force) and 6.12's for 1.32.
var paholeFlags = map[string][]string{
	"1.24": {"--btf_gen_floats", "--btf_encode_force", "--lang_exclude=rust"},
	"1.32": {"--lang_exclude=rust", "--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs"},
}

// paholeRef is the committed reference of fixture bin for a pahole generation.
func paholeRef(bin, compat string) string {
	return bin + ".pahole" + compat[:1] + compat[2:] + ".btf"
}

// checkFixture compares our BTF for bin in compat mode with the committed pahole
// reference, through encode -j 2 and through n CU-range shards merged for each n in
// shardCounts, which must give encode's bytes. It returns our BTF.
func checkFixture(t *testing.T, bin, compat string, shardCounts ...int) []byte {
	t.Helper()
	dir := t.TempDir()
	flags := append([]string{"--compat", compat}, paholeFlags[compat]...)
	encoded := filepath.Join(dir, "encoded.btf")
	runBTF(t, append(append([]string{"encode", "-j", "2", "-o", encoded}, flags...), bin)...)
	diffBTF(t, encoded, paholeRef(bin, compat), "")
	want, err := os.ReadFile(encoded)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range shardCounts {
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
	return want
}

// installedPahole returns the pahole on this machine and the compat mode matching
// its version.
func installedPahole(t *testing.T) (string, string) {
	pahole := needTool(t, "pahole")
	if paholeVersion(t, pahole) < "1.25" {
		return pahole, "1.24"
	}
	return pahole, "1.32"
}

// checkInstalledPahole runs the installed pahole on bin and compares its BTF with
// ours: the committed references must still be what pahole writes.
func checkInstalledPahole(t *testing.T, pahole, compat, bin string) {
	t.Helper()
	ref := filepath.Join(t.TempDir(), "pahole.btf")
	runCmd(t, pahole, append(append([]string(nil), paholeFlags[compat]...), "--btf_encode_detached="+ref, bin)...)
	ours := filepath.Join(t.TempDir(), "ours.btf")
	runBTF(t, append(append([]string{"encode", "-o", ours, "--compat", compat}, paholeFlags[compat]...), bin)...)
	diffBTF(t, ours, ref, "")
}
