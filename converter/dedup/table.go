package dedup

import "github.com/rules-btf/rules_btf/internal/hugepage"

// table maps a type signature to the canonical types with that signature. It is
// open addressing with linear probing over a power-of-two array of 8-byte slots (32
// bits of the hash, 32 bits of a list end), which keeps a vmlinux-sized table within
// a few megabytes; each slot holds a doubly linked list of entries.
//
// Only 32 bits of the 64-bit signature are kept, so a list may hold types of
// different signatures. That is harmless: every candidate is confirmed by an
// equality check, and equal types always share a signature.
//
// # Candidate order
//
// The order in which candidates are tried matters when more than one passes the
// equality check (two enums an enum forward declaration is compatible with, two
// shallow-equal structs that both are equivalent to the candidate graph, a base
// struct and a module's own copy of it). To give the results libbpf gives, the
// table reproduces the order of libbpf's hashmap (src/hashmap.c) exactly, which
// depends only on the sequence of insertions:
//
//   - hashmap__append prepends to a bucket's chain, so a key's entries are
//     newest first;
//   - before an insertion that would take the map past 75% of its capacity (or
//     into an empty map) the bucket array doubles (4 at least), and re-inserting
//     every chain by prepending reverses the order of each key's entries.
//
// Types equal under the dedup's checks have the same libbpf key, and reversing or
// prepending to a chain does the same to any subsequence of it, so tracking one
// parity bit (the number of growths so far, mod 2) and a deque per list is enough:
// with even parity libbpf's order is the deque from head to tail and an insertion
// goes to the head; with odd parity it is tail to head and an insertion goes to the
// tail.
type table struct {
	slots   []uint64 // hash32<<32 | head entry index; 0: empty
	tails   []uint32 // the other end of each slot's list
	entries []entry  // entries[0] is unused: index 0 means "none"
	used    int
	shift   uint // 32 - log2(len(slots))

	// The simulated libbpf hashmap: its capacity and the parity of its growths.
	libbpfCap int
	odd       bool

	// collide puts every type on one list, as libbpf's force_collisions option
	// does: tests use it to check that equality, not the hash, decides.
	collide bool
}

type entry struct {
	id         uint32
	next, prev uint32 // towards the tail, towards the head
}

func newTable(sizeHint int) *table {
	n := 64
	for n < sizeHint*2 {
		n <<= 1
	}
	t := &table{entries: hugepage.Make[entry](1, sizeHint+1)}
	t.setSlots(n)
	return t
}

// cloneInto makes c a copy of t that can take extra more entries before its entry
// list grows, reusing c's arrays where they are big enough (c may be a table
// released by an earlier copy); t is not changed by anything done to the copy.
func (t *table) cloneInto(c *table, extra int) *table {
	slots, tails, entries := c.slots[:0], c.tails[:0], c.entries[:0]
	*c = *t
	c.slots = append(slots, t.slots...)
	c.tails = append(tails, t.tails...)
	if cap(entries) < len(t.entries)+extra {
		entries = hugepage.Make[entry](0, len(t.entries)+extra)
	}
	c.entries = append(entries, t.entries...)
	return c
}

func (t *table) setSlots(n int) {
	t.slots = hugepage.Make[uint64](n, n)
	t.tails = hugepage.Make[uint32](n, n)
	t.shift = 32
	for m := n; m > 1; m >>= 1 {
		t.shift--
	}
}

// key reduces a signature to the 32 bits kept in a slot (the top half of h·φ,
// Fibonacci hashing), and returns the slot to start probing at.
func (t *table) key(h uint64) (uint32, int) {
	if t.collide {
		h = 0
	}
	k := uint32((h * mulK) >> 32)
	return k, t.home(k)
}

// home is the first slot to probe for key k: its top bits.
func (t *table) home(k uint32) int { return int(k >> t.shift) }

// slot returns the index of the slot for hash h and whether it is in use.
func (t *table) slot(h uint64) (int, uint32, bool) {
	k, i := t.key(h)
	mask := len(t.slots) - 1
	for ; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return i, k, false
		}
		if uint32(s>>32) == k {
			return i, k, true
		}
	}
}

// first returns the first candidate entry for hash h in libbpf's order (0 if
// none); continue with next.
func (t *table) first(h uint64) uint32 {
	i, _, ok := t.slot(h)
	switch {
	case !ok:
		return 0
	case t.odd:
		return t.tails[i]
	}
	return uint32(t.slots[i])
}

// next returns the entry after e in libbpf's order (0 at the end).
func (t *table) next(e uint32) uint32 {
	if t.odd {
		return t.entries[e].prev
	}
	return t.entries[e].next
}

// add inserts id as a candidate for hash h.
func (t *table) add(h uint64, id uint32) {
	// libbpf grows before inserting when empty or when one more entry would pass
	// 75% of its capacity.
	if sz := len(t.entries) - 1; t.libbpfCap == 0 || (sz+1)*4/3 > t.libbpfCap {
		t.libbpfCap = max(4, 2*t.libbpfCap)
		t.odd = !t.odd
	}
	e := uint32(len(t.entries))
	t.entries = append(t.entries, entry{id: id})
	i, k, ok := t.slot(h)
	switch {
	case !ok:
		t.slots[i] = uint64(k)<<32 | uint64(e)
		t.tails[i] = e
		t.used++
		if t.used*2 > len(t.slots) {
			t.grow()
		}
	case t.odd: // libbpf prepends to a reversed list: append to the tail
		tail := t.tails[i]
		t.entries[tail].next = e
		t.entries[e].prev = tail
		t.tails[i] = e
	default: // prepend: the new entry becomes the head
		head := uint32(t.slots[i])
		t.entries[head].prev = e
		t.entries[e].next = head
		t.slots[i] = uint64(k)<<32 | uint64(e)
	}
}

func (t *table) grow() {
	oldSlots, oldTails := t.slots, t.tails
	t.setSlots(len(oldSlots) * 2)
	mask := len(t.slots) - 1
	for j, s := range oldSlots {
		if s == 0 {
			continue
		}
		i := t.home(uint32(s >> 32))
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
		t.tails[i] = oldTails[j]
	}
}
