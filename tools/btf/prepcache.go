package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
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
// work again, and do not decode the base's types either (btf.ParseTrusted). A
// persistent worker keeps its prepared base in memory instead (worker.go).
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

// cachedBase parses raw, the BTF of the base file path, and returns it with its
// dedup preparation: from the cache if an earlier process wrote it, else prepared
// now and written there for the next. Where there is no cache, the preparation is
// nil (the dedup then prepares the base itself).
//
// A cache hit also spares decoding the base: the files are written only after raw
// was parsed whole and prepared, and their name is raw's hash, so raw is parsed
// trusted (btf.ParseTrusted: its records indexed, not decoded).
func cachedBase(path string, raw []byte) (*btf.Spec, *dedup.Base, error) {
	dir := cacheDir()
	if dir == "" {
		s, err := parseKept(path, raw)
		return s, nil, err
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
	if s, b := loadCached(stem, raw); b != nil {
		now := time.Now()
		os.Chtimes(stem+".prep", now, now) // in use: not removed as stale
		return s, b, nil
	}

	s, err := parseKept(path, raw)
	if err != nil {
		return nil, nil, err
	}
	b, err := dedup.PrepareBase(s)
	if err != nil {
		return nil, nil, err
	}
	index, err := s.MarshalStringIndex()
	if err != nil {
		return s, b, nil
	}
	prep, err := b.MarshalBinary()
	if err != nil || os.MkdirAll(dir, 0o755) != nil {
		return s, b, nil
	}
	// The preparation last: its presence says the index is there too.
	if output.WriteFileAtomic(stem+".strx", index, 0o644) == nil && output.WriteFileAtomic(stem+".prep", prep, 0o644) == nil {
		removeStale(dir, stem)
	}
	return s, b, nil
}

// loadCached returns the base parsed from raw and its preparation, if the cache has
// both files of stem and they load; nil otherwise.
func loadCached(stem string, raw []byte) (*btf.Spec, *dedup.Base) {
	prep, err := mapfile.Keep(stem + ".prep")
	if err != nil {
		return nil, nil
	}
	index, err := mapfile.Keep(stem + ".strx")
	if err != nil {
		return nil, nil
	}
	s, err := btf.ParseTrusted(raw)
	if err != nil || s.LoadStringIndex(index) != nil {
		return nil, nil
	}
	// The mapping is private and this process's: its one Dedup uses the table in
	// place.
	b, err := dedup.LoadBaseOnce(s, prep)
	if err != nil {
		return nil, nil
	}
	return s, b
}

// parseKept parses raw, the BTF of the file path, which stays mapped: the Spec
// aliases it.
func parseKept(path string, raw []byte) (*btf.Spec, error) {
	s, err := btf.ParseAliased(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
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
