package parallel

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

// Each runs the calls up to the first failure at least, never more than jobs at
// once, and reports the error of the lowest index whatever the order of failures.
func TestEach(t *testing.T) {
	for _, jobs := range []int{0, 1, 2, 5} {
		const n = 40
		var running, peak atomic.Int32
		done := make([]bool, n)
		err := Each(n, jobs, func(i int) error {
			r := running.Add(1)
			defer running.Add(-1)
			for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
			}
			done[i] = true
			if i == 7 || i == 31 {
				return fmt.Errorf("piece %d", i)
			}
			return nil
		})
		if err == nil || err.Error() != "piece 7" {
			t.Errorf("jobs %d: error %v, want piece 7", jobs, err)
		}
		for i, d := range done[:8] {
			if !d {
				t.Errorf("jobs %d: piece %d did not run", jobs, i)
			}
		}
		if jobs > 0 && int(peak.Load()) > jobs {
			t.Errorf("jobs %d: %d ran at once", jobs, peak.Load())
		}
	}
	if err := Each(0, 2, func(int) error { return errors.New("called") }); err != nil {
		t.Errorf("no pieces: %v", err)
	}
}
