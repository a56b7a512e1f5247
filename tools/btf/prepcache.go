package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/dedup"
	"github.com/rules-btf/rules_btf/converter/output"
	"github.com/rules-btf/rules_btf/internal/mapfile"
)

// Prepared bases shared by one-shot processes. A kernel build converts each module in
// a process of its own (Kbuild's pahole -J --btf_base vmlinux M.ko), where most of the
// work would be the same for every module: preparing vmlinux's BTF for the dedup
// (hashing its hundred thousand types into the candidate table) and indexing its
// strings. The first process writes both to a cache directory (base-KEY.prep,
// dedup.Base.MarshalBinary; base-KEY.strx, btf.Spec.MarshalStringIndex); the next
// ones map them (dedup.LoadBaseOnce, btf.Spec.LoadStringIndex) instead of doing the
// work again. A persistent worker keeps its prepared base in memory instead
// (worker.go).
//
// KEY is a SHA-256 of the base's BTF and of the identity of this program (path, size,
// modification time): another base, or another build of btf, never reads the files.
// A file that does not load (damaged, truncated) is made and written anew; the output
// is the same bytes either way (TestPreparedBaseCache). Files unused for a week are
// removed when new ones are written.

// cacheEnv names the cache directory; "off" disables the cache. The default is
// rules_btf under the user's cache directory ($XDG_CACHE_HOME or ~/.cache).
const cacheEnv = "RULES_BTF_CACHE"

const cacheMaxAge = 7 * 24 * time.Hour

func cacheDir() string {
	switch d := os.Getenv(cacheEnv); d {
	case "off":
		return ""
	case "":
		d, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(d, "rules_btf")
	default:
		return d
	}
}

// cachedBase returns the dedup preparation of base, whose raw BTF is raw: mapped from
// the cache if an earlier process wrote it, else prepared now and written there for
// the next. It returns nil where there is no cache (the dedup then prepares the base
// itself) and an error only for a base the dedup would refuse too.
func cachedBase(base *btf.Spec, raw []byte) (*dedup.Base, error) {
	dir := cacheDir()
	if dir == "" {
		return nil, nil
	}
	h := sha256.New()
	h.Write(raw)
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			h.Write([]byte(exe))
			h.Write(binary.LittleEndian.AppendUint64(nil, uint64(fi.Size())))
			h.Write(binary.LittleEndian.AppendUint64(nil, uint64(fi.ModTime().UnixNano())))
		}
	}
	stem := filepath.Join(dir, "base-"+hex.EncodeToString(h.Sum(nil)))
	wrote := false
	write := func(path string, data []byte, err error) {
		if err == nil && os.MkdirAll(dir, 0o755) == nil && output.WriteFileAtomic(path, data, 0o644) == nil {
			wrote = true
		}
	}
	// The index of the base's strings, which a module's names are looked up in.
	if data, err := mapfile.Keep(stem + ".strx"); err != nil || base.LoadStringIndex(data) != nil {
		data, err := base.MarshalStringIndex()
		write(stem+".strx", data, err)
	}
	// The dedup's preparation. The mapping is private and this process's: its one
	// Dedup uses the table in place.
	var b *dedup.Base
	if data, err := mapfile.Keep(stem + ".prep"); err == nil {
		b, _ = dedup.LoadBaseOnce(base, data)
	}
	if b == nil {
		var err error
		if b, err = dedup.PrepareBase(base); err != nil {
			return nil, err
		}
		data, err := b.MarshalBinary()
		write(stem+".prep", data, err)
	}
	if wrote {
		removeStale(dir, stem)
	} else {
		now := time.Now()
		os.Chtimes(stem+".prep", now, now) // in use: not removed as stale
	}
	return b, nil
}

// removeStale removes the files of dir, other than those of stem, whose prepared
// base was last used more than cacheMaxAge ago.
func removeStale(dir, stem string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		p := filepath.Join(dir, name)
		if !strings.HasPrefix(name, "base-") || !strings.HasSuffix(name, ".prep") || p == stem+".prep" {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > cacheMaxAge {
			os.Remove(p)
			os.Remove(strings.TrimSuffix(p, ".prep") + ".strx")
		}
	}
}
