package encode

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rules-btf/rules_btf/converter/elfobj"
	"github.com/rules-btf/rules_btf/internal/kerneldata"
)

// benchVmlinux opens the real kernel's vmlinux (RULES_BTF_DATA, default
// /var/cache/rules_btf/kernel; bench/fetch-kernel.sh fetches it), or skips.
func benchVmlinux(b *testing.B) *elfobj.File {
	b.Helper()
	f, err := elfobj.Open(filepath.Join(kerneldata.Dir(b, "vmlinux"), "vmlinux"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// BenchmarkEncodeVmlinux encodes one CU range of vmlinux (the middle one of 64 and of
// 8 ranges) and all of it, single-threaded, with pahole's kernel defaults: the cost of
// one BtfConvert action of //bench/vmlinux and of `btf encode -j 1` before the merge.
// The ranges are balanced by .debug_info size, so cost per range grows about as 1/N.
//
//	go test ./converter/encode -run '^$' -bench EncodeVmlinux -benchtime 1x
func BenchmarkEncodeVmlinux(b *testing.B) {
	f := benchVmlinux(b)
	d, _, err := sections(f)
	if err != nil {
		b.Fatal(err)
	}
	units := d.Units()
	opts := DefaultOptions()
	warm := false
	for _, n := range []int{64, 8, 1} {
		ranges, err := Ranges(f, n)
		if err != nil {
			b.Fatal(err)
		}
		r := ranges[len(ranges)/2]
		name := fmt.Sprintf("cus=%d/%d", len(ranges)/2+1, n)
		first, last := r.First, r.Last
		if n == 1 {
			r, name, first, last = Range{}, "all", 0, len(units)
		}
		b.Run(name, func(b *testing.B) {
			if !warm { // the first Encode reads the sections of f; not what is measured
				if _, err := Encode(f, ranges[0], opts); err != nil {
					b.Fatal(err)
				}
				warm = true
			}
			b.ReportAllocs()
			b.SetBytes(int64(units[last-1].End - units[first].Offset))
			var types int
			for b.Loop() {
				sh, err := Encode(f, r, opts)
				if err != nil {
					b.Fatal(err)
				}
				types = sh.Types.Len()
			}
			b.ReportMetric(float64(last-first), "CUs")
			b.ReportMetric(float64(types), "types")
		})
	}
}
