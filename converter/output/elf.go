package output

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"syscall"
)

// AddSection returns a copy of the ELF file elf with section name (".BTF",
// ".BTF.base") holding data: added if elf has no such section, replaced if it has.
//
// Nothing that is already in the file moves, so program headers, segment contents and
// every other section's offset stay valid (pahole -J, which rewrites the ELF through
// libelf, moves .text without updating the program headers). Instead, what changes is
// appended to the end of the file:
//
//	adding:     [original bytes] [data, 4-aligned] [.shstrtab + name, if name is new]
//	            [section header table + the new header, aligned to the word size]
//	replacing:  data overwrites the old contents in place if it fits (the rest of the
//	            old contents is zeroed); otherwise it is appended (4-aligned) and the
//	            section's header, in the existing table, points there.
//
// The old .shstrtab and section header table stay in the file as unreferenced bytes.
// In the ELF header only e_shoff and e_shnum change (and section 0's sh_size when the
// count needs extended numbering): the header is inside the first PT_LOAD of most
// executables, but those fields mean nothing at run time.
// A new section is SHT_PROGBITS with no flags (not loaded) and sh_addralign 4: the
// records of BTF are 32-bit words (objcopy --add-section and pahole give alignment 1;
// readers copy the section, so either works). A replaced section keeps its header
// fields except offset and size. A section that is part of the loaded image
// (SHF_ALLOC, as vmlinux's .BTF is, found through __start_BTF/__stop_BTF) can only be
// replaced by data of the same size: anything else needs a relink.
//
// ET_REL, ET_EXEC and ET_DYN files of either class and byte order are supported,
// including extended section numbering (e_shnum 0 and e_shstrndx SHN_XINDEX, the
// real values in section header 0).
func AddSection(elf []byte, name string, data []byte) ([]byte, error) {
	out := make([]byte, len(elf), len(elf)+len(data)+4096)
	copy(out, elf)
	f, err := parseELF(out)
	if err != nil {
		return nil, err
	}
	if err := f.set(name, data); err != nil {
		return nil, err
	}
	return append(f.orig, f.tail...), nil
}

// AddSectionsInPlace is AddSection on the ELF file at path itself, for each section
// in turn (pahole -J): what AddSection appends is written at the end of the file,
// then the few header bytes it changes, the ELF header last; the rest of the file is
// neither read nor written. An error before the writes leaves the file as it was.
// Unlike WriteFileAtomic, nothing is synced: like pahole's, the result is a build
// step's, which the build reruns.
func AddSectionsInPlace(path string, secs ...Section) error {
	file, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == 0 || size != int64(int(size)) {
		return fmt.Errorf("%s: elf: offset 0x0: %w", path, ErrNotELF)
	}
	// A private mapping: the header bytes the sections change are copied on write,
	// the rest stays in the page cache, untouched.
	orig, err := syscall.Mmap(int(file.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer syscall.Munmap(orig)
	f, err := parseELF(orig)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	f.dirty = []span{}
	for _, sec := range secs {
		if err := f.set(sec.Name, sec.Data); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if _, err := file.WriteAt(f.tail, size); err != nil {
		return err
	}
	// The ELF header (the first span, if it changed at all) goes last.
	slices.SortFunc(f.dirty, func(a, b span) int { return cmp.Compare(b.off, a.off) })
	for _, d := range f.dirty {
		if _, err := file.WriteAt(orig[d.off:d.off+d.n], int64(d.off)); err != nil {
			return err
		}
	}
	return file.Close()
}

// Section is a section for AddSectionsInPlace to add or replace.
type Section struct {
	Name string
	Data []byte
}

// set adds section name with data, or replaces its contents.
func (f *elfFile) set(name string, data []byte) error {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("elf: invalid section name %q", name)
	}
	idx, err := f.find(name)
	if err != nil {
		return err
	}
	if idx >= 0 {
		return f.replace(idx, name, data)
	}
	return f.add(name, data)
}

// ELF constants (elf(5)).
const (
	etRel, etExec, etDyn = 1, 2, 3
	shtProgbits          = 1
	shtStrtab            = 3
	shtNobits            = 8
	shfAlloc             = 2
	shnLoreserve         = 0xff00
	shnXindex            = 0xffff
	btfAlign             = 4
)

// elfFile is the part of an ELF file's layout AddSection needs; field offsets follow
// the class.
//
// The file is the bytes of the original, orig, which set changes in place (only
// header fields, and a replaced section's contents where they fit), followed by
// tail, what set appends. With dirty not nil, every change to orig is recorded in
// it.
type elfFile struct {
	orig      []byte
	tail      []byte
	dirty     []span
	bo        binary.ByteOrder
	is64      bool
	shoff     uint64
	shnum     int
	shstrndx  int
	shentsize int
	shstrtab  []byte
}

// span is a range of bytes of a file.
type span struct{ off, n uint64 }

func errorf(off uint64, format string, args ...any) error {
	return fmt.Errorf("elf: offset %#x: %s", off, fmt.Sprintf(format, args...))
}

// ErrNotELF is returned (wrapped) by AddSection for input that is not an ELF file.
var ErrNotELF = errors.New("not an ELF file")

func parseELF(b []byte) (*elfFile, error) {
	if len(b) < 16 || string(b[:4]) != "\x7fELF" {
		return nil, fmt.Errorf("elf: offset 0x0: %w", ErrNotELF)
	}
	f := &elfFile{orig: b}
	switch b[4] {
	case 1:
	case 2:
		f.is64 = true
	default:
		return nil, errorf(4, "unknown ELF class %d", b[4])
	}
	switch b[5] {
	case 1:
		f.bo = binary.LittleEndian
	case 2:
		f.bo = binary.BigEndian
	default:
		return nil, errorf(5, "unknown ELF data encoding %d", b[5])
	}
	if b[6] != 1 {
		return nil, errorf(6, "unknown ELF version %d", b[6])
	}
	ehsize, shentsize := 52, 40
	if f.is64 {
		ehsize, shentsize = 64, 64
	}
	if len(b) < ehsize {
		return nil, errorf(0, "truncated ELF header (%d bytes, need %d)", len(b), ehsize)
	}
	switch t := f.bo.Uint16(b[16:]); t {
	case etRel, etExec, etDyn:
	default:
		return nil, errorf(16, "ELF type %d is not ET_REL, ET_EXEC or ET_DYN", t)
	}
	f.shoff = f.word(f.ehdrOff(40, 32))
	f.shentsize = int(f.bo.Uint16(b[f.ehdrOff(58, 46):]))
	shnum := uint64(f.bo.Uint16(b[f.ehdrOff(60, 48):]))
	shstrndx := uint64(f.bo.Uint16(b[f.ehdrOff(62, 50):]))
	if f.shoff == 0 {
		return nil, errorf(f.ehdrOff(40, 32), "no section header table")
	}
	if f.shentsize != shentsize {
		return nil, errorf(f.ehdrOff(58, 46), "section header size %d, want %d", f.shentsize, shentsize)
	}
	if f.shoff > uint64(len(b)) || uint64(len(b))-f.shoff < uint64(shentsize) {
		return nil, errorf(f.ehdrOff(40, 32), "section header table at %#x beyond the %d-byte file", f.shoff, len(b))
	}
	if shnum == 0 { // extended numbering: the count is in section 0's sh_size
		shnum = f.word(f.shdrOff(0, 32, 20))
	}
	if shstrndx == shnXindex {
		shstrndx = uint64(f.bo.Uint32(b[f.shdrOff(0, 40, 24):]))
	}
	if shnum == 0 || shnum > (uint64(len(b))-f.shoff)/uint64(shentsize) {
		return nil, errorf(f.shoff, "section header table of %d entries beyond the %d-byte file", shnum, len(b))
	}
	f.shnum = int(shnum)
	if shstrndx == 0 || shstrndx >= shnum {
		return nil, errorf(f.ehdrOff(62, 50), "section name table index %d out of range (%d sections)", shstrndx, shnum)
	}
	f.shstrndx = int(shstrndx)
	if typ := f.shType(f.shstrndx); typ != shtStrtab {
		return nil, errorf(f.shdrOff(f.shstrndx, 4, 4), "section name table (section %d) has type %d, not SHT_STRTAB", f.shstrndx, typ)
	}
	off, size := f.shOffset(f.shstrndx), f.shSize(f.shstrndx)
	if off > uint64(len(b)) || size > uint64(len(b))-off {
		return nil, errorf(f.shdrOff(f.shstrndx, 24, 16), "section name table [%#x, +%#x) beyond the %d-byte file", off, size, len(b))
	}
	f.shstrtab = b[off : off+size]
	return f, nil
}

// ehdrOff picks the ELF header field offset for the class.
func (f *elfFile) ehdrOff(off64, off32 uint64) uint64 {
	if f.is64 {
		return off64
	}
	return off32
}

// shdrOff is the file offset of a field of section header i.
func (f *elfFile) shdrOff(i int, off64, off32 uint64) uint64 {
	return f.shoff + uint64(i)*uint64(f.shentsize) + f.ehdrOff(off64, off32)
}

// size is the length of the file as it stands.
func (f *elfFile) size() uint64 { return uint64(len(f.orig) + len(f.tail)) }

// at returns the n bytes at file offset off, for reading; a range lies wholly in
// the original or wholly in what was appended.
func (f *elfFile) at(off, n uint64) []byte {
	if o := uint64(len(f.orig)); off >= o {
		return f.tail[off-o : off-o+n]
	}
	return f.orig[off : off+n]
}

// put returns the n bytes at file offset off, for writing.
func (f *elfFile) put(off, n uint64) []byte {
	if off < uint64(len(f.orig)) && f.dirty != nil {
		f.dirty = append(f.dirty, span{off, n})
	}
	return f.at(off, n)
}

// word reads an address-sized field.
func (f *elfFile) word(off uint64) uint64 {
	if f.is64 {
		return f.bo.Uint64(f.at(off, 8))
	}
	return uint64(f.bo.Uint32(f.at(off, 4)))
}

func (f *elfFile) putWord(off, v uint64) {
	if f.is64 {
		f.bo.PutUint64(f.put(off, 8), v)
	} else {
		f.bo.PutUint32(f.put(off, 4), uint32(v))
	}
}

func (f *elfFile) put16(off uint64, v uint16) { f.bo.PutUint16(f.put(off, 2), v) }
func (f *elfFile) put32(off uint64, v uint32) { f.bo.PutUint32(f.put(off, 4), v) }

func (f *elfFile) shName(i int) uint32   { return f.bo.Uint32(f.at(f.shdrOff(i, 0, 0), 4)) }
func (f *elfFile) shType(i int) uint32   { return f.bo.Uint32(f.at(f.shdrOff(i, 4, 4), 4)) }
func (f *elfFile) shFlags(i int) uint64  { return f.word(f.shdrOff(i, 8, 8)) }
func (f *elfFile) shOffset(i int) uint64 { return f.word(f.shdrOff(i, 24, 16)) }
func (f *elfFile) shSize(i int) uint64   { return f.word(f.shdrOff(i, 32, 20)) }

// find returns the index of the section called name, or -1.
func (f *elfFile) find(name string) (int, error) {
	for i := 1; i < f.shnum; i++ {
		off := f.shName(i)
		if uint64(off) >= uint64(len(f.shstrtab)) {
			return 0, errorf(f.shdrOff(i, 0, 0), "section %d: name offset %d beyond the section name table (%d bytes)", i, off, len(f.shstrtab))
		}
		s := f.shstrtab[off:]
		if n := bytes.IndexByte(s, 0); n >= 0 && string(s[:n]) == name {
			return i, nil
		}
	}
	return -1, nil
}

// appendAligned appends b to the file at the next multiple of align and returns its
// offset.
func (f *elfFile) appendAligned(b []byte, align int) uint64 {
	for f.size()%uint64(align) != 0 {
		f.tail = append(f.tail, 0)
	}
	off := f.size()
	f.tail = append(f.tail, b...)
	return off
}

func (f *elfFile) replace(i int, name string, data []byte) error {
	off, size := f.shOffset(i), f.shSize(i)
	hdr := f.shdrOff(i, 0, 0)
	if f.shType(i) == shtNobits {
		return errorf(hdr, "section %d (%s) is SHT_NOBITS: it has no contents to replace", i, name)
	}
	if end := f.size(); off > end || size > end-off || (off < uint64(len(f.orig)) && off+size > uint64(len(f.orig))) {
		return errorf(hdr, "section %d (%s) [%#x, +%#x) beyond the %d-byte file", i, name, off, size, end)
	}
	if f.shFlags(i)&shfAlloc != 0 && uint64(len(data)) != size {
		return errorf(hdr, "section %d (%s) is part of the loaded image (SHF_ALLOC); replacing its %d bytes with %d would need a relink", i, name, size, len(data))
	}
	if uint64(len(data)) <= size {
		b := f.put(off, size)
		copy(b, data)
		clear(b[len(data):])
	} else {
		align := int(f.word(f.shdrOff(i, 48, 32)))
		if align < btfAlign || align&(align-1) != 0 || align > 4096 {
			align = btfAlign
		}
		off = f.appendAligned(data, align)
		f.putWord(f.shdrOff(i, 24, 16), off)
	}
	f.putWord(f.shdrOff(i, 32, 20), uint64(len(data)))
	return nil
}

func (f *elfFile) add(name string, data []byte) error {
	// The name: reuse an existing string (also as the tail of a longer one, as
	// ".BTF" is of ".rel.BTF"), or append a grown copy of the name table.
	nameOff := bytes.Index(f.shstrtab, append([]byte(name), 0))
	if nameOff < 0 && uint64(len(f.shstrtab))+uint64(len(name)) >= math.MaxUint32 {
		return fmt.Errorf("elf: section name table too large to add %q", name)
	}
	dataOff := f.appendAligned(data, btfAlign)
	if nameOff < 0 {
		strtab := make([]byte, 0, len(f.shstrtab)+len(name)+1)
		strtab = append(append(append(strtab, f.shstrtab...), name...), 0)
		nameOff = len(f.shstrtab)
		off := f.appendAligned(strtab, 1)
		f.putWord(f.shdrOff(f.shstrndx, 24, 16), off)
		f.putWord(f.shdrOff(f.shstrndx, 32, 20), uint64(len(strtab)))
		f.shstrtab = f.at(off, uint64(len(strtab)))
	}

	// The new section header table: the old one (with the updates above) and one
	// more entry.
	wordSize := 4
	if f.is64 {
		wordSize = 8
	}
	oldTable := f.at(f.shoff, uint64(f.shnum*f.shentsize))
	table := make([]byte, len(oldTable)+f.shentsize)
	copy(table, oldTable)
	newShoff := f.appendAligned(table, wordSize)
	f.shoff = newShoff
	n := f.shnum
	f.shnum++
	f.put32(f.shdrOff(n, 0, 0), uint32(nameOff))
	f.put32(f.shdrOff(n, 4, 4), shtProgbits)
	f.putWord(f.shdrOff(n, 8, 8), 0)         // sh_flags
	f.putWord(f.shdrOff(n, 16, 12), 0)       // sh_addr
	f.putWord(f.shdrOff(n, 24, 16), dataOff) // sh_offset
	f.putWord(f.shdrOff(n, 32, 20), uint64(len(data)))
	f.put32(f.shdrOff(n, 40, 24), 0)          // sh_link
	f.put32(f.shdrOff(n, 44, 28), 0)          // sh_info
	f.putWord(f.shdrOff(n, 48, 32), btfAlign) // sh_addralign
	f.putWord(f.shdrOff(n, 56, 36), 0)        // sh_entsize

	// The ELF header: e_shoff and e_shnum (extended numbering past SHN_LORESERVE).
	f.putWord(f.ehdrOff(40, 32), newShoff)
	shnum := n + 1
	if shnum >= shnLoreserve {
		f.put16(f.ehdrOff(60, 48), 0)
		f.putWord(f.shdrOff(0, 32, 20), uint64(shnum))
	} else {
		f.put16(f.ehdrOff(60, 48), uint16(shnum))
	}
	if f.shstrndx >= shnLoreserve {
		f.put16(f.ehdrOff(62, 50), shnXindex)
		f.put32(f.shdrOff(0, 40, 24), uint32(f.shstrndx))
	}
	return nil
}
