package btf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"github.com/rules-btf/rules_btf/internal/hugepage"
)

// Table is a table of types kept as the kernel's wire records, little-endian
// whatever the host, with names as offsets into a string section: no pointers, and
// about a third of the bytes a []Type of the same types takes. A standalone Table
// has IDs from 1 and a string section of its own; a split one continues a base
// Spec's IDs and the base's string section on the wire, as split raw BTF does.
// Within a Table (and its base), equal names have equal offsets: names are interned
// as they are added.
//
// It is what a shard holds between the encoder and the merge, and what the merge
// deduplicates. A vmlinux-sized shard set has millions of types: as Type records (a
// name and a member slice each, a name per member) the garbage collector rescanned
// every one of them at every cycle of the encoder and the merge, and every page of
// them was touched fresh twice (once when built, once when combined).
//
// Types are added in ID order; a type may refer to IDs not added yet (the encoder
// numbers a unit's types before it emits them). Reading a type back (Decode, Type,
// Kind, ForEachRef, Record) expects an ID in [FirstID(), NextID()). A Table built
// by Add holds only records encodeType accepted; one from ParseTable has been
// validated as Parse validates raw BTF; neither kind can fail to decode.
type Table struct {
	first TypeID
	base  *Spec        // split tables: the base Spec
	recs  []byte       // the records added (Add, Copy), in ID order
	offs  []uint32     // offs[id-first]: offset of type id's record in its segment
	strs  *stringTable // a root table (offset 0 is ""), or one continuing base's

	// Linked records (Copier.Link) stay in the source's record section: segs
	// holds those sections, seg[id-first] is the segment of type id (0: recs,
	// i: segs[i-1]). seg is nil until a record is linked.
	segs [][]byte
	seg  []uint16
}

// NewTable returns an empty standalone Table.
func NewTable() *Table { return &Table{first: 1, strs: newBuildTable(nil)} }

// NewSplitTable returns an empty Table that continues base: its first ID is
// base.NextID() and names the base has are referred to by their offsets in the
// base's string section (the one it was parsed from, or the one its Marshal
// writes).
func NewSplitTable(base *Spec) (*Table, error) {
	strs, err := base.wireStrings()
	if err != nil {
		return nil, fmt.Errorf("btf: table: base: %w", err)
	}
	return &Table{first: base.NextID(), base: base, strs: newBuildTable(strs)}, nil
}

// FirstID is the ID of the table's first type.
func (t *Table) FirstID() TypeID { return t.first }

// Base is the Spec a split table continues (nil: standalone).
func (t *Table) Base() *Spec { return t.base }

// Reserve makes room for about types more types of recBytes bytes of records in
// all, so that filling a table of known size copies nothing. Room never used is
// never touched, so it costs address space, not memory.
func (t *Table) Reserve(types, recBytes int) {
	t.offs = reserve(t.offs, types)
	t.recs = reserve(t.recs, recBytes)
}

// reserve is slices.Grow without clearing the new capacity (Grow appends zeros:
// for a table of a hundred megabytes, that touches every page up front). The
// table writes every byte it appends, so never reads what was there.
func reserve[E hugepage.Plain](s []E, n int) []E {
	if cap(s)-len(s) >= n {
		return s
	}
	grown := hugepage.MakeNoZero[E](len(s), len(s)+n)
	copy(grown, s)
	return grown
}

// InternFrom tells the table that many names it is given alias region, a
// string section (NUL-terminated strings) that does not change while the table
// is built, such as a DWARF .debug_str: a name that is a whole string of region
// is then looked up by its position there, an integer, where other names are
// hashed and compared. The table's contents do not depend on it. InternFrom(nil)
// forgets the region and the positions, which the table otherwise keeps.
func (t *Table) InternFrom(region []byte) {
	if uint64(len(region)) >= 1<<32-1 {
		region = nil // positions are 32-bit
	}
	t.strs.region = region
	t.strs.at = posIndex{}
}

// Len is the number of types.
func (t *Table) Len() int { return len(t.offs) }

// NextID is the ID the next added type gets.
func (t *Table) NextID() TypeID { return t.first + TypeID(len(t.offs)) }

// Add appends typ and returns its ID. It fails, adding nothing, if typ has no wire
// encoding (an unknown kind, too many members, a value that does not fit its field).
func (t *Table) Add(typ *Type) (TypeID, error) {
	off, err := t.Stage(typ)
	if err != nil {
		return 0, err
	}
	return t.Number(off), nil
}

// Stage encodes typ into the table's records without giving it an ID, and
// returns where its record is: Number gives it the next ID, later, perhaps after
// other types were added. It lets a caller build types whose IDs follow types
// not added yet. A staged record that is never numbered is not part of the table.
func (t *Table) Stage(typ *Type) (uint32, error) {
	start := len(t.recs)
	n := recordSize(typ.Kind, len(typ.Members))
	if uint64(start)+uint64(n) > 1<<32-1 {
		return 0, fmt.Errorf("btf: table: more than 4 GiB of type records")
	}
	t.recs = slices.Grow(t.recs, n)[:start+n]
	if _, err := encodeType(t.recs[start:], t.strs, typ); err != nil {
		t.recs = t.recs[:start]
		return 0, err
	}
	return uint32(start), nil
}

// Number gives the staged records at offs (Stage, Copier.Stage) the next IDs, in
// order, and returns the ID of the first.
func (t *Table) Number(offs ...uint32) TypeID {
	id := t.NextID()
	t.indexRange(0, offs)
	return id
}

// indexRange records the next types' records: at offs of segment seg (0: the
// table's own records), in order.
func (t *Table) indexRange(seg uint16, offs []uint32) {
	t.offs = append(t.offs, offs...)
	if t.seg != nil || seg != 0 {
		if t.seg == nil {
			t.seg = make([]uint16, len(t.offs)-len(offs), cap(t.offs))
		}
		for range offs {
			t.seg = append(t.seg, seg)
		}
	}
}

// Record returns type id's wire record: struct btf_type and its kind's tail
// (include/uapi/linux/btf.h), little-endian. It aliases the table.
func (t *Table) Record(id TypeID) []byte {
	recs, start := t.at(id)
	info := binary.LittleEndian.Uint32(recs[start+4:])
	return recs[start : start+uint32(recordSize(Kind(info>>24&0x1f), int(info&0xffff)))]
}

// RecordFrom returns the record section holding type id's record from that
// record on: the record, then whatever follows it. It is Record for a reader
// that sizes the record by its header (kind and vlen) and reads millions of them,
// as the dedup does. It aliases the table.
func (t *Table) RecordFrom(id TypeID) []byte {
	recs, start := t.at(id)
	return recs[start:]
}

// at returns the record section holding type id's record and its offset there.
func (t *Table) at(id TypeID) ([]byte, uint32) {
	i := id - t.first
	if t.seg != nil && t.seg[i] != 0 {
		return t.segs[t.seg[i]-1], t.offs[i]
	}
	return t.recs, t.offs[i]
}

// Kind returns the kind of type id.
func (t *Table) Kind(id TypeID) Kind {
	recs, start := t.at(id)
	return Kind(recs[start+7] & 0x1f)
}

// Name returns the string at offset off of the table's string section (or its
// base's), as a name in a record refers to it.
func (t *Table) Name(off uint32) (string, error) { return t.strs.lookup(off) }

// Vlen returns the number of members of type id.
func (t *Table) Vlen(id TypeID) int {
	recs, start := t.at(id)
	if !hasVlen(Kind(recs[start+7] & 0x1f)) {
		return 0
	}
	return int(binary.LittleEndian.Uint16(recs[start+4:]))
}

// ForEachRef calls fn with every type ID type id refers to, in record order (its
// Type, an ARRAY's index type, each member's type), without decoding it.
func (t *Table) ForEachRef(id TypeID, fn func(TypeID)) {
	r := t.Record(id)
	recordFields(r, nil, func(off int) { fn(TypeID(binary.LittleEndian.Uint32(r[off:]))) })
}

// recordFields calls name with the offset in record r of each name, and ref with
// that of each type reference, in record order (name may be nil): where the wire
// format keeps them, for every reader that rewrites or follows them.
func recordFields(r []byte, name, ref func(off int)) {
	if name == nil {
		name = func(int) {}
	}
	name(0)
	k := Kind(r[7] & 0x1f)
	switch k {
	case KindArray: // btf_array: type, index_type, nelems
		ref(12)
		ref(16)
	case KindStruct, KindUnion: // btf_member: name, type, offset
		for p := 12; p < len(r); p += 12 {
			name(p)
			ref(p + 4)
		}
	case KindEnum: // btf_enum: name, value
		for p := 12; p < len(r); p += 8 {
			name(p)
		}
	case KindEnum64: // btf_enum64: name, value
		for p := 12; p < len(r); p += 12 {
			name(p)
		}
	case KindFuncProto: // return type; btf_param: name, type
		ref(8)
		for p := 12; p < len(r); p += 8 {
			name(p)
			ref(p + 4)
		}
	case KindDatasec: // btf_var_secinfo: type, offset, size
		for p := 12; p < len(r); p += 12 {
			ref(p)
		}
	default:
		if k.HasRef() {
			ref(8)
		}
	}
}

// Decode decodes type id into dst. Its members are appended to members, which is
// returned (dst.Members is the appended part, with no spare capacity); names alias
// the table's string section, which is never written in place.
func (t *Table) Decode(id TypeID, dst *Type, members []Member) []Member {
	r := t.Record(id)
	vlen := 0
	if k := Kind(r[7] & 0x1f); hasVlen(k) {
		vlen = int(binary.LittleEndian.Uint16(r[4:]))
	}
	n := len(members)
	members = slices.Grow(members, vlen)[:n+vlen]
	p := parser{bo: binary.LittleEndian, strs: t.strs, marena: members[n:]}
	*dst = Type{}
	if _, err := p.decodeType(dst, r, id, int(t.offs[id-t.first])); err != nil {
		// Add and ParseTable only admit records that decode.
		panic(fmt.Sprintf("btf: table: type ID %d does not decode: %v", id, err))
	}
	return members
}

// Type returns a decoded copy of type id (nil for 0 and IDs out of range), its
// members in a new slice: for occasional look-ups, not for walking the table.
func (t *Table) Type(id TypeID) *Type {
	if id < t.first || id >= t.NextID() {
		return nil
	}
	typ := new(Type)
	t.Decode(id, typ, nil)
	return typ
}

// Spec decodes the whole table into a Spec (split on the table's base, if any).
func (t *Table) Spec() *Spec {
	s := &Spec{Base: t.base, FirstID: t.first, Types: make([]Type, len(t.offs))}
	var members []Member
	for i := range s.Types {
		members = t.Decode(t.first+TypeID(i), &s.Types[i], members[len(members):])
	}
	return s
}

// TableOf returns a Table holding the types of s, split on s.Base if s is split.
func TableOf(s *Spec) (*Table, error) {
	t := NewTable()
	if s.Base != nil {
		var err error
		if t, err = NewSplitTable(s.Base); err != nil {
			return nil, err
		}
	}
	if t.first != s.FirstID {
		return nil, fmt.Errorf("btf: table: spec starts at ID %d, want %d", s.FirstID, t.first)
	}
	s.DecodeTypes()
	for i := range s.Types {
		if _, err := t.Add(&s.Types[i]); err != nil {
			return nil, fmt.Errorf("btf: table: type ID %d (%s %q): %w", s.FirstID+TypeID(i), s.Types[i].Kind, s.Types[i].Name, err)
		}
	}
	return t, nil
}

// Table returns the Spec's types as a Table whose names are the offsets of the
// Spec's string section on the wire: the section it was parsed from, or the one its
// Marshal writes. Split tables on the Spec use the same offsets (NewSplitTable), so
// names compare by offset across the two. For a Spec parsed from little-endian raw
// BTF the records are the parsed ones, not encoded again; such a Spec must not have
// been changed in memory since.
func (s *Spec) Table() (*Table, error) {
	strs, err := s.wireStrings()
	if err != nil {
		return nil, fmt.Errorf("btf: table: %w", err)
	}
	t := &Table{first: s.FirstID, base: s.Base, strs: strs}
	if s.lazy != nil && s.records != nil {
		t.recs, t.offs = s.records, s.lazy.offs
		return t, nil
	}
	if s.records != nil && s.strings != nil {
		t.recs = s.records
		t.offs, _ = indexRecords(s.records) // Parse checked them
		if len(t.offs) == len(s.Types) {
			return t, nil
		}
		t.recs, t.offs = nil, nil // changed since: encode it
	}
	for i := range s.Types {
		if _, err := t.Add(&s.Types[i]); err != nil {
			return nil, fmt.Errorf("btf: table: type ID %d (%s %q): %w", s.FirstID+TypeID(i), s.Types[i].Kind, s.Types[i].Name, err)
		}
	}
	return t, nil
}

// Sections returns the table's string section and its records, as ParseTable takes
// them. They alias the table. A table with linked records (Copier.Link) has no
// such form: Sections returns nil records for it.
func (t *Table) Sections() (strs, recs []byte) {
	if t.segs != nil {
		return t.strs.data, nil
	}
	return t.strs.data, t.recs
}

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
	t := &Table{first: 1, recs: recs, strs: newParsedTable(nil, strs)}
	// Find the records, then decode each, which checks it, and check its
	// references against the number of types.
	var err *DecodeError
	if t.offs, err = indexRecords(recs); err != nil {
		return nil, err
	}
	last := TypeID(len(t.offs))
	p := parser{bo: binary.LittleEndian, strs: t.strs}
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

// indexRecords returns the offset of each record in recs (little-endian wire
// records of IDs from 1), counted first so that the index is allocated once. A
// record cut short by the end of recs is an error there; one whose header is
// complete but whose tail is not is left for decoding to report.
func indexRecords(recs []byte) ([]uint32, *DecodeError) {
	next := func(pos int) int {
		info := binary.LittleEndian.Uint32(recs[pos+4:])
		return pos + recordSize(Kind(info>>24&0x1f), int(info&0xffff))
	}
	n := 0
	for pos := 0; pos+rawTypeLen <= len(recs); pos = next(pos) {
		n++
	}
	if n > 1<<32-2 {
		return nil, &DecodeError{ID: 1<<32 - 1, Err: fmt.Errorf("%d types: too many", n)}
	}
	offs := make([]uint32, 0, n+1)
	for pos := 0; pos < len(recs); pos = next(pos) {
		if len(recs)-pos < rawTypeLen {
			id := TypeID(len(offs) + 1)
			return nil, &DecodeError{ID: id, Offset: pos, Err: fmt.Errorf("truncated type record (%d bytes left, need %d)", len(recs)-pos, rawTypeLen)}
		}
		offs = append(offs, uint32(pos))
	}
	return offs, nil
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

// Copier appends types of one Table to another as they are, but for their
// references, renumbered by the caller, and their names, re-based into the
// destination's string section: no decoding, and each distinct name of the source
// interned once (a merge copies millions of types from a few shards). Link does
// not even copy; Patch and AppendRange are its two halves, so that Copiers from
// several sources to one destination can rewrite their records concurrently and
// then append them in order.
type Copier struct {
	dst, src *Table
	names    []uint32 // by source name offset: destination offset + 1; 0: not seen
	seg      uint16   // the destination's segment of the source's records (Link); 0: none yet
}

// NewCopier returns a Copier from src to dst.
func NewCopier(dst, src *Table) *Copier {
	return &Copier{dst: dst, src: src, names: make([]uint32, len(src.strs.data))}
}

// RefError is returned by Copy for a reference its remap does not cover.
type RefError struct{ Ref TypeID }

func (e *RefError) Error() string { return fmt.Sprintf("refers to type %d, out of range", e.Ref) }

// Copy appends type id of the source to the destination, each reference ref
// replaced by remap[ref] (0, void, stays 0), and returns its new ID. A reference
// past remap is a *RefError; nothing is added then.
func (c *Copier) Copy(id TypeID, remap []TypeID) (TypeID, error) {
	off, err := c.Stage(id, remap)
	if err != nil {
		return 0, err
	}
	return c.dst.Number(off), nil
}

// Stage is Copy without numbering: the copy is staged in the destination
// (Table.Stage), and its offset returned for Table.Number.
func (c *Copier) Stage(id TypeID, remap []TypeID) (uint32, error) {
	r := c.src.Record(id)
	start := len(c.dst.recs)
	if uint64(start)+uint64(len(r)) > 1<<32-1 {
		return 0, fmt.Errorf("btf: table: more than 4 GiB of type records")
	}
	c.dst.recs = append(c.dst.recs, r...)
	if err := c.patch(c.dst.recs[start:], remap, true); err != nil {
		c.dst.recs = c.dst.recs[:start]
		return 0, err
	}
	return uint32(start), nil
}

// Link is Copy without the copy: the destination refers to the source's record,
// which is rewritten in place. The source is the destination's from then on: it
// must not be used, nor linked from again, and its records must not change. A
// *RefError leaves the source as it was; after any other error it is unusable.
func (c *Copier) Link(id TypeID, remap []TypeID) (TypeID, error) {
	if c.src.seg != nil {
		return 0, errLinkedSource
	}
	if err := c.patch(c.src.Record(id), remap, true); err != nil {
		return 0, err
	}
	return c.AppendRange(id, id+1)
}

var errLinkedSource = errors.New("btf: table: cannot link from a table with linked records")

// InternNames adds every string of the standalone source's string section to the
// destination, in section order, so that Patch finds the names it rewrites without
// adding to the destination.
func (c *Copier) InternNames() error {
	if c.src.strs.parent != nil {
		return fmt.Errorf("btf: table: interning the names of a split table")
	}
	data := c.src.strs.data
	for i := 1; i < len(data); {
		n := bytes.IndexByte(data[i:], 0)
		if n < 0 {
			break // the string being built last has no NUL yet: none is
		}
		if n > 0 {
			off, err := c.dst.strs.add(unsafe.String(&data[i], n))
			if err != nil {
				return fmt.Errorf("btf: table: string at offset %d: %w", i, err)
			}
			c.names[i] = off + 1
		}
		i += n + 1
	}
	return nil
}

// Patch rewrites the source's record id in place for the destination, as Link
// does, but adds neither names nor the record to the destination: Append adds
// the record, in ID order. It reads only the source, remap and the Copier's
// names, so after InternNames, Copiers to one destination may Patch
// concurrently, each from its own source. A name InternNames did not see (an
// offset inside a string) makes it return false with the record as it was:
// Link that one instead of appending it. A *RefError leaves it as it was too.
func (c *Copier) Patch(id TypeID, remap []TypeID) (bool, error) {
	if c.src.seg != nil {
		return false, errLinkedSource
	}
	switch err := c.patch(c.src.Record(id), remap, false); err {
	case nil:
		return true, nil
	case errNotInterned:
		return false, nil
	default:
		return false, err
	}
}

// AppendRange adds the source's records [first, end), rewritten by Patch, to the
// destination, in order, and returns the new ID of the first.
func (c *Copier) AppendRange(first, end TypeID) (TypeID, error) {
	if c.src.seg != nil {
		return 0, errLinkedSource
	}
	if c.seg == 0 {
		if len(c.dst.segs) == 1<<16-1 {
			return 0, fmt.Errorf("btf: table: too many linked tables")
		}
		c.dst.segs = append(c.dst.segs, c.src.recs)
		c.seg = uint16(len(c.dst.segs))
	}
	id := c.dst.NextID()
	c.dst.indexRange(c.seg, c.src.offs[first-c.src.first:end-c.src.first])
	return id, nil
}

var errNotInterned = errors.New("btf: table: name not interned")

// patch rewrites record out, of the source, for the destination: references
// through remap, names into the destination's string section, where they are
// added if intern is set (else a name InternNames did not see is
// errNotInterned). References, and names if not interning, are checked first: a
// *RefError or errNotInterned leaves out as it was.
func (c *Copier) patch(out []byte, remap []TypeID, intern bool) error {
	le := binary.LittleEndian
	var err error
	checkRef := func(off int) {
		if v := le.Uint32(out[off:]); v != 0 && int(v) >= len(remap) && err == nil {
			err = &RefError{Ref: TypeID(v)}
		}
	}
	var checkName func(off int)
	if !intern {
		checkName = func(off int) {
			if v := le.Uint32(out[off:]); v != 0 && (int(v) >= len(c.names) || c.names[v] == 0) && err == nil {
				err = errNotInterned
			}
		}
	}
	recordFields(out, checkName, checkRef)
	if err != nil {
		return err
	}
	ref := func(off int) {
		if v := le.Uint32(out[off:]); v != 0 {
			le.PutUint32(out[off:], uint32(remap[v]))
		}
	}
	name := func(off int) {
		if err != nil {
			return
		}
		var n uint32
		if n, err = c.name(le.Uint32(out[off:])); err == nil {
			le.PutUint32(out[off:], n)
		}
	}
	recordFields(out, name, ref)
	return err
}

// name returns the destination offset of the source's name at off.
func (c *Copier) name(off uint32) (uint32, error) {
	if off == 0 {
		return 0, nil
	}
	if int(off) < len(c.names) && c.names[off] != 0 {
		return c.names[off] - 1, nil
	}
	s, err := c.src.strs.lookup(off)
	if err != nil {
		return 0, err
	}
	n, err := c.dst.strs.add(s)
	if err != nil {
		return 0, err
	}
	if int(off) < len(c.names) {
		c.names[off] = n + 1
	}
	return n, nil
}

// Rebase returns a copy of the standalone table t as split on base: every type
// moves up by base's type count, references move with it (0, void, stays 0), and
// names are re-based into base's string section where it has them. t must not
// reference the base; deduplication then maps its types to equal base types.
func (t *Table) Rebase(base *Spec) (*Table, error) {
	if t.base != nil || t.first != 1 {
		return nil, fmt.Errorf("btf: rebase: table is already split (first ID %d)", t.first)
	}
	out, err := NewSplitTable(base)
	if err != nil {
		return nil, err
	}
	n := len(t.recs)
	for _, seg := range t.segs {
		n += len(seg) // linked sections: their records, perhaps some not linked
	}
	out.Reserve(t.Len(), n)
	shift := out.first - 1
	remap := make([]TypeID, t.Len()+1)
	for i := 1; i < len(remap); i++ {
		remap[i] = TypeID(i) + shift
	}
	cp := NewCopier(out, t)
	for id := TypeID(1); id < t.NextID(); id++ {
		if _, err := cp.Copy(id, remap); err != nil {
			return nil, fmt.Errorf("btf: rebase: type ID %d: %w", id, err)
		}
	}
	return out, nil
}
