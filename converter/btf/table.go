package btf

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Table is a standalone table of types (IDs from 1) kept as the kernel's wire
// records, little-endian whatever the host, with names as offsets into its own
// string section: no pointers, and about a third of the bytes a []Type of the same
// types takes.
//
// It is what a shard holds between the encoder and the merge. A vmlinux-sized shard
// set has millions of types: as Type records (a name and a member slice each, a
// name per member) the garbage collector rescanned every one of them at every cycle
// of the encoder and the merge, and every page of them was touched fresh twice (once
// when built, once when combined). A Table is written once, appended to, and decoded
// once, straight into the combined Spec.
//
// Types are added in ID order; a type may refer to IDs not added yet (the encoder
// numbers a unit's types before it emits them). Reading a type back (Decode, Type,
// Kind, ForEachRef) expects an ID in [1, NextID()). A Table built by Add holds only
// records encodeType accepted; one from ParseTable has been validated as Parse
// validates raw BTF; neither kind can fail to decode.
type Table struct {
	recs []byte       // the records, in ID order
	offs []uint32     // offs[id-1]: offset of type id's record in recs
	strs *stringTable // a root table: offset 0 is ""
}

// NewTable returns an empty Table.
func NewTable() *Table { return &Table{strs: newBuildTable(nil)} }

// Reserve makes room for about types more types of recBytes bytes of records in
// all, so that filling a table of known size copies nothing. Room never used is
// never touched, so it costs address space, not memory.
func (t *Table) Reserve(types, recBytes int) {
	t.offs = reserve(t.offs, types)
	t.recs = reserve(t.recs, recBytes)
}

// reserve is slices.Grow without clearing the new capacity (Grow appends zeros:
// for a table of a hundred megabytes, that touches every page up front).
func reserve[E any](s []E, n int) []E {
	if cap(s)-len(s) >= n {
		return s
	}
	grown := make([]E, len(s), len(s)+n)
	copy(grown, s)
	return grown
}

// Len is the number of types.
func (t *Table) Len() int { return len(t.offs) }

// NextID is the ID the next added type gets.
func (t *Table) NextID() TypeID { return TypeID(len(t.offs) + 1) }

// Add appends typ and returns its ID. It fails, adding nothing, if typ has no wire
// encoding (an unknown kind, too many members, a value that does not fit its field).
func (t *Table) Add(typ *Type) (TypeID, error) {
	start := len(t.recs)
	n := recordSize(typ.Kind, len(typ.Members))
	if uint64(start)+uint64(n) > 1<<32-1 {
		return 0, fmt.Errorf("btf: table: more than 4 GiB of type records")
	}
	t.recs = slices.Grow(t.recs, n)[:start+n]
	if _, err := encodeType(t.recs[start:], binary.LittleEndian, t.strs, typ); err != nil {
		t.recs = t.recs[:start]
		return 0, err
	}
	t.offs = append(t.offs, uint32(start))
	return TypeID(len(t.offs)), nil
}

// record returns type id's record.
func (t *Table) record(id TypeID) []byte {
	start := t.offs[id-1]
	end := uint32(len(t.recs))
	if int(id) < len(t.offs) {
		end = t.offs[id]
	}
	return t.recs[start:end]
}

// Kind returns the kind of type id.
func (t *Table) Kind(id TypeID) Kind { return Kind(t.recs[t.offs[id-1]+7] & 0x1f) }

// Vlen returns the number of members of type id.
func (t *Table) Vlen(id TypeID) int {
	if !hasVlen(t.Kind(id)) {
		return 0
	}
	return int(binary.LittleEndian.Uint16(t.recs[t.offs[id-1]+4:]))
}

// ForEachRef calls fn with every type ID type id refers to, in record order (its
// Type, an ARRAY's index type, each member's type), without decoding it.
func (t *Table) ForEachRef(id TypeID, fn func(TypeID)) {
	r := t.record(id)
	le := binary.LittleEndian
	k := Kind(r[7] & 0x1f)
	switch k {
	case KindArray:
		fn(TypeID(le.Uint32(r[12:])))
		fn(TypeID(le.Uint32(r[16:])))
		return
	case KindStruct, KindUnion: // btf_member: name, type, offset
		for p := 12; p < len(r); p += 12 {
			fn(TypeID(le.Uint32(r[p+4:])))
		}
		return
	case KindDatasec: // btf_var_secinfo: type, offset, size
		for p := 12; p < len(r); p += 12 {
			fn(TypeID(le.Uint32(r[p:])))
		}
		return
	}
	if k.HasRef() {
		fn(TypeID(le.Uint32(r[8:])))
	}
	if k == KindFuncProto { // btf_param: name, type
		for p := 12; p < len(r); p += 8 {
			fn(TypeID(le.Uint32(r[p+4:])))
		}
	}
}

// Decode decodes type id into dst. Its members are appended to members, which is
// returned (dst.Members is the appended part, with no spare capacity); names alias
// the table's string section, which is never written in place.
func (t *Table) Decode(id TypeID, dst *Type, members []Member) []Member {
	r := t.record(id)
	vlen := 0
	if k := Kind(r[7] & 0x1f); hasVlen(k) {
		vlen = int(binary.LittleEndian.Uint16(r[4:]))
	}
	n := len(members)
	members = slices.Grow(members, vlen)[:n+vlen]
	p := parser{bo: binary.LittleEndian, strs: t.strs, marena: members[n:]}
	*dst = Type{}
	if _, err := p.decodeType(dst, r, id, int(t.offs[id-1])); err != nil {
		// Add and ParseTable only admit records that decode.
		panic(fmt.Sprintf("btf: table: type ID %d does not decode: %v", id, err))
	}
	return members
}

// Type returns a decoded copy of type id (nil for 0 and IDs out of range), its
// members in a new slice: for occasional look-ups, not for walking the table.
func (t *Table) Type(id TypeID) *Type {
	if id == 0 || int(id) > len(t.offs) {
		return nil
	}
	typ := new(Type)
	t.Decode(id, typ, nil)
	return typ
}

// Spec decodes the whole table into a standalone Spec.
func (t *Table) Spec() *Spec {
	s := NewSpec()
	s.Types = make([]Type, len(t.offs))
	var members []Member
	for i := range s.Types {
		members = t.Decode(TypeID(i+1), &s.Types[i], members[len(members):])
	}
	return s
}

// TableOf returns a Table holding the types of the standalone Spec s.
func TableOf(s *Spec) (*Table, error) {
	if s.Base != nil || s.FirstID != 1 {
		return nil, fmt.Errorf("btf: table: spec is split (first ID %d)", s.FirstID)
	}
	t := NewTable()
	for i := range s.Types {
		if _, err := t.Add(&s.Types[i]); err != nil {
			return nil, fmt.Errorf("btf: table: type ID %d (%s %q): %w", i+1, s.Types[i].Kind, s.Types[i].Name, err)
		}
	}
	return t, nil
}

// Sections returns the table's string section and its records, as ParseTable takes
// them. They alias the table.
func (t *Table) Sections() (strs, recs []byte) { return t.strs.data, t.recs }

// ParseTable returns the Table of a string section and records that Sections
// returned, validating them as Parse validates raw BTF: every record complete and of
// a known kind with no reserved bits set, names within the string section,
// references to existing types, FUNCs referring to FUNC_PROTOs. The Table keeps
// strs and recs (decoded names alias strs): the caller must not modify them
// afterwards. A *DecodeError gives the offset in recs of the record at fault (ID 0:
// the string section).
func ParseTable(strs, recs []byte) (*Table, error) {
	switch {
	case len(strs) == 0 || strs[0] != 0:
		return nil, &DecodeError{Err: fmt.Errorf("string section does not start with the empty string")}
	case strs[len(strs)-1] != 0:
		return nil, &DecodeError{Err: fmt.Errorf("string section does not end with NUL")}
	case uint64(len(strs)) > maxStringsLen:
		return nil, &DecodeError{Err: fmt.Errorf("string section of %d bytes exceeds %d", len(strs), maxStringsLen)}
	case uint64(len(recs)) > 1<<32-1:
		return nil, &DecodeError{Err: fmt.Errorf("%d bytes of records exceed 4 GiB", len(recs))}
	}
	t := &Table{recs: recs, strs: newParsedTable(nil, strs)}
	le := binary.LittleEndian
	// Pass 1 counts the records, pass 2 finds them; pass 3 decodes each, which
	// checks it, and checks its references against the number of types.
	n := 0
	for pos := 0; pos+rawTypeLen <= len(recs); n++ {
		info := le.Uint32(recs[pos+4:])
		pos += recordSize(Kind(info>>24&0x1f), int(info&0xffff))
	}
	t.offs = make([]uint32, 0, n+1)
	for pos := 0; pos < len(t.recs); {
		if len(t.recs)-pos < rawTypeLen {
			return nil, &DecodeError{ID: t.NextID(), Offset: pos, Err: fmt.Errorf("truncated type record (%d bytes left, need %d)", len(t.recs)-pos, rawTypeLen)}
		}
		if len(t.offs) == 1<<32-2 {
			return nil, &DecodeError{ID: t.NextID(), Offset: pos, Err: fmt.Errorf("too many types")}
		}
		info := le.Uint32(t.recs[pos+4:])
		t.offs = append(t.offs, uint32(pos))
		pos += recordSize(Kind(info>>24&0x1f), int(info&0xffff))
	}
	last := TypeID(len(t.offs))
	p := parser{bo: le, strs: t.strs}
	var scratch Type
	var members []Member
	for i, off := range t.offs {
		id := TypeID(i + 1)
		end := len(t.recs)
		if i+1 < len(t.offs) {
			end = int(t.offs[i+1])
		}
		members = slices.Grow(members[:0], maxVlen)
		p.marena = members[:maxVlen]
		if _, err := p.decodeType(&scratch, t.recs[off:end], id, int(off)); err != nil {
			return nil, err
		}
		var bad error
		t.ForEachRef(id, func(ref TypeID) {
			if ref > last && bad == nil {
				bad = fmt.Errorf("%s refers to type ID %d, beyond the last ID %d", scratch.Kind, ref, last)
			}
		})
		if bad == nil && scratch.Kind == KindFunc && (scratch.Type == 0 || t.Kind(scratch.Type) != KindFuncProto) {
			bad = fmt.Errorf("FUNC refers to type ID %d, which is not a FUNC_PROTO", scratch.Type)
		}
		if bad != nil {
			return nil, &DecodeError{ID: id, Offset: int(off), Err: bad}
		}
	}
	return t, nil
}

// MustTableOf is TableOf for types known to be valid (tests, literals): it panics
// if s has no wire encoding.
func MustTableOf(s *Spec) *Table {
	t, err := TableOf(s)
	if err != nil {
		panic(err)
	}
	return t
}
