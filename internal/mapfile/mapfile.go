// Package mapfile maps input files read-only instead of reading them into new
// memory. Raw BTF inputs are decoded once and not kept: their pages then come
// from the page cache (where the action that wrote them, or the last build, left
// them) rather than from freshly allocated, zeroed memory, which is the larger
// cost on a machine where first touches are expensive.
package mapfile

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// mapWhole maps the whole of f with the protection and flags given (read-only and
// shared, or writable and private). It returns nil (and no error) for an empty file
// or one that is not a regular file (a pipe): those are read instead.
func mapWhole(f *os.File, prot, flags int) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 || !fi.Mode().IsRegular() {
		return nil, nil
	}
	if int64(int(fi.Size())) != fi.Size() {
		return nil, fmt.Errorf("%d bytes: too large to map", fi.Size())
	}
	return syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), prot, flags)
}

// With calls fn with the contents of the file at path, mapped if it can be and
// read otherwise. fn must not keep data, or anything that aliases it.
func With(path string, fn func(data []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := mapWhole(f, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if data == nil {
		if data, err = io.ReadAll(f); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	} else {
		defer syscall.Munmap(data)
	}
	return fn(data)
}

// Keep returns the contents of the file at path for the rest of the process: mapped
// privately (pages the process would write are its own copies; the file never
// changes through it) if it can be, read otherwise. For inputs a one-shot process
// keeps decoded views of (the base of a module's BTF), instead of copies.
func Keep(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := mapWhole(f, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if data == nil {
		if data, err = io.ReadAll(f); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return data, nil
}
