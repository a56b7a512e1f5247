package hugepage

import (
	"runtime"
	"testing"
)

// Make gives a slice like make, advised or not: small, large, of any element
// size, and empty.
func TestMake(t *testing.T) {
	for _, c := range []struct{ n, c int }{{0, 0}, {1, 10}, {100, 100}, {1 << 20, 3 << 20}, {0, 5 << 20}} {
		b := Make[byte](c.n, c.c)
		u := Make[uint64](c.n, c.c)
		if len(b) != c.n || cap(b) != c.c || len(u) != c.n || cap(u) != c.c {
			t.Fatalf("Make(%d, %d): len %d cap %d, len %d cap %d", c.n, c.c, len(b), cap(b), len(u), cap(u))
		}
		b = b[:cap(b)]
		for i := range b {
			if b[i] != 0 {
				t.Fatalf("Make(%d, %d): byte %d is %d, not zero", c.n, c.c, i, b[i])
			}
			b[i] = byte(i)
		}
		for i := range u {
			u[i] = uint64(i)
		}
		for i := range b {
			if b[i] != byte(i) {
				t.Fatalf("Make(%d, %d): byte %d changed", c.n, c.c, i)
			}
		}
	}
	Advise([]int(nil))
	Advise(make([]struct{}, 10))
}

func TestMakeNoZero(t *testing.T) {
	for _, c := range []struct{ n, c int }{{0, 0}, {3, 10}, {1 << 20, 3 << 20}, {0, 5 << 20}, {5 << 20, 5 << 20}} {
		b := MakeNoZero[byte](c.n, c.c)
		u := MakeNoZero[uint32](c.n, c.c)
		if len(b) != c.n || cap(b) != c.c || len(u) != c.n || cap(u) != c.c {
			t.Fatalf("MakeNoZero(%d, %d): len %d cap %d, len %d cap %d", c.n, c.c, len(b), cap(b), len(u), cap(u))
		}
		// The two arrays are distinct and hold what is written to them, up to
		// their capacity, also after a collection.
		b, u = b[:cap(b)], u[:cap(u)]
		for i := range b {
			b[i] = byte(i * 7)
		}
		for i := range u {
			u[i] = uint32(i) * 3
		}
		runtime.GC()
		for i := range b {
			if b[i] != byte(i*7) {
				t.Fatalf("MakeNoZero(%d, %d): byte %d is %d", c.n, c.c, i, b[i])
			}
		}
		for i := range u {
			if u[i] != uint32(i)*3 {
				t.Fatalf("MakeNoZero(%d, %d): element %d is %d", c.n, c.c, i, u[i])
			}
		}
	}
}

func TestGrowHeap(t *testing.T) {
	// Growing is idempotent and bounded, and leaves the heap usable.
	GrowHeap(MinGrow - 1)
	GrowHeap(MinGrow)
	GrowHeap(MinGrow / 2)
	grown.Lock()
	n := grown.n
	grown.Unlock()
	if hugePages() && n != MinGrow {
		t.Errorf("grown to %d bytes, want %d", n, MinGrow)
	}
	if !hugePages() && n != 0 {
		t.Errorf("grown to %d bytes without huge pages", n)
	}
	b := Make[byte](MinGrow/2, MinGrow/2)
	for i := range b {
		if b[i] != 0 {
			t.Fatalf("byte %d of a fresh slice is %d", i, b[i])
		}
	}
}
