package hugepage

import (
	"syscall"
	"unsafe"
)

const hugePage = 2 << 20

// advise marks the huge pages wholly inside [p, p+n).
func advise(p unsafe.Pointer, n uintptr) {
	head := -uintptr(p) & (hugePage - 1) // bytes up to the first boundary
	if head >= n {
		return
	}
	size := (n - head) &^ (hugePage - 1)
	if size == 0 {
		return
	}
	// The error is ignored: a kernel without THP (EINVAL) keeps small pages.
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, head)), size), syscall.MADV_HUGEPAGE)
}
