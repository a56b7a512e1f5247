package finalize

import (
	"debug/elf"
	"fmt"
	"strings"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/shard"
)

// dump renders a Spec one type a line, references as IDs, so a test can state the
// whole expected output.
func dump(s *btf.Spec) []string {
	var out []string
	for i := range s.Types {
		t := &s.Types[i]
		id := s.FirstID + btf.TypeID(i)
		var b strings.Builder
		fmt.Fprintf(&b, "[%d] %v", id, t.Kind)
		if t.Name != "" {
			fmt.Fprintf(&b, " %s", t.Name)
		}
		switch t.Kind {
		case btf.KindInt, btf.KindFloat, btf.KindStruct, btf.KindUnion, btf.KindEnum:
			fmt.Fprintf(&b, " size=%d", t.Size)
		case btf.KindFunc, btf.KindVar:
			fmt.Fprintf(&b, " type=%d linkage=%d", t.Type, t.Linkage)
		case btf.KindFuncProto:
			var ps []string
			for _, m := range t.Members {
				ps = append(ps, fmt.Sprintf("%s:%d", m.Name, m.Type))
			}
			fmt.Fprintf(&b, " ret=%d (%s)", t.Type, strings.Join(ps, ", "))
		case btf.KindDatasec:
			var es []string
			for _, m := range t.Members {
				es = append(es, fmt.Sprintf("%d@%d+%d", m.Type, m.Offset, m.Size))
			}
			fmt.Fprintf(&b, " size=%d [%s]", t.Size, strings.Join(es, " "))
		case btf.KindDeclTag:
			fmt.Fprintf(&b, " type=%d component=%d", t.Type, t.ComponentIdx)
		case btf.KindArray:
			fmt.Fprintf(&b, " type=%d index=%d n=%d", t.Type, t.IndexType, t.Nelems)
		default:
			if t.Kind.HasRef() {
				fmt.Fprintf(&b, " type=%d", t.Type)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// Type helpers for hand-built shards.

func tInt(name string, size uint32) btf.Type {
	return btf.Type{Name: name, Kind: btf.KindInt, Size: size, IntBits: uint8(size * 8), IntEncoding: btf.IntSigned}
}

func tPtr(to btf.TypeID) btf.Type { return btf.Type{Kind: btf.KindPtr, Type: to} }

func tConst(to btf.TypeID) btf.Type { return btf.Type{Kind: btf.KindConst, Type: to} }

func tStruct(name string, size uint32, members ...btf.Member) btf.Type {
	return btf.Type{Name: name, Kind: btf.KindStruct, Size: size, Members: members}
}

func tArray(elem btf.TypeID, n uint32) btf.Type {
	return btf.Type{Kind: btf.KindArray, Type: elem, IndexType: 1, Nelems: n}
}

// tProto is a FUNC_PROTO; params alternate name, type.
func tProto(ret btf.TypeID, params ...any) btf.Type {
	t := btf.Type{Kind: btf.KindFuncProto, Type: ret}
	for i := 0; i+1 < len(params); i += 2 {
		t.Members = append(t.Members, btf.Member{Name: params[i].(string), Type: params[i+1].(btf.TypeID)})
	}
	return t
}

func mkShard(source string, cus []string, types []btf.Type, funcs []shard.Func, vars []shard.Var) *shard.Shard {
	s := &shard.Shard{Source: source, Types: btf.MustTableOf(&btf.Spec{FirstID: 1, Types: types}), Funcs: funcs, Vars: vars}
	for i, n := range cus {
		s.CUs = append(s.CUs, shard.CU{Name: n, Offset: uint64(i) * 0x100})
	}
	return s
}

// fn is a defined function candidate with named parameters.
func fn(name string, proto btf.TypeID, cu uint32, external bool, lowpc uint64) shard.Func {
	return shard.Func{Name: name, Proto: proto, CU: cu, External: external,
		HasLowPC: lowpc != 0, LowPC: lowpc, AllParamsNamed: true}
}

// gvar is a variable defined at the top level of its unit.
func gvar(name string, typ btf.TypeID, cu uint32, external bool, addr uint64, section string) shard.Var {
	return shard.Var{Name: name, Type: typ, CU: cu, External: external, TopLevel: true, HasAddr: true, Addr: addr, Section: section}
}

// Image helpers: a vmlinux-like ET_EXEC with .text, .data..percpu at percpuBase,
// .data and .bss.

const (
	textBase   = 0xffffffff81000000
	percpuBase = 0x0
	dataBase   = 0xffffffff82000000
	bssBase    = 0xffffffff83000000
)

const (
	shText = iota + 1
	shPercpu
	shData
	shBss
	shDebug
)

func execImage(syms ...Symbol) *Image {
	return &Image{
		Path:     "vmlinux.test",
		AddrSize: 8,
		Sections: []Section{
			{},
			{Name: ".text", Type: elf.SHT_PROGBITS, Addr: textBase, Size: 0x100000},
			{Name: PercpuSection, Type: elf.SHT_PROGBITS, Addr: percpuBase, Size: 0x1000},
			{Name: ".data", Type: elf.SHT_PROGBITS, Addr: dataBase, Size: 0x1000},
			{Name: ".bss", Type: elf.SHT_NOBITS, Addr: bssBase, Size: 0x1000},
			{Name: ".debug_info", Type: elf.SHT_PROGBITS, Addr: 0, Size: 0x100000},
		},
		HasSymtab: true,
		Symbols:   syms,
	}
}

func fsym(name string, addr uint64) Symbol {
	return Symbol{Name: name, Value: addr, Size: 16, Type: elf.STT_FUNC, Bind: elf.STB_GLOBAL, Section: shText}
}

func lfsym(name string, addr uint64) Symbol {
	s := fsym(name, addr)
	s.Bind = elf.STB_LOCAL
	return s
}

func wfsym(name string, addr uint64) Symbol {
	s := fsym(name, addr)
	s.Bind = elf.STB_WEAK
	return s
}

func osym(name string, sec uint32, value, size uint64, bind elf.SymBind) Symbol {
	return Symbol{Name: name, Value: value, Size: size, Type: elf.STT_OBJECT, Bind: bind, Section: sec}
}

func filesym(name string) Symbol {
	return Symbol{Name: name, Type: elf.STT_FILE, Bind: elf.STB_LOCAL, Section: uint32(elf.SHN_ABS)}
}
