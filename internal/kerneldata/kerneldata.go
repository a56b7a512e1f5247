// Package kerneldata locates the real kernel the fidelity tests and benchmarks
// compare against: Debian 12's vmlinux with DWARF, its modules and pahole's
// references, as bench/fetch-kernel.sh lays them out.
package kerneldata

import (
	"os"
	"path/filepath"
	"testing"
)

// DefaultDir is where bench/fetch-kernel.sh puts the data.
const DefaultDir = "/var/cache/rules_btf/kernel"

// Root returns the data directory: $RULES_BTF_DATA, or DefaultDir.
func Root() string {
	if d := os.Getenv("RULES_BTF_DATA"); d != "" {
		return d
	}
	return DefaultDir
}

// Dir returns Root, or skips tb when one of files (paths relative to it) is
// absent.
func Dir(tb testing.TB, files ...string) string {
	tb.Helper()
	dir := Root()
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			tb.Skipf("no kernel data (%v): run bench/fetch-kernel.sh --pahole --pahole-new", err)
		}
	}
	return dir
}
