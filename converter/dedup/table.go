package dedup

// table maps a 64-bit type signature to the canonical types with that signature, in
// the order they were added. It is open addressing with linear probing over a
// power-of-two slot array; each slot heads a singly linked list of entries kept in
// insertion order (head and tail), so a look-up visits exactly the types that share
// the full 64-bit hash, oldest first.
type table struct {
	slots   []slot
	entries []entry // entries[0] is unused: index 0 means "none"
	used    int
	shift   uint // 64 - log2(len(slots))

	// collide puts every type on one list, as libbpf's force_collisions option
	// does: tests use it to check that equality, not the hash, decides.
	collide bool
}

type slot struct {
	hash       uint64
	head, tail uint32 // entry indexes; head 0: empty slot
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
	t.slots = make([]slot, n)
	t.shift = 64
	for m := n; m > 1; m >>= 1 {
		t.shift--
	}
}

// index spreads h over the slots (Fibonacci hashing: the top bits of h·φ).
func (t *table) index(h uint64) int {
	return int((h * mulK) >> t.shift)
}

// first returns the first entry with hash h (0 if none); follow entry.next.
func (t *table) first(h uint64) uint32 {
	if t.collide {
		h = 0
	}
	mask := len(t.slots) - 1
	for i := t.index(h); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.head == 0 {
			return 0
		}
		if s.hash == h {
			return s.head
		}
	}
}

// add appends id to the list of hash h.
func (t *table) add(h uint64, id uint32) {
	if t.collide {
		h = 0
	}
	e := uint32(len(t.entries))
	t.entries = append(t.entries, entry{id: id})
	mask := len(t.slots) - 1
	for i := t.index(h); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.head == 0 {
			*s = slot{hash: h, head: e, tail: e}
			t.used++
			if t.used*2 > len(t.slots) {
				t.grow()
			}
			return
		}
		if s.hash == h {
			t.entries[s.tail].next = e
			s.tail = e
			return
		}
	}
}

func (t *table) grow() {
	old := t.slots
	t.setSlots(len(old) * 2)
	mask := len(t.slots) - 1
	for _, s := range old {
		if s.head == 0 {
			continue
		}
		i := t.index(s.hash)
		for t.slots[i].head != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
