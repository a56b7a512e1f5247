package encode

import (
	"debug/elf"

	"github.com/rules-btf/rules_btf/converter/dwarf"
)

// Where a function's parameters are on entry, and what pahole 1.32 concludes
// from it.
//
// pahole (dwarf_loader.c) decodes the DW_AT_location of every formal parameter
// of a subprogram (parameter__decode_location, see paramRegs) and then, per
// function (function__analyze_parameter_locations, called from
// cu__resolve_func_ret_types_optimized), walks the parameters along the
// architecture's argument registers:
//
//	for each parameter, with reg_idx the next argument register:
//	  slots     = 2 if an aggregate of more than a word (two-register ABIs), else 1
//	  in memory = bigger than two words (one word on s390)
//	  has a location:
//	    no argument register left        -> (fine; no register consumed)
//	    no register found in it          -> optimized
//	    not the expected register        -> unexpected register
//	  no location, DW_AT_const_value     -> optimized (not for clang)
//	  reg_idx += in memory ? 1 : slots
//
// for GCC, and for clang only when the function's signature changed
// (DW_AT_calling_convention DW_CC_nocall on it or its abstract origin); for
// other clang functions only the register of each parameter passed in
// registers is checked against its expected window of slots. Then the function
// has "optimized parameters" when a parameter is optimized or has no location,
// and an "unexpected register" when a parameter has one, unless a parameter is
// a struct (through typedefs and const), whose pieces may take several
// registers.
//
// Two pahole details matter on real kernels:
//
//   - The location facts of a concrete parameter (an out-of-line copy's
//     parameter with DW_AT_abstract_origin and no type) are copied to the
//     abstract parameter it refers to before any function is analyzed
//     (ftype__recode_dwarf_types): presence of a location or a constant is
//     or-ed in, the register overwritten by the last copy that has one. So an
//     abstract instance (DW_AT_inline) is judged with its out-of-line copies'
//     locations, and as a saved function state it can mark the whole function
//     as having an unexpected register.
//   - A parameter's size is that of its abstract origin's type when it has an
//     origin (get_type_byte_size): the byte size of the first type along
//     DW_AT_type that has one, a pointer being a word.
//
// Parameters of an out-of-line copy that are listed in a different position
// than in their abstract origin make "reordered parameters"
// (ftype__recode_dwarf_types compares the indexes): pahole 1.32 skips such
// functions.

// paramInfo is what the analysis needs of one formal parameter of a
// subprogram: its location facts, possibly shared from concrete copies. The
// slots of struct and union nodes hold instead what packed.go infers of their
// layout, per CU.
type paramInfo struct {
	size  uint64
	reg   int8 // noReg if unknown
	loc   bool // DW_AT_location
	konst bool // DW_AT_const_value
	mem   bool // passed in memory

	packed   uint8  // a struct: packedUnknown, packedNo or packedYes (inferPacked)
	natAlign uint16 // a struct or union: its natural alignment once computed (typeNaturalAlign)
}

// abi describes the argument registers of the file's architecture
// (arch__nr_register_params, arch__set_register_params in pahole).
type abi struct {
	regs    []int8 // DWARF register numbers of the argument registers, in order
	twoRegs bool   // aggregates of up to two words take two registers
}

// nrRegParams is pahole's arch__nr_register_params: how many parameters the
// architecture passes in registers, 0 for architectures pahole does not know.
func (a abi) nrRegParams() int { return len(a.regs) }

func abiOf(m elf.Machine) abi {
	switch m {
	case elf.EM_X86_64:
		return abi{regs: []int8{5, 4, 1, 2, 8, 9}, twoRegs: true} // rdi rsi rdx rcx r8 r9
	case elf.EM_S390:
		return abi{regs: []int8{2, 3, 4, 5, 6}}
	case elf.EM_AARCH64, elf.EM_ARM:
		return abi{regs: []int8{0, 1, 2, 3, 4, 5, 6, 7}, twoRegs: true}
	case elf.EM_SPARC, elf.EM_SPARCV9:
		// pahole counts 6 argument registers without naming them: none is
		// expected, so only missing locations count.
		return abi{regs: []int8{-2, -2, -2, -2, -2, -2}, twoRegs: true}
	case elf.EM_ARC, elf.EM_MIPS, elf.EM_PPC, elf.EM_PPC64, elf.EM_RISCV:
		return abi{regs: []int8{-2, -2, -2, -2, -2, -2, -2, -2}, twoRegs: true}
	}
	return abi{twoRegs: true}
}

// typeByteSize is pahole's __get_type_byte_size of the DIE whose DW_AT_type is
// off: a pointer is a word; otherwise the first non-zero DW_AT_byte_size along
// the chain of DW_AT_type.
func (e *encoder) typeByteSize(off uint64) uint64 {
	for hops := 0; hops < 64; hops++ {
		n := e.node(off)
		if n == nil {
			return 0
		}
		if n.tag == dwarf.TagPointerType {
			return uint64(e.u.AddrSize)
		}
		if n.flags&fSize != 0 && n.size != 0 {
			return n.size
		}
		off = n.typ
	}
	return 0
}

// isParamOfSubprogram reports whether node i is a formal parameter of a
// subprogram (not of a subroutine type or an inlined copy).
func (e *encoder) isParamOfSubprogram(i int) bool {
	n := &e.nodes[i]
	return n.tag == dwarf.TagFormalParameter && n.parent >= 0 && e.nodes[n.parent].tag == dwarf.TagSubprogram
}

// analyzeParams fills e.params for every formal parameter of a subprogram of
// the unit and shares concrete parameters' facts with their abstract origins,
// in DIE order, as pahole's recoding pass does. The other slots start the CU
// empty (packed.go's memo).
func (e *encoder) analyzeParams() {
	if cap(e.params) < len(e.nodes) {
		e.params = make([]paramInfo, len(e.nodes))
	} else {
		e.params = e.params[:len(e.nodes)]
		clear(e.params)
	}
	asz := uint64(e.u.AddrSize)
	inMem := asz
	if e.abi.twoRegs {
		inMem = 2 * asz
	}
	concrete := e.scratch[:0] // parameters that take their origin's facts
	for i := range e.nodes {
		if !e.isParamOfSubprogram(i) {
			continue
		}
		n := &e.nodes[i]
		if n.typ == 0 && n.origin != 0 {
			concrete = append(concrete, int32(i))
		}
		var size uint64
		if n.origin != 0 {
			if o := e.node(n.origin); o != nil {
				size = e.typeByteSize(o.typ)
			}
		} else {
			size = e.typeByteSize(n.typ)
		}
		p := &e.params[i]
		p.size = size
		p.reg = n.regSmall
		if size > asz && e.abi.twoRegs {
			p.reg = n.regBig
		}
		p.loc = n.flags&fLocation != 0
		p.konst = n.flags&fConst != 0
		p.mem = size > inMem
	}
	e.scratch = concrete
	for _, i := range concrete {
		n := &e.nodes[i]
		k := e.offIdx[n.origin-e.base]
		if k == 0 || !e.isParamOfSubprogram(int(k-1)) {
			continue
		}
		p, o := &e.params[i], &e.params[k-1]
		o.loc = o.loc || p.loc
		o.konst = o.konst || p.konst
		if p.reg != noReg {
			o.reg = p.reg
		}
		if p.size != 0 {
			o.size = p.size
		}
		o.mem = o.mem || p.mem
	}
}

// paramFlags are the conclusions of pahole 1.32 about one function's
// parameters.
type paramFlags struct {
	optimized, unexpectedReg, reordered, signatureChanged bool
}

// analyzeFunction is function__analyze_parameter_locations and the flags
// cu__resolve_func_ret_types_optimized derives, for subprogram n (true
// signatures off, as in pahole's default).
func (e *encoder) analyzeFunction(n *node) paramFlags {
	var f paramFlags
	f.signatureChanged = e.clang && e.signatureChanged(n)
	check := !e.clang || f.signatureChanged
	regs := e.abi.regs
	regIdx := 0
	unexpected := false
	idx := 0
	for c := n.child; c >= 0; c = e.nodes[c].next {
		pn := &e.nodes[c]
		if pn.tag != dwarf.TagFormalParameter {
			continue
		}
		p := &e.params[c]
		slots := 1
		if e.abi.twoRegs && p.size > uint64(e.u.AddrSize) {
			slots = int((p.size + uint64(e.u.AddrSize) - 1) / uint64(e.u.AddrSize))
		}
		if !check {
			// clang, signature unchanged: each register-passed parameter must be
			// in one of its expected registers.
			if !p.mem && regIdx < len(regs) {
				if p.reg != noReg {
					in := false
					for k := regIdx; k < regIdx+slots && k < len(regs); k++ {
						in = in || regs[k] == p.reg
					}
					if !in {
						unexpected = true
					}
				}
				regIdx += slots
			} else if !p.mem {
				regIdx = len(regs) // pahole stops looking
			}
		} else {
			consumes := true
			switch {
			case p.loc:
				switch {
				case regIdx >= len(regs):
					consumes = false
				case p.reg == noReg:
					f.optimized = true
				case regs[regIdx] >= 0 && regs[regIdx] != p.reg:
					unexpected = true
				}
			case p.konst && !e.clang:
				f.optimized = true
			}
			if consumes {
				if p.mem {
					regIdx++
				} else {
					regIdx += slots
				}
			}
		}
		if !p.loc {
			f.optimized = true
		}
		if pn.typ == 0 && pn.origin != 0 {
			if o := e.node(pn.origin); o != nil && o.tag == dwarf.TagFormalParameter && e.paramIndex(o) != idx {
				f.reordered = true
			}
		}
		idx++
	}
	if unexpected {
		f.unexpectedReg = true
		for c := n.child; c >= 0; c = e.nodes[c].next {
			pn := &e.nodes[c]
			if pn.tag != dwarf.TagFormalParameter {
				continue
			}
			typ := pn.typ
			if typ == 0 {
				if o := e.node(pn.origin); o != nil {
					typ = o.typ
				}
			}
			if e.isStruct(typ) {
				f.unexpectedReg = false
				break
			}
		}
	}
	return f
}

// paramIndex is the position of formal parameter p among its parent's formal
// parameters, or -1.
func (e *encoder) paramIndex(p *node) int {
	if p.parent < 0 {
		return -1
	}
	idx := 0
	for c := e.nodes[p.parent].child; c >= 0; c = e.nodes[c].next {
		if &e.nodes[c] == p {
			return idx
		}
		if e.nodes[c].tag == dwarf.TagFormalParameter {
			idx++
		}
	}
	return -1
}

// isStruct is pahole's param__is_struct: the type, through typedefs and
// const, is a structure (a declaration included).
func (e *encoder) isStruct(off uint64) bool {
	for hops := 0; hops < 64; hops++ {
		n := e.node(off)
		if n == nil {
			return false
		}
		switch n.tag {
		case dwarf.TagStructType:
			return true
		case dwarf.TagConstType, dwarf.TagTypedef:
			off = n.typ
		default:
			return false
		}
	}
	return false
}

// signatureChanged is pahole's function__signature_changed (clang only): not
// for abstract instances; DW_CC_nocall on the function, or on its abstract
// origin if it has one.
func (e *encoder) signatureChanged(n *node) bool {
	if n.inline != 0 {
		return false
	}
	if n.origin == 0 {
		return n.flags&fNoCall != 0
	}
	if o := e.node(n.origin); o != nil {
		return o.flags&fNoCall != 0
	}
	return false
}
