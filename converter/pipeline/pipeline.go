// Package pipeline runs the converter's stages in one process:
//
//	ELF --elfobj/dwarf/encode--> shards --finalize.Combine--> types --dedup--> BTF [--distill--> base + split]
//
// The command line tool calls it for each verb; the Bazel rules call the tool once per
// stage (shard per object, then merge). Each stage keeps its own options; Options here
// only gathers them.
//
// Determinism: shards are produced by a pool of workers but stored by input position,
// and every later stage consumes them in that order, so the output does not depend
// on the number of workers or on which finished first. Shards carry every CU's types
// without cross-CU deduplication, so the concatenation the merge sees is the same
// sequence however the CUs were split into shards.
package pipeline

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"golang.org/x/sync/errgroup"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/dedup"
	"github.com/rules-btf/rules_btf/converter/distill"
	"github.com/rules-btf/rules_btf/converter/elfobj"
	"github.com/rules-btf/rules_btf/converter/encode"
	"github.com/rules-btf/rules_btf/converter/finalize"
	"github.com/rules-btf/rules_btf/converter/shard"
	"github.com/rules-btf/rules_btf/internal/hugepage"
	"github.com/rules-btf/rules_btf/internal/parallel"
)

// Options gathers the options of every stage.
type Options struct {
	Encode   encode.Options
	Finalize finalize.Options
	Dedup    dedup.Options
	// DistilledBase distills split BTF (package distill; pahole's
	// --btf_features=distilled_base): the result of Merge and Encode is split on a
	// distilled base, its Base, instead of on the base they were given. It needs a
	// base.
	DistilledBase bool
}

// Range selects the I-th (0-based) of N contiguous ranges of an ELF's compilation
// units. The zero Range means all units.
type Range struct{ I, N int }

// String formats r as the command line takes it ("i/N", 1-based i).
func (r Range) String() string {
	if r.N == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", r.I+1, r.N)
}

// Shard converts the units in r of the ELF at path into a shard.
func Shard(path string, r Range, opts encode.Options) (*shard.Shard, error) {
	f, err := elfobj.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ranges, err := encode.Ranges(f, max(r.N, 1))
	if err != nil {
		return nil, err
	}
	if r.I < 0 || r.I >= len(ranges) {
		return nil, fmt.Errorf("%s: CU range %s out of bounds", path, r)
	}
	readyHeap(ranges[r.I].Bytes, heapPerInfoByte)
	s, err := encode.Encode(f, ranges[r.I], opts)
	if err != nil {
		return nil, err
	}
	if r.N > 0 {
		s.Source = fmt.Sprintf("%s#cus=%s", path, r)
	}
	return s, nil
}

// Merge combines shards, given in link order, with the linked image (nil: none) and
// deduplicates the result. With a base (nil: none), the result is split BTF on it, as
// for a kernel module on vmlinux: only what the base lacks is emitted, and types equal
// to base types refer to those. With opts.DistilledBase, that split BTF is then
// distilled: the result's Base is the distilled base (see Options).
//
// Merge consumes the shards (finalize.CombineOwned): the combined table links their
// type records, rewritten in place, and the dedup reads it as it is
// (dedup.DedupTable), so that a vmlinux-sized merge holds every type once, in BTF's
// packed form. The caller must not use the shards afterwards.
func Merge(shards []*shard.Shard, img *finalize.Image, base *btf.Spec, opts Options) (*btf.Spec, error) {
	var records int
	for _, s := range shards {
		_, recs := s.Types.Sections()
		records += len(recs)
	}
	combined, err := finalize.CombineOwned(shards, img, opts.Finalize)
	if err != nil {
		return nil, err
	}
	// The dedup's arrays reuse what the combine leaves (the shards' names,
	// functions and variables, its own indexes): on vmlinux the peak RSS goes
	// from 390 MB to 330 MB.
	collect(uint64(records), heapPerShardByte)
	if base != nil {
		if combined, err = combined.Rebase(base); err != nil {
			return nil, err
		}
	}
	if opts.DistilledBase && base == nil {
		return nil, fmt.Errorf("distilled base: only split BTF (on a base) can be distilled")
	}
	out, _, err := dedup.DedupTable(combined, opts.Dedup)
	if err != nil {
		return nil, fmt.Errorf("dedup: %w", err)
	}
	if opts.DistilledBase {
		if _, out, err = distill.Distill(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Encode runs every stage on the ELF at path: its units are split into ranges that
// jobs workers convert in parallel, then merged and finalized against the same ELF
// (split on base, if not nil).
func Encode(ctx context.Context, path string, jobs int, base *btf.Spec, opts Options) (*btf.Spec, error) {
	jobs = max(jobs, 1)
	f, err := elfobj.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// More ranges than workers evens out CUs of very different cost; the output
	// does not depend on the count.
	nranges := 1
	if jobs > 1 {
		nranges = 4 * jobs
	}
	ranges, err := encode.Ranges(f, nranges)
	if err != nil {
		return nil, err
	}
	var info uint64
	for _, r := range ranges {
		info += r.Bytes
	}
	readyHeap(info, heapPerInfoByte)
	shards := make([]*shard.Shard, len(ranges))
	var img *finalize.Image
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	g.Go(func() (err error) {
		defer recoverInto(&err, path)
		img, err = finalize.LoadImage(path)
		return err
	})
	for i := range ranges {
		g.Go(func() (err error) {
			defer recoverInto(&err, path)
			if err := ctx.Err(); err != nil {
				return err
			}
			shards[i], err = encode.Encode(f, ranges[i], opts.Encode)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// The merge that follows takes about as much memory again: it reuses the
	// encoders' buffers, freed now.
	encode.ReleaseBuffers()
	collect(info, heapPerInfoByte)
	// The shards own their names (elfobj keeps the string sections in Go memory):
	// unmap the ELF before the merge, whose peak is the process's, so that the
	// pages of .debug_info read by the encoders no longer count.
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if opts.Finalize.Jobs == 0 {
		opts.Finalize.Jobs = jobs
	}
	if opts.Dedup.Jobs == 0 {
		opts.Dedup.Jobs = jobs
	}
	return Merge(shards, img, base, opts)
}

// The Go heap a run takes at its peak, per byte of input: of .debug_info
// converted (an encode of vmlinux, 2.2; of a seventh of it, 3.3), or of shard files
// merged (the seven shards of vmlinux, 2.3).
const (
	heapPerInfoByte  = 3
	heapPerShardByte = 2.5
)

// heapFor is the peak heap of a run on input bytes of input, perByte heap bytes
// each, bounded by hugepage.MaxGrow.
func heapFor(input uint64, perByte float64) int {
	return int(min(float64(input)*perByte, hugepage.MaxGrow))
}

// readyHeap readies the heap for a run on input bytes of input (hugepage.GrowHeap):
// the run then takes most of its memory in huge pages, not in faults of 4 KiB pages.
func readyHeap(input uint64, perByte float64) {
	hugepage.GrowHeap(heapFor(input, perByte))
}

// collect runs a garbage collection between two stages of a run on input bytes of
// input, if its heap is large (hugepage.MinGrow, as for readyHeap), so that the
// next stage reuses the memory the last one left instead of fresh pages, which
// cost page faults. A small run skips it: a persistent worker holding a base would
// mark the base again for every module.
func collect(input uint64, perByte float64) {
	if heapFor(input, perByte) >= hugepage.MinGrow {
		runtime.GC()
	}
}

// recoverInto turns a panic in a worker into an error: a bug met on some input must
// not crash the tool without saying which input.
func recoverInto(err *error, path string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: internal error: %v\n%s", path, r, debug.Stack())
	}
}

// MergeInputs reads what Merge takes from files: the shards at paths (in that
// order) and, if elfPath is not empty, the linked image and its byte order (the
// order BTF is written in); without one the order is little-endian. jobs files
// are decoded at a time: a vmlinux merge reads hundreds of megabytes of shards.
func MergeInputs(paths []string, elfPath string, jobs int) ([]*shard.Shard, *finalize.Image, binary.ByteOrder, error) {
	var size uint64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			size += uint64(st.Size()) // errors are ReadFile's to report
		}
	}
	readyHeap(size, heapPerShardByte)
	shards := make([]*shard.Shard, len(paths))
	var img *finalize.Image
	// The first error by position is reported (parallel.Each), so that which of
	// several bad inputs is named does not depend on timing.
	err := parallel.Each(len(paths)+1, max(jobs, 1), func(i int) (err error) {
		if i == len(paths) {
			if elfPath == "" {
				return nil
			}
			defer recoverInto(&err, elfPath)
			img, err = finalize.LoadImage(elfPath)
			return err
		}
		defer recoverInto(&err, paths[i])
		shards[i], err = shard.ReadFile(paths[i])
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if elfPath == "" {
		return shards, nil, binary.LittleEndian, nil
	}
	order, err := ByteOrder(elfPath)
	if err != nil {
		return nil, nil, nil, err
	}
	return shards, img, order, nil
}

// ByteOrder returns the byte order of the ELF at path: BTF is written in its
// target's order, since the target's kernel reads it.
func ByteOrder(path string) (binary.ByteOrder, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	return f.ByteOrder, nil
}
