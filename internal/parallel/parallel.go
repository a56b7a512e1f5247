// Package parallel runs independent pieces of work on a bounded number of
// goroutines, and reports their errors by position: which error a caller sees
// does not depend on which goroutine failed first.
package parallel

import (
	"runtime"

	"golang.org/x/sync/errgroup"
)

// Each calls fn(i) for every i in [0, n), at most jobs at a time (jobs <= 0:
// runtime.GOMAXPROCS), and returns the error of the lowest i that failed; once
// one has failed, calls for higher i may be skipped. Each call must write only
// what its i owns.
func Each(n, jobs int, fn func(i int) error) error {
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	if n == 1 || jobs == 1 {
		for i := range n {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	var g errgroup.Group
	g.SetLimit(jobs)
	for i := range n {
		g.Go(func() error {
			errs[i] = fn(i)
			return nil
		})
	}
	g.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
