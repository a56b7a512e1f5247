package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/distill"
)

// The flags of a distilled base: it needs a base, -o needs --base-out, and
// --base-out needs the feature. Nothing is written after such an error.
func TestDistillFlags(t *testing.T) {
	dir := t.TempDir()
	_, bin := buildExample(t, dir)
	base := filepath.Join(dir, "base.btf")
	runBTF(t, "encode", "-o", base, bin)
	out, baseOut := filepath.Join(dir, "out.btf"), filepath.Join(dir, "out.base.btf")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no base", []string{"encode", "--btf_features", "var,distilled_base", "-o", out, "--base-out", baseOut, bin}, "needs --base"},
		{"-o without --base-out", []string{"encode", "--btf_features", "distilled_base", "--base", base, "-o", out, bin}, "needs --base-out"},
		{"--base-out without the feature", []string{"encode", "--btf_features", "var", "--base", base, "-o", out, "--base-out", baseOut, bin}, "--base-out needs"},
		{"merge, no base", []string{"merge", "--btf_features", "distilled_base", "-o", out, "--base-out", baseOut, base}, "needs --base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args, &bytes.Buffer{})
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a usage error mentioning %q", err, tc.want)
			}
			for _, p := range []string{out, baseOut} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s written after the error", p)
				}
			}
		})
	}
}

// A real module encoded with a distilled base (pahole 1.32's flags, as Linux passes
// them for out-of-tree modules): -o and --base-out are the distilled pair, the ELF
// copy carries the same bytes as .BTF and .BTF.base and keeps every other section,
// the pair is what distilling the module's plain split BTF gives, relocated onto
// vmlinux's BTF it is the module's type graph again, and the kernel accepts it.
//
// The kernel cannot take split BTF from user space (BPF_BTF_LOAD has no base
// argument; only module loading relocates .BTF onto vmlinux, and this module was
// not built for the running kernel), so what it is given is one standalone blob:
// vmlinux's BTF followed by the module's BTF relocated onto it (btf load --base), and
// the distilled base followed by the distilled split BTF.
func TestModuleDistilledBase(t *testing.T) {
	const mod = "modules/fs/exfat/exfat.ko"
	data := kernelData(t, "vmlinux.btf", mod)
	dir := t.TempDir()
	vmlinux, ko := filepath.Join(data, "vmlinux.btf"), filepath.Join(data, mod)
	flags := []string{"-j", "1", "--compat", "1.32", "--lang_exclude", "rust", "--base", vmlinux}
	features := "encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs"
	plain := filepath.Join(dir, "plain.btf")
	runBTF(t, append(append([]string{"encode"}, flags...), "--btf_features", features, "-o", plain, ko)...)
	out, baseOut, elfOut := filepath.Join(dir, "exfat.btf"), filepath.Join(dir, "exfat.base.btf"), filepath.Join(dir, "exfat.ko")
	runBTF(t, append(append([]string{"encode"}, flags...), "--btf_features", features+",distilled_base",
		"-o", out, "--base-out", baseOut, "--elf-out", elfOut, ko)...)
	rawSplit, rawBase := readFile(t, out), readFile(t, baseOut)

	// The ELF copy: .BTF and .BTF.base as written to -o and --base-out, every
	// other section where and as it was.
	in, err := elf.Open(ko)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	got, err := elf.Open(elfOut)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	for _, want := range []struct {
		name string
		data []byte
	}{{".BTF", rawSplit}, {".BTF.base", rawBase}} {
		sec := got.Section(want.name)
		if sec == nil {
			t.Fatalf("%s: no %s section", elfOut, want.name)
		}
		if b, err := sec.Data(); err != nil || !bytes.Equal(b, want.data) {
			t.Errorf("%s: %s is not the raw output (%v)", elfOut, want.name, err)
		}
	}
	if len(got.Sections) != len(in.Sections)+1 {
		t.Errorf("%d sections, want the %d of the input and .BTF.base", len(got.Sections), len(in.Sections))
	}
	for i, s := range in.Sections {
		g := got.Sections[i]
		if s.Name == ".BTF" {
			continue
		}
		if s.Name == ".shstrtab" { // moved and grown by the new name, old names kept
			a, err1 := s.Data()
			b, err2 := g.Data()
			if err1 != nil || err2 != nil || !bytes.HasPrefix(b, a) {
				t.Errorf("section names: the old ones changed")
			}
			continue
		}
		if g.Name != s.Name || g.Offset != s.Offset || g.Size != s.Size || g.Type != s.Type || g.Flags != s.Flags {
			t.Errorf("section %d: %s at %#x (+%#x), was %s at %#x (+%#x)", i, g.Name, g.Offset, g.Size, s.Name, s.Offset, s.Size)
			continue
		}
		if s.Type == elf.SHT_NOBITS {
			continue
		}
		a, err1 := s.Data()
		b, err2 := g.Data()
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("section %s: contents changed", s.Name)
		}
	}

	// The pair is the distillation of the plain split BTF, byte for byte.
	vspec, err := btf.Parse(readFile(t, vmlinux), nil)
	if err != nil {
		t.Fatal(err)
	}
	pspec, err := btf.Parse(readFile(t, plain), vspec)
	if err != nil {
		t.Fatal(err)
	}
	dbase, dsplit, err := distill.Distill(pspec)
	if err != nil {
		t.Fatal(err)
	}
	opts := btf.MarshalOptions{ByteOrder: binary.LittleEndian}
	if b, err := dbase.Marshal(opts); err != nil || !bytes.Equal(b, rawBase) {
		t.Errorf("--base-out is not the distilled base of the plain split BTF (%v)", err)
	}
	if b, err := dsplit.Marshal(opts); err != nil || !bytes.Equal(b, rawSplit) {
		t.Errorf("-o is not the distilled split BTF of the plain split BTF (%v)", err)
	}

	// Relocated onto vmlinux (what readBTF does for an ELF with .BTF.base and a
	// base): the plain module's types come first, in order, and the rest are
	// copies of vmlinux types (converter/distill checks the type graphs in depth).
	reloc, err := readBTF(elfOut, vspec)
	if err != nil {
		t.Fatal(err)
	}
	if reloc.FirstID != pspec.FirstID || len(reloc.Types) < len(pspec.Types) {
		t.Fatalf("relocated: %d types from ID %d, want at least the plain %d from %d", len(reloc.Types), reloc.FirstID, len(pspec.Types), pspec.FirstID)
	}
	for i := range pspec.Types {
		a, b := &pspec.Types[i], &reloc.Types[i]
		if a.Kind != b.Kind || a.Name != b.Name || a.Size != b.Size || len(a.Members) != len(b.Members) {
			t.Fatalf("relocated type %d is %s %q, the plain one %s %q", pspec.FirstID+btf.TypeID(i), b.Kind, b.Name, a.Kind, a.Name)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: BPF_BTF_LOAD needs CAP_BPF or CAP_SYS_ADMIN")
	}
	runBTF(t, "load", "--base", vmlinux, elfOut)
	runBTF(t, "load", "--base", baseOut, out)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
