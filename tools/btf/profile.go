package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// profileFlags let a user (or bench/) profile one run of a verb with pprof.
type profileFlags struct {
	cpu, mem string
}

func addProfileFlags(fs *flag.FlagSet) *profileFlags {
	p := &profileFlags{}
	fs.StringVar(&p.cpu, "cpuprofile", "", "write a pprof CPU profile to `file`")
	fs.StringVar(&p.mem, "memprofile", "", "write a pprof heap profile (allocations) to `file` at exit")
	return p
}

// start starts CPU profiling if asked; the returned function stops it and writes the
// heap profile.
func (p *profileFlags) start() (stop func(), err error) {
	var cpu *os.File
	if p.cpu != "" {
		if cpu, err = os.Create(p.cpu); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, err
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if p.mem != "" {
			f, err := os.Create(p.mem)
			if err != nil {
				fmt.Fprintf(os.Stderr, "btf: %v\n", err)
				return
			}
			defer f.Close()
			runtime.GC()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintf(os.Stderr, "btf: %v\n", err)
			}
		}
	}, nil
}
