package finalize

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rules-btf/rules_btf/converter/encode"
	"github.com/rules-btf/rules_btf/converter/shard"
)

// TestVmlinux compares Combine on the real kernel (see /work/shared/data/README.md)
// with pahole 1.24's reference: the FUNCs with their parameter names, the VARs and
// the DATASEC. It runs when RULES_BTF_DATA names the data directory.
func TestVmlinux(t *testing.T) {
	dir := os.Getenv("RULES_BTF_DATA")
	if dir == "" {
		t.Skip("RULES_BTF_DATA not set")
	}
	vmlinux := filepath.Join(dir, "vmlinux")
	opts := encode.DefaultOptions()
	opts.Compat = encode.Compat124
	start := time.Now()
	sh, err := encode.EncodeFile(vmlinux, opts)
	if err != nil {
		t.Fatal(err)
	}
	encoded := time.Now()
	img, err := LoadImage(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	loaded := time.Now()
	spec, err := Combine([]*shard.Shard{sh}, img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	combined := time.Now()
	t.Logf("encode %v, LoadImage %v (%d symbols), Combine %v (%d types)",
		encoded.Sub(start), loaded.Sub(encoded), len(img.Symbols), combined.Sub(loaded), len(spec.Types))
	raw, err := spec.Marshal(cbtfOrder())
	if err != nil {
		t.Fatal(err)
	}
	got := summary(t, raw)
	want := summary(t, readFile(t, filepath.Join(dir, "pahole/vmlinux.btf")))
	missing, extra := diffSorted(want, got)
	t.Logf("%d lines; missing %d, extra %d", len(want), len(missing), len(extra))
	for i, l := range missing {
		if i == 20 {
			break
		}
		t.Errorf("missing: %.300s", l)
	}
	for i, l := range extra {
		if i == 20 {
			break
		}
		t.Errorf("extra: %.300s", l)
	}
}

// diffSorted compares two lists as multisets.
func diffSorted(want, got []string) (missing, extra []string) {
	w, g := slices.Clone(want), slices.Clone(got)
	slices.Sort(w)
	slices.Sort(g)
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case j == len(g) || i < len(w) && w[i] < g[j]:
			missing = append(missing, w[i])
			i++
		case i == len(w) || g[j] < w[i]:
			extra = append(extra, g[j])
			j++
		default:
			i++
			j++
		}
	}
	return missing, extra
}
