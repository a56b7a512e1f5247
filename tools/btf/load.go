package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	ebtf "github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
)

const loadUsage = "FILE"

// runLoad loads raw BTF into the running kernel with BPF_BTF_LOAD and unloads it
// again: a check that the kernel's BTF verifier accepts it. It needs root (or
// CAP_BPF). This is the one verb that talks to the running kernel; no other verb
// looks at the machine it runs on.
func runLoad(args []string, stdout io.Writer) error {
	fs := newFlagSet("load")
	pos, err := parseFlags(fs, loadUsage, args, 1, 1)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return fmt.Errorf("load %s: %w", pos[0], err)
	}
	h, err := ebtf.NewHandleFromRawBTF(raw)
	if errors.Is(err, ebtf.ErrNotSupported) {
		return fmt.Errorf("load %s: this kernel does not support BTF: %w", pos[0], err)
	}
	if err != nil {
		return fmt.Errorf("load %s: the kernel rejected it: %w", pos[0], err)
	}
	defer h.Close()
	fmt.Fprintf(stdout, "%s: accepted by the kernel\n", pos[0])
	return nil
}
