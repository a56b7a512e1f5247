package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The example's C sources, converted one object at a time and merged against the
// linked binary, must give the same BTF as pahole on the linked binary. This is the
// project's central claim, checked with the pahole on this machine (Debian 12's
// dwarves: 1.24) and the flags Linux 6.1 passes it.

// needTool skips the test when a host tool is missing, except in CI, where .ci/run
// installs it and its absence is a failure.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (CI installs it in .ci/run)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func runCmd(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func runBTF(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(args, &out); err != nil {
		t.Fatalf("btf %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// paholeVersion returns pahole's version without the leading "v", e.g. "1.24".
func paholeVersion(t *testing.T, pahole string) string {
	out, err := exec.Command(pahole, "--version").Output()
	if err != nil {
		t.Fatalf("pahole --version: %v", err)
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
}

// buildExample builds the example with examples/c/build.sh (the flags the Bazel
// example uses) into dir; extra compiler flags go in CFLAGS, which the script puts
// after its own (-O0 or -gdwarf-4 override its -O2 or -g). It returns the objects in link order
// and the linked binary.
func buildExample(t *testing.T, dir string, extra ...string) ([]string, string) {
	gcc := needTool(t, "gcc")
	cmd := exec.Command("sh", "../../examples/c/build.sh", dir)
	cmd.Env = append(os.Environ(), "CC="+gcc, "CFLAGS="+strings.Join(extra, " "))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("examples/c/build.sh: %v\n%s", err, out)
	}
	var objs []string
	for _, name := range []string{"main", "a", "b"} {
		objs = append(objs, filepath.Join(dir, name+".o"))
	}
	return objs, filepath.Join(dir, "example")
}

func diffBTF(t *testing.T, ours, ref string, ignore string) {
	t.Helper()
	var out bytes.Buffer
	args := []string{"diff", "--examples", "20"}
	if ignore != "" {
		args = append(args, "--ignore", ignore)
	}
	if err := run(append(args, ours, ref), &out); err != nil {
		t.Errorf("our BTF differs from pahole's: %v\n%s", err, out.String())
	}
}

func TestExampleMatchesPahole(t *testing.T) {
	pahole := needTool(t, "pahole")
	version := paholeVersion(t, pahole)
	compat := "1.32"
	if version < "1.25" {
		compat = "1.24"
	}
	for _, cflags := range [][]string{
		nil,
		{"-O0"},
		{"-gdwarf-4"},
	} {
		t.Run("cflags="+strings.Join(cflags, ","), func(t *testing.T) {
			dir := t.TempDir()
			objs, bin := buildExample(t, dir, cflags...)
			ref := filepath.Join(dir, "pahole.btf")
			runCmd(t, pahole, "--btf_gen_floats", "--lang_exclude=rust", "--btf_encode_detached="+ref, bin)

			flags := []string{"--compat", compat, "--btf_gen_floats"}
			var shards []string
			for _, obj := range objs {
				s := obj + ".shard"
				runBTF(t, append(append([]string{"shard", "-o", s}, flags...), obj)...)
				shards = append(shards, s)
			}
			merged := filepath.Join(dir, "merged.btf")
			runBTF(t, append(append([]string{"merge", "-o", merged, "--elf", bin}, flags...), shards...)...)
			diffBTF(t, merged, ref, "")

			encoded := filepath.Join(dir, "encoded.btf")
			runBTF(t, append(append([]string{"encode", "-o", encoded, "-j", "2"}, flags...), bin)...)
			diffBTF(t, encoded, ref, "")

			a, _ := os.ReadFile(merged)
			b, _ := os.ReadFile(encoded)
			if !bytes.Equal(a, b) {
				t.Errorf("per-object shards + merge and encode of the linked binary give different bytes")
			}

			// The same BTF as a .BTF section of a copy of the program, which
			// still runs and has the same program headers.
			withBTF := filepath.Join(dir, "example.btf-elf")
			runBTF(t, append(append([]string{"merge", "--elf-out", withBTF, "--elf", bin}, flags...), shards...)...)
			diffBTF(t, withBTF, ref, "")
			runCmd(t, withBTF)
			if before, after := programHeaders(t, bin), programHeaders(t, withBTF); before != after {
				t.Errorf("program headers changed:\n%s\nbecame\n%s", before, after)
			}
		})
	}
}

// The output must not depend on how the work was split: encode with any number of
// workers, and any number of CU-range shards merged, give the same bytes.
func TestShardCountInvariance(t *testing.T) {
	dir := t.TempDir()
	_, bin := buildExample(t, dir)
	var want []byte
	check := func(what, path string) {
		t.Helper()
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = got
			return
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: output differs from the first run's", what)
		}
	}
	for _, j := range []string{"1", "2", "8"} {
		out := filepath.Join(dir, "encode-j"+j+".btf")
		runBTF(t, "encode", "-j", j, "-o", out, bin)
		check("encode -j "+j, out)
	}
	for _, n := range []int{1, 2, 3, 7, 64} {
		var shards []string
		for i := 1; i <= n; i++ {
			s := filepath.Join(dir, fmt.Sprintf("n%d-%d.shard", n, i))
			runBTF(t, "shard", "--cus", fmt.Sprintf("%d/%d", i, n), "-o", s, bin)
			shards = append(shards, s)
		}
		out := filepath.Join(dir, fmt.Sprintf("merge-%d.btf", n))
		runBTF(t, append([]string{"merge", "--elf", bin, "-o", out}, shards...)...)
		check(fmt.Sprintf("%d shards", n), out)
	}
}

func programHeaders(t *testing.T, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for _, p := range f.Progs {
		fmt.Fprintf(&b, "%+v\n", p.ProgHeader)
	}
	return b.String()
}
