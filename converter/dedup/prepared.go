package dedup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"unsafe"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// A prepared base on disk: what PrepareBase computes for a base (every base type's
// kind and the candidate table that holds them, in libbpf's order), written once
// and read back by each later process that deduplicates on the same base, as a
// kernel build's one process per module does. Reading it costs the page faults of
// the arrays the dedup copies, where preparing costs hashing every base type.
//
// Layout (little-endian; every array 8-byte aligned):
//
//	header   magic "RBTFPREP", format, CRC-32C of the rest, kinds, libbpfCap,
//	         used, odd, shift, spare entries, slots, entries
//	kinds    one byte per type ID (0 unused), padded
//	slots    uint64 each
//	tails    uint32 each, padded
//	entries  {id, next, prev uint32} each, then room for spare ones (zeros), padded
//
// The spare entries let a Dedup that uses the table in place (LoadBaseOnce, on a
// private mapping of the file) add a module's types without copying the list.
//
// The file says nothing of which base it was made for: the caller keys it by the
// base's contents (and the program that wrote it), and LoadBase checks that the
// kinds are the base's.

const (
	preparedMagic  = "RBTFPREP"
	preparedFormat = 1
	preparedHeader = 64
	preparedSpare  = 1 << 16 // entries: more than a large module's distinct types
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrPrepared is returned (wrapped) by LoadBase for data that is not a preparation
// of the base it is given.
var ErrPrepared = errors.New("not a prepared base for this base")

func pad8(n int) int { return (n + 7) &^ 7 }

// MarshalBinary returns b's preparation in the form LoadBase reads.
func (b *Base) MarshalBinary() ([]byte, error) {
	t := b.table
	if t.collide {
		return nil, fmt.Errorf("dedup: a table with forced collisions is not written")
	}
	nk, ns, ne := len(b.kinds), len(t.slots), len(t.entries)
	size := preparedHeader + pad8(nk) + 8*ns + pad8(4*ns) + pad8(12*(ne+preparedSpare))
	out := make([]byte, size)
	le := binary.LittleEndian
	copy(out, preparedMagic)
	le.PutUint32(out[8:], preparedFormat)
	le.PutUint64(out[16:], uint64(nk))
	le.PutUint64(out[24:], uint64(t.libbpfCap))
	le.PutUint64(out[32:], uint64(t.used))
	if t.odd {
		out[40] = 1
	}
	out[41] = byte(t.shift)
	le.PutUint32(out[44:], preparedSpare)
	le.PutUint64(out[48:], uint64(ns))
	le.PutUint64(out[56:], uint64(ne))
	off := preparedHeader
	for _, k := range b.kinds {
		out[off] = byte(k)
		off++
	}
	off = preparedHeader + pad8(nk)
	for _, s := range t.slots {
		le.PutUint64(out[off:], s)
		off += 8
	}
	for _, x := range t.tails {
		le.PutUint32(out[off:], x)
		off += 4
	}
	off = pad8(off)
	for _, e := range t.entries {
		le.PutUint32(out[off:], e.id)
		le.PutUint32(out[off+4:], e.next)
		le.PutUint32(out[off+8:], e.prev)
		off += 12
	}
	le.PutUint32(out[12:], crc32.Checksum(out[16:], castagnoli))
	return out, nil
}

// LoadBase returns the Base PrepareBase gives for base, from data MarshalBinary
// wrote for it. The Base's arrays alias data, which must stay unchanged while it is
// used (Dedup only reads them). Data that is damaged, of another format, or made
// for a base with other types is an error wrapping ErrPrepared: prepare the base
// afresh then.
func LoadBase(base *btf.Spec, data []byte) (*Base, error) {
	return loadBase(base, data, false)
}

// LoadBaseOnce is LoadBase for a Base that serves a single Dedup, which then uses
// its table in place instead of a copy: data must be writable and the caller's own
// (a private mapping of the file), and is changed. A one-shot process that
// converts one module on vmlinux so touches only the pages of the table its types
// land on, where a copy costs the whole table's. A second Dedup with the Base fails.
func LoadBaseOnce(base *btf.Spec, data []byte) (*Base, error) {
	return loadBase(base, data, true)
}

func loadBase(base *btf.Spec, data []byte, once bool) (*Base, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("dedup: prepared base: %s: %w", fmt.Sprintf(format, args...), ErrPrepared)
	}
	le := binary.LittleEndian
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		return nil, bad("the arrays are little-endian, this machine is not")
	}
	if len(data) < preparedHeader || string(data[:8]) != preparedMagic {
		return nil, bad("no header")
	}
	if f := le.Uint32(data[8:]); f != preparedFormat {
		return nil, bad("format %d, want %d", f, preparedFormat)
	}
	if uintptr(unsafe.Pointer(&data[0]))%8 != 0 {
		data = append([]byte(nil), data...) // heap allocations are aligned
	}
	nk, ns, ne := le.Uint64(data[16:]), le.Uint64(data[48:]), le.Uint64(data[56:])
	spare := uint64(le.Uint32(data[44:]))
	const limit = 1 << 32
	if nk > limit || ns > limit || ne+spare > limit || ns == 0 || ns&(ns-1) != 0 {
		return nil, bad("sizes %d, %d, %d", nk, ns, ne)
	}
	size := preparedHeader + pad8(int(nk)) + 8*int(ns) + pad8(4*int(ns)) + pad8(12*int(ne+spare))
	if len(data) != size {
		return nil, bad("%d bytes, want %d", len(data), size)
	}
	if crc32.Checksum(data[16:], castagnoli) != le.Uint32(data[12:]) {
		return nil, bad("checksum mismatch")
	}
	tables, err := baseTables(base)
	if err != nil {
		return nil, err
	}
	next := tables[len(tables)-1].NextID()
	if uint64(next) != nk {
		return nil, bad("made for %d types, the base has %d", nk-1, next-1)
	}
	off := preparedHeader
	kinds := unsafe.Slice((*btf.Kind)(unsafe.Pointer(&data[off])), nk)
	off += pad8(int(nk))
	slots := unsafe.Slice((*uint64)(unsafe.Pointer(&data[off])), ns)
	off += 8 * int(ns)
	tails := unsafe.Slice((*uint32)(unsafe.Pointer(&data[off])), ns)
	off += pad8(4 * int(ns))
	var entries []entry
	if ne > 0 {
		entries = unsafe.Slice((*entry)(unsafe.Pointer(&data[off])), ne+spare)[:ne]
	}
	// The kinds must be the base's, type for type.
	for _, tab := range tables {
		for id := tab.FirstID(); id < tab.NextID(); id++ {
			if k := rec(tab.RecordFrom(id)).kind(); kinds[id] != k {
				return nil, bad("type %d is a %v, the base's a %v", id, kinds[id], k)
			}
		}
	}
	shift := uint(data[41])
	t := &table{
		slots: slots, tails: tails, entries: entries,
		used: int(le.Uint64(data[32:])), shift: shift,
		libbpfCap: int(le.Uint64(data[24:])), odd: data[40] == 1,
	}
	if 1<<(32-shift) != ns || t.used > int(ns)/2 || len(entries) == 0 {
		return nil, bad("table of %d slots, shift %d, %d used", ns, shift, t.used)
	}
	return &Base{spec: base, tables: tables, kinds: kinds, table: t, once: once}, nil
}
