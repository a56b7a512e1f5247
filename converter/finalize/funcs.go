package finalize

import (
	"cmp"
	"slices"
)

// candRef names one function candidate: Combine's shards[shard].Funcs[fn].
type candRef struct {
	shard, fn int
}

// selectFuncs124 is pahole 1.24's loop over each CU's functions
// (btf_encoder__encode_cu), run over all shards in link order. It returns the
// selected candidates in that order; each FUNC goes right after its FUNC_PROTO.
func (c *combiner) selectFuncs124() []candRef {
	var sel []candRef
	for si, sc := range c.shards {
		for fi := range sc.s.Funcs {
			f := &sc.s.Funcs[fi]
			if f.Declaration || !f.AllParamsNamed {
				continue
			}
			if c.x.funcs != nil {
				if f.Name == "" {
					continue
				}
				ef := c.x.funcs[f.Name]
				if ef == nil || ef.generated {
					continue
				}
				ef.generated = true
			} else if !f.External {
				// No symbol table: pahole keeps external functions, and every one
				// of them, even when several CUs define the same name.
				continue
			}
			sel = append(sel, candRef{si, fi})
		}
	}
	return sel
}

// funcState is pahole 1.32's btf_encoder_func_state: one saved candidate.
type funcState struct {
	ref       candRef
	elf       *elfFunc
	addr      uint64
	addrKnown bool
	// hasAddr: pahole's state address (DW_AT_low_pc in the image) is not 0.
	// DW_AT_ranges (hot and cold parts) gives pahole 0, as no DW_AT_low_pc
	// does; an object shard's function that has code is taken to have one.
	hasAddr bool

	optimizedParms   bool
	unexpectedReg    bool
	uncertainLoc     bool
	reordered        bool
	signatureChanged bool
	optimizedSymbol  bool // a ".isra"/".constprop" symbol sits at addr
}

// skipOptimized is btf_encoder_func_state__skip_optimized_parms without
// true_signature: optimized parameters are fine unless the ABI visibly changed,
// by clang's DW_CC_nocall (signature_changed) or a GCC clone symbol at the
// state's address.
func (s *funcState) skipOptimized() bool {
	return s.optimizedParms && (s.signatureChanged || s.optimizedSymbol)
}

func (s *funcState) atSymbol() bool {
	if !s.addrKnown {
		return false
	}
	for _, sym := range s.elf.syms {
		if sym.addr == s.addr {
			return true
		}
	}
	return false
}

// selectFuncs132 is pahole 1.32's save (btf_encoder__encode_cu,
// btf_encoder__save_func) and emit (btf_encoder__add_saved_funcs) of functions. It
// returns the canonical candidate of every function to emit, in name order.
func (c *combiner) selectFuncs132() []candRef {
	if c.x.funcs == nil {
		// pahole 1.32 refuses an ELF without a symbol table; we keep 1.24's
		// fallback (external functions, first in link order per name).
		return c.selectExternalFallback()
	}
	n := 0
	for _, sc := range c.shards {
		n += len(sc.s.Funcs)
	}
	states := make([]funcState, 0, n)
	for si, sc := range c.shards {
		for fi := range sc.s.Funcs {
			f := &sc.s.Funcs[fi]
			if f.Declaration || !f.AllParamsNamed || f.Name == "" {
				continue
			}
			ef := c.x.funcs[f.Name]
			if ef == nil {
				continue
			}
			st := funcState{
				ref:              candRef{si, fi},
				elf:              ef,
				addr:             f.LowPC,
				addrKnown:        f.HasLowPC && sc.linked && !c.img.Rel,
				hasAddr:          f.HasLowPC && (f.LowPC != 0 || !sc.linked),
				optimizedParms:   f.OptimizedParams,
				unexpectedReg:    f.UnexpectedReg,
				uncertainLoc:     f.UncertainParamLoc,
				reordered:        f.ReorderedParams,
				signatureChanged: f.SignatureChanged,
			}
			if st.addrKnown {
				for _, sym := range ef.syms {
					if sym.addr == st.addr && optimizedSuffix(sym.name) {
						st.optimizedSymbol = true
						break
					}
				}
			}
			states = append(states, st)
		}
	}
	var sel []candRef
	for _, group := range groupByName(states) {
		if st := c.combine132(group); st != nil {
			sel = append(sel, st.ref)
		}
	}
	return sel
}

// groupByName groups states by function, the functions in name order and each
// one's states in the order given (link order): what pahole gets by sorting
// with qsort by name, stably (glibc <= 2.36's merge sort). The functions, far
// fewer than the states, are sorted by name; the states are then placed by a
// counting sort on their function's position, which keeps their order within a
// function.
func groupByName(states []funcState) [][]funcState {
	pos := make(map[*elfFunc]int)
	var funcs []*elfFunc
	for i := range states {
		if _, ok := pos[states[i].elf]; !ok {
			pos[states[i].elf] = 0
			funcs = append(funcs, states[i].elf)
		}
	}
	slices.SortFunc(funcs, func(a, b *elfFunc) int { return cmp.Compare(a.name, b.name) }) // one per name
	start := make([]int, len(funcs)+1)
	for i, f := range funcs {
		pos[f] = i
	}
	for i := range states {
		start[pos[states[i].elf]+1]++
	}
	for i := range funcs {
		start[i+1] += start[i]
	}
	sorted := make([]funcState, len(states))
	next := slices.Clone(start[:len(funcs)])
	for i := range states {
		g := pos[states[i].elf]
		sorted[next[g]] = states[i]
		next[g]++
	}
	groups := make([][]funcState, len(funcs))
	for i := range funcs {
		groups[i] = sorted[start[i]:start[i+1]]
	}
	return groups
}

// combine132 merges the states of one function as saved_functions_combine and
// decides as btf_encoder__add_saved_funcs: nil means no FUNC.
func (c *combiner) combine132(group []funcState) *funcState {
	first := &group[0]
	unexpected, uncertain, reordered := first.unexpectedReg, first.uncertainLoc, first.reordered
	inconsistent := false
	for k := 1; k < len(group); k++ {
		unexpected = unexpected || group[k].unexpectedReg
		uncertain = uncertain || group[k].uncertainLoc
		reordered = reordered || group[k].reordered
		if !unexpected && !inconsistent && !reordered && !c.protosMatch(first.ref, group[k].ref) {
			inconsistent = true
		}
	}
	canonical := first
	if len(group) > 1 {
		canonical = selectCanonical(group)
	}
	switch {
	case unexpected:
	case inconsistent && !c.opts.InconsistentFuncs:
	case uncertain, reordered:
	case canonical.skipOptimized():
	case first.elf.ambiguous:
	default:
		return canonical
	}
	return nil
}

// selectCanonical is btf_encoder__select_canonical_state: the first state at one of
// the function's symbol addresses (the definition the linker kept: strong over weak)
// that does not need the optimized-parameter skip; else the first at an address;
// else the first with a non-zero address; else the first.
//
// The third rule is pahole 1.32's, measured (fixture weak.c in the tests, and
// vmlinux's arch_prepare_bpf_trampoline): the strong definition, split into a
// hot and a cold part, is described by DW_AT_ranges, so pahole sees address 0
// for it, and the weak definition (whose discarded code still has an address)
// wins over it although it comes later in link order. acmel/dwarves' tree after
// 1.31 falls back to the first state instead.
func selectCanonical(group []funcState) *funcState {
	var atAddr, withAddr *funcState
	for k := range group {
		st := &group[k]
		if withAddr == nil && st.hasAddr {
			withAddr = st
		}
		if !st.atSymbol() {
			continue
		}
		if atAddr == nil {
			atAddr = st
		}
		if !st.skipOptimized() {
			return st
		}
	}
	switch {
	case atAddr != nil:
		return atAddr
	case withAddr != nil:
		return withAddr
	}
	return &group[0]
}

func (c *combiner) protosMatch(a, b candRef) bool {
	sa, sb := c.shards[a.shard].s, c.shards[b.shard].s
	pa := sa.Types.Type(sa.Funcs[a.fn].Proto)
	pb := sb.Types.Type(sb.Funcs[b.fn].Proto)
	return protosMatch(sa.Types, pa, sb.Types, pb, 0)
}

// selectExternalFallback keeps external functions, the first per name in link order.
func (c *combiner) selectExternalFallback() []candRef {
	seen := make(map[string]bool)
	var sel []candRef
	for si, sc := range c.shards {
		for fi := range sc.s.Funcs {
			f := &sc.s.Funcs[fi]
			if f.Declaration || !f.AllParamsNamed || !f.External || f.Name == "" || seen[f.Name] {
				continue
			}
			seen[f.Name] = true
			sel = append(sel, candRef{si, fi})
		}
	}
	slices.SortStableFunc(sel, func(a, b candRef) int {
		return cmp.Compare(c.shards[a.shard].s.Funcs[a.fn].Name, c.shards[b.shard].s.Funcs[b.fn].Name)
	})
	return sel
}
