// Package kerneldata locates the real kernel the fidelity tests and benchmarks
// compare against: Debian 12's vmlinux with DWARF, its modules and pahole's
// references, as bench/fetch-kernel.sh lays them out.
package kerneldata

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// Files returns the files (not directories) under root whose names end in ext (".ko",
// ".btf"), sorted by path: the order the fidelity tests and benchmarks sample
// modules in.
func Files(root, ext string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ext) {
			files = append(files, p)
		}
		return err
	})
	slices.Sort(files)
	return files, err
}
