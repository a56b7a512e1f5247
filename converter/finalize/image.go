package finalize

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// PercpuSection is the section the kernel's per-CPU variables live in, and the name
// of the DATASEC that describes them.
const PercpuSection = ".data..percpu"

// btfIDsSection holds the kernel's BTF_ID lists and sets (include/linux/btf_ids.h).
const btfIDsSection = ".BTF_ids"

// Image is what finalize needs from the linked ELF: its sections and its symbol
// table. LoadImage reads one from a file; tests build literals.
type Image struct {
	// Path names the file, for messages.
	Path string
	// Rel is true for ET_REL objects (kernel modules): symbol values are then
	// relative to their section, and so are the addresses in the shards.
	Rel bool
	// AddrSize is the size of a pointer in bytes (8 for ELFCLASS64, 4 for
	// ELFCLASS32); it sizes pointer-typed variables. 0 means 8.
	AddrSize int
	// Sections is indexed by ELF section index; Sections[0] is the null section.
	Sections []Section
	// HasSymtab is false when the ELF has no .symtab: pahole then falls back to
	// emitting every external function and no variables.
	HasSymtab bool
	// Symbols is .symtab in table order, without the null symbol: Symbols[i] is
	// symbol index i+1 (the order of debug/elf's File.Symbols).
	Symbols []Symbol
	// BTFIDs is the content of the kernel's .BTF_ids section (BTF_ID lists and
	// sets, u32 words in ByteOrder), nil if there is none; BTFIDsSection is its
	// section index. Options.TagKfuncs reads the kfunc sets from it.
	BTFIDs        []byte
	BTFIDsSection int
	// ByteOrder is the file's byte order; nil means little endian.
	ByteOrder binary.ByteOrder
}

// Section is one ELF section header.
type Section struct {
	Name string
	Type elf.SectionType
	Addr uint64
	Size uint64
}

// Symbol is one .symtab entry.
type Symbol struct {
	Name  string
	Value uint64
	Size  uint64
	Type  elf.SymType
	Bind  elf.SymBind
	// Section is the section index, with SHN_XINDEX already resolved through
	// .symtab_shndx; special indexes (SHN_UNDEF, SHN_ABS, SHN_COMMON) are kept.
	Section uint32
}

// LoadImage reads the section headers and the symbol table of the ELF file at path.
func LoadImage(path string) (img *Image, err error) {
	f, err := elf.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("finalize: %w", err) // names the file already
		}
		return nil, fmt.Errorf("finalize: %s: %w", path, err)
	}
	defer f.Close()
	// debug/elf trusts some header fields; a corrupt file must give an error
	// naming it, never a crash.
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("finalize: %s: malformed ELF: %v", path, r)
		}
	}()
	img, err = imageFromELF(path, f)
	if err != nil {
		return nil, fmt.Errorf("finalize: %s: %w", path, err)
	}
	return img, nil
}

func imageFromELF(path string, f *elf.File) (*Image, error) {
	img := &Image{Path: path, Rel: f.Type == elf.ET_REL, AddrSize: 8, ByteOrder: f.ByteOrder}
	if f.Class == elf.ELFCLASS32 {
		img.AddrSize = 4
	}
	img.Sections = make([]Section, len(f.Sections))
	var symtab, shndxTable *elf.Section
	for i, s := range f.Sections {
		img.Sections[i] = Section{Name: s.Name, Type: s.Type, Addr: s.Addr, Size: s.Size}
		if s.Type == elf.SHT_SYMTAB && symtab == nil {
			symtab = s
		}
		if s.Type == elf.SHT_SYMTAB_SHNDX && s.Link < uint32(len(f.Sections)) && f.Sections[s.Link].Type == elf.SHT_SYMTAB {
			shndxTable = s
		}
		if s.Name == btfIDsSection && img.BTFIDs == nil {
			b, err := readAll(s)
			if err != nil {
				return nil, fmt.Errorf("reading %s at offset %#x: %w", s.Name, s.Offset, err)
			}
			img.BTFIDs, img.BTFIDsSection = b, i
		}
	}
	if symtab == nil {
		return img, nil
	}
	var xindex []byte
	if shndxTable != nil {
		var err error
		xindex, err = readAll(shndxTable)
		if err != nil {
			return nil, fmt.Errorf("reading %s at offset %#x: %w", shndxTable.Name, shndxTable.Offset, err)
		}
	}
	var err error
	img.Symbols, img.HasSymtab, err = readSymbols(f, symtab, xindex)
	if err != nil {
		return nil, err
	}
	return img, nil
}

// readSymbols decodes the symbol table sec of f, as debug/elf's File.Symbols
// does, but with every name a substring of one copy of the string table: a
// vmlinux has 200,000 symbols, and a string each was a tenth of the time and
// most of the memory of reading them. xindex is the table's .symtab_shndx (nil
// if none). An empty table is no table (ok false), as for debug/elf.
func readSymbols(f *elf.File, sec *elf.Section, xindex []byte) (syms []Symbol, ok bool, err error) {
	data, err := readAll(sec)
	if err != nil {
		return nil, false, fmt.Errorf("reading %s at offset %#x: %w", sec.Name, sec.Offset, err)
	}
	if len(data) == 0 {
		return nil, false, nil
	}
	if sec.Link == 0 || sec.Link >= uint32(len(f.Sections)) {
		return nil, false, fmt.Errorf("%s: string table section %d out of range", sec.Name, sec.Link)
	}
	strSec := f.Sections[sec.Link]
	strData, err := readAll(strSec)
	if err != nil {
		return nil, false, fmt.Errorf("reading %s at offset %#x: %w", strSec.Name, strSec.Offset, err)
	}
	strs := string(strData)
	entSize := 24 // Elf64_Sym: name, info, other, shndx, value, size
	if f.Class == elf.ELFCLASS32 {
		entSize = 16 // Elf32_Sym: name, value, size, info, other, shndx
	}
	if len(data)%entSize != 0 {
		return nil, false, fmt.Errorf("%s at offset %#x: %d bytes is not a whole number of %d-byte symbols", sec.Name, sec.Offset, len(data), entSize)
	}
	bo := f.ByteOrder
	n := len(data) / entSize
	syms = make([]Symbol, n-1) // without the null symbol, as debug/elf
	for i := 1; i < n; i++ {
		e := data[i*entSize : (i+1)*entSize]
		var name uint32
		var info uint8
		var s Symbol
		if entSize == 24 {
			name, info = bo.Uint32(e), e[4]
			s.Section = uint32(bo.Uint16(e[6:]))
			s.Value, s.Size = bo.Uint64(e[8:]), bo.Uint64(e[16:])
		} else {
			name = bo.Uint32(e)
			s.Value, s.Size = uint64(bo.Uint32(e[4:])), uint64(bo.Uint32(e[8:]))
			info = e[12]
			s.Section = uint32(bo.Uint16(e[14:]))
		}
		s.Type, s.Bind = elf.ST_TYPE(info), elf.ST_BIND(info)
		if name != 0 {
			if name >= uint32(len(strs)) {
				return nil, false, fmt.Errorf("%s at offset %#x: symbol %d: name at %#x is past the end of %s (%d bytes)", sec.Name, sec.Offset+uint64(i*entSize), i, name, strSec.Name, len(strs))
			}
			end := strings.IndexByte(strs[name:], 0)
			if end < 0 {
				return nil, false, fmt.Errorf("%s at offset %#x: symbol %d: name at %#x is not terminated in %s", sec.Name, sec.Offset+uint64(i*entSize), i, name, strSec.Name)
			}
			s.Name = strs[name : int(name)+end]
		}
		if s.Section == uint32(elf.SHN_XINDEX) {
			off := 4 * i
			if off+4 > len(xindex) {
				return nil, false, fmt.Errorf("%s at offset %#x: symbol %d (%q) has SHN_XINDEX but no .symtab_shndx entry", sec.Name, sec.Offset+uint64(i*entSize), i, s.Name)
			}
			s.Section = bo.Uint32(xindex[off:])
		}
		syms[i-1] = s
	}
	return syms, true, nil
}

func readAll(s *elf.Section) ([]byte, error) {
	if s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	b := make([]byte, s.Size)
	if _, err := io.ReadFull(s.Open(), b); err != nil {
		return nil, err
	}
	return b, nil
}

// sectionByName returns the index of the first section called name, as libelf's
// lookup by name in pahole does, or 0.
func (img *Image) sectionByName(name string) int {
	for i := 1; i < len(img.Sections); i++ {
		if img.Sections[i].Name == name {
			return i
		}
	}
	return 0
}

func (img *Image) addrSize() uint64 {
	if img == nil || img.AddrSize == 0 {
		return 8
	}
	return uint64(img.AddrSize)
}
