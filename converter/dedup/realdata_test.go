package dedup

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/internal/kerneldata"
)

// Real kernel BTF (see /work/shared/data/README.md); tests skip when it is absent.
var kernelDir = kerneldata.Root()

func loadRaw(tb testing.TB, path string, base *btf.Spec) *btf.Spec {
	tb.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		tb.Skipf("%s not present", path)
	}
	if err != nil {
		tb.Fatal(err)
	}
	s, err := parseRaw(data, base)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return s
}

func countVarsDatasecs(s *btf.Spec) int {
	n := 0
	for i := range s.Types {
		if k := s.Types[i].Kind; k == btf.KindVar || k == btf.KindDatasec {
			n++
		}
	}
	return n
}

// checkCopies deduplicates s appended to itself copies times and checks that the
// result is s again, plus the VARs and DATASECs of the extra copies (never merged).
func checkCopies(t *testing.T, s *btf.Spec, copies int) {
	t.Helper()
	in := make([]*btf.Spec, copies)
	for i := range in {
		in[i] = s
	}
	got, ids, err := Dedup(concat(in...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := len(s.Types)
	extra := (copies - 1) * countVarsDatasecs(s)
	if len(got.Types) != n+extra {
		t.Fatalf("%d copies of %d types: got %d types, want %d", copies, n, len(got.Types), n+extra)
	}
	head := &btf.Spec{Base: got.Base, FirstID: got.FirstID, Types: got.Types[:n]}
	if dump(head) != dump(s) {
		t.Fatalf("the first %d types differ from the input", n)
	}
	for c := 0; c < copies; c++ {
		for i := range s.Types {
			k := s.Types[i].Kind
			if k == btf.KindVar || k == btf.KindDatasec {
				continue
			}
			if want := s.FirstID + btf.TypeID(i); ids[c*n+i] != want {
				t.Fatalf("copy %d: type %d maps to %d", c, want, ids[c*n+i])
			}
		}
	}
}

func TestVmlinux(t *testing.T) {
	for _, name := range []string{"vmlinux.btf", "pahole/vmlinux.btf"} {
		t.Run(name, func(t *testing.T) {
			s := loadRaw(t, filepath.Join(kernelDir, name), nil)
			t.Logf("%d types, %d VAR/DATASEC", len(s.Types), countVarsDatasecs(s))
			checkCopies(t, s, 1)
			if testing.Short() {
				return
			}
			checkCopies(t, s, 3)
		})
	}
}

// Modules' split BTF from pahole (made on the embedded vmlinux BTF). libbpf's dedup
// is not idempotent on them (a module may keep a copy of a base struct that a second
// run merges; libbpf 1.1 does the same, see TestLibbpfModules), so this checks
// what must hold anyway: nothing grows, every type maps to one of its own name and
// kind (or, for a forward declaration, to what it declares), and every reference
// of the output is in range.
func TestModules(t *testing.T) {
	base := loadRaw(t, filepath.Join(kernelDir, "vmlinux.btf"), nil)
	paths, _ := kerneldata.Files(filepath.Join(kernelDir, "pahole/modules"), ".btf") // none: skipped below
	if len(paths) == 0 {
		t.Skip("no module BTF")
	}
	if testing.Short() && len(paths) > 40 {
		paths = paths[:40]
	}
	for _, p := range paths {
		m := loadRaw(t, p, base)
		got, ids, err := Dedup(m, Options{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(got.Types) > len(m.Types) {
			t.Fatalf("%s: %d types grew to %d", p, len(m.Types), len(got.Types))
		}
		for i := range m.Types {
			from, to := &m.Types[i], got.Type(ids[i])
			if to == nil || to.Name != from.Name || !sameOrDeclared(from.Kind, to.Kind) {
				t.Fatalf("%s: type [%d] %s '%s' maps to [%d] %v", p, m.FirstID+btf.TypeID(i), from.Kind, from.Name, ids[i], to)
			}
		}
		checkRefs(t, got)
	}
}

func sameOrDeclared(from, to btf.Kind) bool {
	switch {
	case from == to:
		return true
	case from == btf.KindFwd:
		return to.IsComposite()
	case from == btf.KindEnum || from == btf.KindEnum64:
		return to == btf.KindEnum || to == btf.KindEnum64
	}
	return false
}

func checkRefs(t *testing.T, s *btf.Spec) {
	t.Helper()
	ok := func(id btf.TypeID) bool { return id < s.NextID() }
	for i := range s.Types {
		x := &s.Types[i]
		bad := x.Kind.HasRef() && !ok(x.Type) || x.Kind == btf.KindArray && !ok(x.IndexType)
		for _, m := range x.Members {
			bad = bad || !ok(m.Type)
		}
		if bad {
			t.Fatalf("type [%d] has a reference out of range", s.FirstID+btf.TypeID(i))
		}
	}
}

func benchmarkCopies(b *testing.B, copies int) {
	s := loadRaw(b, filepath.Join(kernelDir, "vmlinux.btf"), nil)
	in := make([]*btf.Spec, copies)
	for i := range in {
		in[i] = s
	}
	all := concat(in...)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got, _, err := Dedup(all, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(got.Types) < len(s.Types) {
			b.Fatal("lost types")
		}
	}
	b.ReportMetric(float64(len(all.Types)), "types")
}

func BenchmarkVmlinux1(b *testing.B)  { benchmarkCopies(b, 1) }
func BenchmarkVmlinux2(b *testing.B)  { benchmarkCopies(b, 2) }
func BenchmarkVmlinux3(b *testing.B)  { benchmarkCopies(b, 3) }
func BenchmarkVmlinux38(b *testing.B) { benchmarkCopies(b, 38) } // ~3.6 M types, the size of a whole-kernel merge

// A base prepared once (PrepareBase) gives every module the result of a Dedup that
// prepares it itself, in both libbpf modes, however often it is used.
func TestPreparedBaseModules(t *testing.T) {
	base := loadRaw(t, filepath.Join(kernelDir, "vmlinux.btf"), nil)
	paths, _ := kerneldata.Files(filepath.Join(kernelDir, "pahole/modules"), ".btf") // none: skipped below
	if len(paths) == 0 {
		t.Skip("no module BTF")
	}
	if testing.Short() && len(paths) > 20 {
		paths = paths[:20]
	}
	pb, err := PrepareBase(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []Options{{}, {Libbpf170: true}} {
		for _, p := range paths {
			m := loadRaw(t, p, base)
			want, wantIDs, err := Dedup(m, opts)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			opts.Base = pb
			got, ids, err := Dedup(m, opts)
			opts.Base = nil
			if err != nil {
				t.Fatalf("%s: prepared base: %v", p, err)
			}
			if !reflect.DeepEqual(got.Types, want.Types) || !slices.Equal(ids, wantIDs) {
				t.Fatalf("%s (%+v): a prepared base gives another result", p, opts)
			}
		}
	}
	other := loadRaw(t, filepath.Join(kernelDir, "vmlinux.btf"), nil)
	if _, _, err := Dedup(btf.NewSplitSpec(other), Options{Base: pb}); err == nil {
		t.Error("a Base prepared for another base Spec was accepted")
	}
	grown, err := PrepareBase(other)
	if err != nil {
		t.Fatal(err)
	}
	other.Add(other.Types[0])
	if _, _, err := Dedup(btf.NewSplitSpec(other), Options{Base: grown}); err == nil {
		t.Error("a Base prepared before its base grew was accepted")
	}
}
