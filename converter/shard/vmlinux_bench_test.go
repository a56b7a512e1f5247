package shard_test

import (
	"path/filepath"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/rules-btf/rules_btf/converter/elfobj"
	"github.com/rules-btf/rules_btf/converter/encode"
	"github.com/rules-btf/rules_btf/converter/shard"
	"github.com/rules-btf/rules_btf/internal/kerneldata"
)

// vmlinuxShards encodes the real vmlinux (RULES_BTF_DATA, default
// /var/cache/rules_btf/kernel) as 8 CU-range shards, as //bench/vmlinux's BtfConvert
// actions would (tens of seconds), or skips without the data.
func vmlinuxShards(b *testing.B) []*shard.Shard {
	b.Helper()
	f, err := elfobj.Open(filepath.Join(kerneldata.Dir(b, "vmlinux"), "vmlinux"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ranges, err := encode.Ranges(f, 8)
	if err != nil {
		b.Fatal(err)
	}
	shards := make([]*shard.Shard, len(ranges))
	var g errgroup.Group
	g.SetLimit(2)
	for i := range ranges {
		g.Go(func() (err error) {
			shards[i], err = encode.Encode(f, ranges[i], encode.DefaultOptions())
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return shards
}

// BenchmarkVmlinuxShards writes (Marshal) and reads (Unmarshal) all 8 shards of
// vmlinux per op: what the BtfConvert actions write and the BtfMerge action reads
// in a Bazel build of vmlinux, about 3.4 million types.
//
//	go test ./converter/shard -run '^$' -bench VmlinuxShards
func BenchmarkVmlinuxShards(b *testing.B) {
	shards := vmlinuxShards(b)
	raw := make([][]byte, len(shards))
	var size int64
	for i, s := range shards {
		var err error
		if raw[i], err = shard.Marshal(s); err != nil {
			b.Fatal(err)
		}
		size += int64(len(raw[i]))
	}
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			for _, s := range shards {
				if _, err := shard.Marshal(s); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			for i, data := range raw {
				if _, err := shard.Unmarshal(data, shards[i].Source); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
