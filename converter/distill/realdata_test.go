package distill

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/internal/kerneldata"
)

// kernelData returns the real kernel data directory or skips (package kerneldata).
var kernelData = kerneldata.Dir

// Every module's split BTF as pahole 1.32 wrote it (not distilled), distilled and
// relocated back onto the vmlinux BTF, is the module's type graph again, and the
// distilled pair survives a marshal and parse round trip. Every 4th module (all
// 1,121 take half a minute), with -short every 20th.
func TestRealModulesRoundTrip(t *testing.T) {
	data := kernelData(t, "vmlinux.btf", "pahole-1.32/modules")
	raw, err := os.ReadFile(filepath.Join(data, "vmlinux.btf"))
	if err != nil {
		t.Fatal(err)
	}
	vmlinux, err := btf.Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(data, "pahole-1.32/modules")
	mods, err := kerneldata.Files(root, ".btf")
	if err != nil {
		t.Fatal(err)
	}
	step := 4
	if testing.Short() {
		step = 20
	}
	for i := range mods {
		if i%step == 0 {
			mods[i/step] = mods[i]
		}
	}
	mods = mods[:(len(mods)+step-1)/step]
	opts := btf.MarshalOptions{ByteOrder: binary.LittleEndian}
	var nbase, nsplit, nmods int
	for _, p := range mods {
		name, _ := filepath.Rel(root, p)
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		orig, err := btf.Parse(raw, vmlinux)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		dbase, dist, err := Distill(orig)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		rawBase, err := dbase.Marshal(opts)
		if err != nil {
			t.Fatalf("%s: distilled base: %v", name, err)
		}
		rawSplit, err := dist.Marshal(opts)
		if err != nil {
			t.Fatalf("%s: distilled split: %v", name, err)
		}
		pbase, err := btf.Parse(rawBase, nil)
		if err != nil {
			t.Fatalf("%s: distilled base does not parse: %v", name, err)
		}
		psplit, err := btf.Parse(rawSplit, pbase)
		if err != nil {
			t.Fatalf("%s: distilled split does not parse: %v", name, err)
		}
		got, err := Relocate(psplit, vmlinux)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := sameGraph(orig, got); err != nil {
			t.Errorf("%s: relocated: %v", name, err)
		}
		nbase += len(dbase.Types)
		nsplit += len(dist.Types) - len(orig.Types)
		nmods++
	}
	t.Logf("%d modules: on average %d distilled base types and %d base types copied into the split BTF",
		nmods, nbase/max(nmods, 1), nsplit/max(nmods, 1))
}

// Distilling pahole 1.32's split BTF of a module gives byte for byte the .BTF and
// .BTF.base pahole 1.32 writes with --btf_features=...,distilled_base
// (testdata/make.sh): the same types, in the same order, with the same string
// sections.
func TestPahole132Golden(t *testing.T) {
	data := kernelData(t, "vmlinux.btf", "pahole-1.32/modules")
	raw, err := os.ReadFile(filepath.Join(data, "vmlinux.btf"))
	if err != nil {
		t.Fatal(err)
	}
	vmlinux, err := btf.Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, mod := range []struct{ name, path string }{
		{"hid-steam", "drivers/hid/hid-steam.btf"},
		{"exfat", "fs/exfat/exfat.btf"},
	} {
		name, path := mod.name, mod.path
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(data, "pahole-1.32/modules", path))
			if err != nil {
				t.Skipf("no pahole 1.32 reference: %v", err)
			}
			orig, err := btf.Parse(raw, vmlinux)
			if err != nil {
				t.Fatal(err)
			}
			dbase, dist, err := Distill(orig)
			if err != nil {
				t.Fatal(err)
			}
			opts := btf.MarshalOptions{ByteOrder: binary.LittleEndian}
			for _, out := range []struct {
				spec *btf.Spec
				file string
			}{{dbase, name + ".base.btf"}, {dist, name + ".btf"}} {
				got, err := out.spec.Marshal(opts)
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(filepath.Join("testdata", out.file))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: our %d bytes differ from pahole's %d", out.file, len(got), len(want))
				}
			}
		})
	}
}
