package dedup

import (
	"path/filepath"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/elfobj"
	"github.com/rules-btf/rules_btf/converter/encode"
	"github.com/rules-btf/rules_btf/converter/finalize"
	"github.com/rules-btf/rules_btf/converter/shard"
)

// combinedVmlinux returns what `btf merge --elf vmlinux` of vmlinux's shards hands to
// Dedup in 1.32 mode (bench/merge.sh's flags): the shards' types in link order plus the
// FUNCs, VARs and DATASECs finalize chooses, about 3.4 million types. It skips without
// the kernel data (see kernelDir). Building it encodes all of vmlinux (tens of seconds).
func combinedVmlinux(b *testing.B) *btf.Table {
	b.Helper()
	path := filepath.Join(kernelDir, "vmlinux")
	f, err := elfobj.Open(path)
	if err != nil {
		b.Skipf("no kernel data (%v): run bench/fetch-kernel.sh", err)
	}
	defer f.Close()
	ranges, err := encode.Ranges(f, 8)
	if err != nil {
		b.Fatal(err)
	}
	opts := encode.DefaultOptions()
	shards := make([]*shard.Shard, len(ranges))
	var g errgroup.Group
	g.SetLimit(2)
	for i := range ranges {
		g.Go(func() (err error) {
			shards[i], err = encode.Encode(f, ranges[i], opts)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	img, err := finalize.LoadImage(path)
	if err != nil {
		b.Fatal(err)
	}
	combined, err := finalize.CombineOwned(shards, img, finalize.Options{Compat: finalize.Pahole132, Force: true, TagKfuncs: true})
	if err != nil {
		b.Fatal(err)
	}
	return combined
}

// BenchmarkDedupVmlinuxShards deduplicates the combined types of vmlinux's shards, as
// the merge does: the dedup half of bench/merge.sh, without reading or writing files.
//
//	go test ./converter/dedup -run '^$' -bench DedupVmlinuxShards -benchtime 3x
func BenchmarkDedupVmlinuxShards(b *testing.B) {
	in := combinedVmlinux(b)
	b.ReportAllocs()
	var out int
	for b.Loop() {
		got, _, err := DedupTable(in, Options{Libbpf170: true})
		if err != nil {
			b.Fatal(err)
		}
		out = len(got.Types)
	}
	b.ReportMetric(float64(in.Len()), "types-in")
	b.ReportMetric(float64(out), "types-out")
}
