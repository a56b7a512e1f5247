package dedup

// table maps a type signature to the canonical types with that signature, in the
// order they were added. It is open addressing with linear probing over a
// power-of-two array of 8-byte slots (32 bits of the hash, 32 bits of list head),
// which keeps a vmlinux-sized table within a few megabytes; each slot heads a singly
// linked list of entries in insertion order.
//
// Only 32 bits of the 64-bit signature are kept, so a list may hold types of
// different signatures. That is harmless: every candidate is confirmed by an
// equality check, equal types always share a signature, and lists keep insertion
// order, so the first equal candidate is the same whatever else shares its list.
type table struct {
	slots   []uint64 // hash32<<32 | head entry index; 0: empty
	tails   []uint32 // last entry of each slot's list
	entries []entry  // entries[0] is unused: index 0 means "none"
	used    int
	shift   uint // 32 - log2(len(slots))

	// collide puts every type on one list, as libbpf's force_collisions option
	// does: tests use it to check that equality, not the hash, decides.
	collide bool
}

type entry struct {
	id   uint32
	next uint32
}

func newTable(sizeHint int) *table {
	n := 64
	for n < sizeHint*2 {
		n <<= 1
	}
	t := &table{entries: make([]entry, 1, sizeHint+1)}
	t.setSlots(n)
	return t
}

func (t *table) setSlots(n int) {
	t.slots = make([]uint64, n)
	t.tails = make([]uint32, n)
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

// first returns the first entry of the list for hash h (0 if none); follow
// entry.next.
func (t *table) first(h uint64) uint32 {
	k, i := t.key(h)
	mask := len(t.slots) - 1
	for ; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0
		}
		if uint32(s>>32) == k {
			return uint32(s)
		}
	}
}

// add appends id to the list for hash h.
func (t *table) add(h uint64, id uint32) {
	e := uint32(len(t.entries))
	t.entries = append(t.entries, entry{id: id})
	k, i := t.key(h)
	mask := len(t.slots) - 1
	for ; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			t.slots[i] = uint64(k)<<32 | uint64(e)
			t.tails[i] = e
			t.used++
			if t.used*2 > len(t.slots) {
				t.grow()
			}
			return
		}
		if uint32(s>>32) == k {
			t.entries[t.tails[i]].next = e
			t.tails[i] = e
			return
		}
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
