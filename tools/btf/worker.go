package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/dedup"
)

// Persistent worker mode (Bazel's JSON worker protocol): `btf --persistent_worker`
// reads WorkRequests from stdin, runs each one's arguments as one command line
// (verb first; @params files expanded), and writes a WorkResponse to stdout with the
// exit status and what the command would have printed. Requests run one at a time.
//
// Bazel runs BtfConvert, BtfMerge and module actions in workers. A conversion or a
// merge gains the process start and memory already mapped: where a first touch of a
// page is dear (tens of microseconds on a VM), the heap a request leaves is reused
// by the next.
// A module gains the base: kernel modules are converted on the same vmlinux BTF,
// and reading it (a hundred thousand types) and preparing it for the dedup cost a
// one-shot process more than converting a small module does. The worker keeps the
// last base it read, with its dedup preparation (dedup.PrepareBase), and reuses it
// while the file is unchanged: same path and, as Bazel digests it, same content
// (else same size, modification time and inode). Output is byte for byte that of a
// one-shot run (TestWorkerMatchesOneShot).

const workerFlag = "--persistent_worker"

// workRequest and workResponse are the JSON forms of Bazel's WorkRequest and
// WorkResponse (src/main/protobuf/worker_protocol.proto), with the fields used here.
type workRequest struct {
	Arguments []string    `json:"arguments"`
	Inputs    []workInput `json:"inputs"`
	RequestID int         `json:"requestId"`
	Cancel    bool        `json:"cancel"`
}

type workInput struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
}

type workResponse struct {
	ExitCode  int    `json:"exitCode"`
	Output    string `json:"output"`
	RequestID int    `json:"requestId"`
}

// isWorker reports whether args ask for worker mode.
func isWorker(args []string) bool {
	return slices.Contains(args, workerFlag)
}

// runWorker serves requests from in until it ends, writing responses to out. Only
// a broken protocol stream ends it with an error; a failing request is a response
// with a non-zero exit code.
func runWorker(in io.Reader, out io.Writer) error {
	bases = &baseCache{}
	defer func() { bases = nil }()
	dec := json.NewDecoder(bufio.NewReader(in))
	enc := json.NewEncoder(out)
	for {
		var req workRequest
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("worker: reading a request: %w", err)
		}
		if req.Cancel {
			continue // requests run to completion; cancellation is not supported
		}
		bases.digests = make(map[string]string, len(req.Inputs))
		for _, in := range req.Inputs {
			bases.digests[in.Path] = in.Digest
		}
		var buf bytes.Buffer
		resp := workResponse{RequestID: req.RequestID}
		if err := run(req.Arguments, &buf); err != nil {
			fmt.Fprintf(&buf, "btf: %v\n", err)
			resp.ExitCode = exitCode(err)
		}
		resp.Output = buf.String()
		if err := enc.Encode(&resp); err != nil {
			return fmt.Errorf("worker: writing a response: %w", err)
		}
	}
}

// exitCode is the exit status for a command's error: 2 for usage errors, else 1.
func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// bases is the worker's base cache; nil outside worker mode, where every run
// reads its base afresh.
var bases *baseCache

// baseCache holds the last base read, keyed by what identifies its file. Requests
// run one at a time, so it needs no lock.
type baseCache struct {
	key      string
	spec     *btf.Spec
	prepared *dedup.Base
	digests  map[string]string // input path -> digest, of the current request
}

// get returns the base at path, read only if the file differs from the one
// cached; with prepare, also its preparation for the dedup, made once per base
// (stat, diff and load do not need it).
func (c *baseCache) get(path string, prepare bool) (*btf.Spec, *dedup.Base, error) {
	key, err := c.fileKey(path)
	if err != nil {
		return nil, nil, err
	}
	if c.spec == nil || c.key != key {
		c.key, c.spec, c.prepared = "", nil, nil // drop the old base before reading a new one
		spec, err := readBTF(path, nil)
		if err != nil {
			return nil, nil, err
		}
		c.key, c.spec = key, spec
	}
	if prepare && c.prepared == nil {
		if c.prepared, err = dedup.PrepareBase(c.spec); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return c.spec, c.prepared, nil
}

// fileKey identifies the contents of the file at path: by the digest Bazel gave
// for it in the request, else by its size, modification and change times, device
// and inode. (Without a digest, a file rewritten in place within one clock tick to
// the same size could go unnoticed; Bazel always gives digests.)
func (c *baseCache) fileKey(path string) (string, error) {
	if d, ok := c.digests[path]; ok && d != "" {
		return path + "\x00digest:" + d, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s\x00%d\x00%d\x00%s", path, fi.Size(), fi.ModTime().UnixNano(), fileID(fi)), nil
}

// fileID is the device, inode and change time of a file, where the system gives
// them.
func fileID(fi os.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d:%d.%d", st.Dev, st.Ino, st.Ctim.Sec, st.Ctim.Nsec)
	}
	return ""
}
