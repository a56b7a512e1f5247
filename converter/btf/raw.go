package btf

// Raw BTF: the kernel's wire format (Documentation/bpf/btf.rst, include/uapi/linux/btf.h).
//
//	header   struct btf_header: magic 0xeB9F, version 1, flags 0, hdr_len (24),
//	         type_off, type_len, str_off, str_len (offsets from the end of the header)
//	types    one record per type, in ID order from FirstID: struct btf_type
//	         {name_off, info, size_or_type} and a kind-specific tail (recordSize)
//	strings  NUL-terminated strings; offset 0 is "" in standalone BTF
//
// info is vlen (bits 0-15), kind (bits 24-28) and kind_flag (bit 31); every other bit
// must be zero. The byte order is the producer's; Parse detects it from the magic,
// Marshal takes it from MarshalOptions and never from the running host.
//
// Strings. Marshal writes each distinct string once, in order of first use while
// walking the types in ID order (a type's name, then its members' names in order),
// so the output depends only on the Spec.
//
// Split BTF (a module's BTF on vmlinux's) continues both the base's type IDs and its
// string section: a name offset below the base's string length is a base string. A
// split Spec is marshalled against the base's string table as it is on the wire:
//   - a base that was Parsed remembers the string section it was parsed from (the
//     unexported Spec.strings), so module BTF refers to exactly the offsets of the
//     vmlinux BTF the kernel has, whatever order that table is in;
//   - a base built in memory is assumed to be written by its own Marshal, whose
//     string table is rebuilt (deterministically) for the purpose.
// A name the base has is referenced at its first offset in the base; other names go
// to the split's own string section, which has no leading NUL (offset 0 of the base is
// already ""). If a parsed base is changed in memory and then re-marshalled, its new
// string table differs from the remembered one: marshal split BTF against the Spec
// parsed back from the written base.

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/rules-btf/rules_btf/internal/hugepage"
)

const (
	rawMagic      = 0xeB9F
	rawVersion    = 1
	rawHeaderLen  = 24
	rawTypeLen    = 12 // struct btf_type
	maxVlen       = 0xffff
	infoValidMask = 0x9f00ffff // vlen | kind (5 bits) | kind_flag
)

// ErrNotBTF is returned (wrapped) by Parse when the input does not start with the BTF
// magic in either byte order.
var ErrNotBTF = errors.New("not BTF: bad magic")

// DecodeError locates a problem in raw BTF: the type being decoded (0 for the header
// and string section) and the byte offset from the start of the blob.
type DecodeError struct {
	ID     TypeID
	Offset int
	Err    error
}

func (e *DecodeError) Error() string {
	if e.ID == 0 {
		return fmt.Sprintf("btf: offset %#x: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("btf: type ID %d at offset %#x: %v", e.ID, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// MarshalOptions controls Marshal.
type MarshalOptions struct {
	// ByteOrder of the output; required (binary.LittleEndian or binary.BigEndian).
	ByteOrder binary.ByteOrder
}

// Parse decodes raw BTF. With base != nil the input is split BTF on base: its first
// type ID is base.NextID() and its string offsets continue the base's string section.
// The returned Spec remembers its string section, so that it can serve as a base for
// Marshal of split BTF (see the comment at the top of raw.go).
func Parse(raw []byte, base *Spec) (*Spec, error) {
	return parseRaw(raw, base, false)
}

// ParseAliased is Parse for raw BTF that stays unchanged as long as the Spec is used
// (a file a one-shot process maps to its end): the Spec's string and type sections
// alias raw instead of copies of it. For a vmlinux base that spares 4-5 MB of fresh
// memory per module.
func ParseAliased(raw []byte, base *Spec) (*Spec, error) {
	return parseRaw(raw, base, true)
}

// ParseTrusted is ParseAliased for a standalone BTF blob that was parsed whole
// before (by Parse or ParseAliased, in this process or an earlier one: the caller
// knows it by its contents) and that serves as a base: its records are indexed, not
// decoded or checked again, and Types stays empty until needed (Spec.DecodeTypes;
// Spec's methods decode them where they need them). A module's conversion in a
// process of its own needs vmlinux's types as records only: decoding its hundred
// thousand types would be most of what the base costs it. Big-endian input is
// parsed as by ParseAliased.
func ParseTrusted(raw []byte) (*Spec, error) {
	return parseWith(parser{raw: raw, alias: true, trusted: true}, nil)
}

func parseRaw(raw []byte, base *Spec, alias bool) (*Spec, error) {
	return parseWith(parser{raw: raw, alias: alias}, base)
}

func parseWith(p parser, base *Spec) (spec *Spec, err error) {
	defer func() {
		// Every access below is bounds-checked; this only keeps an unforeseen bug on
		// untrusted input from crashing the caller.
		if r := recover(); r != nil {
			spec, err = nil, fmt.Errorf("btf: internal error decoding %d bytes: %v", len(p.raw), r)
		}
	}()
	return p.parse(base)
}

type parser struct {
	raw     []byte
	alias   bool // the Spec may alias raw (ParseAliased)
	trusted bool // the Spec's types are left undecoded (ParseTrusted)
	bo      binary.ByteOrder
	strs    *stringTable
	marena  []Member // every type's members, carved in ID order (members)
}

// members returns the next n members of the arena, which parse sizes to the sum
// of the records' vlen: one allocation for all member lists, not one per type.
// A type with no members has none (nil).
func (p *parser) members(n int) []Member {
	if n == 0 {
		return nil // as a Spec built in memory has it
	}
	m := p.marena[:n:n]
	p.marena = p.marena[n:]
	return m
}

func (p *parser) errorf(id TypeID, off int, format string, args ...any) error {
	return &DecodeError{ID: id, Offset: off, Err: fmt.Errorf(format, args...)}
}

func (p *parser) parse(base *Spec) (*Spec, error) {
	raw := p.raw
	if len(raw) < 4 {
		return nil, &DecodeError{Offset: 0, Err: fmt.Errorf("%w (%d bytes)", ErrNotBTF, len(raw))}
	}
	switch {
	case binary.LittleEndian.Uint16(raw) == rawMagic:
		p.bo = binary.LittleEndian
	case binary.BigEndian.Uint16(raw) == rawMagic:
		p.bo = binary.BigEndian
	default:
		return nil, &DecodeError{Offset: 0, Err: fmt.Errorf("%w %#04x", ErrNotBTF, binary.LittleEndian.Uint16(raw))}
	}
	if len(raw) < rawHeaderLen {
		return nil, p.errorf(0, 0, "truncated header (%d bytes, need %d)", len(raw), rawHeaderLen)
	}
	if raw[2] != rawVersion {
		return nil, p.errorf(0, 2, "unsupported version %d", raw[2])
	}
	if raw[3] != 0 {
		return nil, p.errorf(0, 3, "unsupported flags %#x", raw[3])
	}
	hdrLen := p.bo.Uint32(raw[4:])
	if hdrLen < rawHeaderLen || uint64(hdrLen) > uint64(len(raw)) {
		return nil, p.errorf(0, 4, "header length %d (want >= %d and within the %d-byte input)", hdrLen, rawHeaderLen, len(raw))
	}
	for i := rawHeaderLen; i < int(hdrLen); i++ {
		if raw[i] != 0 {
			return nil, p.errorf(0, i, "unknown non-zero header field")
		}
	}
	typeOff, typeLen := p.bo.Uint32(raw[8:]), p.bo.Uint32(raw[12:])
	strOff, strLen := p.bo.Uint32(raw[16:]), p.bo.Uint32(raw[20:])
	body := uint64(len(raw)) - uint64(hdrLen)
	switch {
	case typeOff%4 != 0:
		return nil, p.errorf(0, 8, "type section offset %d is not 4-byte aligned", typeOff)
	case uint64(typeOff)+uint64(typeLen) > body:
		return nil, p.errorf(0, 8, "type section [%d, +%d) beyond the %d bytes after the header", typeOff, typeLen, body)
	case uint64(strOff)+uint64(strLen) > body:
		return nil, p.errorf(0, 16, "string section [%d, +%d) beyond the %d bytes after the header", strOff, strLen, body)
	case uint64(typeOff)+uint64(typeLen) > uint64(strOff):
		return nil, p.errorf(0, 8, "type section [%d, +%d) overlaps or follows the string section at %d", typeOff, typeLen, strOff)
	}

	// Strings first: names are resolved while decoding types.
	var parent *stringTable
	if base != nil {
		var err error
		if parent, err = base.wireStrings(); err != nil {
			return nil, fmt.Errorf("btf: base: %w", err)
		}
	}
	strStart := int(hdrLen) + int(strOff)
	strs := raw[strStart : strStart+int(strLen)]
	if base == nil && (len(strs) == 0 || strs[0] != 0) {
		return nil, p.errorf(0, strStart, "string section does not start with the empty string")
	}
	if len(strs) > 0 && strs[len(strs)-1] != 0 {
		return nil, p.errorf(0, strStart+len(strs)-1, "string section does not end with NUL")
	}
	if uint64(parent.end())+uint64(len(strs)) > maxStringsLen {
		return nil, p.errorf(0, strStart, "string section too large on top of the base's %d bytes", parent.end())
	}
	if !p.alias {
		strs = append([]byte(nil), strs...)
	}
	p.strs = newParsedTable(parent, strs)

	spec := &Spec{Base: base, FirstID: 1, strings: p.strs}
	if base != nil {
		spec.FirstID = base.NextID()
	}
	typeStart := int(hdrLen) + int(typeOff)
	types := raw[typeStart : typeStart+int(typeLen)]
	if p.trusted && p.bo == binary.LittleEndian {
		offs, err := indexRecords(types)
		if err != nil {
			return nil, err
		}
		spec.records, spec.lazy = types, &lazyTypes{offs: offs}
		return spec, nil
	}
	// A first pass counts the records and their members (so that Types and the
	// member arena are allocated once); the second decodes them.
	ntypes, nmembers := 0, 0
	for pos := 0; pos < len(types); ntypes++ {
		if len(types)-pos < rawTypeLen {
			return nil, p.errorf(spec.NextID()+TypeID(ntypes), typeStart+pos, "truncated type record (%d bytes left, need %d)", len(types)-pos, rawTypeLen)
		}
		info := p.bo.Uint32(types[pos+4:])
		kind, vlen := Kind(info>>24&0x1f), int(info&0xffff)
		if hasVlen(kind) {
			nmembers += vlen
		}
		pos += recordSize(kind, vlen)
	}
	if uint64(spec.FirstID)+uint64(ntypes) > 1<<32 {
		return nil, p.errorf(0, typeStart, "%d types on top of %d exceed the 32-bit type ID space", ntypes, spec.FirstID-1)
	}
	p.marena = hugepage.Make[Member](nmembers, nmembers)
	spec.Types = hugepage.Make[Type](ntypes, ntypes)
	offsets := hugepage.Make[int](ntypes, ntypes) // of each record, for errors
	off := typeStart
	for i := range spec.Types {
		n, err := p.decodeType(&spec.Types[i], raw[off:typeStart+len(types)], spec.FirstID+TypeID(i), off)
		if err != nil {
			return nil, err
		}
		offsets[i] = off
		off += n // the record size the first pass used (recordSize)
	}
	if err := spec.checkRefs(func(i int) int { return offsets[i] }); err != nil {
		return nil, err
	}
	if p.bo == binary.LittleEndian {
		spec.records = types
		if !p.alias {
			spec.records = append([]byte(nil), types...)
		}
	}
	return spec, nil
}

func (p *parser) name(id TypeID, off int, nameOff uint32) (string, error) {
	s, err := p.strs.lookup(nameOff)
	if err != nil {
		return "", p.errorf(id, off, "name: %v", err)
	}
	return s, nil
}

// decodeType decodes the record at the start of b (at offset off of the blob) into t
// and returns its length.
func (p *parser) decodeType(t *Type, b []byte, id TypeID, off int) (int, error) {
	if len(b) < rawTypeLen {
		return 0, p.errorf(id, off, "truncated type record (%d bytes left, need %d)", len(b), rawTypeLen)
	}
	bo := p.bo
	nameOff, info, sizeType := bo.Uint32(b), bo.Uint32(b[4:]), bo.Uint32(b[8:])
	if info&^infoValidMask != 0 {
		return 0, p.errorf(id, off, "info %#08x has reserved bits set", info)
	}
	t.Kind = Kind(info >> 24 & 0x1f)
	t.KindFlag = info>>31 != 0
	vlen := int(info & 0xffff)
	var err error
	if t.Name, err = p.name(id, off, nameOff); err != nil {
		return 0, err
	}
	if t.Kind == KindUnknown || t.Kind >= NumKinds {
		return 0, p.errorf(id, off, "unknown kind %d", t.Kind)
	}
	if t.KindFlag && !kindFlagAllowed(t.Kind) {
		return 0, p.errorf(id, off, "%s with kind_flag set", t.Kind)
	}
	if vlen != 0 && !hasVlen(t.Kind) && t.Kind != KindFunc {
		return 0, p.errorf(id, off, "%s with vlen %d", t.Kind, vlen)
	}
	n := recordSize(t.Kind, vlen)
	if len(b) < n {
		return 0, p.errorf(id, off, "truncated %s record with vlen %d (%d bytes left, need %d)", t.Kind, vlen, len(b), n)
	}
	tail := b[rawTypeLen:n]
	switch t.Kind {
	case KindInt:
		t.Size = sizeType
		v := bo.Uint32(tail)
		if v&0xf000ff00 != 0 {
			return 0, p.errorf(id, off, "INT encoding word %#08x has reserved bits set", v)
		}
		t.IntEncoding, t.IntOffset, t.IntBits = uint8(v>>24), uint8(v>>16), uint8(v)
	case KindPtr, KindTypedef, KindVolatile, KindConst, KindRestrict, KindTypeTag:
		t.Type = TypeID(sizeType)
	case KindFunc:
		t.Type = TypeID(sizeType)
		t.Linkage = uint32(vlen)
	case KindArray:
		t.Type, t.IndexType, t.Nelems = TypeID(bo.Uint32(tail)), TypeID(bo.Uint32(tail[4:])), bo.Uint32(tail[8:])
	case KindStruct, KindUnion:
		t.Size = sizeType
		t.Members = p.members(vlen)
		for i := range t.Members {
			m, r := &t.Members[i], tail[i*12:]
			if m.Name, err = p.name(id, off, bo.Uint32(r)); err != nil {
				return 0, err
			}
			m.Type, m.Offset = TypeID(bo.Uint32(r[4:])), bo.Uint32(r[8:])
			if t.KindFlag {
				m.Size, m.Offset = m.Offset>>24, m.Offset&0xffffff
			}
		}
	case KindEnum:
		t.Size = sizeType
		t.Members = p.members(vlen)
		for i := range t.Members {
			m, r := &t.Members[i], tail[i*8:]
			if m.Name, err = p.name(id, off, bo.Uint32(r)); err != nil {
				return 0, err
			}
			v := bo.Uint32(r[4:])
			if t.KindFlag {
				m.SetValue(uint64(int64(int32(v))))
			} else {
				m.SetValue(uint64(v))
			}
		}
	case KindEnum64:
		t.Size = sizeType
		t.Members = p.members(vlen)
		for i := range t.Members {
			m, r := &t.Members[i], tail[i*12:]
			if m.Name, err = p.name(id, off, bo.Uint32(r)); err != nil {
				return 0, err
			}
			m.SetValue(uint64(bo.Uint32(r[4:])) | uint64(bo.Uint32(r[8:]))<<32)
		}
	case KindFwd:
		if sizeType != 0 {
			return 0, p.errorf(id, off, "FWD with size/type %d", sizeType)
		}
	case KindFuncProto:
		t.Type = TypeID(sizeType)
		t.Members = p.members(vlen)
		for i := range t.Members {
			m, r := &t.Members[i], tail[i*8:]
			if m.Name, err = p.name(id, off, bo.Uint32(r)); err != nil {
				return 0, err
			}
			m.Type = TypeID(bo.Uint32(r[4:]))
		}
	case KindVar:
		t.Type = TypeID(sizeType)
		t.Linkage = bo.Uint32(tail)
	case KindDatasec:
		t.Size = sizeType
		t.Members = p.members(vlen)
		for i := range t.Members {
			r := tail[i*12:]
			t.Members[i] = Member{Type: TypeID(bo.Uint32(r)), Offset: bo.Uint32(r[4:]), Size: bo.Uint32(r[8:])}
		}
	case KindFloat:
		t.Size = sizeType
	case KindDeclTag:
		t.Type = TypeID(sizeType)
		t.ComponentIdx = int32(bo.Uint32(tail))
		if t.ComponentIdx < -1 {
			return 0, p.errorf(id, off, "DECL_TAG component_idx %d", t.ComponentIdx)
		}
	}
	return n, nil
}

// kindFlagAllowed reports whether the kernel defines kind_flag for k.
func kindFlagAllowed(k Kind) bool {
	switch k {
	case KindStruct, KindUnion, KindEnum, KindEnum64, KindFwd, KindDeclTag, KindTypeTag:
		return true
	}
	return false
}

// hasVlen reports whether vlen counts trailing member records for k.
func hasVlen(k Kind) bool {
	switch k {
	case KindStruct, KindUnion, KindEnum, KindEnum64, KindFuncProto, KindDatasec:
		return true
	}
	return false
}

// recordSize is the length of a record of kind k with vlen members: struct btf_type
// and the kind's tail (btf_array, btf_member, btf_enum, btf_enum64, btf_param,
// btf_var, btf_var_secinfo, btf_decl_tag, or the INT encoding word).
func recordSize(k Kind, vlen int) int {
	n := rawTypeLen
	switch k {
	case KindInt, KindVar, KindDeclTag:
		n += 4
	case KindArray:
		n += 12
	case KindStruct, KindUnion, KindEnum64, KindDatasec:
		n += 12 * vlen
	case KindEnum, KindFuncProto:
		n += 8 * vlen
	}
	return n
}

// checkRefs verifies that every type ID a type refers to exists (in the Spec or its
// base) and that FUNCs refer to FUNC_PROTOs. where gives the error offset for the
// i-th type (-1 when marshalling).
func (s *Spec) checkRefs(where func(i int) int) error {
	last := s.NextID() - 1
	for i := range s.Types {
		t := &s.Types[i]
		id := s.FirstID + TypeID(i)
		fail := func(format string, args ...any) error {
			if where == nil {
				return fmt.Errorf("btf: type ID %d (%s %q): %s", id, t.Kind, t.Name, fmt.Sprintf(format, args...))
			}
			return &DecodeError{ID: id, Offset: where(i), Err: fmt.Errorf(format, args...)}
		}
		if t.Kind.HasRef() && t.Type > last {
			return fail("%s refers to type ID %d, beyond the last ID %d", t.Kind, t.Type, last)
		}
		switch t.Kind {
		case KindArray:
			if t.IndexType > last {
				return fail("ARRAY index type ID %d beyond the last ID %d", t.IndexType, last)
			}
		case KindStruct, KindUnion, KindFuncProto, KindDatasec:
			for j, m := range t.Members {
				if m.Type > last {
					return fail("member %d refers to type ID %d, beyond the last ID %d", j, m.Type, last)
				}
			}
		case KindFunc:
			if s.kindOf(t.Type) != KindFuncProto {
				return fail("FUNC refers to type ID %d, which is not a FUNC_PROTO", t.Type)
			}
		}
	}
	return nil
}

// wireStrings returns the string table the Spec has on the wire: the one it was parsed
// from, or the one its Marshal writes.
func (s *Spec) wireStrings() (*stringTable, error) {
	if s.strings != nil {
		return s.strings, nil
	}
	var parent *stringTable
	if s.Base != nil {
		var err error
		if parent, err = s.Base.wireStrings(); err != nil {
			return nil, err
		}
	}
	tab := newBuildTable(parent)
	for i := range s.Types {
		if err := addNames(tab, &s.Types[i]); err != nil {
			return nil, fmt.Errorf("type ID %d: %w", s.FirstID+TypeID(i), err)
		}
	}
	return tab, nil
}

// addNames interns t's strings in the order Marshal writes them: the name, then the
// members' names.
func addNames(tab *stringTable, t *Type) error {
	if _, err := tab.add(t.Name); err != nil {
		return err
	}
	if t.Kind == KindDatasec {
		return nil // btf_var_secinfo has no name
	}
	for i := range t.Members {
		if _, err := tab.add(t.Members[i].Name); err != nil {
			return err
		}
	}
	return nil
}

// Marshal encodes the Spec as raw BTF (for split BTF: the split part only, on the
// base's string table; see the comment at the top of raw.go). The Spec is validated as
// it is encoded: every kind known, references in range, values that fit their fields.
func (s *Spec) Marshal(opts MarshalOptions) ([]byte, error) {
	bo := opts.ByteOrder
	if bo == nil {
		return nil, errors.New("btf: marshal: MarshalOptions.ByteOrder is required")
	}
	s.DecodeTypes()
	if err := s.checkRefs(nil); err != nil {
		return nil, fmt.Errorf("btf: marshal: %w", err)
	}
	var parent *stringTable
	if s.Base != nil {
		var err error
		if parent, err = s.Base.wireStrings(); err != nil {
			return nil, fmt.Errorf("btf: marshal: base: %w", err)
		}
	}
	tab := newBuildTable(parent)

	typeLen := 0
	for i := range s.Types {
		typeLen += recordSize(s.Types[i].Kind, len(s.Types[i].Members))
	}
	buf := make([]byte, rawHeaderLen+typeLen)
	pos := rawHeaderLen
	var probe [4]byte
	bo.PutUint32(probe[:], 1)
	bigEndian := probe[0] == 0
	for i := range s.Types {
		t := &s.Types[i]
		n, err := encodeType(buf[pos:], tab, t)
		if err != nil {
			return nil, fmt.Errorf("btf: marshal: type ID %d (%s %q): %w", s.FirstID+TypeID(i), t.Kind, t.Name, err)
		}
		pos += n
	}
	if bigEndian {
		swapWords(buf[rawHeaderLen:])
	}
	if uint64(typeLen)+uint64(len(tab.data)) > 1<<32-1 {
		return nil, fmt.Errorf("btf: marshal: %d bytes of types and %d of strings exceed 4 GiB", typeLen, len(tab.data))
	}
	bo.PutUint16(buf[0:], rawMagic)
	buf[2] = rawVersion
	buf[3] = 0
	bo.PutUint32(buf[4:], rawHeaderLen)
	bo.PutUint32(buf[8:], 0)
	bo.PutUint32(buf[12:], uint32(typeLen))
	bo.PutUint32(buf[16:], uint32(typeLen))
	bo.PutUint32(buf[20:], uint32(len(tab.data)))
	return append(buf, tab.data...), nil
}

// encodeType writes t's record into b (which has room for it), little-endian, and
// returns its length. Every field of a record is a 32-bit word, so the record is
// made big-endian by swapping each (swapWords). Writing one order keeps PutUint32
// a direct, inlined call: through the binary.ByteOrder interface, it was a tenth
// of the encoder's CPU.
func encodeType(b []byte, tab *stringTable, t *Type) (int, error) {
	le := binary.LittleEndian
	vlen := len(t.Members)
	if t.Kind == KindUnknown || t.Kind >= NumKinds {
		return 0, fmt.Errorf("unknown kind %d", t.Kind)
	}
	if t.KindFlag && !kindFlagAllowed(t.Kind) {
		return 0, fmt.Errorf("kind_flag set on %s", t.Kind)
	}
	if vlen != 0 && !hasVlen(t.Kind) {
		return 0, fmt.Errorf("%s with %d members", t.Kind, vlen)
	}
	if vlen > maxVlen {
		return 0, fmt.Errorf("%d members, more than %d", vlen, maxVlen)
	}
	nameOff, err := tab.add(t.Name)
	if err != nil {
		return 0, err
	}
	info := uint32(t.Kind)<<24 | uint32(vlen)
	if t.KindFlag {
		info |= 1 << 31
	}
	sizeType := t.Size
	tail := b[rawTypeLen:recordSize(t.Kind, vlen)]
	switch t.Kind {
	case KindInt:
		if t.IntEncoding > 0xf {
			return 0, fmt.Errorf("INT encoding %#x out of range", t.IntEncoding)
		}
		le.PutUint32(tail, uint32(t.IntEncoding)<<24|uint32(t.IntOffset)<<16|uint32(t.IntBits))
	case KindPtr, KindTypedef, KindVolatile, KindConst, KindRestrict, KindTypeTag, KindFuncProto, KindVar, KindDeclTag:
		sizeType = uint32(t.Type)
	case KindFunc:
		if t.Linkage > maxVlen {
			return 0, fmt.Errorf("FUNC linkage %d out of range", t.Linkage)
		}
		info |= t.Linkage
		sizeType = uint32(t.Type)
	case KindArray:
		sizeType = 0
		le.PutUint32(tail, uint32(t.Type))
		le.PutUint32(tail[4:], uint32(t.IndexType))
		le.PutUint32(tail[8:], t.Nelems)
	case KindFwd:
		sizeType = 0
	}
	switch t.Kind {
	case KindStruct, KindUnion:
		for i, m := range t.Members {
			off := m.Offset
			if t.KindFlag {
				if m.Offset > 0xffffff || m.Size > 0xff {
					return 0, fmt.Errorf("member %d (%q): bit offset %d or bitfield size %d does not fit kind_flag encoding", i, m.Name, m.Offset, m.Size)
				}
				off = m.Size<<24 | m.Offset
			} else if m.Size != 0 {
				return 0, fmt.Errorf("member %d (%q): bitfield size %d needs kind_flag", i, m.Name, m.Size)
			}
			r := tail[i*12:]
			if err := putName(r, tab, m.Name); err != nil {
				return 0, err
			}
			le.PutUint32(r[4:], uint32(m.Type))
			le.PutUint32(r[8:], off)
		}
	case KindEnum:
		for i, m := range t.Members {
			v := m.Value()
			if v > 0xffffffff && int64(v) != int64(int32(v)) {
				return 0, fmt.Errorf("enumerator %d (%q): value %#x does not fit 32 bits", i, m.Name, v)
			}
			r := tail[i*8:]
			if err := putName(r, tab, m.Name); err != nil {
				return 0, err
			}
			le.PutUint32(r[4:], uint32(v))
		}
	case KindEnum64:
		for i, m := range t.Members {
			r := tail[i*12:]
			if err := putName(r, tab, m.Name); err != nil {
				return 0, err
			}
			v := m.Value()
			le.PutUint32(r[4:], uint32(v))
			le.PutUint32(r[8:], uint32(v>>32))
		}
	case KindFuncProto:
		for i, m := range t.Members {
			r := tail[i*8:]
			if err := putName(r, tab, m.Name); err != nil {
				return 0, err
			}
			le.PutUint32(r[4:], uint32(m.Type))
		}
	case KindVar:
		le.PutUint32(tail, t.Linkage)
	case KindDatasec:
		for i, m := range t.Members {
			r := tail[i*12:]
			le.PutUint32(r, uint32(m.Type))
			le.PutUint32(r[4:], m.Offset)
			le.PutUint32(r[8:], m.Size)
		}
	case KindDeclTag:
		if t.ComponentIdx < -1 {
			return 0, fmt.Errorf("DECL_TAG component_idx %d", t.ComponentIdx)
		}
		le.PutUint32(tail, uint32(t.ComponentIdx))
	}
	le.PutUint32(b, nameOff)
	le.PutUint32(b[4:], info)
	le.PutUint32(b[8:], sizeType)
	return rawTypeLen + len(tail), nil
}

func putName(b []byte, tab *stringTable, name string) error {
	off, err := tab.add(name)
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b, off)
	return nil
}

// swapWords turns the little-endian 32-bit words of b big-endian, or back.
func swapWords(b []byte) {
	for i := 0; i+4 <= len(b); i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.LittleEndian.Uint32(b[i:]))
	}
}
