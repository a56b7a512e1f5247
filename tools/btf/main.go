// Command btf turns the DWARF of ELF files into BTF, the way pahole -J does, but in
// stages a build system can run separately:
//
//	btf shard  -o OUT.shard [--cus i/N] INPUT          one object, or a CU range of one ELF
//	btf merge  -o OUT.btf [--elf LINKED] SHARD...      shards in link order -> final BTF
//	btf encode -o OUT.btf [-j N] ELF                   all stages in one process
//	btf diff   A.btf B.btf                             same types, regardless of IDs?
//	btf stat   X.btf                                   types per kind
//
// Any argument may be @FILE, a params file with one argument per line. Outputs are
// written atomically: after an error there is no output file.
//
// With --persistent_worker, btf is a Bazel persistent worker (JSON protocol) that
// runs one such command line per request and keeps the base BTF of module
// conversions between requests (worker.go).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
)

// errUsage marks errors caused by how the command was called (exit status 2).
var errUsage = errors.New("usage")

type verb struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

var verbs = map[string]verb{
	"encode": {"convert an ELF's DWARF to final BTF, all stages in process", runEncode},
	"shard":  {"convert one object, or a CU range of one ELF, to a shard", runShard},
	"merge":  {"merge shards in link order into final BTF", runMerge},
	"diff":   {"compare two BTF blobs as sets of types, regardless of IDs", runDiff},
	"stat":   {"count the types of a BTF blob per kind", runStat},
	"load":   {"load raw BTF into the running kernel (BPF_BTF_LOAD) to check that it accepts it", runLoad},
	"pahole": {"pahole's command line (-J, --btf_encode_detached, --btf_base, ...), as a kernel build gives it", runPahole},
}

func main() {
	if isWorker(os.Args[1:]) {
		// Only WorkResponses may reach stdout: anything else printed (a verb's
		// -h text) goes to stderr, Bazel's worker log.
		out := os.Stdout
		os.Stdout = os.Stderr
		if err := runWorker(os.Stdin, out); err != nil {
			fmt.Fprintf(os.Stderr, "btf: %v\n", err)
			os.Exit(1)
		}
		return
	}
	name, args := "btf", os.Args[1:]
	if isPahole(os.Args[0]) {
		name, args = "pahole", append([]string{"pahole"}, args...)
	}
	if err := run(args, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(exitCode(err))
	}
}

// isPahole reports whether the program was invoked under the name pahole (a
// symlink or copy of btf), as the pahole front end (pahole.go).
func isPahole(argv0 string) bool {
	return filepath.Base(argv0) == "pahole"
}

// run is the whole command: it expands params files, picks the verb and turns any
// panic into an error, so that bad input never crashes the tool.
func run(args []string, stdout io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v\n%s", r, debug.Stack())
		}
	}()
	args, err = expandParams(args)
	if err != nil {
		return err
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return fmt.Errorf("%w: no verb given", errUsage)
		}
		return nil
	}
	v, ok := verbs[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown verb %q (verbs: %s)", errUsage, args[0], strings.Join(verbNames(), ", "))
	}
	return v.run(args[1:], stdout)
}

func verbNames() []string {
	names := make([]string, 0, len(verbs))
	for n := range verbs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: btf VERB [flags] ARGS...   (any argument may be @params-file)")
	for _, n := range verbNames() {
		fmt.Fprintf(w, "  %-7s %s\n", n, verbs[n].summary)
	}
	fmt.Fprintln(w, "Run 'btf VERB -h' for a verb's flags.")
}

// newFlagSet returns a flag set for a verb that reports errors instead of exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with fs and checks the number of positional arguments.
// Asked for help (-h), it prints the verb's usage to stdout.
func parseFlags(stdout io.Writer, fs *flag.FlagSet, usage string, args []string, minPos, maxPos int) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintf(stdout, "usage: btf %s %s\n", fs.Name(), usage)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
		return nil, fmt.Errorf("%w: btf %s: %v", errUsage, fs.Name(), err)
	}
	pos := fs.Args()
	if len(pos) < minPos || (maxPos >= 0 && len(pos) > maxPos) {
		return nil, fmt.Errorf("%w: btf %s %s", errUsage, fs.Name(), usage)
	}
	return pos, nil
}
