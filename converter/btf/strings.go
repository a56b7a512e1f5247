package btf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"strings"
	"sync"
	"unsafe"
)

// stringTable is a BTF string section as it is (or will be) on the wire: NUL-terminated
// strings, addressed by byte offset.
//
// Split BTF continues its base's string section: offsets below start belong to the
// parent (the base's table, itself possibly split), offsets from start on to this
// table's data. The root table starts with a NUL, so offset 0 is the empty string.
//
// A table is either parsed (data taken from raw BTF; the offset index is built on
// first use, once, so a parsed base may be shared by concurrent marshallers) or being
// built by Marshal (strings appended in order of first use, index kept current).
type stringTable struct {
	parent *stringTable
	start  uint32 // offset of data[0] in the combined string space
	data   []byte

	frozen bool      // parsed: add finds, never appends
	once   sync.Once // builds index for parsed tables
	index  strIndex  // first offset of every string starting a NUL-terminated run

	// region, if set (Table.InternFrom), is a string section that names often
	// alias: such a name is found by its position there (at), not by content.
	region []byte
	at     posIndex
}

// newParsedTable returns the table for data, a string section read from raw BTF whose
// offsets continue parent's (parent may be nil).
func newParsedTable(parent *stringTable, data []byte) *stringTable {
	return &stringTable{parent: parent, start: parent.end(), data: data, frozen: true}
}

// newBuildTable returns an empty table to be filled by add. A root table starts with
// the empty string; a split table has none of its own (the base's offset 0 is "").
func newBuildTable(parent *stringTable) *stringTable {
	t := &stringTable{parent: parent, start: parent.end()}
	t.index.init(0)
	t.once.Do(func() {}) // the index is maintained by add
	if parent == nil {
		t.data = []byte{0}
		_, slot, _ := t.index.lookup(t.data, "", hashString(""))
		t.index.put(slot, 0)
	}
	return t
}

// end is the first offset after the table (0 for a nil table).
func (t *stringTable) end() uint32 {
	if t == nil {
		return 0
	}
	return t.start + uint32(len(t.data))
}

// lookup returns the NUL-terminated string at off. The string aliases the table's
// data, which is never written in place (a table being built only appends), so
// that parsing a base of a hundred thousand names allocates none.
func (t *stringTable) lookup(off uint32) (string, error) {
	for t != nil && off < t.start {
		t = t.parent
	}
	if t == nil || off >= t.end() {
		return "", fmt.Errorf("string offset %d out of range (string section ends at %d)", off, t.end())
	}
	rest := t.data[off-t.start:]
	n := bytes.IndexByte(rest, 0)
	if n < 0 {
		return "", fmt.Errorf("string at offset %d is not NUL-terminated", off)
	}
	return unsafe.String(unsafe.SliceData(rest), n), nil
}

// find returns the lowest offset of s, of hash h (hashString, computed once for
// the whole chain), in the table or its parents.
func (t *stringTable) find(s string, h uint64) (uint32, bool) {
	if t == nil {
		return 0, false
	}
	if off, ok := t.parent.find(s, h); ok {
		return off, true
	}
	t.once.Do(t.buildIndex)
	if rel, _, ok := t.index.lookup(t.data, s, h); ok {
		return t.start + rel, true
	}
	return 0, false
}

// buildIndex indexes every string of a parsed table that starts right after a NUL (or
// at the table's start), keeping the first occurrence of duplicates.
func (t *stringTable) buildIndex() {
	t.index.init(bytes.Count(t.data, []byte{0})) // room for all: no growth below
	for i := 0; i < len(t.data); {
		n := bytes.IndexByte(t.data[i:], 0)
		if n < 0 {
			break
		}
		s := unsafe.String(unsafe.SliceData(t.data[i:]), n) // as in lookup
		if _, slot, dup := t.index.lookup(t.data, s, hashString(s)); !dup {
			t.index.put(slot, uint32(i))
		}
		i += n + 1
	}
}

// add returns the offset of s, appending it to a table being built if neither the
// table nor a parent has it.
func (t *stringTable) add(s string) (uint32, error) {
	if s == "" {
		return 0, nil // every root table starts with it; split tables continue one
	}
	if t.region != nil {
		// A name that is a whole NUL-terminated string of the region is that
		// string wherever it is met: its position identifies it.
		pos := uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.SliceData(t.region)))
		if pos < uintptr(len(t.region)) && uintptr(len(t.region))-pos > uintptr(len(s)) && t.region[pos+uintptr(len(s))] == 0 {
			if off, ok := t.at.get(uint32(pos)); ok {
				return off, nil
			}
			off, err := t.addContent(s)
			if err == nil {
				t.at.put(uint32(pos), off)
			}
			return off, err
		}
	}
	return t.addContent(s)
}

// addContent is add, looking s up by its content.
func (t *stringTable) addContent(s string) (uint32, error) {
	h := hashString(s)
	if off, ok := t.parent.find(s, h); ok {
		return off, nil
	}
	if t.frozen {
		if off, ok := t.find(s, h); ok {
			return off, nil
		}
		return 0, fmt.Errorf("string %q is not in the parsed string section", s)
	}
	t.index.reserve(t.data)
	rel, slot, ok := t.index.lookup(t.data, s, h)
	if ok {
		return t.start + rel, nil
	}
	if strings.IndexByte(s, 0) >= 0 {
		return 0, fmt.Errorf("string %q contains a NUL byte", s)
	}
	off := t.end()
	if uint64(off)+uint64(len(s))+1 > maxStringsLen {
		return 0, fmt.Errorf("string section exceeds %d bytes", maxStringsLen)
	}
	// Doubling as append does, but without clearing the new capacity (append
	// clears it: every page of a growing table's data was touched twice).
	if cap(t.data)-len(t.data) <= len(s) {
		t.data = reserve(t.data, max(len(s)+1, len(t.data)))
	}
	t.data = append(t.data, s...)
	t.data = append(t.data, 0)
	t.index.put(slot, off-t.start)
	return off, nil
}

// strIndex finds a string of a table by content: open addressing with linear
// probing over offsets into the table's data (offset+1; 0 is an empty slot), keyed
// by a hash of the string. It holds no pointers and no copies of the strings, so
// indexing a base's hundred thousand names costs a few hundred kilobytes the GC
// never scans, where a map[string]uint32 took megabytes it scanned on every cycle.
type strIndex struct {
	slots []uint32
	used  int
}

// hashString is a fixed function of the string (wyhash's mixing of 64-bit words), not
// a seeded one, so that an index written by one process (Spec.MarshalStringIndex)
// serves another.
func hashString(s string) uint64 {
	const p0, p1, p2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db, 0x8ebc6af09c88c6e3
	n := uint64(len(s))
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	h := p0 ^ n
	for len(b) > 16 {
		h = mum(le64(b)^p1, le64(b[8:])^h)
		b = b[16:]
	}
	var x, y uint64
	switch {
	case len(b) >= 8:
		x, y = le64(b), le64(b[len(b)-8:])
	case len(b) >= 4:
		x, y = uint64(le32(b)), uint64(le32(b[len(b)-4:]))
	case len(b) > 0:
		x = uint64(b[0])<<16 | uint64(b[len(b)>>1])<<8 | uint64(b[len(b)-1])
	}
	return mum(p2^n, mum(x^p1, y^h))
}

func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// init empties the index, sized for n strings without growing.
func (x *strIndex) init(n int) {
	size := 64
	for size < 2*n {
		size <<= 1
	}
	x.slots, x.used = make([]uint32, size), 0
}

// lookup returns the offset in data of s, of hash h, NUL-terminated there; if s is
// not indexed, the slot where put would record it.
func (x *strIndex) lookup(data []byte, s string, h uint64) (off uint32, slot int, ok bool) {
	mask := len(x.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := x.slots[i]
		if e == 0 {
			return 0, i, false
		}
		if off := int(e - 1); off+len(s) < len(data) && data[off+len(s)] == 0 && string(data[off:off+len(s)]) == s {
			return uint32(off), i, true
		}
	}
}

// put records offset off in a slot lookup returned, with no reserve or init since.
func (x *strIndex) put(slot int, off uint32) {
	x.slots[slot] = off + 1
	x.used++
}

// reserve makes room for one more string, re-inserting every offset into twice the
// slots (finding its string's end in data again) when the index is half full.
func (x *strIndex) reserve(data []byte) {
	if 2*(x.used+1) <= len(x.slots) {
		return
	}
	old := x.slots
	x.slots = make([]uint32, 2*len(old))
	mask := len(x.slots) - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		rest := data[e-1:]
		i := int(hashString(unsafe.String(unsafe.SliceData(rest), bytes.IndexByte(rest, 0)))) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = e
	}
}

// maxStringsLen bounds the combined string space: name offsets are 32 bits and the
// kernel limits BTF to well below this (BTF_MAX_NAME_OFFSET is 0xffffff).
const maxStringsLen = 1<<32 - 1

// posIndex maps positions in a string section to string offsets: open
// addressing with linear probing over position+1 << 32 | offset (0: empty).
type posIndex struct {
	slots []uint64
	used  int
}

func posHash(pos uint32) uint64 { return uint64(pos) * 0x9e3779b97f4a7c15 }

// get returns the offset recorded for pos.
func (x *posIndex) get(pos uint32) (uint32, bool) {
	if x.slots == nil {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	key := uint64(pos) + 1
	for i := posHash(pos) >> 32 & mask; ; i = (i + 1) & mask {
		e := x.slots[i]
		if e == 0 {
			return 0, false
		}
		if e>>32 == key {
			return uint32(e), true
		}
	}
}

// put records off for pos, which get did not find.
func (x *posIndex) put(pos, off uint32) {
	if 2*(x.used+1) > len(x.slots) {
		old := x.slots
		x.slots = make([]uint64, max(1024, 2*len(old)))
		x.used = 0
		for _, e := range old {
			if e != 0 {
				x.insert(e)
			}
		}
	}
	x.insert((uint64(pos)+1)<<32 | uint64(off))
}

func (x *posIndex) insert(e uint64) {
	mask := uint64(len(x.slots) - 1)
	for i := posHash(uint32(e>>32-1)) >> 32 & mask; ; i = (i + 1) & mask {
		if x.slots[i] == 0 {
			x.slots[i] = e
			x.used++
			return
		}
	}
}

// The index of a parsed string section, written by one process for others that
// parse the same section (a kernel build's module conversions, each on vmlinux's
// BTF): little-endian, magic "RBTFSTRX", format, CRC-32C of the rest, the section's
// length, the index's count and slots, then the slots.
const (
	strIndexMagic  = "RBTFSTRX"
	strIndexFormat = 1
	strIndexHeader = 40
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrStringIndex is returned (wrapped) by LoadStringIndex for data that is not an
// index of the Spec's string section.
var ErrStringIndex = errors.New("not an index of this string section")

// MarshalStringIndex returns the index of s's own string section (built if it was
// not yet), in the form LoadStringIndex reads. s must have been parsed.
func (s *Spec) MarshalStringIndex() ([]byte, error) {
	t := s.strings
	if t == nil || !t.frozen {
		return nil, fmt.Errorf("btf: string index: the Spec was not parsed")
	}
	t.once.Do(t.buildIndex)
	out := make([]byte, strIndexHeader+4*len(t.index.slots))
	le := binary.LittleEndian
	copy(out, strIndexMagic)
	le.PutUint32(out[8:], strIndexFormat)
	le.PutUint64(out[16:], uint64(len(t.data)))
	le.PutUint64(out[24:], uint64(t.index.used))
	le.PutUint64(out[32:], uint64(len(t.index.slots)))
	for i, x := range t.index.slots {
		le.PutUint32(out[strIndexHeader+4*i:], x)
	}
	le.PutUint32(out[12:], crc32.Checksum(out[16:], castagnoli))
	return out, nil
}

// LoadStringIndex gives s's string section the index MarshalStringIndex wrote for
// the same section, aliasing data, which must stay unchanged while s is used. The
// caller keys data by the section's contents; LoadStringIndex checks its form, its
// checksum, the section's length and that a sample of its entries find their
// strings. Data that is not such an index is an error wrapping ErrStringIndex, and s
// then builds its index itself, as without.
func (s *Spec) LoadStringIndex(data []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("btf: string index: %s: %w", fmt.Sprintf(format, args...), ErrStringIndex)
	}
	t := s.strings
	if t == nil || !t.frozen {
		return fmt.Errorf("btf: string index: the Spec was not parsed")
	}
	le := binary.LittleEndian
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		return bad("the index is little-endian, this machine is not")
	}
	if len(data) < strIndexHeader || string(data[:8]) != strIndexMagic || le.Uint32(data[8:]) != strIndexFormat {
		return bad("no header")
	}
	n, used, size := le.Uint64(data[16:]), le.Uint64(data[24:]), le.Uint64(data[32:])
	switch {
	case n != uint64(len(t.data)):
		return bad("made for %d bytes of strings, the section has %d", n, len(t.data))
	case size == 0 || size&(size-1) != 0 || used > size/2 || uint64(len(data)) != strIndexHeader+4*size:
		return bad("%d slots, %d used, %d bytes", size, used, len(data))
	case crc32.Checksum(data[16:], castagnoli) != le.Uint32(data[12:]):
		return bad("checksum mismatch")
	}
	if uintptr(unsafe.Pointer(&data[0]))%4 != 0 {
		data = append([]byte(nil), data...)
	}
	x := strIndex{slots: unsafe.Slice((*uint32)(unsafe.Pointer(&data[strIndexHeader])), size), used: int(used)}
	// A sample of the entries must find their own strings.
	for i := 0; i < len(x.slots); i += max(1, len(x.slots)/64) {
		e := x.slots[i]
		if e == 0 {
			continue
		}
		if uint64(e) > n {
			return bad("slot %d: offset %d beyond the section", i, e-1)
		}
		rest := t.data[e-1:]
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			return bad("slot %d: offset %d starts no string", i, e-1)
		}
		str := unsafe.String(unsafe.SliceData(rest), end)
		if _, _, ok := x.lookup(t.data, str, hashString(str)); !ok {
			return bad("slot %d: the string at %d is not found", i, e-1)
		}
	}
	loaded := false
	t.once.Do(func() { t.index, loaded = x, true })
	if !loaded {
		return fmt.Errorf("btf: string index: the section is indexed already")
	}
	return nil
}
