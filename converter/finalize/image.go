package finalize

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
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
	var shndxTable *elf.Section
	for i, s := range f.Sections {
		img.Sections[i] = Section{Name: s.Name, Type: s.Type, Addr: s.Addr, Size: s.Size}
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
	syms, err := f.Symbols()
	switch {
	case errors.Is(err, elf.ErrNoSymbols):
		return img, nil
	case err != nil:
		return nil, fmt.Errorf("reading .symtab: %w", err)
	}
	img.HasSymtab = true
	var xindex []byte
	if shndxTable != nil {
		xindex, err = readAll(shndxTable)
		if err != nil {
			return nil, fmt.Errorf("reading %s at offset %#x: %w", shndxTable.Name, shndxTable.Offset, err)
		}
	}
	img.Symbols = make([]Symbol, len(syms))
	for i, s := range syms {
		shndx := uint32(s.Section)
		if s.Section == elf.SHN_XINDEX {
			// Symbol index i+1 (debug/elf drops the null symbol).
			off := 4 * (i + 1)
			if off+4 > len(xindex) {
				return nil, fmt.Errorf("symbol %d (%q) has SHN_XINDEX but no .symtab_shndx entry", i+1, s.Name)
			}
			shndx = f.ByteOrder.Uint32(xindex[off:])
		}
		img.Symbols[i] = Symbol{
			Name:    s.Name,
			Value:   s.Value,
			Size:    s.Size,
			Type:    elf.ST_TYPE(s.Info),
			Bind:    elf.ST_BIND(s.Info),
			Section: shndx,
		}
	}
	return img, nil
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
