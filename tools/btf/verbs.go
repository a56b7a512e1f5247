package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/btfdiff"
	"github.com/rules-btf/rules_btf/converter/dedup"
	"github.com/rules-btf/rules_btf/converter/distill"
	"github.com/rules-btf/rules_btf/converter/output"
	"github.com/rules-btf/rules_btf/converter/pipeline"
	"github.com/rules-btf/rules_btf/converter/shard"
	"github.com/rules-btf/rules_btf/internal/mapfile"
)

const (
	encodeUsage = "-o OUT.btf [-j N] [--base BASE [--base-out OUT.base.btf]] [options] ELF"
	shardUsage  = "-o OUT.shard [--cus i/N] [options] INPUT"
	mergeUsage  = "-o OUT.btf [--elf LINKED] [--base BASE [--base-out OUT.base.btf]] [-j N] [options] SHARD..."
	diffUsage   = "[--ignore KIND,...] [--base BASE] A B"
	statUsage   = "[--base BASE] FILE"
)

func runEncode(args []string, stdout io.Writer) error {
	fs := newFlagSet("encode")
	out := fs.String("o", "", "output `file` (raw BTF)")
	jobs := fs.Int("j", runtime.NumCPU(), "number of parallel workers")
	base := fs.String("base", "", "write split BTF on this base BTF `file` (raw, or an ELF with .BTF: vmlinux for a module)")
	elfOut := addELFOutFlag(fs)
	baseOut := addBaseOutFlag(fs)
	conv := addConvertFlags(fs)
	prof := addProfileFlags(fs)
	pos, err := parseFlags(stdout, fs, encodeUsage, args, 1, 1)
	if err != nil {
		return err
	}
	stop, err := prof.start()
	if err != nil {
		return err
	}
	defer stop()
	if *out == "" && *elfOut == "" {
		return fmt.Errorf("%w: btf encode: -o or --elf-out is required", errUsage)
	}
	opts, err := conv.options(os.Stderr)
	if err != nil {
		return err
	}
	if err := checkDistillFlags("encode", opts, *base, *out, *baseOut); err != nil {
		return err
	}
	spec, order, err := encodeFile(pos[0], *jobs, *base, opts)
	if err != nil {
		return err
	}
	return writeBTF(spec, order, outputs{raw: *out, base: *baseOut, elf: *elfOut, elfIn: pos[0], distilled: opts.DistilledBase})
}

// encodeFile converts the ELF file in to BTF with opts, using jobs workers, split on
// the base BTF file base if it is not empty. It returns the BTF and the byte order
// of in, which the BTF is written in.
func encodeFile(in string, jobs int, base string, opts pipeline.Options) (*btf.Spec, binary.ByteOrder, error) {
	order, err := pipeline.ByteOrder(in)
	if err != nil {
		return nil, nil, err
	}
	var baseSpec *btf.Spec
	baseSpec, opts.Dedup.Base, err = readDedupBase(base)
	if err != nil {
		return nil, nil, err
	}
	spec, err := pipeline.Encode(context.Background(), in, jobs, baseSpec, opts)
	return spec, order, err
}

func runShard(args []string, stdout io.Writer) error {
	fs := newFlagSet("shard")
	out := fs.String("o", "", "output `file` (a shard)")
	cus := fs.String("cus", "", "convert only the `i/N`-th of N contiguous ranges of compilation units (1 <= i <= N)")
	conv := addConvertFlags(fs)
	prof := addProfileFlags(fs)
	pos, err := parseFlags(stdout, fs, shardUsage, args, 1, 1)
	if err != nil {
		return err
	}
	stop, err := prof.start()
	if err != nil {
		return err
	}
	defer stop()
	if *out == "" {
		return fmt.Errorf("%w: btf shard: -o is required", errUsage)
	}
	r, err := parseRange(*cus)
	if err != nil {
		return err
	}
	opts, err := conv.options(os.Stderr)
	if err != nil {
		return err
	}
	s, err := pipeline.Shard(pos[0], r, opts.Encode)
	if err != nil {
		return err
	}
	return output.WriteAtomic(*out, 0o644, func(w io.Writer) error { return shard.Write(w, s) })
}

func runMerge(args []string, stdout io.Writer) error {
	fs := newFlagSet("merge")
	out := fs.String("o", "", "output `file` (raw BTF)")
	elfPath := fs.String("elf", "", "the linked `ELF` the shards' objects went into: finalize against its symbol table")
	base := fs.String("base", "", "write split BTF on this base BTF `file` (raw, or an ELF with .BTF: vmlinux for a module)")
	jobs := fs.Int("j", runtime.NumCPU(), "number of shard files read, and shards combined, in parallel (also the goroutines of the dedup's per-type passes)")
	elfOut := addELFOutFlag(fs)
	baseOut := addBaseOutFlag(fs)
	conv := addConvertFlags(fs)
	prof := addProfileFlags(fs)
	pos, err := parseFlags(stdout, fs, mergeUsage, args, 1, -1)
	if err != nil {
		return err
	}
	stop, err := prof.start()
	if err != nil {
		return err
	}
	defer stop()
	if *out == "" && *elfOut == "" {
		return fmt.Errorf("%w: btf merge: -o or --elf-out is required", errUsage)
	}
	if *elfOut != "" && *elfPath == "" {
		return fmt.Errorf("%w: btf merge: --elf-out needs --elf", errUsage)
	}
	opts, err := conv.options(os.Stderr)
	if err != nil {
		return err
	}
	if err := checkDistillFlags("merge", opts, *base, *out, *baseOut); err != nil {
		return err
	}
	opts.Finalize.Jobs, opts.Dedup.Jobs = *jobs, *jobs
	shards, img, order, err := pipeline.MergeInputs(pos, *elfPath, *jobs)
	if err != nil {
		return err
	}
	var baseSpec *btf.Spec
	baseSpec, opts.Dedup.Base, err = readDedupBase(*base)
	if err != nil {
		return err
	}
	spec, err := pipeline.Merge(shards, img, baseSpec, opts)
	if err != nil {
		return err
	}
	return writeBTF(spec, order, outputs{raw: *out, base: *baseOut, elf: *elfOut, elfIn: *elfPath, distilled: opts.DistilledBase})
}

func runDiff(args []string, stdout io.Writer) error {
	fs := newFlagSet("diff")
	ignore := fs.String("ignore", "", "comma-separated `kinds` to leave out (e.g. FUNC,FUNC_PROTO)")
	examples := fs.Int("examples", 5, "print at most `n` examples per kind and side")
	base := fs.String("base", "", "A and B are split BTF on this base `file`: compare their own types")
	pos, err := parseFlags(stdout, fs, diffUsage, args, 2, 2)
	if err != nil {
		return err
	}
	opts := btfdiff.Options{MaxExamples: *examples}
	if *ignore != "" {
		for _, name := range strings.Split(*ignore, ",") {
			k, ok := btf.KindByName(strings.ToUpper(strings.TrimSpace(name)))
			if !ok {
				return fmt.Errorf("%w: btf diff: unknown kind %q", errUsage, name)
			}
			opts.IgnoreKinds = append(opts.IgnoreKinds, k)
		}
	}
	baseSpec, err := readBase(*base)
	if err != nil {
		return err
	}
	a, err := readBTF(pos[0], baseSpec)
	if err != nil {
		return err
	}
	b, err := readBTF(pos[1], baseSpec)
	if err != nil {
		return err
	}
	rep := btfdiff.Diff(a, b, opts)
	rep.WriteText(stdout)
	if !rep.Equal() {
		return errDiffer
	}
	return nil
}

// errDiffer is returned by diff when the inputs differ; like diff(1), that is exit
// status 1.
var errDiffer = errors.New("the BTF differs")

func runStat(args []string, stdout io.Writer) error {
	fs := newFlagSet("stat")
	base := fs.String("base", "", "FILE is split BTF on this base `file`: count its own types")
	pos, err := parseFlags(stdout, fs, statUsage, args, 1, 1)
	if err != nil {
		return err
	}
	baseSpec, err := readBase(*base)
	if err != nil {
		return err
	}
	s, err := readBTF(pos[0], baseSpec)
	if err != nil {
		return err
	}
	total := 0
	for _, kc := range btfdiff.Stat(s) {
		fmt.Fprintf(stdout, "%-10s %d\n", kc.Kind, kc.Count)
		total += kc.Count
	}
	fmt.Fprintf(stdout, "%-10s %d\n", "total", total)
	return nil
}

// parseRange parses the --cus value "i/N" (1-based i) into a 0-based pipeline.Range.
func parseRange(s string) (pipeline.Range, error) {
	if s == "" {
		return pipeline.Range{}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return pipeline.Range{}, fmt.Errorf("%w: --cus %q: want i/N with 1 <= i <= N", errUsage, s)
	}
	return pipeline.Range{I: i - 1, N: n}, nil
}

// readBase reads the base BTF named by a --base flag; nil if the flag is empty.
// A worker (worker.go) takes it from its cache.
func readBase(path string) (*btf.Spec, error) {
	s, _, err := readBaseFor(path, false)
	return s, err
}

// readDedupBase is readBase for a verb that deduplicates on the base: a worker
// also gives the base as prepared for the dedup, once per base; a one-shot run
// leaves that to the dedup (a nil *dedup.Base).
func readDedupBase(path string) (*btf.Spec, *dedup.Base, error) {
	return readBaseFor(path, true)
}

func readBaseFor(path string, prepare bool) (*btf.Spec, *dedup.Base, error) {
	if path == "" {
		return nil, nil, nil
	}
	// The base is one long-lived structure built in one go (a vmlinux base: 95 k
	// types): collecting while it grows only scans it again at each step, which
	// was a fifth of the CPU of a module converted in a process of its own.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var s *btf.Spec
	var prepared *dedup.Base
	var err error
	if bases != nil {
		s, prepared, err = bases.get(path, prepare)
	} else {
		s, prepared, err = keepBTF(path, prepare)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--base: %w", err)
	}
	return s, prepared, nil
}

// readBTF reads raw BTF, or the .BTF section of an ELF file; split BTF on base if
// base is not nil. An ELF with a .BTF.base section (a module whose BTF was written
// with a distilled base) is split BTF on that distilled base; given a base, it is
// relocated onto it, as the kernel does when it loads the module.
func readBTF(path string, base *btf.Spec) (*btf.Spec, error) {
	// The file is mapped, not read: btf.Parse and the ELF reader copy what they
	// keep, so a module's base is not megabytes of new memory per process, and of
	// a vmlinux given as the base only the headers and .BTF are touched.
	var s *btf.Spec
	err := mapfile.With(path, func(data []byte) (err error) {
		s, err = parseBTF(path, data, base)
		return err
	})
	return s, err
}

// keepBTF is readBTF (without a base) for a one-shot process: the file stays mapped
// to the end of the process and the Spec aliases it (btf.ParseAliased), so that a
// module's base costs no copy of its types and strings. With prepare, it also
// returns the base prepared for the dedup, through the cache of prepared bases
// (cachedBase), or nil.
func keepBTF(path string, prepare bool) (*btf.Spec, *dedup.Base, error) {
	data, err := mapfile.Keep(path)
	if err != nil {
		return nil, nil, err
	}
	if raw, ok := elfSection(data, ".BTF"); ok {
		data = raw
	} else if bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		s, err := readBTF(path, nil) // .BTF compressed, or with .BTF.base: as any input
		return s, nil, err
	}
	if prepare {
		return cachedBase(path, data)
	}
	s, err := parseKept(path, data)
	return s, nil, err
}

// elfSection returns the contents of section name of the ELF image data as a part of
// it, if data is an ELF image whose section is stored as it is (not SHT_NOBITS, not
// compressed) and it has no .BTF.base section.
func elfSection(data []byte, name string) ([]byte, bool) {
	if !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return nil, false
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, false
	}
	sec := f.Section(name)
	if sec == nil || f.Section(".BTF.base") != nil || sec.Type == elf.SHT_NOBITS || sec.Flags&elf.SHF_COMPRESSED != 0 ||
		sec.Offset > uint64(len(data)) || sec.FileSize > uint64(len(data))-sec.Offset {
		return nil, false
	}
	return data[sec.Offset : sec.Offset+sec.FileSize], true
}

// parseBTF is readBTF on the contents of the file at path.
func parseBTF(path string, data []byte, base *btf.Spec) (*btf.Spec, error) {
	if bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		sec := f.Section(".BTF")
		if sec == nil {
			return nil, fmt.Errorf("%s: no .BTF section", path)
		}
		if data, err = sec.Data(); err != nil {
			return nil, fmt.Errorf("%s: .BTF: %w", path, err)
		}
		if sec := f.Section(".BTF.base"); sec != nil {
			return readDistilled(path, sec, data, base)
		}
	}
	s, err := btf.Parse(data, base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// readDistilled parses the .BTF section data of the ELF file path on its distilled
// base, the section sec, and relocates it onto base if base is not nil.
func readDistilled(path string, sec *elf.Section, data []byte, base *btf.Spec) (*btf.Spec, error) {
	raw, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: .BTF.base: %w", path, err)
	}
	dist, err := btf.Parse(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: .BTF.base: %w", path, err)
	}
	s, err := btf.Parse(data, dist)
	if err != nil {
		return nil, fmt.Errorf("%s: .BTF on .BTF.base: %w", path, err)
	}
	if base == nil {
		return s, nil
	}
	if s, err = distill.Relocate(s, base); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func addELFOutFlag(fs *flag.FlagSet) *string {
	return fs.String("elf-out", "", "also (or instead of -o) write a copy of the ELF to `file`, with its .BTF section added or replaced; no existing section moves and the program headers stay as they were")
}

func addBaseOutFlag(fs *flag.FlagSet) *string {
	return fs.String("base-out", "", "with --btf_features=...,distilled_base: write the distilled base (raw BTF, what --elf-out puts in .BTF.base) to `file`; -o is then split BTF on it")
}

// checkDistillFlags checks the flags of a verb that may distill its output: a
// distilled base needs a base to distill, and a raw output (-o) of distilled split
// BTF is useless without its distilled base (--base-out).
func checkDistillFlags(verb string, opts pipeline.Options, base, out, baseOut string) error {
	switch {
	case opts.DistilledBase && base == "":
		return fmt.Errorf("%w: btf %s: --btf_features=distilled_base needs --base: only split BTF is distilled", errUsage, verb)
	case opts.DistilledBase && out != "" && baseOut == "":
		return fmt.Errorf("%w: btf %s: with --btf_features=distilled_base, -o needs --base-out for the distilled base it is split on", errUsage, verb)
	case !opts.DistilledBase && baseOut != "":
		return fmt.Errorf("%w: btf %s: --base-out needs --btf_features=...,distilled_base", errUsage, verb)
	}
	return nil
}

// outputs are the files a verb writes; empty names are not written.
type outputs struct {
	raw   string // -o: raw BTF
	base  string // --base-out: the distilled base, raw
	elf   string // --elf-out: a copy of elfIn with .BTF (and .BTF.base) added or replaced
	elfIn string
	// distilled: the BTF is split on a distilled base (its Base), which goes to
	// base and to the ELF's .BTF.base section.
	distilled bool
}

// writeBTF writes s atomically to the outputs. With o.distilled, s is split BTF on
// a distilled base (pipeline.Options.DistilledBase), its Base, which goes to the
// base output and to the ELF's .BTF.base section, after .BTF, as pahole adds them.
// Everything is prepared before anything is written, so an error leaves no output
// behind. An ELF output that is its input (pahole -J) is changed in place instead
// (output.AddSectionsInPlace).
func writeBTF(s *btf.Spec, order binary.ByteOrder, o outputs) error {
	mo := btf.MarshalOptions{ByteOrder: order}
	data, err := s.Marshal(mo)
	if err != nil {
		return err
	}
	var baseData []byte
	if o.distilled {
		if baseData, err = s.Base.Marshal(mo); err != nil {
			return err
		}
	}
	if o.elf != "" && o.elf == o.elfIn {
		// In place (pahole -J): only what changes is written.
		if err := writeRaw(o, data, baseData); err != nil {
			return err
		}
		secs := []output.Section{{Name: ".BTF", Data: data}}
		if baseData != nil {
			secs = append(secs, output.Section{Name: ".BTF.base", Data: baseData})
		}
		return output.AddSectionsInPlace(o.elf, secs...)
	}
	var withBTF []byte
	perm := os.FileMode(0o644)
	if o.elf != "" {
		img, err := os.ReadFile(o.elfIn)
		if err != nil {
			return err
		}
		if withBTF, err = output.AddSection(img, ".BTF", data); err != nil {
			return fmt.Errorf("%s: %w", o.elfIn, err)
		}
		if baseData != nil {
			if withBTF, err = output.AddSection(withBTF, ".BTF.base", baseData); err != nil {
				return fmt.Errorf("%s: %w", o.elfIn, err)
			}
		}
		if fi, err := os.Stat(o.elfIn); err == nil {
			perm = fi.Mode().Perm() // an executable stays executable
		}
	}
	if err := writeRaw(o, data, baseData); err != nil {
		return err
	}
	if o.elf == "" {
		return nil
	}
	return output.WriteFileAtomic(o.elf, withBTF, perm)
}

// writeRaw writes the raw outputs of o: the BTF data and the distilled base.
func writeRaw(o outputs, data, baseData []byte) error {
	for _, f := range []struct {
		path string
		data []byte
	}{{o.raw, data}, {o.base, baseData}} {
		if f.path == "" {
			continue
		}
		if err := output.WriteFileAtomic(f.path, f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
