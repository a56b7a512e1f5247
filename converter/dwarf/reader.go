package dwarf

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Entry is one decoded DIE. Only attributes in Has are valid; the values of the
// others are left over from earlier DIEs. An Entry with Tag 0 is a null entry
// (the end of a list of children).
type Entry struct {
	Offset   uint64 // section offset of the DIE
	Tag      Tag
	Children bool

	has  uint64
	val  [NumAttrs]uint64
	form [NumAttrs]Form
	blen [NumAttrs]uint32 // block and inline-string lengths
}

// Has reports whether the DIE has attribute a.
func (e *Entry) Has(a Attr) bool { return e.has&(1<<a) != 0 }

// Form returns the form of attribute a (valid if Has(a)).
func (e *Entry) Form(a Attr) Form { return e.form[a] }

// Val returns the raw value of attribute a, or 0 if absent: a constant
// (sign-extended for sdata and implicit_const), a flag (0 or 1), a .debug_info
// offset for references, an index for strx/addrx/loclistx/rnglistx forms, a
// section offset for strp/line_strp/sec_offset forms, the offset of the data in
// .debug_info for blocks and inline strings.
func (e *Entry) Val(a Attr) uint64 {
	if e.has&(1<<a) == 0 {
		return 0
	}
	return e.val[a]
}

// Flag reports whether the flag attribute a is present and true.
func (e *Entry) Flag(a Attr) bool { return e.has&(1<<a) != 0 && e.val[a] != 0 }

// Ref returns the .debug_info offset attribute a refers to, if it is a reference
// resolvable in this file.
func (e *Entry) Ref(a Attr) (uint64, bool) {
	if e.has&(1<<a) == 0 {
		return 0, false
	}
	switch e.form[a] {
	case FormRef1, FormRef2, FormRef4, FormRef8, FormRefUdata, FormRefAddr:
		return e.val[a], true
	}
	return 0, false
}

// abbrev is one compiled abbreviation.
type abbrev struct {
	tag      Tag
	children bool
	first    uint32 // ops[first:last] in the table
	last     uint32
	tail     uint32 // fixed bytes after the last op
	valid    bool
	// fixed is set when every attribute has a fixed size; total is then the
	// DIE's size after the code, checked once before decoding.
	fixed bool
	total uint32
}

// op decodes one wanted attribute or skips one variable-size attribute, after
// skipping `skip` bytes of fixed-size attributes.
type op struct {
	skip  uint32
	attr  uint8 // Attr, or noAttr for a pure skip
	form  Form
	size  uint8 // fixed size of the form, 0 if variable
	ref   bool  // unit-relative reference: add the unit's offset
	value int64 // implicit_const
}

// Reader decodes the DIEs of one unit at a time. It is not safe for concurrent
// use; use one Reader per goroutine. Reset moves it to another unit, reusing its
// abbreviation table.
type Reader struct {
	d    *Data
	u    *Unit
	info []byte
	bo   binary.ByteOrder
	le   bool
	pos  uint64

	abbrevs []abbrev
	ops     []op

	strOffsetsBase uint64
	addrBase       uint64
	loclistsBase   uint64
	haveBases      bool
}

// NewReader returns a Reader; call Reset before Next.
func (d *Data) NewReader() *Reader {
	return &Reader{d: d, info: d.sec.Info, bo: d.sec.ByteOrder, le: d.sec.ByteOrder == binary.LittleEndian}
}

// Unit returns the unit the reader is in.
func (r *Reader) Unit() *Unit { return r.u }

// Reset positions the reader at the first DIE of u and decodes u's
// abbreviation table.
func (r *Reader) Reset(u *Unit) error {
	r.u = u
	r.pos = u.DataOffset
	r.info = r.d.sec.Info[:u.End]
	r.haveBases = false
	r.strOffsetsBase, r.addrBase, r.loclistsBase = 0, 0, 0
	if u.Version >= 5 {
		// DWARF 5 section 7.26: without DW_AT_str_offsets_base the base is just past
		// the header of the .debug_str_offsets contribution.
		r.strOffsetsBase = 8
		if u.OffsetSize == 8 {
			r.strOffsetsBase = 16
		}
		r.addrBase = 8
		// Without DW_AT_loclists_base, the first offset table follows the first
		// .debug_loclists header.
		r.loclistsBase = 12
		if u.OffsetSize == 8 {
			r.loclistsBase = 20
		}
	}
	if err := r.compileAbbrevs(); err != nil {
		return &DecodeError{Unit: u.Offset, Offset: u.Offset, Err: err}
	}
	return nil
}

// Seek moves the reader to the DIE at section offset off, which must be in the
// current unit.
func (r *Reader) Seek(off uint64) error {
	if off < r.u.DataOffset || off > r.u.End {
		return &DecodeError{Unit: r.u.Offset, Offset: off, Err: fmt.Errorf("%w: seek outside the unit", ErrFormat)}
	}
	r.pos = off
	return nil
}

// Offset returns the section offset of the next DIE.
func (r *Reader) Offset() uint64 { return r.pos }

// Done reports whether the unit has no more DIEs.
func (r *Reader) Done() bool { return r.pos >= r.u.End }

// fixedSize returns the size of form in this unit, or 0 for variable-size forms
// (and for the zero-size forms flag_present and implicit_const, whose size is
// reported as fixed through ok).
func (r *Reader) fixedSize(f Form) (size int, ok bool) {
	u := r.u
	switch f {
	case FormAddr:
		return int(u.AddrSize), true
	case FormData1, FormRef1, FormFlag, FormStrx1, FormAddrx1:
		return 1, true
	case FormData2, FormRef2, FormStrx2, FormAddrx2:
		return 2, true
	case FormStrx3, FormAddrx3:
		return 3, true
	case FormData4, FormRef4, FormStrx4, FormAddrx4, FormRefSup4:
		return 4, true
	case FormData8, FormRef8, FormRefSig8, FormRefSup8:
		return 8, true
	case FormData16:
		return 16, true
	case FormStrp, FormLineStrp, FormSecOffset, FormStrpSup, FormGNURefAlt, FormGNUStrpAlt:
		return int(u.OffsetSize), true
	case FormRefAddr:
		if u.Version <= 2 {
			return int(u.AddrSize), true
		}
		return int(u.OffsetSize), true
	case FormFlagPresent, FormImplicitConst:
		return 0, true
	}
	return 0, false
}

func (r *Reader) compileAbbrevs() error {
	ab := r.d.sec.Abbrev
	p := r.u.AbbrevOffset
	r.ops = r.ops[:0]
	for i := range r.abbrevs {
		r.abbrevs[i].valid = false
	}
	bad := func(msg string, args ...any) error {
		return fmt.Errorf("%w: .debug_abbrev at %#x: %s", ErrFormat, p, fmt.Sprintf(msg, args...))
	}
	for {
		code, n := uleb(ab, p)
		if n == 0 {
			return bad("truncated abbreviation table")
		}
		p += n
		if code == 0 {
			return nil
		}
		if code > 1<<20 {
			return bad("abbreviation code %d too large", code)
		}
		tag, n := uleb(ab, p)
		if n == 0 || p+n >= uint64(len(ab)) {
			return bad("truncated abbreviation %d", code)
		}
		p += n
		a := abbrev{tag: Tag(tag), children: ab[p] != 0, first: uint32(len(r.ops)), valid: true}
		p++
		var skip uint32
		a.fixed = true
		for {
			name, n := uleb(ab, p)
			if n == 0 {
				return bad("truncated abbreviation %d", code)
			}
			p += n
			form, n := uleb(ab, p)
			if n == 0 {
				return bad("truncated abbreviation %d", code)
			}
			p += n
			var implicit int64
			if Form(form) == FormImplicitConst {
				v, n := sleb(ab, p)
				if n == 0 {
					return bad("truncated implicit_const in abbreviation %d", code)
				}
				p += n
				implicit = v
			}
			if name == 0 && form == 0 {
				break
			}
			f := Form(form)
			size, fixed := r.fixedSize(f)
			attr := lookupAttr(name)
			if fixed {
				a.total += uint32(size)
			} else {
				a.fixed = false
			}
			switch {
			case attr == noAttr && fixed:
				skip += uint32(size)
			case attr == noAttr:
				r.ops = append(r.ops, op{skip: skip, attr: noAttr, form: f})
				skip = 0
			default:
				sz := uint8(size)
				if !fixed {
					sz = 0
				}
				isRef := f == FormRef1 || f == FormRef2 || f == FormRef4 || f == FormRef8
				r.ops = append(r.ops, op{skip: skip, attr: attr, form: f, size: sz, ref: isRef, value: implicit})
				skip = 0
			}
		}
		a.last = uint32(len(r.ops))
		a.tail = skip
		for uint64(len(r.abbrevs)) <= code {
			r.abbrevs = append(r.abbrevs, abbrev{})
		}
		if r.abbrevs[code].valid {
			return bad("duplicate abbreviation code %d", code)
		}
		r.abbrevs[code] = a
	}
}

// Next decodes the next DIE into e. At the end of the unit it returns false.
func (r *Reader) Next(e *Entry) (bool, error) {
	info := r.info
	p := r.pos
	if p >= uint64(len(info)) {
		return false, nil
	}
	e.Offset = p
	code := uint64(info[p])
	p++
	if code >= 0x80 {
		c, n := uleb(info, p-1)
		if n == 0 {
			return false, r.errAt(e.Offset, "truncated abbreviation code")
		}
		code, p = c, p-1+n
	}
	if code == 0 {
		e.Tag, e.Children, e.has = 0, false, 0
		r.pos = p
		return true, nil
	}
	if code >= uint64(len(r.abbrevs)) || !r.abbrevs[code].valid {
		return false, r.errAt(e.Offset, "unknown abbreviation code %d", code)
	}
	a := &r.abbrevs[code]
	e.Tag, e.Children, e.has = a.tag, a.children, 0
	ops := r.ops[a.first:a.last]
	if a.fixed {
		// Fast path: one bounds check for the whole DIE.
		if uint64(a.total) > uint64(len(info))-p {
			return false, r.errAt(e.Offset, "DIE runs past the end of the unit")
		}
		for i := range ops {
			o := &ops[i]
			p += uint64(o.skip)
			at := o.attr
			e.has |= 1 << at
			e.form[at] = o.form
			var v uint64
			switch o.size {
			case 0:
				if o.form == FormFlagPresent {
					v = 1
				} else {
					v = uint64(o.value)
				}
			case 1:
				v = uint64(info[p])
			case 2:
				v = r.u16(info[p : p+2])
			case 4:
				v = r.u32(info[p : p+4])
			case 8:
				v = r.u64(info[p : p+8])
			default:
				v = r.readN(p, o.size)
				if o.form == FormData16 {
					v, e.blen[at] = p, 16
				}
			}
			if o.ref {
				v += r.u.Offset
			}
			e.val[at] = v
			p += uint64(o.size)
		}
	} else {
		var err error
		for i := range ops {
			o := &ops[i]
			p += uint64(o.skip)
			if p > uint64(len(info)) {
				return false, r.errAt(e.Offset, "DIE runs past the end of the unit")
			}
			if o.attr == noAttr {
				p, err = r.skipForm(o.form, p, e)
			} else {
				p, err = r.decode(o, p, e)
			}
			if err != nil {
				return false, err
			}
		}
	}
	p += uint64(a.tail)
	if p > uint64(len(info)) {
		return false, r.errAt(e.Offset, "DIE runs past the end of the unit")
	}
	r.pos = p
	if !r.haveBases {
		r.haveBases = true
		if e.Has(AttrStrOffsetsBase) {
			r.strOffsetsBase = e.val[AttrStrOffsetsBase]
		}
		if e.Has(AttrAddrBase) {
			r.addrBase = e.val[AttrAddrBase]
		}
		if e.Has(AttrLoclistsBase) {
			r.loclistsBase = e.val[AttrLoclistsBase]
		}
	}
	return true, nil
}

func (r *Reader) u16(b []byte) uint64 {
	if r.le {
		return uint64(b[0]) | uint64(b[1])<<8
	}
	return uint64(b[1]) | uint64(b[0])<<8
}

func (r *Reader) u32(b []byte) uint64 {
	if r.le {
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24
	}
	return uint64(b[3]) | uint64(b[2])<<8 | uint64(b[1])<<16 | uint64(b[0])<<24
}

func (r *Reader) u64(b []byte) uint64 {
	if r.le {
		return binary.LittleEndian.Uint64(b)
	}
	return binary.BigEndian.Uint64(b)
}

func (r *Reader) errAt(off uint64, msg string, args ...any) error {
	return &DecodeError{Unit: r.u.Offset, Offset: off, Err: fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(msg, args...))}
}

// readN reads an n-byte unsigned value at p; the caller checked bounds (an
// out-of-range p reads as 0 and is caught by the caller's end check).
func (r *Reader) readN(p uint64, n uint8) uint64 {
	info := r.info
	if p+uint64(n) > uint64(len(info)) {
		return 0
	}
	switch n {
	case 1:
		return uint64(info[p])
	case 2:
		return uint64(r.bo.Uint16(info[p:]))
	case 3:
		b := info[p : p+3]
		if r.bo == binary.BigEndian {
			return uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
		}
		return uint64(b[2])<<16 | uint64(b[1])<<8 | uint64(b[0])
	case 4:
		return uint64(r.bo.Uint32(info[p:]))
	case 8:
		return r.bo.Uint64(info[p:])
	}
	return 0
}

// decode reads one wanted attribute at p and returns the position after it.
func (r *Reader) decode(o *op, p uint64, e *Entry) (uint64, error) {
	a := o.attr
	e.has |= 1 << a
	e.form[a] = o.form
	info := r.info
	if o.size != 0 {
		switch o.form {
		case FormData16:
			e.val[a], e.blen[a] = p, 16
		case FormRef1, FormRef2, FormRef4, FormRef8:
			e.val[a] = r.u.Offset + r.readN(p, o.size)
		default:
			e.val[a] = r.readN(p, o.size)
		}
		return p + uint64(o.size), nil
	}
	switch o.form {
	case FormFlagPresent:
		e.val[a] = 1
		return p, nil
	case FormImplicitConst:
		e.val[a] = uint64(o.value)
		return p, nil
	case FormUdata, FormStrx, FormAddrx, FormLoclistx, FormRnglistx, FormGNUAddrIndex, FormGNUStrIndex:
		v, n := uleb(info, p)
		if n == 0 {
			return 0, r.errAt(e.Offset, "truncated LEB128")
		}
		e.val[a] = v
		return p + n, nil
	case FormRefUdata:
		v, n := uleb(info, p)
		if n == 0 {
			return 0, r.errAt(e.Offset, "truncated LEB128")
		}
		e.val[a] = r.u.Offset + v
		return p + n, nil
	case FormSdata:
		v, n := sleb(info, p)
		if n == 0 {
			return 0, r.errAt(e.Offset, "truncated LEB128")
		}
		e.val[a] = uint64(v)
		return p + n, nil
	case FormString:
		q := p
		for q < uint64(len(info)) && info[q] != 0 {
			q++
		}
		if q >= uint64(len(info)) {
			return 0, r.errAt(e.Offset, "unterminated string")
		}
		e.val[a], e.blen[a] = p, uint32(q-p)
		return q + 1, nil
	case FormExprloc, FormBlock:
		l, n := uleb(info, p)
		if n == 0 || l > uint64(len(info))-(p+n) {
			return 0, r.errAt(e.Offset, "block of %d bytes runs past the end of the unit", l)
		}
		e.val[a], e.blen[a] = p+n, uint32(l)
		return p + n + l, nil
	case FormBlock1, FormBlock2, FormBlock4:
		p, l, err := r.fixedBlock(info, p, o.form, e.Offset)
		if err != nil {
			return 0, err
		}
		e.val[a], e.blen[a] = p, uint32(l)
		return p + l, nil
	case FormIndirect:
		f, n := uleb(info, p)
		if n == 0 {
			return 0, r.errAt(e.Offset, "truncated DW_FORM_indirect")
		}
		p += n
		o2 := op{attr: a, form: Form(f)}
		if Form(f) == FormImplicitConst || Form(f) == FormIndirect {
			return 0, r.errAt(e.Offset, "DW_FORM_indirect to %v", Form(f))
		}
		if size, fixed := r.fixedSize(Form(f)); fixed {
			o2.size = uint8(size)
			if size == 0 {
				e.val[a] = 1
				e.form[a] = Form(f)
				return p, nil
			}
		}
		p2, err := r.decode(&o2, p, e)
		return p2, err
	}
	return 0, r.errAt(e.Offset, "unsupported attribute form %v", o.form)
}

// skipForm skips one attribute of a variable-size form.
func (r *Reader) skipForm(f Form, p uint64, e *Entry) (uint64, error) {
	info := r.info
	switch f {
	case FormUdata, FormSdata, FormRefUdata, FormStrx, FormAddrx, FormLoclistx, FormRnglistx, FormGNUAddrIndex, FormGNUStrIndex:
		for p < uint64(len(info)) && info[p] >= 0x80 {
			p++
		}
		if p >= uint64(len(info)) {
			return 0, r.errAt(e.Offset, "truncated LEB128")
		}
		return p + 1, nil
	case FormString:
		for p < uint64(len(info)) && info[p] != 0 {
			p++
		}
		if p >= uint64(len(info)) {
			return 0, r.errAt(e.Offset, "unterminated string")
		}
		return p + 1, nil
	case FormExprloc, FormBlock:
		l, n := uleb(info, p)
		if n == 0 || l > uint64(len(info))-(p+n) {
			return 0, r.errAt(e.Offset, "block runs past the end of the unit")
		}
		return p + n + l, nil
	case FormBlock1, FormBlock2, FormBlock4:
		p, l, err := r.fixedBlock(info, p, f, e.Offset)
		if err != nil {
			return 0, err
		}
		return p + l, nil
	case FormIndirect:
		f2, n := uleb(info, p)
		if n == 0 {
			return 0, r.errAt(e.Offset, "truncated DW_FORM_indirect")
		}
		p += n
		if size, fixed := r.fixedSize(Form(f2)); fixed {
			return p + uint64(size), nil
		}
		if Form(f2) == FormIndirect {
			return 0, r.errAt(e.Offset, "nested DW_FORM_indirect")
		}
		return r.skipForm(Form(f2), p, e)
	}
	return 0, r.errAt(e.Offset, "unsupported attribute form %v", f)
}

// SkipChildren positions the reader after the children of e (the DIE just
// returned by Next), using DW_AT_sibling when present.
func (r *Reader) SkipChildren(e *Entry) error {
	if !e.Children {
		return nil
	}
	if off, ok := e.Ref(AttrSibling); ok && e.form[AttrSibling] != FormRefAddr && off > e.Offset && off <= r.u.End {
		r.pos = off
		return nil
	}
	var c Entry
	depth := 1
	for depth > 0 {
		ok, err := r.Next(&c)
		if err != nil {
			return err
		}
		if !ok {
			return r.errAt(e.Offset, "children run past the end of the unit")
		}
		if c.Tag == 0 {
			depth--
		} else if c.Children {
			depth++
		}
	}
	return nil
}

// Block returns the bytes of a block, exprloc or data16 attribute.
func (r *Reader) Block(e *Entry, a Attr) []byte {
	if !e.Has(a) || !e.form[a].IsBlock() {
		return nil
	}
	off := e.val[a]
	return r.d.sec.Info[off : off+uint64(e.blen[a])]
}

// StrRef identifies a string by section and offset, so that callers can intern
// strings without converting each occurrence.
type StrRef struct {
	Sec uint8 // 0 .debug_str, 1 .debug_line_str, 2 .debug_info (inline)
	Off uint64
}

// String sections for StrRef.Sec.
const (
	StrSecStr uint8 = iota
	StrSecLineStr
	StrSecInfo
)

// StringRef resolves where the string attribute a lives.
func (r *Reader) StringRef(e *Entry, a Attr) (StrRef, bool, error) {
	if !e.Has(a) {
		return StrRef{}, false, nil
	}
	v := e.val[a]
	switch e.form[a] {
	case FormString:
		return StrRef{StrSecInfo, v}, true, nil
	case FormStrp:
		return StrRef{StrSecStr, v}, true, nil
	case FormLineStrp:
		return StrRef{StrSecLineStr, v}, true, nil
	case FormStrx, FormStrx1, FormStrx2, FormStrx3, FormStrx4, FormGNUStrIndex:
		so := r.d.sec.StrOffsets
		os := uint64(r.u.OffsetSize)
		at := r.strOffsetsBase + v*os
		if at+os > uint64(len(so)) || at < r.strOffsetsBase {
			return StrRef{}, false, r.errAt(e.Offset, "string index %d out of .debug_str_offsets (base %#x, size %#x)", v, r.strOffsetsBase, len(so))
		}
		if os == 8 {
			return StrRef{StrSecStr, r.bo.Uint64(so[at:])}, true, nil
		}
		return StrRef{StrSecStr, uint64(r.bo.Uint32(so[at:]))}, true, nil
	}
	return StrRef{}, false, r.errAt(e.Offset, "string attribute DW_AT_%#x has form %v", atCodes[a], e.form[a])
}

// Str returns the bytes of the NUL-terminated string at ref (without the NUL).
// The slice aliases the section.
func (d *Data) Str(ref StrRef) ([]byte, error) {
	var sec []byte
	switch ref.Sec {
	case StrSecStr:
		sec = d.sec.Str
	case StrSecLineStr:
		sec = d.sec.LineStr
	default:
		sec = d.sec.Info
	}
	if ref.Off >= uint64(len(sec)) {
		return nil, fmt.Errorf("%w: string offset %#x out of section (size %#x)", ErrFormat, ref.Off, len(sec))
	}
	s := sec[ref.Off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return s[:i:i], nil
	}
	return nil, fmt.Errorf("%w: unterminated string at %#x", ErrFormat, ref.Off)
}

// String returns the string attribute a (nil if absent). The slice aliases the
// section.
func (r *Reader) String(e *Entry, a Attr) ([]byte, error) {
	ref, ok, err := r.StringRef(e, a)
	if !ok || err != nil {
		return nil, err
	}
	s, err := r.d.Str(ref)
	if err != nil {
		return nil, &DecodeError{Unit: r.u.Offset, Offset: e.Offset, Err: err}
	}
	return s, nil
}

// Addr returns the address attribute a (DW_FORM_addr or addrx*), and the
// .debug_info or .debug_addr offset it was read from (for relocation lookups:
// inDebugAddr tells which).
func (r *Reader) Addr(e *Entry, a Attr) (addr uint64, at uint64, inDebugAddr bool, err error) {
	switch e.form[a] {
	case FormAddr:
		return e.val[a], 0, false, nil
	case FormAddrx, FormAddrx1, FormAddrx2, FormAddrx3, FormAddrx4, FormGNUAddrIndex:
		v, at, err := r.AddrIndex(e.Offset, e.val[a])
		return v, at, true, err
	}
	return 0, 0, false, r.errAt(e.Offset, "address attribute DW_AT_%#x has form %v", atCodes[a], e.form[a])
}

// AddrIndex reads entry idx of the unit's .debug_addr contribution and returns
// it with its offset in .debug_addr. die is used in messages.
func (r *Reader) AddrIndex(die, idx uint64) (uint64, uint64, error) {
	sec := r.d.sec.Addr
	sz := uint64(r.u.AddrSize)
	at := r.addrBase + idx*sz
	if at+sz > uint64(len(sec)) || at < r.addrBase {
		return 0, 0, r.errAt(die, "address index %d out of .debug_addr (base %#x, size %#x)", idx, r.addrBase, len(sec))
	}
	if sz == 8 {
		return r.bo.Uint64(sec[at:]), at, nil
	}
	return uint64(r.bo.Uint32(sec[at:])), at, nil
}

// uleb decodes an unsigned LEB128 at p; n is 0 if truncated or overlong.
func uleb(b []byte, p uint64) (v uint64, n uint64) {
	var shift uint
	for i := p; i < uint64(len(b)); i++ {
		c := b[i]
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		shift += 7
		if c < 0x80 {
			return v, i - p + 1
		}
		if shift > 70 {
			return 0, 0
		}
	}
	return 0, 0
}

// sleb decodes a signed LEB128 at p; n is 0 if truncated or overlong.
func sleb(b []byte, p uint64) (v int64, n uint64) {
	var shift uint
	for i := p; i < uint64(len(b)); i++ {
		c := b[i]
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c < 0x80 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i - p + 1
		}
		if shift > 70 {
			return 0, 0
		}
	}
	return 0, 0
}

// ULEB128 decodes an unsigned LEB128 at the start of b (for expression
// operands); n is 0 if truncated.
func ULEB128(b []byte) (v uint64, n int) {
	x, m := uleb(b, 0)
	return x, int(m)
}

// SLEB128 decodes a signed LEB128 at the start of b; n is 0 if truncated.
func SLEB128(b []byte) (v int64, n int) {
	x, m := sleb(b, 0)
	return x, int(m)
}

// fixedBlock reads the length of a DW_FORM_block1/2/4 at p and checks that the block
// fits in info. It returns where the block's bytes start and their length; die is
// the DIE's offset, for errors.
func (r *Reader) fixedBlock(info []byte, p uint64, f Form, die uint64) (start, length uint64, err error) {
	sz := uint8(1)
	switch f {
	case FormBlock2:
		sz = 2
	case FormBlock4:
		sz = 4
	}
	if p+uint64(sz) > uint64(len(info)) {
		return 0, 0, r.errAt(die, "truncated block length")
	}
	l := r.readN(p, sz)
	p += uint64(sz)
	if l > uint64(len(info))-p {
		return 0, 0, r.errAt(die, "block of %d bytes runs past the end of the unit", l)
	}
	return p, l, nil
}
