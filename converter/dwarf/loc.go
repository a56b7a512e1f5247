package dwarf

import (
	"fmt"
)

// Location expressions and location lists (DWARF 5 sections 2.5 and 2.6).
//
// The converter only needs to know where a function's parameters live on entry
// (pahole's parameter__decode_location): the operations of each expression of a
// location attribute, in list order. Addresses of list entries are not needed, so
// they are skipped, not computed; base-address entries and GCC's view pairs
// (DW_LLE_GNU_view_pair) are not entries, as libdw's dwarf_getlocations does not
// return them.

// Op is one decoded operation of a DWARF expression.
type Op struct {
	Code uint8
	// Arg1 and Arg2 are the operands, sign-extended for signed ones (fbreg,
	// bregN, consts, ...); for operands that are blocks (entry_value,
	// implicit_value, const_type) Block holds the bytes.
	Arg1, Arg2 uint64
	Block      []byte
}

// DW_OP_* opcodes (DWARF 5 section 7.7.1), those the converter looks at.
const (
	OpDeref          = 0x06
	OpConstu         = 0x10
	OpConsts         = 0x11
	OpLit0           = 0x30
	OpLit31          = 0x4f
	OpReg0           = 0x50
	OpReg31          = 0x6f
	OpBreg0          = 0x70
	OpBreg31         = 0x8f
	OpRegx           = 0x90
	OpFbreg          = 0x91
	OpPiece          = 0x93
	OpStackValue     = 0x9f
	OpEntryValue     = 0xa3
	OpGNUEntryValue  = 0xf3
	OpImplicitValue  = 0x9e
	OpImplicitPtr    = 0xa0
	OpGNUImplicitPtr = 0xf2
)

// operand encodings of the opcodes: what follows the opcode byte.
type operand uint8

const (
	opNone       operand = iota
	opU1                 // 1-byte constant
	opS1                 // signed 1-byte constant
	opU2                 // 2-byte constant
	opS2                 // signed 2-byte constant
	opU4                 // 4-byte constant
	opS4                 // signed 4-byte constant
	opU8                 // 8-byte constant
	opS8                 // signed 8-byte constant
	opUleb               // ULEB128
	opSleb               // SLEB128
	opUlebUleb           // two ULEB128
	opUlebSleb           // ULEB128, SLEB128
	opAddr               // a target address
	opOffset             // a .debug_info offset (offset size; address size in DWARF 2)
	opOffsetSleb         // implicit_pointer: offset, SLEB128
	opBlock              // ULEB128 length, then that many bytes (entry_value, implicit_value)
	opConstType          // ULEB128 type, 1-byte length, bytes
	opU1Uleb             // deref_type: 1-byte size, ULEB128 type
	opBad                // not an opcode
)

var operands = func() (t [256]operand) {
	for i := range t {
		t[i] = opBad
	}
	for c := 0x30; c <= 0x6f; c++ { // lit0-31, reg0-31
		t[c] = opNone
	}
	for c := 0x70; c <= 0x8f; c++ { // breg0-31
		t[c] = opSleb
	}
	none := []int{0x06, 0x12, 0x13, 0x14, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e,
		0x1f, 0x20, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e,
		0x96, 0x97, 0x9b, 0x9c, 0x9f, 0xe0, 0xf0}
	for _, c := range none {
		t[c] = opNone
	}
	set := map[int]operand{
		0x03: opAddr, 0x08: opU1, 0x09: opS1, 0x0a: opU2, 0x0b: opS2, 0x0c: opU4, 0x0d: opS4,
		0x0e: opU8, 0x0f: opS8, 0x10: opUleb, 0x11: opSleb, 0x15: opU1, 0x23: opUleb,
		0x28: opS2, 0x2f: opS2, 0x90: opUleb, 0x91: opSleb, 0x92: opUlebSleb, 0x93: opUleb,
		0x94: opU1, 0x95: opU1, 0x98: opU2, 0x99: opU4, 0x9a: opOffset, 0x9d: opUlebUleb,
		0x9e: opBlock, 0xa0: opOffsetSleb, 0xa1: opUleb, 0xa2: opUleb, 0xa3: opBlock,
		0xa4: opConstType, 0xa5: opUlebUleb, 0xa6: opU1Uleb, 0xa7: opU1Uleb, 0xa8: opUleb,
		0xa9: opUleb,
		// GNU extensions (GCC include/dwarf2.def).
		0xf2: opOffsetSleb, 0xf3: opBlock, 0xf4: opConstType, 0xf5: opUlebUleb,
		0xf6: opU1Uleb, 0xf7: opUleb, 0xf9: opUleb, 0xfa: opU4, 0xfb: opUleb, 0xfc: opUleb,
		0xfd: opOffset,
	}
	for c, o := range set {
		t[c] = o
	}
	return t
}()

// Ops decodes the DWARF expression expr of the reader's current unit and
// appends its operations to dst. An unknown opcode or a truncated operand is an
// error.
func (r *Reader) Ops(expr []byte, dst []Op) ([]Op, error) {
	p := uint64(0)
	n := uint64(len(expr))
	asz := uint64(r.u.AddrSize)
	osz := uint64(r.u.OffsetSize)
	if r.u.Version == 2 {
		osz = asz
	}
	fixed := func(size uint64) (uint64, error) {
		if n-p < size {
			return 0, fmt.Errorf("%w: truncated operand at byte %d of a DWARF expression", ErrFormat, p)
		}
		var x uint64
		b := expr[p : p+size]
		if r.le {
			for i := int(size) - 1; i >= 0; i-- {
				x = x<<8 | uint64(b[i])
			}
		} else {
			for i := 0; i < int(size); i++ {
				x = x<<8 | uint64(b[i])
			}
		}
		p += size
		return x, nil
	}
	ulebAt := func() (uint64, error) {
		v, k := uleb(expr, p)
		if k == 0 {
			return 0, fmt.Errorf("%w: bad ULEB128 at byte %d of a DWARF expression", ErrFormat, p)
		}
		p += k
		return v, nil
	}
	slebAt := func() (uint64, error) {
		v, k := sleb(expr, p)
		if k == 0 {
			return 0, fmt.Errorf("%w: bad SLEB128 at byte %d of a DWARF expression", ErrFormat, p)
		}
		p += k
		return uint64(v), nil
	}
	sext := func(v uint64, bits uint) uint64 { return uint64(int64(v<<(64-bits)) >> (64 - bits)) }
	for p < n {
		o := Op{Code: expr[p]}
		p++
		var err error
		switch operands[o.Code] {
		case opNone:
		case opU1:
			o.Arg1, err = fixed(1)
		case opS1:
			o.Arg1, err = fixed(1)
			o.Arg1 = sext(o.Arg1, 8)
		case opU2:
			o.Arg1, err = fixed(2)
		case opS2:
			o.Arg1, err = fixed(2)
			o.Arg1 = sext(o.Arg1, 16)
		case opU4:
			o.Arg1, err = fixed(4)
		case opS4:
			o.Arg1, err = fixed(4)
			o.Arg1 = sext(o.Arg1, 32)
		case opU8, opS8:
			o.Arg1, err = fixed(8)
		case opUleb:
			o.Arg1, err = ulebAt()
		case opSleb:
			o.Arg1, err = slebAt()
		case opUlebUleb:
			if o.Arg1, err = ulebAt(); err == nil {
				o.Arg2, err = ulebAt()
			}
		case opUlebSleb:
			if o.Arg1, err = ulebAt(); err == nil {
				o.Arg2, err = slebAt()
			}
		case opAddr:
			o.Arg1, err = fixed(asz)
		case opOffset:
			o.Arg1, err = fixed(osz)
		case opOffsetSleb:
			if o.Arg1, err = fixed(osz); err == nil {
				o.Arg2, err = slebAt()
			}
		case opBlock:
			var l uint64
			if l, err = ulebAt(); err == nil {
				if n-p < l {
					err = fmt.Errorf("%w: block of %d bytes runs past the end of a DWARF expression", ErrFormat, l)
				} else {
					o.Block = expr[p : p+l]
					o.Arg1 = l
					p += l
				}
			}
		case opConstType:
			if o.Arg1, err = ulebAt(); err == nil {
				var l uint64
				if l, err = fixed(1); err == nil {
					if n-p < l {
						err = fmt.Errorf("%w: constant of %d bytes runs past the end of a DWARF expression", ErrFormat, l)
					} else {
						o.Block = expr[p : p+l]
						p += l
					}
				}
			}
		case opU1Uleb:
			if o.Arg1, err = fixed(1); err == nil {
				o.Arg2, err = ulebAt()
			}
		default:
			err = fmt.Errorf("%w: unknown DW_OP %#x in a DWARF expression", ErrFormat, o.Code)
		}
		if err != nil {
			return dst, err
		}
		dst = append(dst, o)
	}
	return dst, nil
}

// DW_LLE_* location list entry kinds (DWARF 5 section 7.7.3), and GCC's view
// pair extension.
const (
	lleEndOfList       = 0x00
	lleBaseAddressx    = 0x01
	lleStartxEndx      = 0x02
	lleStartxLength    = 0x03
	lleOffsetPair      = 0x04
	lleDefaultLocation = 0x05
	lleBaseAddress     = 0x06
	lleStartEnd        = 0x07
	lleStartLength     = 0x08
	lleGNUViewPair     = 0x09
)

// maxLocEntries bounds a location list, so that a corrupt list cannot make a
// caller loop for long.
const maxLocEntries = 1 << 20

// Locations calls fn with each DWARF expression of the location attribute a of
// e, in order: the expression itself for an exprloc (or block) form, else each
// entry of its location list (.debug_loc for DWARF 2-4, .debug_loclists for
// DWARF 5), including entries with an empty expression. It stops early when fn
// returns false. e must have been read by r, in its current unit.
func (r *Reader) Locations(e *Entry, a Attr, fn func(expr []byte) bool) error {
	if !e.Has(a) {
		return nil
	}
	f := e.form[a]
	if f.IsBlock() {
		fn(r.Block(e, a))
		return nil
	}
	bad := func(at uint64, sec, msg string, args ...any) error {
		return &DecodeError{Unit: r.u.Offset, Offset: e.Offset,
			Err: fmt.Errorf("%w: %s at %#x: %s", ErrFormat, sec, at, fmt.Sprintf(msg, args...))}
	}
	off := e.val[a]
	switch f {
	case FormSecOffset, FormData4, FormData8:
	case FormLoclistx:
		// The list's offset is in the unit's offset table, relative to its base.
		sec := r.d.sec.Loclists
		osz := uint64(r.u.OffsetSize)
		at := r.loclistsBase + off*osz
		if at < r.loclistsBase || at+osz > uint64(len(sec)) {
			return bad(at, ".debug_loclists", "location list index %d out of the offset table (base %#x)", off, r.loclistsBase)
		}
		if osz == 8 {
			off = r.bo.Uint64(sec[at:])
		} else {
			off = uint64(r.bo.Uint32(sec[at:]))
		}
		off += r.loclistsBase
	default:
		return bad(e.Offset, ".debug_info", "location attribute of form %v", f)
	}
	asz := uint64(r.u.AddrSize)
	if r.u.Version < 5 {
		sec := r.d.sec.Loc
		p := off
		maxAddr := ^uint64(0) >> (64 - 8*asz)
		for k := 0; k < maxLocEntries; k++ {
			if p+2*asz > uint64(len(sec)) {
				return bad(p, ".debug_loc", "truncated location list")
			}
			start, end := r.addrAt(sec, p, asz), r.addrAt(sec, p+asz, asz)
			p += 2 * asz
			if start == 0 && end == 0 {
				return nil
			}
			if start == maxAddr { // base address selection
				continue
			}
			if p+2 > uint64(len(sec)) {
				return bad(p, ".debug_loc", "truncated location list")
			}
			l := uint64(r.bo.Uint16(sec[p:]))
			p += 2
			if l > uint64(len(sec))-p {
				return bad(p, ".debug_loc", "expression of %d bytes runs past the end", l)
			}
			if !fn(sec[p : p+l]) {
				return nil
			}
			p += l
		}
		return bad(off, ".debug_loc", "location list too long")
	}
	sec := r.d.sec.Loclists
	p := off
	for k := 0; k < maxLocEntries; k++ {
		if p >= uint64(len(sec)) {
			return bad(p, ".debug_loclists", "truncated location list")
		}
		kind := sec[p]
		p++
		skipUleb := func() bool {
			_, n := uleb(sec, p)
			p += n
			return n != 0
		}
		ok := true
		hasExpr := true
		switch kind {
		case lleEndOfList:
			return nil
		case lleBaseAddressx:
			ok, hasExpr = skipUleb(), false
		case lleStartxEndx, lleStartxLength, lleOffsetPair:
			ok = skipUleb() && skipUleb()
		case lleGNUViewPair:
			ok, hasExpr = skipUleb() && skipUleb(), false
		case lleDefaultLocation:
		case lleBaseAddress:
			p += asz
			hasExpr = false
		case lleStartEnd:
			p += 2 * asz
		case lleStartLength:
			p += asz
			ok = skipUleb()
		default:
			return bad(p-1, ".debug_loclists", "unknown entry kind %#x", kind)
		}
		if !ok || p > uint64(len(sec)) {
			return bad(p, ".debug_loclists", "truncated location list entry")
		}
		if !hasExpr {
			continue
		}
		l, n := uleb(sec, p)
		if n == 0 {
			return bad(p, ".debug_loclists", "truncated expression length")
		}
		p += n
		if l > uint64(len(sec))-p {
			return bad(p, ".debug_loclists", "expression of %d bytes runs past the end", l)
		}
		if !fn(sec[p : p+l]) {
			return nil
		}
		p += l
	}
	return bad(off, ".debug_loclists", "location list too long")
}

func (r *Reader) addrAt(sec []byte, p, asz uint64) uint64 {
	switch asz {
	case 8:
		return r.bo.Uint64(sec[p:])
	case 4:
		return uint64(r.bo.Uint32(sec[p:]))
	}
	return uint64(r.bo.Uint16(sec[p:]))
}
