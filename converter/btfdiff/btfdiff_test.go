package btfdiff

import (
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

const kernelDir = "/var/cache/rules_btf/kernel"

// sample is a small spec with every kind, cycles through named structs and anonymous
// types referenced inline.
func sample() *btf.Spec {
	s := btf.NewSpec()
	i := s.Add(btf.Type{Kind: btf.KindInt, Name: "int", Size: 4, IntEncoding: btf.IntSigned, IntBits: 32})      // 1
	c := s.Add(btf.Type{Kind: btf.KindInt, Name: "char", Size: 1, IntEncoding: btf.IntSigned, IntBits: 8})      // 2
	p := s.Add(btf.Type{Kind: btf.KindPtr, Type: 4})                                                            // 3
	node := s.Add(btf.Type{Kind: btf.KindStruct, Name: "node", Size: 24, KindFlag: true, Members: []btf.Member{ // 4
		{Name: "next", Type: p},
		{Name: "", Type: 5, Offset: 64},
		{Name: "flags", Type: i, Offset: 128, Size: 3},
	}})
	arr := s.Add(btf.Type{Kind: btf.KindUnion, Size: 8, Members: []btf.Member{{Name: "x", Type: i}, {Name: "buf", Type: 6}}}) // 5
	s.Add(btf.Type{Kind: btf.KindArray, Type: c, IndexType: i, Nelems: 8})                                                    // 6
	s.Add(btf.Type{Kind: btf.KindEnum, Name: "color", Size: 4, Members: []btf.Member{{Name: "RED"}, btf.Enumerator("GREEN", 1)}})
	s.Add(btf.Type{Kind: btf.KindEnum64, Name: "big", Size: 8, Members: []btf.Member{btf.Enumerator("HUGE", 1<<40)}})
	s.Add(btf.Type{Kind: btf.KindFwd, Name: "opaque"})
	td := s.Add(btf.Type{Kind: btf.KindTypedef, Name: "node_t", Type: node})
	v := s.Add(btf.Type{Kind: btf.KindVolatile, Type: i})
	cv := s.Add(btf.Type{Kind: btf.KindConst, Type: v})
	s.Add(btf.Type{Kind: btf.KindRestrict, Type: p})
	proto := s.Add(btf.Type{Kind: btf.KindFuncProto, Type: i, Members: []btf.Member{{Name: "n", Type: p}, {Name: "k", Type: cv}, {}}})
	f := s.Add(btf.Type{Kind: btf.KindFunc, Name: "walk", Type: proto, Linkage: btf.LinkageGlobal})
	vr := s.Add(btf.Type{Kind: btf.KindVar, Name: "head", Type: td, Linkage: btf.LinkageGlobalVar})
	s.Add(btf.Type{Kind: btf.KindDatasec, Name: ".data..percpu", Size: 32, Members: []btf.Member{{Type: vr, Offset: 0, Size: 24}}})
	s.Add(btf.Type{Kind: btf.KindFloat, Name: "double", Size: 8})
	s.Add(btf.Type{Kind: btf.KindDeclTag, Name: "tag", Type: f, ComponentIdx: 0})
	s.Add(btf.Type{Kind: btf.KindTypeTag, Name: "user", Type: arr})
	return s
}

// permute returns a copy of s (standalone) with its types in a random order and every
// reference renumbered accordingly.
func permute(s *btf.Spec, seed uint64) *btf.Spec {
	n := len(s.Types)
	order := rand.New(rand.NewPCG(seed, 0)).Perm(n) // new position i holds old type order[i]
	newID := make([]btf.TypeID, n+1)
	for pos, old := range order {
		newID[old+1] = btf.TypeID(pos + 1)
	}
	re := func(id btf.TypeID) btf.TypeID { return newID[id] }
	out := btf.NewSpec()
	for _, old := range order {
		t := s.Types[old]
		t.Members = slices.Clone(t.Members)
		if t.Kind.HasRef() {
			t.Type = re(t.Type)
		}
		if t.Kind == btf.KindArray {
			t.IndexType = re(t.IndexType)
		}
		switch t.Kind {
		case btf.KindStruct, btf.KindUnion, btf.KindFuncProto, btf.KindDatasec:
			for j := range t.Members {
				t.Members[j].Type = re(t.Members[j].Type)
			}
		}
		out.Add(t)
	}
	return out
}

func TestPermutedEqual(t *testing.T) {
	for seed := range uint64(5) {
		a, b := sample(), permute(sample(), seed)
		r := Diff(a, b, Options{MaxExamples: 5})
		if !r.Equal() {
			var buf bytes.Buffer
			r.WriteText(&buf)
			t.Errorf("seed %d: permuted spec differs:\n%s", seed, buf.String())
		}
		if got := len(r.Kinds); got != 19 {
			t.Errorf("seed %d: %d kinds reported, want 19", seed, got)
		}
	}
}

func TestDifferences(t *testing.T) {
	tests := []struct {
		name         string
		change       func(s *btf.Spec)
		kind         btf.Kind
		onlyA, onlyB int
	}{
		{"member offset", func(s *btf.Spec) { s.Types[3].Members[2].Offset = 130 }, btf.KindStruct, 1, 1},
		{"member name", func(s *btf.Spec) { s.Types[3].Members[0].Name = "prev" }, btf.KindStruct, 1, 1},
		{"bitfield size", func(s *btf.Spec) { s.Types[3].Members[2].Size = 4 }, btf.KindStruct, 1, 1},
		{"anonymous union member, seen through the struct", func(s *btf.Spec) { s.Types[4].Members[0].Name = "y" }, btf.KindStruct, 1, 1},
		{"anonymous union itself", func(s *btf.Spec) { s.Types[4].Members[0].Name = "y" }, btf.KindUnion, 1, 1},
		{"int size", func(s *btf.Spec) { s.Types[1].Size = 2 }, btf.KindInt, 1, 1},
		{"array length", func(s *btf.Spec) { s.Types[5].Nelems = 9 }, btf.KindArray, 1, 1},
		{"enum value", func(s *btf.Spec) { s.Types[6].Members[1].SetValue(2) }, btf.KindEnum, 1, 1},
		{"enum signedness", func(s *btf.Spec) { s.Types[6].KindFlag = true }, btf.KindEnum, 1, 1},
		{"enum64 value", func(s *btf.Spec) { s.Types[7].Members[0].SetValue(1 << 41) }, btf.KindEnum64, 1, 1},
		{"fwd kind", func(s *btf.Spec) { s.Types[8].KindFlag = true }, btf.KindFwd, 1, 1},
		{"typedef target", func(s *btf.Spec) { s.Types[9].Type = 1 }, btf.KindTypedef, 1, 1},
		{"pointer target", func(s *btf.Spec) { s.Types[2].Type = 1 }, btf.KindPtr, 1, 1},
		{"qualifier", func(s *btf.Spec) { s.Types[10].Kind = btf.KindConst }, btf.KindVolatile, 1, 0},
		{"restrict", func(s *btf.Spec) { s.Types[12].Type = 1 }, btf.KindRestrict, 1, 1},
		{"param name", func(s *btf.Spec) { s.Types[13].Members[0].Name = "m" }, btf.KindFuncProto, 1, 1},
		{"param name, seen through the FUNC", func(s *btf.Spec) { s.Types[13].Members[0].Name = "m" }, btf.KindFunc, 1, 1},
		{"func linkage", func(s *btf.Spec) { s.Types[14].Linkage = btf.LinkageStatic }, btf.KindFunc, 1, 1},
		{"var type", func(s *btf.Spec) { s.Types[15].Type = 1 }, btf.KindVar, 1, 1},
		{"datasec offset", func(s *btf.Spec) { s.Types[16].Members[0].Offset = 8 }, btf.KindDatasec, 1, 1},
		{"float size", func(s *btf.Spec) { s.Types[17].Size = 4 }, btf.KindFloat, 1, 1},
		{"decl tag index", func(s *btf.Spec) { s.Types[18].ComponentIdx = -1 }, btf.KindDeclTag, 1, 1},
		{"type tag", func(s *btf.Spec) { s.Types[19].Name = "rcu" }, btf.KindTypeTag, 1, 1},
		{"duplicate FUNC", func(s *btf.Spec) { s.Add(s.Types[14]) }, btf.KindFunc, 0, 1},
		{"struct removed", func(s *btf.Spec) { s.Types[3] = btf.Type{Kind: btf.KindFwd, Name: "node"} }, btf.KindStruct, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := sample(), sample()
			tt.change(b)
			r := Diff(a, b, Options{MaxExamples: 1})
			if r.Equal() {
				t.Fatal("reported equal")
			}
			k := findKind(r, tt.kind)
			if k == nil {
				t.Fatalf("no report for %s", tt.kind)
			}
			if k.OnlyA != tt.onlyA || k.OnlyB != tt.onlyB {
				t.Errorf("%s: only A %d, only B %d; want %d, %d", tt.kind, k.OnlyA, k.OnlyB, tt.onlyA, tt.onlyB)
			}
			if len(k.ExamplesA) != min(tt.onlyA, 1) || len(k.ExamplesB) != min(tt.onlyB, 1) {
				t.Errorf("examples %+v / %+v", k.ExamplesA, k.ExamplesB)
			}
		})
	}
}

func findKind(r *Report, k btf.Kind) *KindReport {
	for i := range r.Kinds {
		if r.Kinds[i].Kind == k {
			return &r.Kinds[i]
		}
	}
	return nil
}

func TestIgnoreKinds(t *testing.T) {
	a, b := sample(), sample()
	b.Types[13].Members[0].Name = "m" // FUNC_PROTO, and the FUNC through it
	r := Diff(a, b, Options{IgnoreKinds: []btf.Kind{btf.KindFunc, btf.KindFuncProto}})
	if findKind(r, btf.KindFunc) != nil || !slices.Equal(r.Ignored, []btf.Kind{btf.KindFunc, btf.KindFuncProto}) {
		t.Errorf("ignored kinds: report %+v", r)
	}
	// The DECL_TAG on the FUNC still sees the change: ignored kinds are described
	// where other types refer to them.
	for _, k := range r.Kinds {
		want := 0
		if k.Kind == btf.KindDeclTag {
			want = 1
		}
		if k.OnlyA != want || k.OnlyB != want {
			t.Errorf("%s: only A %d, only B %d; want %d each", k.Kind, k.OnlyA, k.OnlyB, want)
		}
	}
	r = Diff(a, b, Options{IgnoreKinds: []btf.Kind{btf.KindFunc, btf.KindFuncProto, btf.KindDeclTag}})
	if !r.Equal() {
		t.Error("differences in ignored kinds reported")
	}
}

func TestCycle(t *testing.T) {
	// A malformed spec: a pointer cycle through anonymous types only.
	s := btf.NewSpec()
	s.Add(btf.Type{Kind: btf.KindPtr, Type: 2})
	s.Add(btf.Type{Kind: btf.KindConst, Type: 1})
	r := Diff(s, permute(s, 1), Options{})
	if !r.Equal() {
		t.Error("cyclic spec differs from its permutation")
	}
}

func TestWriteText(t *testing.T) {
	a, b := sample(), sample()
	b.Types[3].Members[2].Offset = 130
	b.Add(b.Types[14])
	var buf bytes.Buffer
	if err := Diff(a, b, Options{MaxExamples: 2, IgnoreKinds: []btf.Kind{btf.KindDeclTag}}).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.txt")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("report differs from %s (run with -update if intended):\n%s", golden, buf.String())
	}
}

func TestStat(t *testing.T) {
	s := sample()
	s.Add(btf.Type{Kind: btf.KindPtr, Type: 1})
	got := Stat(s)
	if len(got) != 19 || got[0] != (KindCount{btf.KindInt, 2}) || got[1] != (KindCount{btf.KindPtr, 2}) || got[18] != (KindCount{btf.KindEnum64, 1}) {
		t.Errorf("Stat = %v", got)
	}
}

func load(t testing.TB, path string, base *btf.Spec) *btf.Spec {
	t.Helper()
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not present", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Ext(path) == ".ko" {
		f, err := elf.NewFile(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = f.Section(".BTF").Data(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := btf.Parse(raw, base)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKernel checks the facts measured in /work/shared/data/README.md: the embedded
// .BTF (built with pahole -j) and the single-threaded reference differ only by 380
// FUNC and 44 FUNC_PROTO, all in excess on the embedded side.
func TestKernel(t *testing.T) {
	a := load(t, kernelDir+"/vmlinux.btf", nil)
	b := load(t, kernelDir+"/pahole/vmlinux.btf", nil)
	r := Diff(a, b, Options{MaxExamples: 3})
	for _, k := range r.Kinds {
		wantA := map[btf.Kind]int{btf.KindFunc: 380, btf.KindFuncProto: 44}[k.Kind]
		if k.OnlyA != wantA || k.OnlyB != 0 {
			t.Errorf("%s: only A %d, only B %d; want %d, 0", k.Kind, k.OnlyA, k.OnlyB, wantA)
		}
	}
	if r := Diff(a, b, Options{IgnoreKinds: []btf.Kind{btf.KindFunc, btf.KindFuncProto}}); !r.Equal() {
		t.Error("differ without FUNC and FUNC_PROTO")
	}
	if r := Diff(b, permute(b, 7), Options{}); !r.Equal() {
		t.Error("reference differs from its own permutation")
	}
}

// TestModule compares a module's embedded split BTF with pahole's single-threaded
// reference, both on vmlinux.btf.
func TestModule(t *testing.T) {
	base := load(t, kernelDir+"/vmlinux.btf", nil)
	a := load(t, kernelDir+"/modules/net/key/af_key.ko", base)
	b := load(t, kernelDir+"/pahole/modules/net/key/af_key.btf", base)
	r := Diff(a, b, Options{MaxExamples: 3})
	if !r.Equal() {
		var buf bytes.Buffer
		r.WriteText(&buf)
		t.Errorf("af_key split BTF differs from the reference:\n%s", buf.String())
	}
	// Only the split parts are compared.
	var n int
	for _, k := range Stat(a) {
		n += k.Count
	}
	if n != len(a.Types) {
		t.Errorf("Stat counts %d types, split has %d", n, len(a.Types))
	}
}

func BenchmarkDiffVmlinux(b *testing.B) {
	x := load(b, kernelDir+"/vmlinux.btf", nil)
	y := load(b, kernelDir+"/pahole/vmlinux.btf", nil)
	b.ReportAllocs()
	for b.Loop() {
		Diff(x, y, Options{MaxExamples: 10})
	}
}
