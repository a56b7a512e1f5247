package hugepage

import (
	"bytes"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// arenaBytes is the size and alignment of the Go heap's arenas on Linux (the
// runtime's heapArenaBytes): 64 MiB with 8-byte pointers, 4 MiB with 4-byte
// ones. The whole of an arena that holds a Go object is the Go heap's.
const arenaBytes = 4 << 20 << (unsafe.Sizeof(uintptr(0)) / 8 * 4)

// advise marks the Go heap arenas holding [p, p+n), a Go heap allocation: not
// only the allocation, but the small objects and the slices below MinBytes that
// the runtime places in the same arenas, whose 4 KiB pages would otherwise each
// take a fault of their own.
func advise(p unsafe.Pointer, n uintptr) {
	lo := uintptr(p) &^ (arenaBytes - 1)
	hi := (uintptr(p) + n + arenaBytes - 1) &^ (arenaBytes - 1)
	// The error is ignored: a kernel without THP (EINVAL) keeps small pages.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, syscall.MADV_HUGEPAGE)
}

// hugePages reports whether there are transparent huge pages to ask for: the
// kernel has them, and not in mode "never".
var hugePages = sync.OnceValue(func() bool {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !bytes.Contains(mode, []byte("[never]"))
})
