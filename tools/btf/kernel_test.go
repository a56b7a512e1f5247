package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	ebtf "github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
)

// loadIntoKernel loads raw BTF with BPF_BTF_LOAD. The kernel's verifier judges
// validity (not equality with pahole): a rejected blob is a bug in our output. The
// test is skipped, saying why, only where BPF_BTF_LOAD cannot be used at all.
func loadIntoKernel(t *testing.T, raw []byte) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: BPF_BTF_LOAD needs CAP_BPF or CAP_SYS_ADMIN")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("no BPF syscall here: %v", err)
	}
	h, err := ebtf.NewHandleFromRawBTF(raw)
	if errors.Is(err, ebtf.ErrNotSupported) {
		t.Skipf("the kernel does not support BTF: %v", err)
	}
	if err != nil {
		t.Fatalf("the kernel rejected our BTF: %v", err)
	}
	h.Close()
}

func TestKernelAcceptsExample(t *testing.T) {
	dir := t.TempDir()
	_, bin := buildExample(t, dir)
	out := filepath.Join(dir, "example.btf")
	runBTF(t, "encode", "-o", out, bin)
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	loadIntoKernel(t, raw)
}
