package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A worker's outputs are byte for byte a one-shot run's, with its base cached across
// requests and read again when the base file changes (by the digest Bazel gives, or
// by the file itself without one); a failing request is a response, not the end of
// the worker.
func TestWorkerMatchesOneShot(t *testing.T) {
	dir := t.TempDir()
	objs, bin := buildExample(t, dir)
	baseA, baseB := filepath.Join(dir, "a.btf"), filepath.Join(dir, "b.btf")
	runBTF(t, "encode", "-o", baseA, bin)
	runBTF(t, "encode", "-o", baseB, objs[1])
	base := filepath.Join(dir, "base.btf")
	install := func(src string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".tmp", data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(base+".tmp", base); err != nil {
			t.Fatal(err)
		}
	}
	readFile := func(p string) []byte {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}

	// One-shot outputs, made before the worker starts: while it runs, its cache is
	// the process's.
	want := map[[2]string][]byte{}
	for _, b := range []string{baseA, baseB} {
		for _, obj := range []string{objs[0], objs[2]} {
			p := filepath.Join(dir, "want.btf")
			runBTF(t, "encode", "-j", "1", "-o", p, "--base", b, obj)
			want[[2]string{obj, b}] = readFile(p)
		}
	}

	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := runWorker(inR, outW)
		outW.Close()
		done <- err
	}()
	enc, dec := json.NewEncoder(inW), json.NewDecoder(bufio.NewReader(outR))
	call := func(req workRequest) workResponse {
		t.Helper()
		if err := enc.Encode(req); err != nil {
			t.Fatal(err)
		}
		var resp workResponse
		if err := dec.Decode(&resp); err != nil {
			t.Fatal(err)
		}
		if resp.RequestID != req.RequestID {
			t.Fatalf("response to request %d has ID %d", req.RequestID, resp.RequestID)
		}
		return resp
	}

	for i, s := range []struct {
		install string // the file to install as the base first ("": keep)
		obj     string
		digest  string // the base's digest in the request ("": none)
		base    string // the base the output must be on
	}{
		{baseA, objs[0], "", baseA},
		{"", objs[2], "", baseA},      // the cached base
		{baseB, objs[0], "", baseB},   // another file at the same path: read again
		{"", objs[2], "dB", baseB},    // a digest from now on
		{baseA, objs[0], "dA", baseA}, // a new digest: read again
		{"", objs[2], "dA", baseA},
	} {
		if s.install != "" {
			install(s.install)
		}
		out := filepath.Join(dir, fmt.Sprintf("out%d.btf", i))
		params := filepath.Join(dir, fmt.Sprintf("params%d", i))
		if err := os.WriteFile(params, []byte(strings.Join([]string{"-o", out, "--base", base, s.obj}, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		req := workRequest{Arguments: []string{"encode", "-j", "1", "@" + params}, RequestID: i + 1}
		if s.digest != "" {
			req.Inputs = []workInput{{Path: base, Digest: s.digest}, {Path: s.obj, Digest: "0"}}
		}
		if resp := call(req); resp.ExitCode != 0 {
			t.Fatalf("request %d: exit code %d: %s", i+1, resp.ExitCode, resp.Output)
		}
		if !bytes.Equal(readFile(out), want[[2]string{s.obj, s.base}]) {
			t.Errorf("request %d: %s on %s differs from a one-shot run", i+1, filepath.Base(s.obj), filepath.Base(s.base))
		}
	}

	// Failures: a missing input, bad usage; the worker goes on.
	missing := filepath.Join(dir, "nope.o")
	if resp := call(workRequest{Arguments: []string{"encode", "-o", filepath.Join(dir, "x.btf"), "--base", base, missing}, RequestID: 20}); resp.ExitCode != 1 || !strings.Contains(resp.Output, missing) {
		t.Errorf("missing input: exit code %d, output %q", resp.ExitCode, resp.Output)
	}
	if resp := call(workRequest{Arguments: []string{"encode", "--bogus"}, RequestID: 21}); resp.ExitCode != 2 {
		t.Errorf("bad flag: exit code %d, output %q", resp.ExitCode, resp.Output)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.btf")); !os.IsNotExist(err) {
		t.Errorf("a failed request left its output file (%v)", err)
	}
	if resp := call(workRequest{Arguments: []string{"stat", baseA}, RequestID: 22}); resp.ExitCode != 0 || !strings.Contains(resp.Output, "total") {
		t.Errorf("stat after failures: exit code %d, output %q", resp.ExitCode, resp.Output)
	}

	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if bases != nil {
		t.Error("the base cache outlives the worker")
	}
}

// A broken request stream ends the worker with an error.
func TestWorkerBadStream(t *testing.T) {
	var out bytes.Buffer
	err := runWorker(strings.NewReader(`{"arguments": ["stat"`), &out)
	if err == nil || !strings.Contains(err.Error(), "request") {
		t.Fatalf("got %v", err)
	}
}

// BtfConvert actions run in workers too: shard requests, the verb in the params
// file as Bazel writes it, give the bytes of one-shot runs, request after request.
func TestWorkerShard(t *testing.T) {
	dir := t.TempDir()
	objs, bin := buildExample(t, dir)
	type job struct{ src, cus string }
	jobs := []job{{objs[0], ""}, {bin, "1/2"}, {objs[1], ""}, {bin, "2/2"}, {objs[0], ""}}
	want := make([][]byte, len(jobs))
	args := func(j job, out string) []string {
		a := []string{"shard", "-o", out}
		if j.cus != "" {
			a = append(a, "--cus", j.cus)
		}
		return append(a, "--compat", "1.32", j.src)
	}
	for i, j := range jobs {
		p := filepath.Join(dir, fmt.Sprintf("want%d.shard", i))
		runBTF(t, args(j, p)...)
		var err error
		if want[i], err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
	}

	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for i, j := range jobs {
		params := filepath.Join(dir, fmt.Sprintf("params%d", i))
		out := filepath.Join(dir, fmt.Sprintf("got%d.shard", i))
		if err := os.WriteFile(params, []byte(strings.Join(args(j, out), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(workRequest{Arguments: []string{"@" + params}, RequestID: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := runWorker(&in, &out); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&out)
	for i := range jobs {
		var resp workResponse
		if err := dec.Decode(&resp); err != nil {
			t.Fatal(err)
		}
		if resp.ExitCode != 0 || resp.RequestID != i+1 {
			t.Fatalf("request %d: response %d, exit code %d: %s", i+1, resp.RequestID, resp.ExitCode, resp.Output)
		}
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("got%d.shard", i)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want[i]) {
			t.Errorf("request %d: the shard differs from a one-shot run's", i+1)
		}
	}
}
