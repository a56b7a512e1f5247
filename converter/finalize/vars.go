package finalize

import (
	"debug/elf"
	"fmt"
	"math"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/shard"
)

// varOut is a variable Combine emits: a VAR and its DATASEC entry.
type varOut struct {
	cu      uint32
	name    string
	typ     btf.TypeID // in the shard's types
	linkage uint32
	sec     int // image section index: the DATASEC
	off     uint32
	size    uint32
	tags    []shard.DeclTag
}

// objKey counts same-named static variables of same-named source files (see
// resolveObject).
type objKey struct {
	file, name string
	percpu     bool
}

// selectVars picks the variables of one shard, in candidate order.
func (c *combiner) selectVars(sc *shardCtx) ([]varOut, error) {
	if (c.opts.SkipVars && !c.opts.GlobalVars) || c.img == nil || !c.img.HasSymtab {
		return nil, nil
	}
	if c.opts.Compat == Pahole124 && c.x.percpu == 0 {
		return nil, nil
	}
	var out []varOut
	for vi := range sc.s.Vars {
		v := &sc.s.Vars[vi]
		if v.Declaration || !v.HasAddr {
			continue
		}
		var (
			o   varOut
			ok  bool
			err error
		)
		if c.opts.Compat == Pahole124 {
			o, ok, err = c.var124(sc, v)
		} else {
			o, ok, err = c.var132(sc, v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: CU %s: variable %d %q: %w", sc.s.Source, sc.cuName(v.CU), vi, v.Name, err)
		}
		if ok {
			o.tags = v.DeclTags
			out = append(out, o)
		}
	}
	return out, nil
}

// locate finds the section and section offset of a variable: from its address for
// a linked shard, from the symbol table for an object shard. percpuOnly restricts
// object shards to per-CPU symbols. sym is the resolved symbol (object shards only).
func (c *combiner) locate(sc *shardCtx, v *shard.Var, percpuOnly bool) (sec int, off uint64, sym *Symbol, ok bool) {
	switch {
	case !sc.linked:
		if percpuOnly && v.Section != PercpuSection {
			return 0, 0, nil, false
		}
		i := c.resolveObject(sc, v, percpuOnly)
		if i < 0 {
			return 0, 0, nil, false
		}
		sym = &c.img.Symbols[i]
		sec = int(sym.Section)
		if sec <= 0 || sec >= len(c.img.Sections) {
			return 0, 0, nil, false
		}
		off = sym.Value
		if !c.img.Rel {
			base := c.img.Sections[sec].Addr
			if off < base {
				return 0, 0, nil, false
			}
			off -= base
		}
		return sec, off, sym, true
	case c.img.Rel:
		sec = c.x.dataSectionByName(v.Section)
		return sec, v.Addr, nil, sec != 0
	default:
		sec = c.x.varSection(v.Addr)
		if sec == 0 {
			return 0, 0, nil, false
		}
		return sec, v.Addr - c.img.Sections[sec].Addr, nil, true
	}
}

// var124 is pahole 1.24's btf_encoder__encode_cu_variables for one variable.
func (c *combiner) var124(sc *shardCtx, v *shard.Var) (varOut, bool, error) {
	var (
		sec, off = 0, uint64(0)
		sym      *Symbol
		ok       bool
	)
	if sc.linked && !c.img.Rel {
		// pahole 1.24 tests the per-CPU section's range directly, not "the first
		// section containing the address" as 1.32 does.
		p := &c.img.Sections[c.x.percpu]
		if v.Addr < p.Addr || v.Addr-p.Addr >= p.Size {
			return varOut{}, false, nil
		}
		sec, off = c.x.percpu, v.Addr-p.Addr
	} else if sec, off, sym, ok = c.locate(sc, v, true); !ok || sec != c.x.percpu {
		return varOut{}, false, nil
	}
	var ps percpuSym
	if sym != nil {
		if sym.Size == 0 {
			return varOut{}, false, nil
		}
		ps = percpuSym{off: off, size: sym.Size, name: sym.Name}
	} else {
		if ps, ok = c.x.percpuAt(off); !ok {
			return varOut{}, false, nil // not a per-CPU variable
		}
		// Address 0 of vmlinux's per-CPU section is also where DWARF puts many
		// fakes (__ADDRESSABLE, __UNIQUE_ID, __exitcall): pahole requires the DWARF
		// name to be the symbol's there. In an ET_REL file libdwfl has laid the
		// sections out, so pahole's DWARF address is never 0 and the test is off.
		//
		// pahole compares the DIE's own DW_AT_name, before following
		// DW_AT_specification: a definition of a variable declared earlier in
		// its CU (GCC's DWARF for "extern T x; ... T x;") has no name of its
		// own and always fails the test (this is why pahole 1.24 leaves out
		// vmlinux's fixed_percpu_data). A shard records the name from the
		// specification and says that it did (Var.Specification).
		if !c.img.Rel && v.Addr == 0 && (v.Name != ps.name || v.Specification) {
			return varOut{}, false, nil
		}
	}
	if v.Type == 0 {
		return c.voidVar()
	}
	size, ok := sizeOf(sc.s.Types, v.Type, c.img.addrSize())
	if !ok {
		return varOut{}, false, fmt.Errorf("type %d: reference cycle or out of range", v.Type)
	}
	if size == 0 || ps.off > math.MaxUint32 || ps.size > math.MaxUint32 {
		return varOut{}, false, nil
	}
	// The VAR's name and the entry's size are the ELF symbol's, not DWARF's.
	return varOut{
		cu: v.CU, name: ps.name, typ: v.Type, linkage: varLinkage(v),
		sec: sec, off: uint32(ps.off), size: uint32(ps.size),
	}, true, nil
}

// var132 is pahole 1.32's btf_encoder__encode_cu_variables for one variable.
func (c *combiner) var132(sc *shardCtx, v *shard.Var) (varOut, bool, error) {
	// Function statics (not at the top level of the unit) and variables the
	// compiler made up are never encoded.
	if !v.TopLevel || v.Artificial {
		return varOut{}, false, nil
	}
	sec, off, _, ok := c.locate(sc, v, !c.opts.GlobalVars)
	// pahole 1.32 takes the variables of every section with GlobalVars, and of
	// the per-CPU section unless SkipVars.
	if !ok || !(c.opts.GlobalVars || (!c.opts.SkipVars && sec == c.x.percpu)) {
		return varOut{}, false, nil
	}
	name := v.Name
	if name == "" || filteredVarName(name) {
		return varOut{}, false, nil
	}
	// DWARF gives address 0 to variables in discarded sections; the symbol table
	// says whether one really is at offset 0.
	if off == 0 && !c.x.objectInSection(name, sec) {
		return varOut{}, false, nil
	}
	if !validBTFName(name) {
		if c.opts.Force {
			return varOut{}, false, nil
		}
		return varOut{}, false, fmt.Errorf("not a valid BTF name (Force skips it)")
	}
	if v.Type == 0 {
		return c.voidVar()
	}
	size, ok := sizeOf(sc.s.Types, v.Type, c.img.addrSize())
	if !ok {
		return varOut{}, false, fmt.Errorf("type %d: reference cycle or out of range", v.Type)
	}
	if size == 0 || size > math.MaxUint32 || off > math.MaxUint32 {
		return varOut{}, false, nil
	}
	return varOut{
		cu: v.CU, name: name, typ: v.Type, linkage: varLinkage(v),
		sec: sec, off: uint32(off), size: uint32(size),
	}, true, nil
}

func (c *combiner) voidVar() (varOut, bool, error) {
	if c.opts.Force {
		return varOut{}, false, nil
	}
	return varOut{}, false, fmt.Errorf("void type (Force skips it)")
}

func varLinkage(v *shard.Var) uint32 {
	if v.External {
		return btf.LinkageGlobalVar
	}
	return btf.LinkageStatic
}

// resolveObject finds the image symbol of a variable of an object shard, or -1. An
// external variable is the global (else weak) STT_OBJECT of its name. A static one
// is the local STT_OBJECT of its name; when there are several, those after an
// STT_FILE naming the CU's source file are preferred, and the n-th candidate (in
// link order) of one (file, name) takes the n-th such symbol.
func (c *combiner) resolveObject(sc *shardCtx, v *shard.Var, percpuOnly bool) int {
	var list []int
	for _, i := range c.x.objects[v.Name] {
		if percpuOnly && (c.x.percpu == 0 || c.img.Symbols[i].Section != uint32(c.x.percpu)) {
			continue
		}
		list = append(list, i)
	}
	if v.External {
		weak := -1
		for _, i := range list {
			switch c.img.Symbols[i].Bind {
			case elf.STB_GLOBAL:
				return i
			case elf.STB_WEAK:
				if weak < 0 {
					weak = i
				}
			}
		}
		return weak
	}
	var locals, same []int
	file := sc.cuBase(v.CU)
	for _, i := range list {
		if c.img.Symbols[i].Bind != elf.STB_LOCAL {
			continue
		}
		locals = append(locals, i)
		if c.x.fileOf[i] == file {
			same = append(same, i)
		}
	}
	switch len(locals) {
	case 0:
		return -1
	case 1:
		return locals[0]
	}
	key := objKey{file: file, name: v.Name, percpu: percpuOnly}
	if len(same) == 0 {
		same, key.file = locals, ""
	}
	k := c.objSeen[key]
	c.objSeen[key] = k + 1
	if k < len(same) {
		return same[k]
	}
	return -1
}
