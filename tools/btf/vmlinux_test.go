package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rules-btf/rules_btf/internal/kerneldata"
)

// kernelData returns the directory of the real kernel data (package kerneldata)
// with vmlinux and files in it, or skips the test.
func kernelData(t *testing.T, files ...string) string {
	t.Helper()
	return kerneldata.Dir(t, append([]string{"vmlinux"}, files...)...)
}

// The real kernel: Debian 12's vmlinux, encoded with the flags Linux 6.1 passes to
// pahole 1.24, must give the same types as pahole 1.24 did (FUNCs included), and the
// kernel must accept it.
func TestVmlinuxPahole124(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the whole vmlinux takes tens of seconds")
	}
	data := kernelData(t, "pahole/vmlinux.btf", "vmlinux.btf")
	out := filepath.Join(t.TempDir(), "vmlinux.btf")
	runBTF(t, "encode", "-j", "2", "--compat", "1.24", "--btf_gen_floats", "--lang_exclude", "rust",
		"-o", out, filepath.Join(data, "vmlinux"))
	diffBTF(t, out, filepath.Join(data, "pahole/vmlinux.btf"), "")
	// The BTF embedded in the vmlinux was made by pahole -j, which duplicates some
	// FUNCs: all other kinds must match it too.
	diffBTF(t, out, filepath.Join(data, "vmlinux.btf"), "FUNC,FUNC_PROTO")
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	loadIntoKernel(t, raw)
}

// A kernel module's split BTF on the vmlinux BTF equals pahole's, and the kernel
// accepts base and split together.
func TestModulePahole124(t *testing.T) {
	data := kernelData(t, "vmlinux.btf", "modules/net/key/af_key.ko", "pahole/modules/net/key/af_key.btf")
	out := filepath.Join(t.TempDir(), "af_key.btf")
	base := filepath.Join(data, "vmlinux.btf")
	runBTF(t, "encode", "-j", "1", "--compat", "1.24", "--btf_gen_floats", "--base", base,
		"-o", out, filepath.Join(data, "modules/net/key/af_key.ko"))
	if err := run([]string{"diff", "--base", base, out, filepath.Join(data, "pahole/modules/net/key/af_key.btf")}, io.Discard); err != nil {
		t.Errorf("split BTF of af_key differs from pahole's: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: BPF_BTF_LOAD needs CAP_BPF or CAP_SYS_ADMIN")
	}
	runBTF(t, "load", "--base", base, out)
}
