package finalize

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cbtf "github.com/cilium/ebpf/btf"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/encode"
	"github.com/rules-btf/rules_btf/converter/shard"
)

// The fixture in testdata/e2e is built by build.sh: two C files (same-named static
// functions and per-CPU variables, a weak function overridden by a strong one, a
// declaration, an inline function, a zero-sized per-CPU array at address 0, a GCC
// .constprop clone) compiled with gcc 12 -g -O2, linked with per-CPU data at address 0
// like x86-64 vmlinux, and encoded by pahole 1.24 into prog.pahole124.btf.

// summary lists the FUNCs (name, linkage, parameter names), VARs and DATASECs of a
// BTF blob, FUNCs and VARs sorted: what finalize decides, independent of type IDs.
func summary(t *testing.T, raw []byte) []string {
	t.Helper()
	spec, err := cbtf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing BTF: %v", err)
	}
	return summarySpec(t, spec)
}

func summarySpec(t *testing.T, spec *cbtf.Spec) []string {
	t.Helper()
	var funcs, vars, secs []string
	for typ, err := range spec.All() {
		if err != nil {
			t.Fatal(err)
		}
		switch v := typ.(type) {
		case *cbtf.Func:
			var params []string
			for _, p := range v.Type.(*cbtf.FuncProto).Params {
				params = append(params, p.Name)
			}
			funcs = append(funcs, fmt.Sprintf("FUNC %s %v (%s)", v.Name, v.Linkage, strings.Join(params, ", ")))
		case *cbtf.Var:
			vars = append(vars, fmt.Sprintf("VAR %s %v", v.Name, v.Linkage))
		case *cbtf.Datasec:
			var es []string
			for _, e := range v.Vars {
				es = append(es, fmt.Sprintf("%s@%d+%d", e.Type.TypeName(), e.Offset, e.Size))
			}
			secs = append(secs, fmt.Sprintf("DATASEC %s size=%d [%s]", v.Name, v.Size, strings.Join(es, " ")))
		}
	}
	slices.Sort(funcs)
	slices.Sort(vars)
	return slices.Concat(funcs, vars, secs)
}

func e2eShards(t *testing.T, files ...string) []*shard.Shard {
	t.Helper()
	opts := encode.DefaultOptions()
	opts.Compat = encode.Compat124
	var out []*shard.Shard
	for _, f := range files {
		s, err := encode.EncodeFile(filepath.Join("testdata/e2e", f), opts)
		if err != nil {
			t.Fatalf("encoding %s: %v", f, err)
		}
		out = append(out, s)
	}
	return out
}

func combineRaw(t *testing.T, shards []*shard.Shard, opts Options) []byte {
	t.Helper()
	img, err := LoadImage("testdata/e2e/prog")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Combine(shards, img, opts)
	if err != nil {
		t.Fatalf("Combine: %v", err)
	}
	raw, err := spec.Marshal(cbtfOrder())
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return raw
}

func TestEndToEndPahole124(t *testing.T) {
	want := summary(t, readFile(t, "testdata/e2e/prog.pahole124.btf"))
	cases := []struct {
		name   string
		files  []string
		inputs InputKind
	}{
		{"linked image", []string{"prog"}, LinkedInputs},
		{"linked image, from the shard", []string{"prog"}, ShardInputs},
		{"objects", []string{"a.o", "b.o"}, ObjectInputs},
		{"objects, from the shards", []string{"a.o", "b.o"}, ShardInputs},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(t, combineRaw(t, e2eShards(t, tc.files...), Options{Compat: Pahole124, Inputs: tc.inputs}))
			if !slices.Equal(got, want) {
				t.Errorf("got:\n  %s\npahole 1.24:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

// TestEndToEndPahole132 compares with Debian sid's pahole 1.32 (build.sh, in a
// chroot): on the e2e fixture, helper has two addresses (a.c's "helper" and b.c's
// "helper.constprop.0"), so it is ambiguous and dropped; weak_fn is taken from the
// strong definition in b.c, whose address is the symbol's; VARs are named and sized
// from DWARF. On the weak fixture, the strong tramp is split into hot and cold parts
// (DW_AT_ranges, address 0 for pahole) and the first weak definition with an
// address wins.
func TestEndToEndPahole132(t *testing.T) {
	opts132 := encode.DefaultOptions()
	opts132.Compat = encode.Compat132
	for _, dir := range []string{"testdata/e2e", "testdata/weak"} {
		t.Run(dir, func(t *testing.T) {
			want := summary(t, readFile(t, filepath.Join(dir, "prog.pahole132.btf")))
			s, err := encode.EncodeFile(filepath.Join(dir, "prog"), opts132)
			if err != nil {
				t.Fatal(err)
			}
			img, err := LoadImage(filepath.Join(dir, "prog"))
			if err != nil {
				t.Fatal(err)
			}
			spec, err := Combine([]*shard.Shard{s}, img, Options{Compat: Pahole132, Force: true, TagKfuncs: true})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := spec.Marshal(cbtfOrder())
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(t, raw); !slices.Equal(got, want) {
				t.Errorf("got:\n  %s\npahole 1.32:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func cbtfOrder() btf.MarshalOptions { return btf.MarshalOptions{ByteOrder: binary.LittleEndian} }

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
