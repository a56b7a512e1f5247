package dedup

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/internal/kerneldata"
)

// Differential tests against libbpf's btf__dedup. They run when LIBBPF_DEDUP (libbpf
// 1.1, compared with Options{}) or LIBBPF170_DEDUP (libbpf 1.7.0, compared with
// Options{Libbpf170: true}) names the helper built from testdata/libbpf_dedup.c
// (see there) against that libbpf, and skip otherwise.

// libbpfVersions are the libbpf versions Dedup reproduces: the helper's variable
// and the options that select the version.
var libbpfVersions = []struct {
	name, env string
	opts      Options
}{
	{"libbpf 1.1", "LIBBPF_DEDUP", Options{}},
	{"libbpf 1.7.0", "LIBBPF170_DEDUP", Options{Libbpf170: true}},
}

// forEachLibbpf runs f in a subtest for each libbpf version whose helper is
// configured, and skips if none is.
func forEachLibbpf(t *testing.T, f func(t *testing.T, tool string, opts Options)) {
	ran := false
	for _, v := range libbpfVersions {
		tool := os.Getenv(v.env)
		if tool == "" {
			continue
		}
		ran = true
		t.Run(v.name, func(t *testing.T) { f(t, tool, v.opts) })
	}
	if !ran {
		t.Skip("neither LIBBPF_DEDUP nor LIBBPF170_DEDUP set (see testdata/libbpf_dedup.c)")
	}
}

// libbpfDedup runs libbpf's dedup (the helper tool) on s (split on the raw base
// file basePath, if s has a base) and returns the result.
func libbpfDedup(t *testing.T, tool string, s *btf.Spec, basePath string) *btf.Spec {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.btf"), filepath.Join(dir, "out.btf")
	if err := os.WriteFile(in, writeRaw(s), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{in, out}
	if s.Base != nil {
		args = append(args, basePath)
	}
	if msg, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseRaw(data, s.Base)
	if err != nil {
		t.Fatalf("libbpf output: %v", err)
	}
	return got
}

func compareWithLibbpf(t *testing.T, tool string, opts Options, s *btf.Spec, basePath string) {
	t.Helper()
	want := libbpfDedup(t, tool, s, basePath)
	got, _, err := Dedup(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Types) != len(want.Types) {
		t.Errorf("got %d types, libbpf %d", len(got.Types), len(want.Types))
	}
	g, w := dump(got), dump(want)
	if g != w {
		gl, wl := splitLines(g), splitLines(w)
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("first difference at line %d:\n got    %s\n libbpf %s", i, gl[i], wl[i])
			}
		}
		t.Fatalf("outputs differ in length")
	}
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

func TestLibbpfUnitCases(t *testing.T) {
	forEachLibbpf(t, func(t *testing.T, tool string, opts Options) {
		for _, in := range []*btf.Spec{
			concat(exampleCU1(), exampleCU2()),
			concat(exampleCU2(), exampleCU1(), exampleCU2()),
			libbpf170FwdTypedefs(),
			libbpf170ArrayTwins(),
			libbpf170PtrTwins(),
		} {
			compareWithLibbpf(t, tool, opts, in, "")
		}
	})
}

func TestLibbpfVmlinux(t *testing.T) {
	forEachLibbpf(t, func(t *testing.T, tool string, opts Options) {
		s := loadRaw(t, filepath.Join(kernelDir, "vmlinux.btf"), nil)
		compareWithLibbpf(t, tool, opts, concat(s, s, s), "")
	})
}

// Modules, alone, doubled, and concatenated in groups (cross-module merging of
// types the base does not have, FWDs against structs of other modules).
func TestLibbpfModules(t *testing.T) {
	forEachLibbpf(t, func(t *testing.T, tool string, opts Options) {
		basePath := filepath.Join(kernelDir, "vmlinux.btf")
		base := loadRaw(t, basePath, nil)
		paths, _ := kerneldata.Files(filepath.Join(kernelDir, "pahole/modules"), ".btf") // none: skipped below
		if len(paths) == 0 {
			t.Skip("no module BTF")
		}
		if testing.Short() && len(paths) > 50 {
			paths = paths[:50]
		}
		var mods []*btf.Spec
		for _, p := range paths {
			mods = append(mods, loadRaw(t, p, base))
		}
		for i, m := range mods {
			rel, _ := filepath.Rel(kernelDir, paths[i])
			t.Run(rel, func(t *testing.T) {
				compareWithLibbpf(t, tool, opts, m, basePath)
				compareWithLibbpf(t, tool, opts, concat(m, m), basePath)
			})
		}
		const group = 25
		for i := 0; i < len(mods); i += group {
			j := min(i+group, len(mods))
			rel, _ := filepath.Rel(kernelDir, paths[i])
			t.Run("group from "+rel, func(t *testing.T) {
				compareWithLibbpf(t, tool, opts, concat(mods[i:j]...), basePath)
			})
		}
	})
}
