// Package elfobj reads the parts of an ELF file the converter needs: the section
// table, the symbol table, and the DWARF debug sections, decompressed and (for
// relocatable objects) relocated.
//
// The file is mapped into memory read-only. Uncompressed debug sections of
// executables and shared objects are slices of that mapping: a 163 MB
// .debug_info costs no copy. Compressed sections (SHF_COMPRESSED, zlib or zstd)
// are decompressed into the heap once; sections of relocatable objects (ET_REL)
// are copied and have their relocations applied, since their DWARF refers to
// other sections through relocations.
//
// Executables and shared objects are never relocated: a linked vmlinux keeps a
// .rela.debug_info of 254 MB whose relocations have already been applied.
//
// Every error names the file and, where there is one, the file offset.
// Truncated or garbage input gives an error, never a panic.
package elfobj

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"syscall"
	"unsafe"

	"github.com/rules-btf/rules_btf/internal/hugepage"
)

// ErrFormat is wrapped by every error about malformed input.
var ErrFormat = errors.New("malformed ELF")

// Error is an error located in a file.
type Error struct {
	Path   string
	Offset int64 // file offset, or -1 when not known
	Err    error
}

func (e *Error) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("%s: offset %#x: %v", e.Path, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Section describes one section header.
type Section struct {
	Index     int
	Name      string
	Type      elf.SectionType
	Flags     elf.SectionFlag
	Addr      uint64
	Offset    uint64 // file offset
	Size      uint64 // size in the file (compressed size for SHF_COMPRESSED)
	Link      uint32
	Info      uint32
	Entsize   uint64
	sec       *elf.Section
	relocated bool
}

// Symbol is one ELF symbol table entry (index 0, the null symbol, included so that
// indices match relocation entries).
type Symbol struct {
	Name    string
	Info    byte
	Other   byte
	Section elf.SectionIndex
	Value   uint64
	Size    uint64
}

// Type returns the symbol's STT_* type.
func (s *Symbol) Type() elf.SymType { return elf.ST_TYPE(s.Info) }

// Bind returns the symbol's STB_* binding.
func (s *Symbol) Bind() elf.SymBind { return elf.ST_BIND(s.Info) }

// File is an open ELF file.
type File struct {
	Path      string
	Class     elf.Class
	ByteOrder binary.ByteOrder
	Type      elf.Type
	Machine   elf.Machine
	Sections  []*Section

	mapped []byte
	file   *os.File // the mapped file, open until Close (nil: in memory)
	ef     *elf.File

	symOnce sync.Once
	syms    []Symbol
	symErr  error

	dwarfOnce sync.Once
	dwarf     *DWARF
	dwarfErr  error
}

// Open maps the file at path and parses its ELF header and section table.
func Open(path string) (f *File, err error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			fd.Close()
		}
	}()
	st, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size == 0 {
		return nil, &Error{path, -1, fmt.Errorf("%w: empty file", ErrFormat)}
	}
	if int64(int(size)) != size {
		return nil, &Error{path, -1, fmt.Errorf("file too large to map (%d bytes)", size)}
	}
	data, err := syscall.Mmap(int(fd.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, &Error{path, -1, fmt.Errorf("mmap: %w", err)}
	}
	f, err = newFile(path, data)
	if err != nil {
		syscall.Munmap(data)
		return nil, err
	}
	f.file = fd
	return f, nil
}

// NewFile parses an ELF image already in memory. name is used in messages. The
// File refers to data; Close does not release it.
func NewFile(name string, data []byte) (*File, error) {
	return newFile(name, data)
}

func newFile(path string, data []byte) (f *File, err error) {
	// debug/elf is hardened against malformed headers, but recover anyway: this
	// is the boundary where untrusted bytes come in.
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, &Error{path, -1, fmt.Errorf("%w: %v", ErrFormat, r)}
		}
	}()
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil, &Error{path, -1, fmt.Errorf("%w: %v", ErrFormat, err)}
		}
		return nil, &Error{path, -1, err}
	}
	f = &File{
		Path:      path,
		Class:     ef.Class,
		ByteOrder: ef.ByteOrder,
		Type:      ef.Type,
		Machine:   ef.Machine,
		mapped:    data,
		ef:        ef,
	}
	switch f.Type {
	case elf.ET_REL, elf.ET_EXEC, elf.ET_DYN:
	default:
		return nil, &Error{path, 0x10, fmt.Errorf("%w: unsupported ELF type %v", ErrFormat, f.Type)}
	}
	for i, s := range ef.Sections {
		f.Sections = append(f.Sections, &Section{
			Index: i, Name: s.Name, Type: s.Type, Flags: s.Flags, Addr: s.Addr,
			Offset: s.Offset, Size: s.FileSize, Link: s.Link, Info: s.Info,
			Entsize: s.Entsize, sec: s,
		})
		if s.Type != elf.SHT_NOBITS && s.Type != elf.SHT_NULL &&
			(s.Offset > uint64(len(data)) || s.FileSize > uint64(len(data))-s.Offset) {
			return nil, &Error{path, int64(s.Offset), fmt.Errorf("%w: section %q [%d] extends past end of file (size %#x)", ErrFormat, s.Name, i, s.FileSize)}
		}
	}
	return f, nil
}

// Close unmaps the file. The File and every slice it returned must not be used
// afterwards.
func (f *File) Close() error {
	if f.mapped == nil {
		return nil
	}
	err := syscall.Munmap(f.mapped)
	f.mapped = nil
	if f.file != nil {
		if cerr := f.file.Close(); err == nil {
			err = cerr
		}
		f.file = nil
	}
	return err
}

// Section returns the first section with the given name, or nil.
func (f *File) Section(name string) *Section {
	for _, s := range f.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// SectionByIndex returns the section with the given index, or nil.
func (f *File) SectionByIndex(i int) *Section {
	if i < 0 || i >= len(f.Sections) {
		return nil
	}
	return f.Sections[i]
}

// SectionAt returns the name of the allocated section (SHF_ALLOC, non-empty) whose
// address range contains addr, for linked files. It returns "" if none does.
func (f *File) SectionAt(addr uint64) string {
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Size == 0 && s.Type != elf.SHT_NOBITS {
			continue
		}
		size := s.sec.Size
		if addr >= s.Addr && addr-s.Addr < size {
			return s.Name
		}
	}
	return ""
}

// Data returns the section's contents, decompressed if SHF_COMPRESSED. For
// uncompressed sections the slice aliases the mapped file and must not be
// modified. SHT_NOBITS sections have no data (nil).
func (f *File) Data(s *Section) ([]byte, error) {
	if s.Type == elf.SHT_NOBITS || s.Type == elf.SHT_NULL {
		return nil, nil
	}
	if s.Flags&elf.SHF_COMPRESSED == 0 {
		return f.mapped[s.Offset : s.Offset+s.Size : s.Offset+s.Size], nil
	}
	out, err := decompress(s)
	if err != nil {
		return nil, &Error{f.Path, int64(s.Offset), fmt.Errorf("%w: section %s: decompressing: %v", ErrFormat, s.Name, err)}
	}
	return out, nil
}

func decompress(s *Section) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	// debug/elf knows the Chdr layouts and both zlib and zstd.
	size := s.sec.Size
	if size > 1<<34 {
		return nil, fmt.Errorf("implausible uncompressed size %#x", size)
	}
	buf := bytes.NewBuffer(make([]byte, 0, int(size)))
	if _, err := io.Copy(buf, s.sec.Open()); err != nil {
		return nil, err
	}
	if uint64(buf.Len()) != size {
		return nil, fmt.Errorf("uncompressed %d bytes, header says %d", buf.Len(), size)
	}
	return buf.Bytes(), nil
}

// Symbols returns the .symtab entries (or .dynsym if there is no .symtab), with
// the null symbol at index 0. Files without symbols give an empty slice.
func (f *File) Symbols() ([]Symbol, error) {
	f.symOnce.Do(func() { f.syms, f.symErr = f.readSymbols() })
	return f.syms, f.symErr
}

func (f *File) readSymbols() (syms []Symbol, err error) {
	defer func() {
		if r := recover(); r != nil {
			syms, err = nil, &Error{f.Path, -1, fmt.Errorf("%w: symbol table: %v", ErrFormat, r)}
		}
	}()
	es, err := f.ef.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) {
		es, err = f.ef.DynamicSymbols()
		if errors.Is(err, elf.ErrNoSymbols) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, &Error{f.Path, -1, fmt.Errorf("%w: symbol table: %v", ErrFormat, err)}
	}
	syms = make([]Symbol, len(es)+1)
	for i, s := range es {
		syms[i+1] = Symbol{Name: s.Name, Info: s.Info, Other: s.Other, Section: s.Section, Value: s.Value, Size: s.Size}
	}
	return syms, nil
}

// DWARF holds the debug sections' bytes, ready for a DWARF decoder. Missing
// sections are nil. Str and LineStr are in Go memory, never in the file's mapping:
// strings that alias them (unsafe.String) stay valid after Close, and keep the
// section alive, as long as they are referenced.
type DWARF struct {
	Info, Abbrev, Str, LineStr, StrOffsets, Addr []byte
	Ranges, Rnglists, Loc, Loclists              []byte
	ByteOrder                                    binary.ByteOrder

	// InfoReader reads Info from the file, where Info is the file's own bytes
	// (mapped, not relocated or decompressed); else it is nil. Reading a few
	// bytes here and there through it (unit headers) costs a system call each,
	// where touching the mapping costs a page fault each. Valid until Close.
	InfoReader io.ReaderAt

	// relocs maps, for ET_REL objects, offsets in .debug_info and .debug_addr that
	// received an address relocation to the index of the section the relocation's
	// symbol is defined in. Sorted by offset.
	infoTargets []relocTarget
	addrTargets []relocTarget
	sections    []*Section
}

type relocTarget struct {
	off   uint64
	shndx uint32
}

// debugSections lists the sections DWARF reads, in the order of DWARF's fields.
var debugSections = []string{
	".debug_info", ".debug_abbrev", ".debug_str", ".debug_line_str", ".debug_str_offsets",
	".debug_addr", ".debug_ranges", ".debug_rnglists", ".debug_loc", ".debug_loclists",
}

// DWARF loads the debug sections once; later calls return the same value. It is
// safe for concurrent use. A file without .debug_info gives an error wrapping
// ErrNoDWARF.
func (f *File) DWARF() (*DWARF, error) {
	f.dwarfOnce.Do(func() { f.dwarf, f.dwarfErr = f.loadDWARF() })
	return f.dwarf, f.dwarfErr
}

// ErrNoDWARF is returned by DWARF for files without .debug_info.
var ErrNoDWARF = errors.New("no DWARF debug info (.debug_info)")

func (f *File) loadDWARF() (*DWARF, error) {
	if f.Section(".debug_info") == nil {
		if f.Section(".zdebug_info") != nil {
			return nil, &Error{f.Path, -1, errors.New("GNU .zdebug_* compressed sections are not supported (relink with --compress-debug-sections=zlib or none)")}
		}
		return nil, &Error{f.Path, -1, ErrNoDWARF}
	}
	d := &DWARF{ByteOrder: f.ByteOrder, sections: f.Sections}
	dst := []*[]byte{&d.Info, &d.Abbrev, &d.Str, &d.LineStr, &d.StrOffsets, &d.Addr, &d.Ranges, &d.Rnglists, &d.Loc, &d.Loclists}
	for i, name := range debugSections {
		s := f.Section(name)
		if s == nil {
			continue
		}
		data, err := f.Data(s)
		if err != nil {
			return nil, err
		}
		if f.Type == elf.ET_REL {
			var targets *[]relocTarget
			switch name {
			case ".debug_info":
				targets = &d.infoTargets
			case ".debug_addr":
				targets = &d.addrTargets
			}
			data, err = f.relocate(s, data, targets)
			if err != nil {
				return nil, err
			}
		}
		*dst[i] = data
		if name == ".debug_info" && f.file != nil && f.Type != elf.ET_REL && s.Flags&elf.SHF_COMPRESSED == 0 {
			d.InfoReader = io.NewSectionReader(f.file, int64(s.Offset), int64(s.Size))
		}
	}
	// The string sections are copied out of the mapping: names decoded from
	// DWARF may then alias them (see the DWARF type) and outlive the File.
	d.Str, d.LineStr = clone(d.Str), clone(d.LineStr)
	return d, nil
}

// ReleaseInfo tells the mapping that the bytes [off, end) of Info will not be
// read again soon: their pages are dropped from the process (they stay in the
// page cache, and reading them again maps them again). A vmlinux's .debug_info
// is 160 MB that a converter reads once, range by range; released, it does not
// add to the peak memory of the stages after the encoder. A no-op where Info is
// not the file's mapping.
func (d *DWARF) ReleaseInfo(off, end uint64) {
	if d.InfoReader == nil || end > uint64(len(d.Info)) || off >= end {
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(d.Info)))
	page := uintptr(os.Getpagesize())
	lo := (base + uintptr(off) + page - 1) &^ (page - 1)
	hi := (base + uintptr(end)) &^ (page - 1)
	if lo >= hi {
		return
	}
	b := d.Info[lo-base : hi-base]
	_ = syscall.Madvise(b, syscall.MADV_DONTNEED) // advice: an error changes nothing
}

// InfoSection returns the name of the section that the address stored at offset
// off of .debug_info was relocated against (ET_REL only), or "" if unknown.
func (d *DWARF) InfoSection(off uint64) string { return d.lookup(d.infoTargets, off) }

// AddrSection is InfoSection for an entry of .debug_addr.
func (d *DWARF) AddrSection(off uint64) string { return d.lookup(d.addrTargets, off) }

func (d *DWARF) lookup(ts []relocTarget, off uint64) string {
	i := sort.Search(len(ts), func(i int) bool { return ts[i].off >= off })
	if i < len(ts) && ts[i].off == off && int(ts[i].shndx) < len(d.sections) {
		return d.sections[ts[i].shndx].Name
	}
	return ""
}

// clone copies b into Go memory (huge pages if it is large: a vmlinux's .debug_str
// is megabytes).
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	c := hugepage.MakeNoZero[byte](len(b), len(b))
	copy(c, b)
	return c
}
