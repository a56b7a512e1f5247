package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	ebtf "github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/rules-btf/rules_btf/converter/btf"
)

const loadUsage = "[--base BASE] FILE"

// runLoad loads raw BTF into the running kernel with BPF_BTF_LOAD and unloads it
// again: a check that the kernel's BTF verifier accepts it. It needs root (or
// CAP_BPF). This is the one verb that talks to the running kernel; no other verb
// looks at the machine it runs on.
//
// Split BTF (--base) is checked the way the kernel can take it from user space: base
// and split types concatenated into one standalone blob, the split IDs continuing
// the base's as they already do.
func runLoad(args []string, stdout io.Writer) error {
	fs := newFlagSet("load")
	base := fs.String("base", "", "FILE is split BTF on this base `file`: load both as one blob")
	pos, err := parseFlags(stdout, fs, loadUsage, args, 1, 1)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	if *base != "" {
		if raw, err = concatSplit(pos[0], *base); err != nil {
			return err
		}
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

// concatSplit returns the split BTF at path and its base as one standalone blob.
func concatSplit(path, basePath string) ([]byte, error) {
	base, err := readBase(basePath)
	if err != nil {
		return nil, err
	}
	split, err := readBTF(path, base)
	if err != nil {
		return nil, err
	}
	all := btf.NewSpec()
	base.DecodeTypes()
	all.Types = make([]btf.Type, 0, len(base.Types)+len(split.Types))
	all.Types = append(append(all.Types, base.Types...), split.Types...)
	return all.Marshal(btf.MarshalOptions{ByteOrder: binary.NativeEndian}) // for this kernel
}
