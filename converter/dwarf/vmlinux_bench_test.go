package dwarf_test

import (
	"path/filepath"
	"testing"

	"github.com/rules-btf/rules_btf/converter/dwarf"
	"github.com/rules-btf/rules_btf/internal/kerneldata"
)

// BenchmarkVmlinuxDecode decodes every DIE of the real vmlinux (RULES_BTF_DATA, default
// /var/cache/rules_btf/kernel) and, as the encoder does for most of them, its name
// string and its type reference: BenchmarkVmlinuxWalk plus the string look-ups. One
// reader, one goroutine; the DIE count is reported per op.
//
//	go test ./converter/dwarf -run '^$' -bench Vmlinux
func BenchmarkVmlinuxDecode(b *testing.B) {
	_, d := open(b, filepath.Join(kerneldata.Dir(b, "vmlinux"), "vmlinux"))
	b.ReportAllocs()
	b.SetBytes(int64(len(d.Sections().Info)))
	var dies, named int
	for b.Loop() {
		dies, named = 0, 0
		r := d.NewReader()
		var e dwarf.Entry
		for i := range d.Units() {
			if err := r.Reset(&d.Units()[i]); err != nil {
				b.Fatal(err)
			}
			for {
				ok, err := r.Next(&e)
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					break
				}
				dies++
				if e.Has(dwarf.AttrName) {
					if _, err := r.String(&e, dwarf.AttrName); err != nil {
						b.Fatal(err)
					}
					named++
				}
				e.Ref(dwarf.AttrType)
			}
		}
	}
	b.ReportMetric(float64(dies), "DIEs")
	b.ReportMetric(float64(named), "names")
}
