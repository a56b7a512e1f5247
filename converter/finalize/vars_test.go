package finalize

import (
	"debug/elf"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/shard"
)

const P = percpuBase

// percpuShard: two CUs of a linked image with per-CPU, ordinary and fake variables.
func percpuShard() []*shard.Shard {
	decl := gvar("decl", 1, 0, true, 0, "")
	decl.HasAddr, decl.Declaration = false, true
	return []*shard.Shard{mkShard("vmlinux#cus=0/1", []string{"kernel/sched/core.c", "arch/x86/kernel/setup_percpu.c"},
		[]btf.Type{
			tInt("int", 4),                // 1
			tStruct("rq", 64),             // 2
			tArray(1, 0),                  // 3: zero-sized
			tPtr(1),                       // 4
			tProto(1, "a", btf.TypeID(1)), // 5: f, CU 0
			tProto(0),                     // 6: g, CU 1
		},
		[]shard.Func{fn("f", 5, 0, true, T+0x10), fn("g", 6, 1, false, T+0x20)},
		[]shard.Var{
			gvar("runqueues", 2, 0, true, P+0x100, PercpuSection),
			gvar("zero_arr", 3, 0, true, P+0x200, PercpuSection),
			gvar("not_percpu", 1, 0, true, dataBase+0x10, ".data"),
			decl,
			gvar("fixed_percpu_data", 2, 1, true, P, PercpuSection),
			gvar("__UNIQUE_ID_addressable_x", 4, 1, false, 0, ""),
			gvar("discarded", 4, 1, false, 0, ""),
			gvar("cpu_number", 1, 1, false, P+0x10, PercpuSection),
			gvar("alias_dwarf", 4, 1, true, P+0x20, PercpuSection),
		})}
}

var percpuImage = execImage(
	fsym("f", T+0x10), lfsym("g", T+0x20),
	osym("fixed_percpu_data", shPercpu, P, 40, elf.STB_GLOBAL),
	osym("cpu_number", shPercpu, P+0x10, 4, elf.STB_LOCAL),
	osym("alias_elf", shPercpu, P+0x20, 8, elf.STB_GLOBAL),
	osym("marker", shPercpu, P+0x30, 0, elf.STB_GLOBAL),
	osym("runqueues", shPercpu, P+0x100, 64, elf.STB_GLOBAL),
	osym("zero_arr", shPercpu, P+0x200, 8, elf.STB_GLOBAL),
	osym("not_percpu", shData, dataBase+0x10, 4, elf.STB_GLOBAL),
)

func TestPercpuVars(t *testing.T) {
	runCombineCases(t, []combineCase{{
		name: "1.24", shards: percpuShard, img: percpuImage, opts: v124,
		want: []string{
			"[1] INT int size=4",
			"[2] STRUCT rq size=64",
			"[3] ARRAY type=1 index=1 n=0",
			"[4] PTR type=1",
			"[5] FUNC_PROTO ret=1 (a:1)",
			"[6] FUNC f type=5 linkage=0",
			"[7] VAR runqueues type=2 linkage=1",
			"[8] FUNC_PROTO ret=0 ()",
			"[9] FUNC g type=8 linkage=0",
			// Named and sized by the ELF symbols.
			"[10] VAR fixed_percpu_data type=2 linkage=1",
			"[11] VAR cpu_number type=1 linkage=0",
			"[12] VAR alias_elf type=4 linkage=1",
			"[13] DATASEC .data..percpu size=320 [10@0+40 11@16+4 12@32+8 7@256+64]",
		},
	}, {
		name: "1.32", shards: percpuShard, img: percpuImage, opts: v132,
		want: []string{
			"[1] INT int size=4",
			"[2] STRUCT rq size=64",
			"[3] ARRAY type=1 index=1 n=0",
			"[4] PTR type=1",
			"[5] VAR runqueues type=2 linkage=1",
			// Named and sized from DWARF.
			"[6] VAR fixed_percpu_data type=2 linkage=1",
			"[7] VAR cpu_number type=1 linkage=0",
			"[8] VAR alias_dwarf type=4 linkage=1",
			"[9] FUNC_PROTO ret=1 (a:1)",
			"[10] FUNC f type=9 linkage=0",
			"[11] FUNC_PROTO ret=0 ()",
			"[12] FUNC g type=11 linkage=0",
			"[13] DATASEC .data..percpu size=320 [6@0+64 7@16+4 8@32+8 5@256+64]",
		},
	}, {
		name: "1.32 global_var", shards: percpuShard, img: percpuImage,
		opts: Options{Compat: Pahole132, Inputs: LinkedInputs, GlobalVars: true},
		want: []string{
			"[1] INT int size=4",
			"[2] STRUCT rq size=64",
			"[3] ARRAY type=1 index=1 n=0",
			"[4] PTR type=1",
			"[5] VAR runqueues type=2 linkage=1",
			"[6] VAR not_percpu type=1 linkage=1",
			"[7] VAR fixed_percpu_data type=2 linkage=1",
			"[8] VAR cpu_number type=1 linkage=0",
			"[9] VAR alias_dwarf type=4 linkage=1",
			"[10] FUNC_PROTO ret=1 (a:1)",
			"[11] FUNC f type=10 linkage=0",
			"[12] FUNC_PROTO ret=0 ()",
			"[13] FUNC g type=12 linkage=0",
			"[14] DATASEC .data..percpu size=320 [7@0+64 8@16+4 9@32+8 5@256+64]",
			"[15] DATASEC .data size=20 [6@16+4]",
		},
	}, {
		name: "skip vars", shards: percpuShard, img: percpuImage,
		opts: Options{Compat: Pahole124, Inputs: LinkedInputs, SkipVars: true},
		want: []string{
			"[1] INT int size=4",
			"[2] STRUCT rq size=64",
			"[3] ARRAY type=1 index=1 n=0",
			"[4] PTR type=1",
			"[5] FUNC_PROTO ret=1 (a:1)",
			"[6] FUNC f type=5 linkage=0",
			"[7] FUNC_PROTO ret=0 ()",
			"[8] FUNC g type=7 linkage=0",
		},
	}})
}

// TestPercpuSectionBase: offsets are relative to a per-CPU section that does not
// start at 0, and the DATASEC's size is the last entry's end even when an earlier
// entry ends later (pahole's quirk).
func TestPercpuSectionBase(t *testing.T) {
	const base = 0x4000
	img := execImage(
		osym("big", shPercpu, base+0x10, 0x100, elf.STB_GLOBAL),
		osym("small", shPercpu, base+0x20, 4, elf.STB_GLOBAL),
		osym("at0", shPercpu, base, 4, elf.STB_GLOBAL),
	)
	img.Sections[shPercpu].Addr = base
	shards := func() []*shard.Shard {
		return []*shard.Shard{mkShard("m", []string{"m.c"},
			[]btf.Type{tInt("int", 4), tArray(1, 64)},
			nil,
			[]shard.Var{
				gvar("small", 1, 0, true, base+0x20, ""),
				gvar("big", 2, 0, true, base+0x10, ""),
				gvar("at0", 1, 0, true, base, ""),
				gvar("zero", 1, 0, true, 0, ""),
			})}
	}
	want := []string{
		"[1] INT int size=4",
		"[2] ARRAY type=1 index=1 n=64",
		"[3] VAR small type=1 linkage=1",
		"[4] VAR big type=2 linkage=1",
		"[5] VAR at0 type=1 linkage=1",
		"[6] DATASEC .data..percpu size=36 [5@0+4 4@16+256 3@32+4]",
	}
	runCombineCases(t, []combineCase{
		{name: "1.24", shards: shards, img: img, opts: v124, want: want},
		{name: "1.32", shards: shards, img: img, opts: v132, want: want},
	})
}

// TestObjectShards: shards of separately linked objects find their per-CPU
// variables by name; same-named statics are told apart by STT_FILE symbols, then by
// link order.
func TestObjectShards(t *testing.T) {
	img := execImage(
		filesym("a.c"),
		osym("counter", shPercpu, P+0x40, 4, elf.STB_LOCAL),
		filesym("b.c"),
		osym("counter", shPercpu, P+0x50, 4, elf.STB_LOCAL),
		filesym("util.c"),
		osym("state", shPercpu, P+0x60, 4, elf.STB_LOCAL),
		filesym("util.c"),
		osym("state", shPercpu, P+0x70, 4, elf.STB_LOCAL),
		osym("state", shData, dataBase+0x70, 4, elf.STB_LOCAL), // a later, non-per-CPU "state"
		osym("shared", shPercpu, P+0x80, 8, elf.STB_GLOBAL),
		fsym("fa", T+0x1000),
	)
	obj := func(src, cu string, vars ...shard.Var) *shard.Shard {
		return mkShard(src, []string{cu}, []btf.Type{tInt("int", 4), tPtr(1), tProto(0)},
			[]shard.Func{fn("fa", 3, 0, true, 0x10)}, vars)
	}
	shards := func() []*shard.Shard {
		return []*shard.Shard{
			obj("b.o", "dir/b.c", gvar("counter", 1, 0, false, 0, PercpuSection)),
			obj("a.o", "a.c", gvar("counter", 1, 0, false, 0, PercpuSection), gvar("shared", 2, 0, true, 4, PercpuSection),
				gvar("shared_data", 1, 0, true, 0, ".data")),
			obj("x/util.o", "x/util.c", gvar("state", 1, 0, false, 0, PercpuSection)),
			obj("y/util.o", "y/util.c", gvar("state", 1, 0, false, 0, PercpuSection)),
		}
	}
	want := []string{
		"[1] INT int size=4",
		"[2] PTR type=1",
		"[3] FUNC_PROTO ret=0 ()",
		"[4] FUNC fa type=3 linkage=0",
		"[5] VAR counter type=1 linkage=0",
		"[6] INT int size=4",
		"[7] PTR type=6",
		"[8] VAR counter type=6 linkage=0",
		"[9] VAR shared type=7 linkage=1",
		"[10] INT int size=4",
		"[11] PTR type=10",
		"[12] VAR state type=10 linkage=0",
		"[13] INT int size=4",
		"[14] PTR type=13",
		"[15] VAR state type=13 linkage=0",
		"[16] DATASEC .data..percpu size=136 [8@64+4 5@80+4 12@96+4 15@112+4 9@128+8]",
	}
	for _, inputs := range []InputKind{ObjectInputs, ShardInputs} {
		runCombineCases(t, []combineCase{
			{name: "1.24/" + map[InputKind]string{ObjectInputs: "objects", ShardInputs: "from the shards"}[inputs],
				shards: shards, img: img, opts: Options{Compat: Pahole124, Inputs: inputs}, want: want},
		})
	}
}

// TestRelImage: in a module (ET_REL), a linked shard's variables are placed by
// section name and section-relative address.
func TestRelImage(t *testing.T) {
	img := &Image{
		Path: "mod.ko", Rel: true, AddrSize: 8, HasSymtab: true,
		Sections: []Section{{},
			{Name: ".text", Type: elf.SHT_PROGBITS, Size: 0x100},
			{Name: ".data", Type: elf.SHT_PROGBITS, Size: 0x100},
			{Name: PercpuSection, Type: elf.SHT_PROGBITS, Size: 0x100},
		},
		Symbols: []Symbol{
			{Name: "mod_init", Value: 0x0, Size: 8, Type: elf.STT_FUNC, Bind: elf.STB_GLOBAL, Section: 1},
			osym("mod_data", 2, 0x8, 4, elf.STB_LOCAL),
			osym("mod_stat", 3, 0x8, 8, elf.STB_LOCAL),
		},
	}
	shards := func() []*shard.Shard {
		return []*shard.Shard{mkShard("mod.ko", []string{"mod.c"},
			[]btf.Type{tInt("long", 8), tProto(1)},
			[]shard.Func{fn("mod_init", 2, 0, true, 0)},
			[]shard.Var{gvar("mod_data", 1, 0, false, 0x8, ".data"), gvar("mod_stat", 1, 0, false, 0x8, PercpuSection)})}
	}
	runCombineCases(t, []combineCase{{
		name: "1.24", shards: shards, img: img, opts: v124,
		want: []string{
			"[1] INT long size=8",
			"[2] FUNC_PROTO ret=1 ()",
			"[3] FUNC mod_init type=2 linkage=0",
			"[4] VAR mod_stat type=1 linkage=0",
			"[5] DATASEC .data..percpu size=16 [4@8+8]",
		},
	}, {
		name: "1.32 global_var", shards: shards, img: img, opts: Options{Compat: Pahole132, Inputs: LinkedInputs, GlobalVars: true},
		want: []string{
			"[1] INT long size=8",
			"[2] VAR mod_data type=1 linkage=0",
			"[3] VAR mod_stat type=1 linkage=0",
			"[4] FUNC_PROTO ret=1 ()",
			"[5] FUNC mod_init type=4 linkage=0",
			"[6] DATASEC .data size=16 [2@8+8]",
			"[7] DATASEC .data..percpu size=16 [3@8+8]",
		},
	}})
}

func TestErrors(t *testing.T) {
	voidVar := func() []*shard.Shard {
		return []*shard.Shard{mkShard("v.o", []string{"v.c"}, []btf.Type{tInt("int", 4)}, nil,
			[]shard.Var{gvar("cpu_number", 0, 0, true, P+0x10, PercpuSection)})}
	}
	badName := execImage(osym("bad-name", shPercpu, P+0x10, 4, elf.STB_GLOBAL))
	cases := []struct {
		name   string
		shards []*shard.Shard
		img    *Image
		opts   Options
		want   string // error fragment; "" means success
		input  bool   // errors.Is(err, ErrInput)
	}{
		{name: "void var 1.24", shards: voidVar(), img: percpuImage, opts: v124, want: `v.o: CU v.c: variable 0 "cpu_number": void type`},
		{name: "void var 1.32", shards: voidVar(), img: percpuImage, opts: v132, want: "void type"},
		{name: "void var forced", shards: voidVar(), img: percpuImage, opts: Options{Inputs: LinkedInputs, Force: true}},
		{name: "invalid per-CPU symbol", shards: voidVar(), img: badName, opts: v124, want: `vmlinux.test: per-CPU symbol "bad-name"`},
		{name: "invalid per-CPU symbol forced", shards: voidVar(), img: badName, opts: Options{Force: true}},
		{name: "proto not a FUNC_PROTO", input: true, want: `shard 0 (p.o): inconsistent shard: function 0 "f": type 1 is not a FUNC_PROTO`,
			shards: []*shard.Shard{mkShard("p.o", []string{"p.c"}, []btf.Type{tInt("int", 4)}, []shard.Func{fn("f", 1, 0, true, 0)}, nil)}},
		{name: "func CU out of range", input: true, want: "CU 3 of 1",
			shards: []*shard.Shard{mkShard("p.o", []string{"p.c"}, []btf.Type{tProto(0)}, []shard.Func{fn("f", 1, 3, true, 0)}, nil)}},
		{name: "var type out of range", input: true, want: `variable 0 "x": type 9 out of range (1 types)`,
			shards: []*shard.Shard{mkShard("p.o", []string{"p.c"}, []btf.Type{tInt("int", 4)}, nil, []shard.Var{gvar("x", 9, 0, true, 0, "")})}},
		{name: "reference out of range", input: true, want: "p.o: inconsistent shard: type 1 (PTR \"\") refers to type 7",
			shards: []*shard.Shard{mkShard("p.o", []string{"p.c"}, []btf.Type{tPtr(7)}, nil, nil)}},
		{name: "nil shard", input: true, want: "shard 0: inconsistent shard: no types", shards: []*shard.Shard{nil}},
		{name: "bad options", opts: Options{Compat: Pahole124, GlobalVars: true}, want: "GlobalVars, InconsistentFuncs and TagKfuncs need pahole-1.32"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Combine(tc.shards, tc.img, tc.opts)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want == "":
				return
			case err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "finalize: ") {
				t.Errorf("error %q not prefixed by the stage", err)
			}
			if errors.Is(err, ErrInput) != tc.input {
				t.Errorf("errors.Is(%q, ErrInput) = %v, want %v", err, !tc.input, tc.input)
			}
		})
	}
}

// TestDeterministicAndPure: the same input gives the same output, the shards are
// not modified, and CombineOwned (which may modify them) gives the same output too.
func TestDeterministicAndPure(t *testing.T) {
	for _, opts := range []Options{v124, v132, {Compat: Pahole132, GlobalVars: true}} {
		in := percpuShard()
		in = append(in, twoStatics()...)
		before := deepCopy(in)
		a, err := Combine(in, percpuImage, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, before) {
			t.Fatalf("%v: Combine modified its input", opts.Compat)
		}
		for range 3 {
			b, err := Combine(in, percpuImage, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dump(a), dump(b)) {
				t.Fatalf("%v: output differs between runs", opts.Compat)
			}
		}
		// CombineOwned consumes its shards and gives the same output, however
		// many shards it patches at a time.
		for _, jobs := range []int{1, 4} {
			owned := deepCopy(in)
			for _, s := range owned { // CombineOwned rewrites them
				strs, recs := s.Types.Sections()
				var err error
				if s.Types, err = btf.ParseTable(slices.Clone(strs), slices.Clone(recs)); err != nil {
					t.Fatal(err)
				}
			}
			opts.Jobs = jobs
			b, err := CombineOwned(owned, percpuImage, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dump(a), dump(b.Spec())) {
				t.Fatalf("%v: CombineOwned with %d jobs differs from Combine", opts.Compat, jobs)
			}
			if owned[0].Types != nil {
				t.Errorf("%v: CombineOwned kept the shards' types", opts.Compat)
			}
		}
	}
}

func deepCopy(in []*shard.Shard) []*shard.Shard {
	var out []*shard.Shard
	for _, s := range in {
		c := *s // the table is never written by Combine: shared
		c.CUs = slices.Clone(s.CUs)
		c.Funcs = slices.Clone(s.Funcs)
		c.Vars = slices.Clone(s.Vars)
		out = append(out, &c)
	}
	return out
}

// TestPercpuSpecificationAtZero: a per-CPU variable at offset 0 that was declared
// earlier in its CU is left out by pahole 1.24 (its definition DIE has no name of
// its own) and kept by 1.32.
func TestPercpuSpecificationAtZero(t *testing.T) {
	img := execImage(osym("fixed_percpu_data", shPercpu, P, 48, elf.STB_GLOBAL))
	shards := func(declared bool) func() []*shard.Shard {
		return func() []*shard.Shard {
			var vars []shard.Var
			if declared {
				decl := gvar("fixed_percpu_data", 1, 0, true, 0, "")
				decl.HasAddr, decl.Declaration = false, true
				vars = append(vars, decl)
			}
			def := gvar("fixed_percpu_data", 1, 0, true, P, PercpuSection)
			def.Specification = declared
			vars = append(vars, def)
			return []*shard.Shard{mkShard("common.o", []string{"common.c"},
				[]btf.Type{tArray(2, 12), tInt("int", 4)}, nil, vars)}
		}
	}
	with := []string{
		"[1] ARRAY type=2 index=1 n=12",
		"[2] INT int size=4",
		"[3] VAR fixed_percpu_data type=1 linkage=1",
	}
	runCombineCases(t, []combineCase{
		{name: "1.24 declared", shards: shards(true), img: img, opts: v124, want: with[:2]},
		{name: "1.24 not declared", shards: shards(false), img: img, opts: v124,
			want: append(with[:3:3], "[4] DATASEC .data..percpu size=48 [3@0+48]")},
		{name: "1.32 declared", shards: shards(true), img: img, opts: v132,
			want: append(with[:3:3], "[4] DATASEC .data..percpu size=48 [3@0+48]")},
	})
}
