package btf

import (
	"bytes"
	"fmt"
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

	once  sync.Once         // builds index for parsed tables
	index map[string]uint32 // first offset of every string starting a NUL-terminated run
}

// newParsedTable returns the table for data, a string section read from raw BTF whose
// offsets continue parent's (parent may be nil).
func newParsedTable(parent *stringTable, data []byte) *stringTable {
	return &stringTable{parent: parent, start: parent.end(), data: data}
}

// newBuildTable returns an empty table to be filled by add. A root table starts with
// the empty string; a split table has none of its own (the base's offset 0 is "").
func newBuildTable(parent *stringTable) *stringTable {
	t := &stringTable{parent: parent, start: parent.end(), index: make(map[string]uint32)}
	t.once.Do(func() {}) // the index is maintained by add
	if parent == nil {
		t.data = []byte{0}
		t.index[""] = 0
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

// find returns the lowest offset of s in the table or its parents.
func (t *stringTable) find(s string) (uint32, bool) {
	if t == nil {
		return 0, false
	}
	if off, ok := t.parent.find(s); ok {
		return off, true
	}
	t.once.Do(t.buildIndex)
	off, ok := t.index[s]
	return off, ok
}

// buildIndex indexes every string of a parsed table that starts right after a NUL (or
// at the table's start), keeping the first occurrence of duplicates.
func (t *stringTable) buildIndex() {
	t.index = make(map[string]uint32, bytes.Count(t.data, []byte{0}))
	for i := 0; i < len(t.data); {
		n := bytes.IndexByte(t.data[i:], 0)
		if n < 0 {
			break
		}
		s := unsafe.String(unsafe.SliceData(t.data[i:]), n) // as in lookup
		if _, dup := t.index[s]; !dup {
			t.index[s] = t.start + uint32(i)
		}
		i += n + 1
	}
}

// add returns the offset of s, appending it to a table being built if neither the
// table nor a parent has it.
func (t *stringTable) add(s string) (uint32, error) {
	if off, ok := t.find(s); ok {
		return off, nil
	}
	if strings.IndexByte(s, 0) >= 0 {
		return 0, fmt.Errorf("string %q contains a NUL byte", s)
	}
	off := t.end()
	if uint64(off)+uint64(len(s))+1 > maxStringsLen {
		return 0, fmt.Errorf("string section exceeds %d bytes", maxStringsLen)
	}
	t.data = append(t.data, s...)
	t.data = append(t.data, 0)
	t.index[s] = off
	return off, nil
}

// maxStringsLen bounds the combined string space: name offsets are 32 bits and the
// kernel limits BTF to well below this (BTF_MAX_NAME_OFFSET is 0xffffff).
const maxStringsLen = 1<<32 - 1
