// Package hugepage asks the kernel to back large, fresh allocations with
// transparent huge pages.
//
// The converter's working set is a few large arrays: type records, shard files,
// per-CU node tables, the dedup's maps. Each is written soon after it is
// allocated, so every 4 KiB page of it costs a page fault on first touch. On
// Linux with transparent huge pages in "madvise" mode (the default of many
// distributions) the Go heap gets none: its memory is mapped without
// MADV_HUGEPAGE. Where page faults are expensive (a virtual machine with nested
// paging takes about 20 µs each) they add up: a vmlinux merge takes 87,000 of
// them, 47,000 with these arrays advised, and a second less CPU time.
//
// Advise marks the Go heap arenas holding a large slice MADV_HUGEPAGE (on
// Linux): the slice, and with it the rest of those arenas, where the runtime puts
// small objects too. A 4 KiB page costs a fault of about 20 µs here whether the
// memory is new to the machine or not, a huge page about 0.2 ms for 512 times as
// much memory once the machine has backed it. It is only a hint: the memory stays the Go heap's, the garbage collector
// frees it as usual, and nothing changes where the kernel ignores the hint
// (other systems, THP "never", pages already touched).
//
// Make clears what it allocates, as make does, and the Go runtime clears a
// large allocation that reuses freed heap memory before returning it: it then
// touches every page of the capacity, in 4 KiB pages, before Advise can act.
// When a vmlinux's 155 MB record table landed on such memory (one run in a few,
// as the garbage collector's timing fell), that clear took 40,000 page faults
// and a second and a half of CPU. MakeNoZero is for arrays of integers that are
// written before they are read: it skips the clear, so the first touch is the
// caller's write, after the advice.
//
// Advice reaches only the arenas the advised arrays land in. The heap grows into
// others for everything else: maps, mid-sized slices, small objects, on the
// order of 30,000 faults more in a vmlinux encode. GrowHeap readies the heap a
// run is about to use in one step, before the run: it allocates that much, which
// maps fresh arenas without touching them, advises them, and frees them again,
// so that the run's allocations reuse that address space. A vmlinux encode then
// takes under 5,000 page faults instead of 30,000.
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

// Advise hints that the capacity of s should be backed by huge pages. Call it
// right after allocating s, before writing to it: pages already touched stay
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
