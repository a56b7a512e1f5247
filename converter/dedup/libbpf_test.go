package dedup

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// Differential tests against libbpf's btf__dedup. They run when LIBBPF_DEDUP names
// the helper built from testdata/libbpf_dedup.c (see there) and skip otherwise.

// libbpfDedup runs libbpf's dedup on s (split on the raw base file basePath, if s
// has a base) and returns the result.
func libbpfDedup(t *testing.T, s *btf.Spec, basePath string) *btf.Spec {
	t.Helper()
	tool := needLibbpf(t)
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

// needLibbpf skips the test unless the libbpf helper is configured.
func needLibbpf(t *testing.T) string {
	tool := os.Getenv("LIBBPF_DEDUP")
	if tool == "" {
		t.Skip("LIBBPF_DEDUP not set (see testdata/libbpf_dedup.c)")
	}
	return tool
}

func compareWithLibbpf(t *testing.T, s *btf.Spec, basePath string) {
	t.Helper()
	want := libbpfDedup(t, s, basePath)
	got, _, err := Dedup(s, Options{})
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
	needLibbpf(t)
	for _, in := range []*btf.Spec{
		concat(exampleCU1(), exampleCU2()),
		concat(exampleCU2(), exampleCU1(), exampleCU2()),
	} {
		compareWithLibbpf(t, in, "")
	}
}

func TestLibbpfVmlinux(t *testing.T) {
	needLibbpf(t)
	s := loadRaw(t, filepath.Join(kernelDir, "vmlinux.btf"), nil)
	compareWithLibbpf(t, concat(s, s, s), "")
}

// Modules, alone, doubled, and concatenated in groups (cross-module merging of
// types the base does not have, FWDs against structs of other modules).
func TestLibbpfModules(t *testing.T) {
	needLibbpf(t)
	basePath := filepath.Join(kernelDir, "vmlinux.btf")
	base := loadRaw(t, basePath, nil)
	var paths []string
	filepath.WalkDir(filepath.Join(kernelDir, "pahole/modules"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".btf" {
			paths = append(paths, p)
		}
		return nil
	})
	if len(paths) == 0 {
		t.Skip("no module BTF")
	}
	sort.Strings(paths)
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
			compareWithLibbpf(t, m, basePath)
			compareWithLibbpf(t, concat(m, m), basePath)
		})
	}
	const group = 25
	for i := 0; i < len(mods); i += group {
		j := min(i+group, len(mods))
		rel, _ := filepath.Rel(kernelDir, paths[i])
		t.Run("group from "+rel, func(t *testing.T) {
			compareWithLibbpf(t, concat(mods[i:j]...), basePath)
		})
	}
}
