package finalize

import (
	"debug/elf"
	"fmt"
	"slices"
)

// elfFunc is one function of the image's symbol table: in 1.24 mode one STT_FUNC
// name; in 1.32 mode one name before the first '.', with all its symbols.
type elfFunc struct {
	name      string
	syms      []funcSym // in symbol table order
	ambiguous bool      // 1.32: symbols at different non-zero addresses
	generated bool      // 1.24: a FUNC of this name was emitted
}

type funcSym struct {
	name string
	addr uint64
}

// percpuSym is a 1.24 per-CPU symbol: value relative to the section.
type percpuSym struct {
	off  uint64
	size uint64
	name string
}

// imageIndex holds the lookups Combine needs from an Image. Maps are only looked
// up, never ranged over.
type imageIndex struct {
	img *Image
	// funcs is nil when there is no symbol table to select functions with:
	// pahole's external-only fallback applies.
	funcs map[string]*elfFunc

	percpu     int         // index of the first ".data..percpu" section, or 0
	percpuSyms []percpuSym // 1.24: sorted by offset, stable

	objects map[string][]int // STT_OBJECT symbols by name (indexes into img.Symbols)
	fileOf  []string         // for each local symbol: base name of the STT_FILE before it
}

func newImageIndex(img *Image, opts Options) (*imageIndex, error) {
	x := &imageIndex{img: img}
	if img == nil || !img.HasSymtab {
		return x, nil
	}
	x.percpu = img.sectionByName(PercpuSection)
	x.objects = make(map[string][]int)
	x.fileOf = make([]string, len(img.Symbols))
	x.funcs = make(map[string]*elfFunc)
	nfuncs := 0
	file := ""
	for i := range img.Symbols {
		s := &img.Symbols[i]
		switch s.Type {
		case elf.STT_FILE:
			file = baseName(s.Name)
		case elf.STT_FUNC:
			nfuncs++
			x.addFunc(s, opts.Compat)
		case elf.STT_OBJECT:
			x.objects[s.Name] = append(x.objects[s.Name], i)
			if opts.Compat == Pahole124 && !opts.SkipVars {
				if err := x.addPercpu124(s, opts.Force); err != nil {
					return nil, err
				}
			}
		}
		if s.Bind == elf.STB_LOCAL {
			x.fileOf[i] = file
		}
	}
	if opts.Compat == Pahole124 && nfuncs == 0 {
		// pahole 1.24 tests functions.cnt: a symbol table without STT_FUNC symbols
		// falls back to external functions like a missing one. 1.32 selects none.
		x.funcs = nil
	}
	// pahole 1.24 sorts with glibc's qsort (a stable merge sort in glibc <= 2.36,
	// Debian 12's) and searches with bsearch; see percpuAt.
	slices.SortStableFunc(x.percpuSyms, func(a, b percpuSym) int {
		switch {
		case a.off < b.off:
			return -1
		case a.off > b.off:
			return 1
		}
		return 0
	})
	// pahole 1.32 (elf_functions__collect) tests a function's symbols for ambiguity
	// when the name-sorted symbols move on to the next name, so the last function
	// in name order is never tested: its symbols may be at different addresses.
	// Map iteration is fine here: the maximum does not depend on the order, and
	// each entry's flag depends on that entry and the maximum only.
	last := ""
	for name := range x.funcs {
		last = max(last, name)
	}
	for name, f := range x.funcs {
		f.ambiguous = name != last && ambiguousAddress(f.syms)
	}
	return x, nil
}

func (x *imageIndex) addFunc(s *Symbol, compat Compat) {
	name := s.Name
	if compat == Pahole132 {
		if nonFunctionSuffix(s.Name) {
			return
		}
		name, _ = splitSuffix(s.Name)
	}
	f := x.funcs[name]
	if f == nil {
		f = &elfFunc{name: name}
		x.funcs[name] = f
	}
	f.syms = append(f.syms, funcSym{name: s.Name, addr: s.Value})
}

// addPercpu124 collects a per-CPU symbol as pahole 1.24's
// btf_encoder__collect_percpu_var does.
func (x *imageIndex) addPercpu124(s *Symbol, force bool) error {
	if x.percpu == 0 || s.Section != uint32(x.percpu) || s.Size == 0 {
		return nil
	}
	if !validBTFName(s.Name) {
		if force {
			return nil
		}
		return fmt.Errorf("per-CPU symbol %q is not a valid BTF name (Force skips it)", s.Name)
	}
	off := s.Value
	if !x.img.Rel {
		off -= x.img.Sections[x.percpu].Addr
	}
	x.percpuSyms = append(x.percpuSyms, percpuSym{off: off, size: s.Size, name: s.Name})
	return nil
}

// ambiguousAddress is pahole 1.32's elf_function__has_ambiguous_address: symbols of
// one function at different addresses, where a zero address never counts as the
// first one seen.
func ambiguousAddress(syms []funcSym) bool {
	if len(syms) <= 1 {
		return false
	}
	var addr uint64
	for _, s := range syms {
		if addr != 0 && addr != s.addr {
			return true
		}
		addr = s.addr
	}
	return false
}

// percpuAt finds the 1.24 per-CPU symbol at section offset off exactly as glibc's
// bsearch does on the stably sorted table, so that of several symbols at one offset
// (aliases) the same one as pahole's is chosen.
func (x *imageIndex) percpuAt(off uint64) (percpuSym, bool) {
	l, u := 0, len(x.percpuSyms)
	for l < u {
		i := (l + u) / 2
		switch p := x.percpuSyms[i].off; {
		case off < p:
			u = i
		case off > p:
			l = i + 1
		default:
			return x.percpuSyms[i], true
		}
	}
	return percpuSym{}, false
}

// objectInSection is pahole 1.32's variable_in_sec: an STT_OBJECT symbol called
// name in section shndx.
func (x *imageIndex) objectInSection(name string, shndx int) bool {
	for _, i := range x.objects[name] {
		if x.img.Symbols[i].Section == uint32(shndx) {
			return true
		}
	}
	return false
}

// varSection returns the index of the section a linked variable at addr (absolute)
// is in, as pahole 1.32's get_elf_section: the first PROGBITS or NOBITS section
// containing it.
func (x *imageIndex) varSection(addr uint64) int {
	for i := 1; i < len(x.img.Sections); i++ {
		s := &x.img.Sections[i]
		if s.Type != elf.SHT_PROGBITS && s.Type != elf.SHT_NOBITS {
			continue
		}
		if s.Addr <= addr && addr-s.Addr < s.Size {
			return i
		}
	}
	return 0
}

// dataSectionByName is the first PROGBITS or NOBITS section called name, or 0.
func (x *imageIndex) dataSectionByName(name string) int {
	for i := 1; i < len(x.img.Sections); i++ {
		s := &x.img.Sections[i]
		if s.Name == name && (s.Type == elf.SHT_PROGBITS || s.Type == elf.SHT_NOBITS) {
			return i
		}
	}
	return 0
}
