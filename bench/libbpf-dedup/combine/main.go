// Command combine writes the BTF that `btf merge` deduplicates, so that libbpf's
// btf__dedup (../dedup.c) can be timed on exactly the same types, and times our own
// dedup on it. bench/merge.sh runs it.
//
//	combine --compat 1.24|1.32 [--elf LINKED] [-o OUT.btf] [--check MERGED.btf] [--time] SHARD...
//
// It reads the shards and the linked ELF as `btf merge --elf LINKED SHARD...` does,
// combines them as it does (finalize.CombineOwned: the shards' types in link order,
// the FUNCs, VARs and DATASECs chosen from the ELF's symbol table) and then:
//
//	-o OUT.btf          writes the combined, not yet deduplicated types as raw BTF
//	--check MERGED.btf  deduplicates them and fails unless the result is, byte for byte,
//	                    MERGED.btf (what `btf merge` wrote with the same flags): proof
//	                    that OUT.btf is the input of our dedup
//	--time              prints, for bench/lib.sh, "bench-metric NAME SECONDS" for
//	                    read_s (shards and ELF), combine_s, dedup_s (dedup.DedupTable alone,
//	                    wall clock) and dedup_cpu_s (CPU of the process meanwhile,
//	                    garbage collection included)
//
// --compat selects the options `btf merge` derives from the flags bench/lib.sh passes
// in that mode (BENCH_OURS_124, BENCH_OURS_132); --check catches any drift.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/dedup"
	"github.com/rules-btf/rules_btf/converter/finalize"
	"github.com/rules-btf/rules_btf/converter/pipeline"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "combine:", err)
		os.Exit(1)
	}
}

// options returns the finalize and dedup options of `btf merge` with bench/lib.sh's
// flags for a mode.
func options(compat string) (finalize.Options, dedup.Options, error) {
	switch compat {
	case "1.24": // --compat 1.24 --btf_gen_floats --lang_exclude=rust
		return finalize.Options{Compat: finalize.Pahole124}, dedup.Options{}, nil
	case "1.32": // --compat 1.32 --btf_features=encode_force,var,...,consistent_func,decl_tag_kfuncs
		return finalize.Options{Compat: finalize.Pahole132, Force: true, TagKfuncs: true},
			dedup.Options{Libbpf170: true}, nil
	}
	return finalize.Options{}, dedup.Options{}, fmt.Errorf("--compat %q: want 1.24 or 1.32", compat)
}

func run(args []string) error {
	fs := flag.NewFlagSet("combine", flag.ContinueOnError)
	compat := fs.String("compat", "1.32", "the `mode` of the shards: 1.24 or 1.32")
	elfPath := fs.String("elf", "", "the linked `ELF` the shards were made from")
	out := fs.String("o", "", "write the combined, not deduplicated BTF to `file`")
	check := fs.String("check", "", "fail unless our dedup of the combined BTF is this `file`")
	timed := fs.Bool("time", false, "print the time of each phase")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no shards")
	}
	fopts, dopts, err := options(*compat)
	if err != nil {
		return err
	}

	t0 := time.Now()
	shards, img, order, err := pipeline.MergeInputs(fs.Args(), *elfPath, runtime.NumCPU())
	if err != nil {
		return err
	}
	t1 := time.Now()
	combined, err := finalize.CombineOwned(shards, img, fopts)
	if err != nil {
		return err
	}
	t2 := time.Now()
	if *out != "" {
		raw, err := combined.Spec().Marshal(btf.MarshalOptions{ByteOrder: order})
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, raw, 0o644); err != nil {
			return err
		}
	}
	if !*timed && *check == "" {
		return nil
	}
	t3, c3 := time.Now(), cpu()
	merged, _, err := dedup.DedupTable(combined, dopts)
	if err != nil {
		return err
	}
	t4, c4 := time.Now(), cpu()
	if *timed {
		fmt.Printf("bench-metric read_s %.3f\n", t1.Sub(t0).Seconds())
		fmt.Printf("bench-metric combine_s %.3f\n", t2.Sub(t1).Seconds())
		fmt.Printf("bench-metric dedup_s %.3f\n", t4.Sub(t3).Seconds())
		fmt.Printf("bench-metric dedup_cpu_s %.3f\n", (c4 - c3).Seconds())
		fmt.Printf("types %d %d\n", combined.Len(), len(merged.Types))
	}
	if *check != "" {
		got, err := merged.Marshal(btf.MarshalOptions{ByteOrder: order})
		if err != nil {
			return err
		}
		want, err := os.ReadFile(*check)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("our dedup of the combined types (%d types) is not %s: the options of --compat %s no longer match btf merge's", len(merged.Types), *check, *compat)
		}
	}
	return nil
}

// cpu returns the user and system CPU time of the process so far.
func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
