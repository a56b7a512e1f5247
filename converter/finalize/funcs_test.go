package finalize

import (
	"slices"
	"strings"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/shard"
)

type combineCase struct {
	name   string
	shards func() []*shard.Shard
	img    *Image
	opts   Options
	want   []string
}

func runCombineCases(t *testing.T, cases []combineCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := Combine(tc.shards(), tc.img, tc.opts)
			if err != nil {
				t.Fatalf("Combine: %v", err)
			}
			got := dump(spec)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			owned, err := CombineOwned(tc.shards(), tc.img, tc.opts)
			if err != nil {
				t.Fatalf("CombineOwned: %v", err)
			}
			if o := dump(owned.Spec()); !slices.Equal(o, got) {
				t.Errorf("CombineOwned differs from Combine:\n  %s", strings.Join(o, "\n  "))
			}
		})
	}
}

const T = textBase

var (
	v124 = Options{Compat: Pahole124, Inputs: LinkedInputs}
	v132 = Options{Compat: Pahole132, Inputs: LinkedInputs}
)

// suffixShard: foo (plain symbol plus .cold and .part pieces), bar (only a .isra
// clone), baz (only a .cold piece).
func suffixShard(barOptimized bool) func() []*shard.Shard {
	return func() []*shard.Shard {
		bar := fn("bar", 3, 0, false, T+0x20)
		bar.OptimizedParams = barOptimized
		return []*shard.Shard{mkShard("a.o", []string{"a.c"},
			[]btf.Type{tInt("int", 4), tProto(1, "a", btf.TypeID(1)), tProto(1, "b", btf.TypeID(1)), tProto(0)},
			[]shard.Func{fn("foo", 2, 0, true, T+0x10), bar, fn("baz", 4, 0, false, T+0x30)}, nil)}
	}
}

var suffixImage = execImage(
	fsym("foo", T+0x10), lfsym("foo.cold", T+0x5000), lfsym("foo.part.0", T+0x6000),
	lfsym("bar.isra.0", T+0x20), lfsym("baz.cold", T+0x30),
)

func TestFuncSuffixes(t *testing.T) {
	runCombineCases(t, []combineCase{{
		name:   "1.24 matches exact names only",
		shards: suffixShard(false), img: suffixImage, opts: v124,
		want: []string{
			"[1] INT int size=4",
			"[2] FUNC_PROTO ret=1 (a:1)",
			"[3] FUNC foo type=2 linkage=0",
		},
	}, {
		name:   "1.32 strips suffixes, ignores .cold and .part",
		shards: suffixShard(false), img: suffixImage, opts: v132,
		want: []string{
			"[1] INT int size=4",
			"[2] FUNC_PROTO ret=1 (b:1)",
			"[3] FUNC bar type=2 linkage=0",
			"[4] FUNC_PROTO ret=1 (a:1)",
			"[5] FUNC foo type=4 linkage=0",
		},
	}, {
		name:   "1.32 drops optimized .isra clone",
		shards: suffixShard(true), img: suffixImage, opts: v132,
		want: []string{
			"[1] INT int size=4",
			"[2] FUNC_PROTO ret=1 (a:1)",
			"[3] FUNC foo type=2 linkage=0",
		},
	}})
}

func TestFuncSkips(t *testing.T) {
	shards := func() []*shard.Shard {
		decl := fn("decl", 2, 0, true, 0)
		decl.Declaration = true
		unnamed := fn("unnamed", 3, 0, true, T+0x40)
		unnamed.AllParamsNamed = false
		return []*shard.Shard{mkShard("a.o", []string{"a.c"},
			[]btf.Type{tInt("int", 4), tProto(1, "a", btf.TypeID(1)), tProto(1, "", btf.TypeID(1)), tProto(1), tProto(1)},
			[]shard.Func{decl, unnamed, fn("", 4, 0, false, T+0x50), fn("nosym", 5, 0, true, T+0x60)}, nil)}
	}
	img := execImage(fsym("decl", T+0x30), fsym("unnamed", T+0x40), fsym("", T+0x50))
	want := []string{"[1] INT int size=4"}
	runCombineCases(t, []combineCase{
		{name: "1.24", shards: shards, img: img, opts: v124, want: want},
		{name: "1.32", shards: shards, img: img, opts: v132, want: want},
	})
}

// twoStatics: the same static name in two CUs, at two addresses.
func twoStatics() []*shard.Shard {
	return []*shard.Shard{
		mkShard("a.o", []string{"a.c"},
			[]btf.Type{tInt("int", 4), tPtr(1), tProto(1, "x", btf.TypeID(1))},
			[]shard.Func{fn("helper", 3, 0, false, T+0x100)}, nil),
		mkShard("b.o", []string{"b.c"},
			[]btf.Type{tInt("int", 4), tProto(1, "y", btf.TypeID(1), "z", btf.TypeID(1))},
			[]shard.Func{fn("helper", 2, 0, false, T+0x200)}, nil),
	}
}

func TestFuncSameNamedStatics(t *testing.T) {
	img := execImage(lfsym("helper", T+0x100), lfsym("helper", T+0x200))
	runCombineCases(t, []combineCase{{
		name: "1.24 first CU wins", shards: twoStatics, img: img, opts: v124,
		want: []string{
			"[1] INT int size=4",
			"[2] PTR type=1",
			"[3] FUNC_PROTO ret=1 (x:1)",
			"[4] FUNC helper type=3 linkage=0",
			"[5] INT int size=4",
		},
	}, {
		name: "1.32 ambiguous address", shards: twoStatics,
		img:  execImage(lfsym("helper", T+0x100), lfsym("helper", T+0x200), fsym("later", T+0x300)),
		opts: Options{Compat: Pahole132, Inputs: LinkedInputs, InconsistentFuncs: true},
		want: []string{
			"[1] INT int size=4",
			"[2] PTR type=1",
			"[3] INT int size=4",
		},
	}, {
		// pahole 1.32's elf_functions__collect tests a function for ambiguity when
		// the name-sorted symbols reach the next name: the last name is never
		// tested (lockd's svcxdr_encode_cookie, soundwire-bus's words_show: two
		// static functions of one name, the last in their module's symbol table).
		name: "1.32 the last function in name order is never ambiguous", shards: twoStatics,
		img: img, opts: Options{Compat: Pahole132, Inputs: LinkedInputs, InconsistentFuncs: true},
		want: []string{
			"[1] INT int size=4",
			"[2] PTR type=1",
			"[3] INT int size=4",
			"[4] FUNC_PROTO ret=1 (x:1)",
			"[5] FUNC helper type=4 linkage=0",
		},
	}, {
		name: "1.32 the last function is still dropped as inconsistent", shards: twoStatics, img: img, opts: v132,
		want: []string{
			"[1] INT int size=4",
			"[2] PTR type=1",
			"[3] INT int size=4",
		},
	}, {
		name: "1.32 one address is not ambiguous", shards: twoStatics,
		img: execImage(lfsym("helper", T+0x100), lfsym("helper", T+0x100)), opts: Options{Compat: Pahole132, Inputs: LinkedInputs, InconsistentFuncs: true},
		want: []string{
			"[1] INT int size=4",
			"[2] PTR type=1",
			"[3] INT int size=4",
			"[4] FUNC_PROTO ret=1 (x:1)",
			"[5] FUNC helper type=4 linkage=0",
		},
	}, {
		name: "1.32 zero address does not count for ambiguity", shards: twoStatics,
		img: execImage(lfsym("helper", 0), lfsym("helper", T+0x200)), opts: Options{Compat: Pahole132, Inputs: LinkedInputs, InconsistentFuncs: true},
		// Canonical: the state at a symbol's address, b.c's.
		want: []string{
			"[1] INT int size=4",
			"[2] PTR type=1",
			"[3] INT int size=4",
			"[4] FUNC_PROTO ret=3 (y:3, z:3)",
			"[5] FUNC helper type=4 linkage=0",
		},
	}})
}

func TestFuncConsistency(t *testing.T) {
	// cfg: two CUs, one symbol. The prototypes differ (int vs int *), or only by a
	// const and the parameter name.
	shards := func(sameShape bool) func() []*shard.Shard {
		return func() []*shard.Shard {
			bParam := btf.TypeID(2) // int *
			if sameShape {
				bParam = 1
			}
			return []*shard.Shard{
				mkShard("a.o", []string{"a.c"},
					[]btf.Type{tInt("int", 4), tConst(1), tProto(0, "x", btf.TypeID(2))},
					[]shard.Func{fn("cfg", 3, 0, true, T+0x300)}, nil),
				mkShard("b.o", []string{"b.c"},
					[]btf.Type{tInt("int", 4), tPtr(1), tProto(0, "y", bParam)},
					[]shard.Func{fn("cfg", 3, 0, true, T+0x400)}, nil),
			}
		}
	}
	img := execImage(fsym("cfg", T+0x400))
	runCombineCases(t, []combineCase{{
		name: "1.24 first wins", shards: shards(false), img: img, opts: v124,
		want: []string{
			"[1] INT int size=4",
			"[2] CONST type=1",
			"[3] FUNC_PROTO ret=0 (x:2)",
			"[4] FUNC cfg type=3 linkage=0",
			"[5] INT int size=4",
			"[6] PTR type=5",
		},
	}, {
		name: "1.32 inconsistent dropped", shards: shards(false), img: img, opts: v132,
		want: []string{
			"[1] INT int size=4",
			"[2] CONST type=1",
			"[3] INT int size=4",
			"[4] PTR type=3",
		},
	}, {
		name: "1.32 inconsistent kept, strong definition canonical", shards: shards(false), img: img,
		opts: Options{Compat: Pahole132, Inputs: LinkedInputs, InconsistentFuncs: true},
		want: []string{
			"[1] INT int size=4",
			"[2] CONST type=1",
			"[3] INT int size=4",
			"[4] PTR type=3",
			"[5] FUNC_PROTO ret=0 (y:4)",
			"[6] FUNC cfg type=5 linkage=0",
		},
	}, {
		name: "1.32 const on one side matches, strong over weak", shards: shards(true), img: img, opts: v132,
		want: []string{
			"[1] INT int size=4",
			"[2] CONST type=1",
			"[3] INT int size=4",
			"[4] PTR type=3",
			"[5] FUNC_PROTO ret=0 (y:3)",
			"[6] FUNC cfg type=5 linkage=0",
		},
	}})
}

func TestFuncOptimizedAndUnexpected(t *testing.T) {
	// g: two CUs at one address, where a ".isra" symbol sits; a.c's copy has
	// optimized parameters, b.c's does not. u: unexpected register use.
	shards := func() []*shard.Shard {
		ga := fn("g", 2, 0, false, T+0x900)
		ga.OptimizedParams = true
		u := fn("u", 3, 0, true, T+0xa00)
		u.UnexpectedReg = true
		return []*shard.Shard{
			mkShard("a.o", []string{"a.c"},
				[]btf.Type{tInt("int", 4), tProto(1, "a", btf.TypeID(1)), tProto(1, "k", btf.TypeID(1))},
				[]shard.Func{ga, u}, nil),
			mkShard("b.o", []string{"b.c"},
				[]btf.Type{tInt("int", 4), tProto(1, "b", btf.TypeID(1))},
				[]shard.Func{fn("g", 2, 0, false, T+0x900)}, nil),
		}
	}
	img := execImage(lfsym("g.isra.0", T+0x900), fsym("u", T+0xa00))
	runCombineCases(t, []combineCase{{
		name: "1.24", shards: shards, img: img, opts: v124,
		want: []string{
			"[1] INT int size=4",
			"[2] FUNC_PROTO ret=1 (k:1)",
			"[3] FUNC u type=2 linkage=0",
			"[4] INT int size=4",
		},
	}, {
		name: "1.32 canonical skips the optimized state, unexpected register dropped", shards: shards, img: img, opts: v132,
		want: []string{
			"[1] INT int size=4",
			"[2] INT int size=4",
			"[3] FUNC_PROTO ret=2 (b:2)",
			"[4] FUNC g type=3 linkage=0",
		},
	}})
}

func TestFuncNoSymbolTable(t *testing.T) {
	shards := func() []*shard.Shard {
		return []*shard.Shard{
			mkShard("a.o", []string{"a.c"},
				[]btf.Type{tInt("int", 4), tProto(1, "a", btf.TypeID(1)), tProto(1)},
				[]shard.Func{fn("e1", 2, 0, true, T+0x10), fn("s1", 3, 0, false, T+0x20)}, nil),
			mkShard("b.o", []string{"b.c"},
				[]btf.Type{tInt("int", 4), tProto(1, "b", btf.TypeID(1))},
				[]shard.Func{fn("e1", 2, 0, true, T+0x30)}, nil),
		}
	}
	noFuncSyms := execImage(osym("obj", shData, dataBase, 4, 1))
	want124 := []string{
		"[1] INT int size=4",
		"[2] FUNC_PROTO ret=1 (a:1)",
		"[3] FUNC e1 type=2 linkage=0",
		"[4] INT int size=4",
		"[5] FUNC_PROTO ret=4 (b:4)",
		"[6] FUNC e1 type=5 linkage=0",
	}
	runCombineCases(t, []combineCase{
		{name: "1.24 nil image: every external", shards: shards, img: nil, opts: v124, want: want124},
		{name: "1.24 no STT_FUNC: every external", shards: shards, img: noFuncSyms, opts: v124, want: want124},
		{name: "1.24 no .symtab", shards: shards, img: &Image{Path: "x"}, opts: v124, want: want124},
		{name: "1.32 nil image: first external per name", shards: shards, img: nil, opts: v132, want: []string{
			"[1] INT int size=4",
			"[2] INT int size=4",
			"[3] FUNC_PROTO ret=1 (a:1)",
			"[4] FUNC e1 type=3 linkage=0",
		}},
		{name: "1.32 no STT_FUNC: none", shards: shards, img: noFuncSyms, opts: v132, want: []string{
			"[1] INT int size=4",
			"[2] INT int size=4",
		}},
	})
}

// TestDeclTags: btf_decl_tag annotations of functions, parameters and variables
// become DECL_TAGs right after their FUNC or VAR; IDs after them stay right.
func TestDeclTags(t *testing.T) {
	shards := func() []*shard.Shard {
		f := fn("kf", 2, 0, true, T+0x10)
		f.DeclTags = []shard.DeclTag{{Value: "bpf_kfunc", Component: -1}, {Value: "nullable", Component: 0}}
		v := gvar("pv", 1, 0, true, P+8, PercpuSection)
		v.DeclTags = []shard.DeclTag{{Value: "tagged", Component: -1}}
		return []*shard.Shard{mkShard("a.o", []string{"a.c"},
			[]btf.Type{tInt("int", 4), tProto(1, "p", btf.TypeID(1)), tPtr(1)},
			[]shard.Func{f}, []shard.Var{v})}
	}
	img := execImage(fsym("kf", T+0x10), osym("pv", shPercpu, P+8, 4, 1))
	runCombineCases(t, []combineCase{{
		name: "1.24", shards: shards, img: img, opts: v124,
		want: []string{
			"[1] INT int size=4",
			"[2] FUNC_PROTO ret=1 (p:1)",
			"[3] FUNC kf type=2 linkage=0",
			"[4] DECL_TAG bpf_kfunc type=3 component=-1",
			"[5] DECL_TAG nullable type=3 component=0",
			"[6] PTR type=1",
			"[7] VAR pv type=1 linkage=1",
			"[8] DECL_TAG tagged type=7 component=-1",
			"[9] DATASEC .data..percpu size=12 [7@8+4]",
		},
	}, {
		name: "1.32", shards: shards, img: img, opts: v132,
		want: []string{
			"[1] INT int size=4",
			"[2] PTR type=1",
			"[3] VAR pv type=1 linkage=1",
			"[4] DECL_TAG tagged type=3 component=-1",
			"[5] FUNC_PROTO ret=1 (p:1)",
			"[6] FUNC kf type=5 linkage=0",
			"[7] DECL_TAG bpf_kfunc type=6 component=-1",
			"[8] DECL_TAG nullable type=6 component=0",
			"[9] DATASEC .data..percpu size=12 [3@8+4]",
		},
	}, {
		name: "skipped", shards: shards, img: img, opts: Options{Inputs: LinkedInputs, SkipDeclTags: true},
		want: []string{
			"[1] INT int size=4",
			"[2] FUNC_PROTO ret=1 (p:1)",
			"[3] FUNC kf type=2 linkage=0",
			"[4] PTR type=1",
			"[5] VAR pv type=1 linkage=1",
			"[6] DATASEC .data..percpu size=12 [5@8+4]",
		},
	}})
}
