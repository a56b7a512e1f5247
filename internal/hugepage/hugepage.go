// Package hugepage has the Go heap that a run is about to use backed by
// transparent huge pages.
//
// The converter's working set is a few hundred megabytes of fresh memory: type
// records, shard files, per-CU node tables, the dedup's maps. On Linux with
// transparent huge pages in "madvise" mode (the default of many distributions)
// the Go heap gets none, since the runtime maps it without MADV_HUGEPAGE, and
// every 4 KiB page costs a fault on first touch. Where faults are expensive they
// add up: in a virtual machine with nested paging a 4 KiB fault takes about 20 µs
// (5 ms per MB), a 2 MiB one 0.4 ms when the host has backed the memory and
// about 7 ms when it has not (3.5 ms per MB). A vmlinux encode took 45,000 small
// faults, a seventh of its CPU time.
//
// It has three tools:
//
//   - Make and MakeNoZero allocate a large array and advise MADV_HUGEPAGE over the
//     Go heap arenas that hold it (64 MiB each on 64-bit Linux), so that the small
//     objects the runtime places in the same arenas get huge pages too.
//   - MakeNoZero does not clear: the Go runtime clears a large allocation that
//     reuses freed heap memory before returning it, which touches every page
//     before the advice can act. When a vmlinux's 155 MB record table landed on
//     such memory (one run in a few, as the collector's timing fell) that took
//     40,000 faults and a second and a half of CPU. It is for arrays of integers
//     that are written before they are read.
//   - GrowHeap readies the heap a run is about to use, before the run: it
//     allocates that much, which maps fresh arenas without touching them,
//     advises them, and frees them again, so that the run's allocations reuse
//     that address space. A vmlinux encode then takes under 6,000 faults, a
//     merge of its shards 1,500 instead of 32,000.
//
// It is only a hint: the memory stays the Go heap's, the garbage collector frees
// it as usual, and nothing changes where the kernel ignores the hint (other
// systems, THP "never", pages already touched).
package hugepage

import (
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// MinBytes is the smallest capacity advised: the arrays that grow the heap by
// arenas.
const MinBytes = 4 << 20

// Advise hints that the Go heap arenas holding the capacity of s should be
// backed by huge pages, if it is at least MinBytes. s must be Go heap memory
// (made by make or append), for the arenas around it to be the heap's too. Call
// it right after allocating s, before writing to it: pages already touched stay
// small.
func Advise[E any](s []E) {
	var e E
	n := uintptr(cap(s)) * unsafe.Sizeof(e)
	if n < MinBytes {
		return
	}
	advise(unsafe.Pointer(unsafe.SliceData(s[:cap(s)])), n)
}

// Make returns make([]E, n, c), advised.
func Make[E any](n, c int) []E {
	s := make([]E, n, c)
	Advise(s)
	return s
}

// Plain is the element types MakeNoZero allocates: integers, which hold no
// pointers for the garbage collector to find.
type Plain interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~int | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uint
}

// MakeNoZero is Make for arrays at least MinBytes large that the caller writes
// before it reads: the contents of the c elements are unspecified (stale bytes
// of the Go heap, or zeros) until written. It is Make below MinBytes.
//
// The memory is an ordinary Go heap object, freed by the garbage collector: it
// comes from strings.Builder.Grow, which allocates without clearing since the
// builder only ever exposes what it wrote. Were that to change, the array would
// merely be cleared.
func MakeNoZero[E Plain](n, c int) []E {
	var e E
	size := uintptr(c) * unsafe.Sizeof(e)
	if size < MinBytes || n < 0 || n > c {
		return Make[E](n, c)
	}
	var b strings.Builder
	b.Grow(int(size))
	b.WriteByte(0) // a non-empty string: its data pointer is the allocation's
	p := unsafe.Pointer(unsafe.StringData(b.String()))
	if uintptr(p)%unsafe.Alignof(e) != 0 {
		return Make[E](n, c) // never for a large object, which is page-aligned
	}
	s := unsafe.Slice((*E)(p), c)[:n]
	Advise(s)
	return s
}

// MinGrow and MaxGrow bound GrowHeap. Below an arena (64 MiB) there is little to
// save, not worth a collection; above MaxGrow a process does not ask the kernel
// for address space up front on an estimate from the size of an input.
const (
	MinGrow = 64 << 20
	MaxGrow = 4 << 30
)

var grown struct {
	sync.Mutex
	n int
}

// GrowHeap readies about n bytes of the Go heap for huge pages, for a process
// that is about to allocate that much: see the package comment. It costs address
// space, not memory: nothing is touched. A process grows its heap once, to the
// largest n asked for (up to MaxGrow); a persistent worker's later requests reuse
// the heap its first ones grew. Below MinGrow, or where there are no huge pages
// to ask for, it does nothing.
//
// It runs a garbage collection (runtime.GC) to free what it allocated: call it
// before the work, not in the middle of it.
func GrowHeap(n int) {
	n = min(n, MaxGrow)
	if n < MinGrow || !hugePages() {
		return
	}
	grown.Lock()
	defer grown.Unlock()
	if n <= grown.n {
		return
	}
	// The allocation takes the heap's free memory first, then fresh arenas:
	// either way, what it advises is where the run's allocations will go.
	Advise(MakeNoZero[byte](n, n))
	runtime.GC()
	grown.n = n
}
