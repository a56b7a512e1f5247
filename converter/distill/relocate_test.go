package distill

import (
	"errors"
	"strings"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// relocBase is a base to distill from and relocate onto: one type of each kind the
// distilled base can hold, and reference types to reach them through.
func relocBase() *btf.Spec {
	return spec(
		intT("int", 4, btf.IntSigned),                                   // 1
		structT("list_head", 16, mem("next", 3, 0), mem("prev", 3, 64)), // 2
		ptr(2),                             // 3
		typedef("u32", 5),                  // 4
		intT("unsigned int", 4, 0),         // 5
		structT("", 4, mem("a", 1, 0)),     // 6
		enum64T("big", 8, val("B", 1<<40)), // 7
		fwd("opaque", false),               // 8
		floatT("double", 8),                // 9
		unionT("u", 8, mem("d", 9, 0)),     // 10
	)
}

func relocSplit(base *btf.Spec) *btf.Spec {
	return split(base,
		structT("mod", 64, mem("l", 2, 0), mem("p", 3, 128), mem("x", 4, 192), mem("a", 6, 224),
			mem("e", 7, 256), mem("u", 10, 320)), // 11
		ptr(11), // 12
		ptr(8),  // 13
	)
}

// Distilling and relocating onto the same base gives the module's type graph back
// (with the copies of base types distillation made still in the split part).
func TestRoundTrip(t *testing.T) {
	base := relocBase()
	orig := relocSplit(base)
	_, dist, err := Distill(orig)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Relocate(dist, base)
	if err != nil {
		t.Fatal(err)
	}
	if got.Base != base || got.FirstID != base.NextID() {
		t.Fatalf("relocated BTF starts at %d on %p, want %d on the base", got.FirstID, got.Base, base.NextID())
	}
	if err := sameGraph(orig, got); err != nil {
		t.Errorf("relocated: %v\n%s\noriginal:\n%s", err, dump(got), dump(orig))
	}
	// Only the copies of base types 3, 4 and 6 come after the module's types.
	if n := len(got.Types) - len(orig.Types); n != 3 {
		t.Errorf("%d types added, want 3 (PTR, TYPEDEF, anonymous STRUCT)\n%s", n, dump(got))
	}
}

// Relocation onto another build of the base: types found by name wherever they
// are, a struct that is only pointed to may have changed, and a base type the
// module does not use may be gone.
func TestRelocateOntoAnotherBase(t *testing.T) {
	_, dist, err := Distill(relocSplit(relocBase()))
	if err != nil {
		t.Fatal(err)
	}
	other := spec(
		floatT("double", 8),            // 1
		intT("unsigned int", 4, 0),     // 2
		unionT("u", 8, mem("d", 1, 0)), // 3
		structT("opaque", 128),         // 4: was a FWD
		enumT("big", 8, val("B", 1)),   // 5: ENUM now, same size
		structT("list_head", 16),       // 6
		intT("int", 4, btf.IntSigned),  // 7
	)
	got, err := Relocate(dist, other)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[8] STRUCT "mod" size=64 l:6@0/0 p:11@128/0 x:12@192/0 a:13@224/0 e:5@256/0 u:3@320/0
[9] PTR "" -> 8
[10] PTR "" -> 4
[11] PTR "" -> 6
[12] TYPEDEF "u32" -> 2
[13] STRUCT "" size=4 a:7@0/0
`
	if d := dump(got); d != want {
		t.Errorf("relocated:\n%s\nwant:\n%s", d, want)
	}
}

// relocErr relocates split types on a distilled base dbase onto base and returns
// the error.
func relocErr(dbase, base *btf.Spec, types ...btf.Type) error {
	_, err := Relocate(split(dbase, types...), base)
	return err
}

func TestMatchRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dist  btf.Type   // distilled base type 1
		base  []btf.Type // the full base
		split []btf.Type // on the distilled base (default: a pointer to type 1)
		want  error      // nil: relocates, to base type matchID
		match btf.TypeID
	}{
		{name: "INT by name and size", dist: intT("int", 4, btf.IntSigned),
			base: []btf.Type{intT("int", 8, btf.IntSigned), intT("int", 4, btf.IntSigned)}, match: 2},
		{name: "INT encoding differs", dist: intT("int", 4, btf.IntSigned),
			base: []btf.Type{intT("int", 4, 0)}, want: ErrNoMatch},
		{name: "FLOAT is not INT", dist: floatT("x", 4),
			base: []btf.Type{intT("x", 4, 0), floatT("x", 4)}, match: 2},
		{name: "ENUM matches ENUM64 of the same size", dist: enumT("e", 8),
			base: []btf.Type{enumT("e", 4), enum64T("e", 8)}, match: 2},
		{name: "FWD matches FWD of its kind_flag", dist: fwd("f", true),
			base: []btf.Type{fwd("f", false), fwd("f", true)}, match: 2},
		{name: "FWD matches a STRUCT without kind_flag", dist: fwd("f", false),
			base: []btf.Type{structT("f", 8)}, match: 1},
		{name: "FWD and a STRUCT with kind_flag (bitfields): libbpf tests the flag", dist: fwd("f", false),
			base: []btf.Type{{Kind: btf.KindStruct, Name: "f", Size: 4, KindFlag: true}}, want: ErrNoMatch},
		{name: "FWD matches a UNION only with kind_flag", dist: fwd("f", true),
			base: []btf.Type{unionT("f", 8)}, want: ErrNoMatch},
		{name: "STRUCT by name only, any size", dist: structT("s", 8),
			base: []btf.Type{structT("s", 800)}, match: 1},
		{name: "STRUCT matches a UNION of its name", dist: structT("s", 8),
			base: []btf.Type{unionT("s", 8)}, match: 1},
		{name: "several base composites of the name: by size", dist: structT("s", 8),
			base: []btf.Type{structT("s", 4), structT("s", 8)}, match: 2},
		{name: "several base composites, none of the size", dist: structT("s", 8),
			base: []btf.Type{structT("s", 4), structT("s", 16)}, want: ErrNoMatch},
		{name: "several base composites of the same size", dist: structT("s", 8),
			base: []btf.Type{structT("s", 8), structT("s", 8)}, want: ErrNoMatch},
		{name: "STRUCT and a FWD of its name: two candidates", dist: structT("s", 8),
			base: []btf.Type{fwd("s", false), structT("s", 8)}, want: ErrNoMatch},
		{name: "embedded STRUCT must keep its size", dist: structT("s", 8),
			base:  []btf.Type{structT("s", 16)},
			split: []btf.Type{structT("m", 8, mem("s", 1, 0))}, want: ErrNoMatch},
		{name: "embedded through typedef, const and array", dist: structT("s", 8),
			base: []btf.Type{structT("s", 16)},
			split: []btf.Type{typedef("s_t", 1), ref(btf.KindConst, "", 2), array(3, 0, 2),
				structT("m", 16, mem("a", 4, 0))}, want: ErrNoMatch},
		{name: "embedded STRUCT of its size, and a FWD of the name", dist: structT("s", 8),
			base:  []btf.Type{fwd("s", false), structT("s", 8)},
			split: []btf.Type{structT("m", 8, mem("s", 1, 0))}, match: 2},
		{name: "embedded STRUCT matched, then a FWD of the name: libbpf calls it ambiguous", dist: structT("s", 8),
			base:  []btf.Type{structT("s", 8), fwd("s", false)},
			split: []btf.Type{structT("m", 8, mem("s", 1, 0))}, want: ErrNoMatch},
		{name: "pointed-to STRUCT may change size", dist: structT("s", 8),
			base:  []btf.Type{structT("s", 16)},
			split: []btf.Type{ptr(1), structT("m", 8, mem("p", 2, 0))}, match: 1},
		{name: "missing", dist: structT("s", 8),
			base: []btf.Type{structT("t", 8)}, want: ErrNoMatch},
		{name: "anonymous in the distilled base", dist: structT("", 8),
			base: []btf.Type{structT("", 8)}, want: ErrUnexpectedKind},
		{name: "a reference kind in the distilled base", dist: typedef("t", 0),
			base: []btf.Type{typedef("t", 0)}, want: ErrUnexpectedKind},
	} {
		t.Run(tc.name, func(t *testing.T) {
			types := tc.split
			if types == nil {
				types = []btf.Type{ptr(1)}
			}
			got, err := Relocate(split(spec(tc.dist), types...), spec(tc.base...))
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Find what the split's first reference to type 1 became.
			for i := range got.Types {
				for r := range refs(&got.Types[i]) {
					if *r != 0 && *r < got.FirstID {
						if *r != tc.match {
							t.Errorf("relocated to base type %d, want %d\n%s", *r, tc.match, dump(got))
						}
						return
					}
				}
			}
			t.Fatalf("no reference into the base left\n%s", dump(got))
		})
	}
}

func TestRelocateNotDistilled(t *testing.T) {
	base := relocBase()
	if _, err := Relocate(spec(intT("int", 4, btf.IntSigned)), base); !errors.Is(err, ErrNotSplit) {
		t.Errorf("standalone BTF: error %v, want %v", err, ErrNotSplit)
	}
	_, dist, err := Distill(relocSplit(base))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Relocate(dist, dist.Base); err == nil || !strings.Contains(err.Error(), "distilled base itself") {
		t.Errorf("onto its own distilled base: error %v", err)
	}
	if err := relocErr(spec(intT("int", 4, btf.IntSigned)), base); err != nil {
		t.Errorf("no split types: %v", err)
	}
}

// The input Specs are not modified.
func TestRelocateInputUntouched(t *testing.T) {
	base := relocBase()
	_, dist, err := Distill(relocSplit(base))
	if err != nil {
		t.Fatal(err)
	}
	before := dump(dist.Base) + dump(dist) + dump(base)
	if _, err := Relocate(dist, base); err != nil {
		t.Fatal(err)
	}
	if dump(dist.Base)+dump(dist)+dump(base) != before {
		t.Error("Relocate modified its input")
	}
}
