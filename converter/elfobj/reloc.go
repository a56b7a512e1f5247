package elfobj

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
)

// relocation kinds: how a relocation computes and stores its value.
type relocOp uint8

const (
	opNone relocOp = iota
	opAbs          // S + A
	opPC           // S + A - P
	opAdd          // existing + S + A
	opSub          // existing - (S + A)
	opSet          // S + A (RISC-V SET*, like abs)
	opSub6         // RISC-V: low 6 bits -= S + A
	opSet6         // RISC-V: low 6 bits = S + A
)

type relocKind struct {
	op   relocOp
	size int // bytes written
}

// relocKindOf describes the relocation types met in debug sections of
// relocatable objects. Types that cannot appear there (GOT, PLT, code
// relocations) are errors.
func relocKindOf(m elf.Machine, t uint32) (relocKind, bool) {
	switch m {
	case elf.EM_X86_64:
		switch elf.R_X86_64(t) {
		case elf.R_X86_64_NONE:
			return relocKind{opNone, 0}, true
		case elf.R_X86_64_64, elf.R_X86_64_DTPOFF64:
			return relocKind{opAbs, 8}, true
		case elf.R_X86_64_32, elf.R_X86_64_32S, elf.R_X86_64_DTPOFF32:
			return relocKind{opAbs, 4}, true
		case elf.R_X86_64_PC32:
			return relocKind{opPC, 4}, true
		case elf.R_X86_64_PC64:
			return relocKind{opPC, 8}, true
		}
	case elf.EM_AARCH64:
		switch elf.R_AARCH64(t) {
		case elf.R_AARCH64_NONE:
			return relocKind{opNone, 0}, true
		case elf.R_AARCH64_ABS64:
			return relocKind{opAbs, 8}, true
		case elf.R_AARCH64_ABS32:
			return relocKind{opAbs, 4}, true
		case elf.R_AARCH64_PREL32:
			return relocKind{opPC, 4}, true
		case elf.R_AARCH64_PREL64:
			return relocKind{opPC, 8}, true
		}
	case elf.EM_386:
		switch elf.R_386(t) {
		case elf.R_386_NONE:
			return relocKind{opNone, 0}, true
		case elf.R_386_32, elf.R_386_TLS_LDO_32:
			return relocKind{opAbs, 4}, true
		case elf.R_386_PC32:
			return relocKind{opPC, 4}, true
		}
	case elf.EM_ARM:
		switch elf.R_ARM(t) {
		case elf.R_ARM_NONE:
			return relocKind{opNone, 0}, true
		case elf.R_ARM_ABS32, elf.R_ARM_TLS_LDO32:
			return relocKind{opAbs, 4}, true
		case elf.R_ARM_REL32:
			return relocKind{opPC, 4}, true
		}
	case elf.EM_RISCV:
		switch elf.R_RISCV(t) {
		case elf.R_RISCV_NONE:
			return relocKind{opNone, 0}, true
		case elf.R_RISCV_64:
			return relocKind{opAbs, 8}, true
		case elf.R_RISCV_32:
			return relocKind{opAbs, 4}, true
		case elf.R_RISCV_32_PCREL:
			return relocKind{opPC, 4}, true
		case elf.R_RISCV_ADD8:
			return relocKind{opAdd, 1}, true
		case elf.R_RISCV_ADD16:
			return relocKind{opAdd, 2}, true
		case elf.R_RISCV_ADD32:
			return relocKind{opAdd, 4}, true
		case elf.R_RISCV_ADD64:
			return relocKind{opAdd, 8}, true
		case elf.R_RISCV_SUB8:
			return relocKind{opSub, 1}, true
		case elf.R_RISCV_SUB16:
			return relocKind{opSub, 2}, true
		case elf.R_RISCV_SUB32:
			return relocKind{opSub, 4}, true
		case elf.R_RISCV_SUB64:
			return relocKind{opSub, 8}, true
		case elf.R_RISCV_SET8:
			return relocKind{opSet, 1}, true
		case elf.R_RISCV_SET16:
			return relocKind{opSet, 2}, true
		case elf.R_RISCV_SET32:
			return relocKind{opSet, 4}, true
		case elf.R_RISCV_SUB6:
			return relocKind{opSub6, 1}, true
		case elf.R_RISCV_SET6:
			return relocKind{opSet6, 1}, true
		}
	case elf.EM_PPC64:
		switch elf.R_PPC64(t) {
		case elf.R_PPC64_NONE:
			return relocKind{opNone, 0}, true
		case elf.R_PPC64_ADDR64, elf.R_PPC64_DTPREL64:
			return relocKind{opAbs, 8}, true
		case elf.R_PPC64_ADDR32:
			return relocKind{opAbs, 4}, true
		case elf.R_PPC64_REL32:
			return relocKind{opPC, 4}, true
		}
	case elf.EM_S390:
		switch elf.R_390(t) {
		case elf.R_390_NONE:
			return relocKind{opNone, 0}, true
		case elf.R_390_64, elf.R_390_TLS_LDO64:
			return relocKind{opAbs, 8}, true
		case elf.R_390_32, elf.R_390_TLS_LDO32:
			return relocKind{opAbs, 4}, true
		case elf.R_390_PC32:
			return relocKind{opPC, 4}, true
		}
	}
	return relocKind{}, false
}

// relocate returns a copy of data (the contents of section s) with the
// relocations of every SHT_RELA/SHT_REL section that applies to s applied. If
// targets is not nil, it receives the section index of each relocation's symbol,
// by offset, sorted.
func (f *File) relocate(s *Section, data []byte, targets *[]relocTarget) ([]byte, error) {
	var rels []*Section
	for _, r := range f.Sections {
		if (r.Type == elf.SHT_RELA || r.Type == elf.SHT_REL) && int(r.Info) == s.Index && r.Flags&elf.SHF_ALLOC == 0 {
			rels = append(rels, r)
		}
	}
	if len(rels) == 0 {
		return data, nil
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(data))
	copy(out, data)
	if targets != nil {
		// Room for a target per entry (a module's .debug_info has hundreds of
		// thousands): growing the list as it fills copied it again and again.
		n := 0
		for _, r := range rels {
			n += int(r.Size / uint64(relocEntSize(f.Class == elf.ELFCLASS64, r.Type == elf.SHT_RELA)))
		}
		*targets = slices.Grow(*targets, n)
	}
	for _, r := range rels {
		if err := f.applyRelocs(s, r, out, syms, targets); err != nil {
			return nil, err
		}
	}
	if targets != nil {
		ts := *targets
		sort.SliceStable(ts, func(i, j int) bool { return ts[i].off < ts[j].off })
	}
	return out, nil
}

func (f *File) applyRelocs(s, r *Section, out []byte, syms []Symbol, targets *[]relocTarget) error {
	raw, err := f.Data(r)
	if err != nil {
		return err
	}
	is64 := f.Class == elf.ELFCLASS64
	rela := r.Type == elf.SHT_RELA
	entsize := relocEntSize(is64, rela)
	if len(raw)%entsize != 0 {
		return &Error{f.Path, int64(r.Offset), fmt.Errorf("%w: %s: size %#x is not a multiple of %d", ErrFormat, r.Name, len(raw), entsize)}
	}
	bo := f.ByteOrder
	for i := 0; i < len(raw); i += entsize {
		e := raw[i : i+entsize]
		var off uint64
		var symIdx, typ uint32
		var addend int64
		if is64 {
			off = bo.Uint64(e[0:])
			info := bo.Uint64(e[8:])
			symIdx, typ = uint32(info>>32), uint32(info)
			if rela {
				addend = int64(bo.Uint64(e[16:]))
			}
		} else {
			off = uint64(bo.Uint32(e[0:]))
			info := bo.Uint32(e[4:])
			symIdx, typ = info>>8, info&0xff
			if rela {
				addend = int64(int32(bo.Uint32(e[8:])))
			}
		}
		at := func(msg string, args ...any) error {
			return &Error{f.Path, int64(r.Offset) + int64(i), fmt.Errorf("%w: %s entry %d: %s", ErrFormat, r.Name, i/entsize, fmt.Sprintf(msg, args...))}
		}
		kind, ok := relocKindOf(f.Machine, typ)
		if !ok {
			return at("relocation type %d not supported for %v in a debug section", typ, f.Machine)
		}
		if kind.op == opNone {
			continue
		}
		if int(symIdx) >= len(syms) {
			return at("symbol index %d out of range (%d symbols)", symIdx, len(syms))
		}
		if off > uint64(len(out)) || uint64(kind.size) > uint64(len(out))-off {
			return at("offset %#x out of section %s (size %#x)", off, s.Name, len(out))
		}
		sym := &syms[symIdx]
		if !rela {
			addend = readSigned(out[off:], kind.size, bo)
		}
		v := sym.Value + uint64(addend)
		p := out[off : off+uint64(kind.size)]
		switch kind.op {
		case opPC:
			v -= off
		case opAdd:
			v = readUnsigned(p, kind.size, bo) + v
		case opSub:
			v = readUnsigned(p, kind.size, bo) - v
		case opSub6:
			v = uint64(p[0]&0xc0) | ((uint64(p[0]) - v) & 0x3f)
		case opSet6:
			v = uint64(p[0]&0xc0) | (v & 0x3f)
		}
		writeUnsigned(p, kind.size, bo, v)
		if targets != nil && sym.Section > elf.SHN_UNDEF && sym.Section < elf.SHN_LORESERVE && (kind.op == opAbs || kind.op == opSet) {
			*targets = append(*targets, relocTarget{off, uint32(sym.Section)})
		}
	}
	return nil
}

// relocEntSize is the size of a relocation entry: Elf64_Rela, Elf64_Rel, Elf32_Rela
// or Elf32_Rel.
func relocEntSize(is64, rela bool) int {
	switch {
	case is64 && rela:
		return 24
	case is64:
		return 16
	case rela:
		return 12
	}
	return 8
}

func readUnsigned(p []byte, size int, bo binary.ByteOrder) uint64 {
	switch size {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(bo.Uint16(p))
	case 4:
		return uint64(bo.Uint32(p))
	}
	return bo.Uint64(p)
}

func readSigned(p []byte, size int, bo binary.ByteOrder) int64 {
	switch size {
	case 1:
		return int64(int8(p[0]))
	case 2:
		return int64(int16(bo.Uint16(p)))
	case 4:
		return int64(int32(bo.Uint32(p)))
	}
	return int64(bo.Uint64(p))
}

func writeUnsigned(p []byte, size int, bo binary.ByteOrder, v uint64) {
	switch size {
	case 1:
		p[0] = byte(v)
	case 2:
		bo.PutUint16(p, uint16(v))
	case 4:
		bo.PutUint32(p, uint32(v))
	default:
		bo.PutUint64(p, v)
	}
}
