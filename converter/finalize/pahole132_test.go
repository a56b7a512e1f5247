package finalize

import (
	"debug/elf"
	"encoding/binary"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/shard"
)

// twoStates: function f defined in two CUs with prototypes that differ only in
// parameter names (a weak and a strong definition), at the given low PCs
// (0 with hasLowPC: described by DW_AT_ranges, which pahole sees as address 0).
func twoStates(pc1, pc2 uint64, edit func(f1, f2 *shard.Func)) func() []*shard.Shard {
	return func() []*shard.Shard {
		f1, f2 := fn("f", 2, 0, true, pc1), fn("f", 3, 1, true, pc2)
		f1.HasLowPC, f2.HasLowPC = true, true
		if edit != nil {
			edit(&f1, &f2)
		}
		return []*shard.Shard{mkShard("vmlinux#cus=0/1", []string{"strong.c", "weak.c"},
			[]btf.Type{tInt("int", 4), tProto(1, "strong", btf.TypeID(1)), tProto(1, "weak", btf.TypeID(1))},
			[]shard.Func{f1, f2}, nil)}
	}
}

func TestCanonicalState132(t *testing.T) {
	img := execImage(fsym("f", T+0x100))
	strong := []string{"[1] INT int size=4", "[2] FUNC_PROTO ret=1 (strong:1)", "[3] FUNC f type=2 linkage=0"}
	weak := []string{"[1] INT int size=4", "[2] FUNC_PROTO ret=1 (weak:1)", "[3] FUNC f type=2 linkage=0"}
	none := []string{"[1] INT int size=4"}
	runCombineCases(t, []combineCase{
		{name: "the state at the symbol wins", shards: twoStates(T+0x500, T+0x100, nil), img: img, opts: v132, want: weak},
		{name: "first at the symbol", shards: twoStates(T+0x100, T+0x100, nil), img: img, opts: v132, want: strong},
		// pahole 1.32 quirk: the strong definition split into hot and cold parts
		// (DW_AT_ranges) has address 0 for pahole; a later weak one at any
		// address wins (vmlinux's arch_prepare_bpf_trampoline).
		{name: "none at the symbol: first with an address", shards: twoStates(0, T+0x500, nil), img: img, opts: v132, want: weak},
		{name: "none at the symbol, none with an address: first", shards: twoStates(0, 0, nil), img: img, opts: v132, want: strong},
		{name: "1.24: first in link order", shards: twoStates(0, T+0x500, nil), img: img, opts: v124,
			want: []string{"[1] INT int size=4", "[2] FUNC_PROTO ret=1 (strong:1)", "[3] FUNC f type=2 linkage=0"}},
		// Any state's flag drops the function (saved_functions_combine).
		{name: "reordered parameters", img: img, opts: v132, want: none,
			shards: twoStates(T+0x100, T+0x500, func(_, f2 *shard.Func) { f2.ReorderedParams = true })},
		{name: "uncertain parameter location", img: img, opts: v132, want: none,
			shards: twoStates(T+0x100, T+0x500, func(_, f2 *shard.Func) { f2.UncertainParamLoc = true })},
		{name: "unexpected register", img: img, opts: v132, want: none,
			shards: twoStates(T+0x100, T+0x500, func(_, f2 *shard.Func) { f2.UnexpectedReg = true })},
		// Optimized parameters only matter for the canonical state, with a
		// changed signature (clang's DW_CC_nocall).
		{name: "optimized, signature changed", img: img, opts: v132, want: none,
			shards: twoStates(T+0x100, T+0x500, func(f1, _ *shard.Func) { f1.OptimizedParams, f1.SignatureChanged = true, true })},
		{name: "optimized, signature unchanged", img: img, opts: v132, want: strong,
			shards: twoStates(T+0x100, T+0x500, func(f1, _ *shard.Func) { f1.OptimizedParams = true })},
		{name: "optimized non-canonical state", img: img, opts: v132, want: strong,
			shards: twoStates(T+0x100, T+0x500, func(_, f2 *shard.Func) { f2.OptimizedParams, f2.SignatureChanged = true, true })},
	})
}

// TestVarScope132: pahole 1.32 encodes neither function statics nor
// artificial variables; 1.24 looks at neither property.
func TestVarScope132(t *testing.T) {
	img := execImage(osym("a", shPercpu, P, 4, elf.STB_GLOBAL), osym("b", shPercpu, P+8, 4, elf.STB_LOCAL),
		osym("c", shPercpu, P+16, 4, elf.STB_LOCAL))
	shards := func() []*shard.Shard {
		b, c := gvar("b", 1, 0, false, P+8, PercpuSection), gvar("c", 1, 0, false, P+16, PercpuSection)
		b.TopLevel = false
		c.Artificial = true
		return []*shard.Shard{mkShard("vmlinux#cus=0/1", []string{"a.c"}, []btf.Type{tInt("int", 4)}, nil,
			[]shard.Var{gvar("a", 1, 0, true, P, PercpuSection), b, c})}
	}
	runCombineCases(t, []combineCase{
		{name: "1.32", shards: shards, img: img, opts: v132, want: []string{
			"[1] INT int size=4",
			"[2] VAR a type=1 linkage=1",
			"[3] DATASEC .data..percpu size=4 [2@0+4]",
		}},
		{name: "1.24", shards: shards, img: img, opts: v124, want: []string{
			"[1] INT int size=4",
			"[2] VAR a type=1 linkage=1",
			"[3] VAR b type=1 linkage=0",
			"[4] VAR c type=1 linkage=0",
			"[5] DATASEC .data..percpu size=20 [2@0+4 3@8+4 4@16+4]",
		}},
	})
}

// kfuncImage has a .BTF_ids section laid out as the kernel's BTF_KFUNCS_START /
// BTF_ID_FLAGS / BTF_KFUNCS_END make it: a kfunc set (flags BTF_SET8_KFUNCS)
// with bpf_a (KF_FASTCALL) and bpf_b, and a plain BTF_SET8 with bpf_c.
func kfuncImage() *Image {
	const ids = 0xffffffff84000000
	img := execImage(fsym("bpf_a", T+0x10), fsym("bpf_b", T+0x20), fsym("bpf_c", T+0x30))
	img.Sections = append(img.Sections, Section{Name: ".BTF_ids", Type: elf.SHT_PROGBITS, Addr: ids, Size: 48})
	sec := uint32(len(img.Sections) - 1)
	img.BTFIDsSection = int(sec)
	words := []uint32{
		2, 1, 0, kfFastcall, 0, 0, // set8 "kfuncs": cnt, flags, pairs (id, flags)
		1, 0, 0, 0, // set8 "plain": cnt, flags 0, one pair
		0, 0,
	}
	for _, w := range words {
		img.BTFIDs = binary.LittleEndian.AppendUint32(img.BTFIDs, w)
	}
	obj := func(name string, off, size uint64) Symbol {
		return Symbol{Name: name, Value: ids + off, Size: size, Type: elf.STT_OBJECT, Bind: elf.STB_LOCAL, Section: sec}
	}
	img.Symbols = append(img.Symbols,
		obj("__BTF_ID__set8__kfuncs", 0, 24),
		obj("__BTF_ID__func__bpf_a__1", 8, 0),
		obj("__BTF_ID__func__bpf_b__2", 16, 0),
		obj("__BTF_ID__set8__plain", 24, 16),
		obj("__BTF_ID__func__bpf_c__3", 32, 0),
	)
	return img
}

func TestKfuncTags(t *testing.T) {
	shards := func() []*shard.Shard {
		a := fn("bpf_a", 2, 0, true, T+0x10)
		a.DeclTags = []shard.DeclTag{{Value: "own", Component: -1}}
		return []*shard.Shard{mkShard("vmlinux#cus=0/1", []string{"k.c"},
			[]btf.Type{tInt("int", 4), tProto(1), tProto(1), tProto(1)},
			[]shard.Func{a, fn("bpf_b", 3, 0, true, T+0x20), fn("bpf_c", 4, 0, true, T+0x30)}, nil)}
	}
	tagged := v132
	tagged.TagKfuncs = true
	noTags := tagged
	noTags.SkipDeclTags = true
	funcs := func(tags bool) []string {
		out := []string{"[1] INT int size=4", "[2] FUNC_PROTO ret=1 ()", "[3] FUNC bpf_a type=2 linkage=0"}
		if tags {
			out = append(out, "[4] DECL_TAG own type=3 component=-1", "[5] DECL_TAG bpf_kfunc type=3 component=-1",
				"[6] DECL_TAG bpf_fastcall type=3 component=-1",
				"[7] FUNC_PROTO ret=1 ()", "[8] FUNC bpf_b type=7 linkage=0", "[9] DECL_TAG bpf_kfunc type=8 component=-1",
				"[10] FUNC_PROTO ret=1 ()", "[11] FUNC bpf_c type=10 linkage=0")
			return out
		}
		return append(out, "[4] FUNC_PROTO ret=1 ()", "[5] FUNC bpf_b type=4 linkage=0",
			"[6] FUNC_PROTO ret=1 ()", "[7] FUNC bpf_c type=6 linkage=0")
	}
	runCombineCases(t, []combineCase{
		{name: "decl_tag_kfuncs", shards: shards, img: kfuncImage(), opts: tagged, want: funcs(true)},
		{name: "decl_tag off", shards: shards, img: kfuncImage(), opts: noTags, want: funcs(false)},
	})
	if _, err := Combine(shards(), kfuncImage(), Options{Compat: Pahole124, TagKfuncs: true}); err == nil {
		t.Error("TagKfuncs accepted with pahole 1.24")
	}
}

func TestBTFIDFuncName(t *testing.T) {
	for sym, want := range map[string]string{
		"__BTF_ID__func__vfs_close__1":     "vfs_close",
		"__BTF_ID__func__bpf__obj__new__7": "bpf__obj__new",
		"__BTF_ID__func___":                "",
		"__BTF_ID__func__nosuffix":         "",
		"__BTF_ID__func__x_1":              "",
		"__BTF_ID__set8__kfuncs":           "",
	} {
		got, ok := btfIDFuncName(sym)
		if got != want || ok != (want != "") {
			t.Errorf("btfIDFuncName(%q) = %q, %v; want %q", sym, got, ok, want)
		}
	}
}
