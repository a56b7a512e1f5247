package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/rules-btf/rules_btf/internal/kerneldata"
)

// BenchmarkModules runs `btf encode -j 1 --base vmlinux.btf` in this process on a
// fixed sample of the real kernel's modules (every 28th in path order, 40 of
// 1,121), in pahole 1.32 mode: one iteration converts them all. Sub-benchmarks:
// "process", the base read and prepared once per module, as a process per module
// does (without the process start); "worker", the base kept as a persistent
// worker keeps it. bench/modules.sh measures both against pahole's processes.
//
//	go test ./tools/btf -run '^$' -bench Modules -benchtime 3x -cpuprofile cpu.prof
func BenchmarkModules(b *testing.B) {
	b.Run("process", func(b *testing.B) { benchModules(b) })
	b.Run("worker", func(b *testing.B) {
		bases = &baseCache{}
		defer func() { bases = nil }()
		benchModules(b)
	})
}

func benchModules(b *testing.B) {
	dir := kerneldata.Dir(b, "vmlinux.btf", "modules")
	mods, err := kerneldata.Files(filepath.Join(dir, "modules"), ".ko")
	if err != nil {
		b.Fatal(err)
	}
	var sample []string
	for i := 27; i < len(mods); i += 28 {
		sample = append(sample, mods[i])
	}
	out := filepath.Join(b.TempDir(), "m.btf")
	base := filepath.Join(dir, "vmlinux.btf")
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range sample {
			args := []string{"encode", "-j", "1", "--compat", "1.32", "--lang_exclude=rust",
				"--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs",
				"--base", base, "-o", out, m}
			if err := run(args, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(sample))/1e6, "ms/module")
}
