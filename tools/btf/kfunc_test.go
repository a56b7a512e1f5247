package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// The kfunc fixture (testdata/kfunc/kfunc.c) declares kfunc sets in .BTF_ids the way
// the kernel's btf_ids.h does. With decl_tag_kfuncs (1.32), each kfunc's FUNC gets a
// DECL_TAG "bpf_kfunc", and "bpf_fastcall" too with KF_FASTCALL; functions of a set8
// without BTF_SET8_KFUNCS, or only in a BTF_ID_LIST, get none.
func TestKfuncsMatchPahole(t *testing.T) {
	bin := filepath.Join("testdata", "kfunc", "kfunc")
	for _, compat := range []string{"1.24", "1.32"} {
		t.Run(compat, func(t *testing.T) {
			raw := checkFixture(t, bin, compat, 1)
			spec, err := btf.Parse(raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			var tags []string
			for i := range spec.Types {
				if d := &spec.Types[i]; d.Kind == btf.KindDeclTag {
					tags = append(tags, spec.Types[d.Type-spec.FirstID].Name+": "+d.Name)
				}
			}
			slices.Sort(tags)
			var want []string
			if compat == "1.32" {
				want = []string{
					"bpf_fast_count: bpf_fastcall", "bpf_fast_count: bpf_kfunc",
					"bpf_task_acquire: bpf_kfunc", "bpf_task_release: bpf_kfunc",
				}
			}
			if !slices.Equal(tags, want) {
				t.Errorf("DECL_TAGs %q, want %q", tags, want)
			}
		})
	}
}

func TestKfuncsMatchInstalledPahole(t *testing.T) {
	pahole, compat := installedPahole(t)
	checkInstalledPahole(t, pahole, compat, filepath.Join("testdata", "kfunc", "kfunc"))
}
