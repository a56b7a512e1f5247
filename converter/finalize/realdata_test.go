package finalize

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cbtf "github.com/cilium/ebpf/btf"

	"github.com/rules-btf/rules_btf/converter/encode"
	"github.com/rules-btf/rules_btf/converter/shard"
	"github.com/rules-btf/rules_btf/internal/kerneldata"
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

// TestModules compares Combine on kernel modules (ET_REL images, each its own
// linked shard) with pahole 1.24's split BTF. RULES_BTF_MODULES=all checks every
// module; by default those with per-CPU data among the first 300, plus 20 others.
func TestModules(t *testing.T) {
	dir := os.Getenv("RULES_BTF_DATA")
	if dir == "" {
		t.Skip("RULES_BTF_DATA not set")
	}
	// pahole made the module references with --btf_base on the embedded .BTF.
	baseRaw := readFile(t, filepath.Join(dir, "vmlinux.btf"))
	base, err := cbtf.LoadSpecFromReader(bytes.NewReader(baseRaw))
	if err != nil {
		t.Fatal(err)
	}
	baseSummary := summary(t, baseRaw)
	kos, err := kerneldata.Files(filepath.Join(dir, "modules"), ".ko")
	if err != nil {
		t.Fatal(err)
	}
	all := os.Getenv("RULES_BTF_MODULES") == "all"
	opts := encode.DefaultOptions()
	opts.Compat = encode.Compat124
	checked, others, bad := 0, 0, 0
	for i, ko := range kos {
		img, err := LoadImage(ko)
		if err != nil {
			t.Fatal(err)
		}
		if !all {
			percpu := img.sectionByName(PercpuSection) != 0
			if i >= 300 || !percpu && others >= 20 {
				continue
			}
			if !percpu {
				others++
			}
		}
		rel, _ := filepath.Rel(filepath.Join(dir, "modules"), ko)
		ref, err := os.ReadFile(filepath.Join(dir, "pahole/modules", strings.TrimSuffix(rel, ".ko")+".btf"))
		if err != nil {
			continue // pahole made no BTF for it
		}
		split, err := cbtf.LoadSplitSpecFromReader(bytes.NewReader(ref), base)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		want, _ := diffSorted(summarySpec(t, split), baseSummary)
		sh, err := encode.EncodeFile(ko, opts)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		spec, err := Combine([]*shard.Shard{sh}, img, Options{Inputs: LinkedInputs})
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		raw, err := spec.Marshal(cbtfOrder())
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		// A module's FUNC or VAR identical to one of vmlinux is deduplicated into
		// the base by pahole: compare what is not in the base.
		got, _ := diffSorted(summary(t, raw), baseSummary)
		checked++
		missing, extra := diffSorted(want, got)
		if len(missing)+len(extra) > 0 {
			bad++
			t.Errorf("%s: missing %.400q, extra %.400q", rel, missing, extra)
		}
	}
	t.Logf("%d modules checked, %d differ", checked, bad)
}
