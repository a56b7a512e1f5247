// Package dwarf is a lean decoder of DWARF 2-5 debugging information entries
// (DIEs), reading straight from the section bytes and decoding only the ~30
// attributes BTF needs.
//
// Why not debug/dwarf: on a 163 MB .debug_info (vmlinux, 14.2 M DIEs) it
// allocates 4 GB just to walk the entries, because every Entry carries a slice
// of every attribute. This decoder walks the same DIEs with no allocation per
// DIE. What makes it fast:
//
//   - Abbreviation tables are decoded once per unit into a dense slice indexed by
//     abbreviation code (codes are small consecutive integers in practice), not
//     a map. One scratch table is reused from unit to unit.
//   - Each abbreviation is compiled into a list of operations. An operation
//     decodes one wanted attribute, or skips one variable-size attribute; runs
//     of fixed-size attributes we do not want (and the fixed offset of the next
//     wanted one) are merged into a precomputed skip. Most abbreviations have
//     only fixed-size forms, so a DIE costs a code lookup and a few loads.
//   - Values are stored raw (a uint64 and the form) in a caller-owned Entry;
//     strings, addresses and blocks are resolved on demand (Reader.String,
//     Reader.Addr, Reader.Block), as slices of the sections.
//
// Supported: unit headers of DWARF 2-5 (the v5 header order, unit types
// compile, partial, type, skeleton), 32- and 64-bit DWARF, every DWARF 5 form
// (implicit_const, strx*, addrx*, line_strp, ref_udata, ref_addr, data16,
// exprloc, loclistx, rnglistx, indirect). References are resolved to
// .debug_info offsets; ref_addr may point into another unit (LTO), which the
// caller must check. References to type units (ref_sig8) and to supplementary
// files (ref_sup*, GNU_ref_alt) are reported with their form and not resolved.
//
// Errors are *DecodeError values carrying the section offset of the unit and
// of the DIE.
package dwarf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Sections holds the bytes of the debug sections. Info and Abbrev are required.
type Sections struct {
	Info, Abbrev, Str, LineStr, StrOffsets, Addr []byte
	Ranges, Rnglists, Loc, Loclists              []byte
	ByteOrder                                    binary.ByteOrder

	// InfoReader, if not nil, reads the same bytes as Info (at offset 0 of
	// .debug_info): New reads the unit headers through it instead of from
	// Info. Where Info is a file mapping, listing the units of a large file (a
	// vmlinux: 2,000 units over 160 MB) then costs a system call per unit, not
	// a page fault.
	InfoReader io.ReaderAt
}

// ErrFormat is wrapped by every error about malformed DWARF.
var ErrFormat = errors.New("malformed DWARF")

// DecodeError locates an error in .debug_info.
type DecodeError struct {
	Unit   uint64 // offset of the unit header
	Offset uint64 // offset of the DIE (or of the header field) in .debug_info
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf(".debug_info: unit at %#x: DIE at %#x: %v", e.Unit, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Unit is one unit header of .debug_info.
type Unit struct {
	Index        int    // position in .debug_info
	Offset       uint64 // offset of the unit header
	End          uint64 // offset just past the unit
	DataOffset   uint64 // offset of the first DIE
	Version      uint16
	UnitType     uint8 // DW_UT_*; for DWARF < 5, UTCompile
	AddrSize     uint8
	OffsetSize   uint8 // 4 (32-bit DWARF) or 8 (64-bit DWARF)
	AbbrevOffset uint64
}

// Size is the unit's size in .debug_info, header included.
func (u *Unit) Size() uint64 { return u.End - u.Offset }

// Data is a parsed .debug_info: the unit headers, and the sections.
type Data struct {
	sec   Sections
	units []Unit
}

// New parses the unit headers of s.Info.
func New(s Sections) (*Data, error) {
	if s.ByteOrder == nil {
		s.ByteOrder = binary.LittleEndian
	}
	d := &Data{sec: s}
	info := s.Info
	bo := s.ByteOrder
	// hdr holds the bytes from the unit's start on, as many as the longest
	// header has (length, version, unit type, address size, abbreviation
	// offset, and a skeleton's or type unit's extra fields); h(p) is the header
	// from offset p of .debug_info on.
	const maxHeader = 12 + 2 + 2 + 8 + 8 + 8
	var buf [maxHeader]byte
	var hdr []byte
	var base uint64
	h := func(p uint64) []byte { return hdr[p-base:] }
	for off := uint64(0); off < uint64(len(info)); {
		base = off
		hdr = info[off:min(off+maxHeader, uint64(len(info)))]
		if s.InfoReader != nil {
			n, err := s.InfoReader.ReadAt(buf[:len(hdr)], int64(off))
			if n < len(hdr) {
				return nil, &DecodeError{Unit: off, Offset: off, Err: fmt.Errorf("reading the unit header: %w", err)}
			}
			hdr = buf[:n]
		}
		u := Unit{Index: len(d.units), Offset: off}
		bad := func(at uint64, msg string, args ...any) error {
			return &DecodeError{Unit: u.Offset, Offset: at, Err: fmt.Errorf("%w: unit header: %s", ErrFormat, fmt.Sprintf(msg, args...))}
		}
		rest := uint64(len(info)) - off
		if rest < 4 {
			return nil, bad(off, "truncated unit length")
		}
		p := off
		length := uint64(bo.Uint32(h(p)))
		p += 4
		u.OffsetSize = 4
		if length == 0xffffffff {
			if rest < 12 {
				return nil, bad(off, "truncated 64-bit unit length")
			}
			length = bo.Uint64(h(p))
			p += 8
			u.OffsetSize = 8
		} else if length >= 0xfffffff0 {
			return nil, bad(off, "reserved unit length %#x", length)
		}
		if length > uint64(len(info))-p {
			return nil, bad(off, "unit length %#x runs past the end of .debug_info (%#x)", length, len(info))
		}
		u.End = p + length
		need := func(n uint64) error {
			if u.End-p < n {
				return bad(p, "truncated header")
			}
			return nil
		}
		if err := need(2); err != nil {
			return nil, err
		}
		u.Version = bo.Uint16(h(p))
		p += 2
		if u.Version < 2 || u.Version > 5 {
			return nil, bad(off, "unsupported DWARF version %d", u.Version)
		}
		os := uint64(u.OffsetSize)
		readOff := func() uint64 {
			if os == 8 {
				v := bo.Uint64(h(p))
				p += 8
				return v
			}
			v := uint64(bo.Uint32(h(p)))
			p += 4
			return v
		}
		if u.Version >= 5 {
			if err := need(2 + os); err != nil {
				return nil, err
			}
			u.UnitType = h(p)[0]
			u.AddrSize = h(p)[1]
			p += 2
			u.AbbrevOffset = readOff()
			switch u.UnitType {
			case UTCompile, UTPartial:
			case UTSkeleton, UTSplitCompile:
				if err := need(8); err != nil {
					return nil, err
				}
				p += 8 // dwo_id
			case UTType, UTSplitType:
				if err := need(8 + os); err != nil {
					return nil, err
				}
				p += 8 + os // type_signature, type_offset
			default:
				return nil, bad(off, "unknown unit type %#x", u.UnitType)
			}
		} else {
			if err := need(os + 1); err != nil {
				return nil, err
			}
			u.UnitType = UTCompile
			u.AbbrevOffset = readOff()
			u.AddrSize = h(p)[0]
			p++
		}
		if u.AddrSize != 4 && u.AddrSize != 8 && u.AddrSize != 2 {
			return nil, bad(off, "unsupported address size %d", u.AddrSize)
		}
		if u.AbbrevOffset >= uint64(len(s.Abbrev)) {
			return nil, bad(off, "abbreviation offset %#x past the end of .debug_abbrev (%#x)", u.AbbrevOffset, len(s.Abbrev))
		}
		u.DataOffset = p
		d.units = append(d.units, u)
		off = u.End
	}
	return d, nil
}

// Units returns the unit headers in .debug_info order. The slice must not be
// modified.
func (d *Data) Units() []Unit { return d.units }

// Sections returns the sections d reads.
func (d *Data) Sections() *Sections { return &d.sec }

// CrossUnitRefs reports whether some unit's abbreviation table has an attribute
// of form DW_FORM_ref_addr: the only form by which a DIE can refer to a DIE of
// another unit of the same file. Compilers emit it for LTO (GCC's LTRANS units
// refer to the early-debug units, clang's units share types) and dwz for the
// partial units it factors out. pahole's cus__merging_cu makes the same test
// (when the ELF has no Linux LTO note) to decide that all units must be
// loaded as one. Each table is read once, however many units share it.
func (d *Data) CrossUnitRefs() (bool, error) {
	seen := make(map[uint64]bool)
	for i := range d.units {
		u := &d.units[i]
		if seen[u.AbbrevOffset] {
			continue
		}
		seen[u.AbbrevOffset] = true
		found, err := abbrevUses(d.sec.Abbrev, u.AbbrevOffset, FormRefAddr)
		if err != nil {
			return false, &DecodeError{Unit: u.Offset, Offset: u.Offset, Err: err}
		}
		if found {
			return true, nil
		}
	}
	return false, nil
}

// abbrevUses reports whether the abbreviation table at off has an attribute
// of form f.
func abbrevUses(ab []byte, off uint64, f Form) (bool, error) {
	p := off
	bad := func(msg string) error {
		return fmt.Errorf("%w: .debug_abbrev at %#x: %s", ErrFormat, p, msg)
	}
	for {
		code, n := uleb(ab, p)
		if n == 0 {
			return false, bad("truncated abbreviation table")
		}
		p += n
		if code == 0 {
			return false, nil
		}
		if _, n = uleb(ab, p); n == 0 || p+n >= uint64(len(ab)) { // tag, then DW_CHILDREN_*
			return false, bad("truncated abbreviation")
		}
		p += n + 1
		for {
			name, n := uleb(ab, p)
			if n == 0 {
				return false, bad("truncated abbreviation")
			}
			p += n
			form, n := uleb(ab, p)
			if n == 0 {
				return false, bad("truncated abbreviation")
			}
			p += n
			if Form(form) == FormImplicitConst {
				if _, n = sleb(ab, p); n == 0 {
					return false, bad("truncated implicit_const")
				}
				p += n
			}
			if name == 0 && form == 0 {
				break
			}
			if Form(form) == f {
				return true, nil
			}
		}
	}
}
