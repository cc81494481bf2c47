package tensor

import (
	"sync/atomic"
	"testing"
)

// Every index is visited exactly once, for loops of every size, nested or
// not, one after another (helpers spinning) and after a pause (parked).
func TestParallelCoversEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 64, 1000, 100003} {
		hits := make([]atomic.Int32, n)
		Parallel(n, 1<<30, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, h)
			}
		}
	}
}

func TestParallelNested(t *testing.T) {
	const outer, inner = 16, 50
	var hits [outer * inner]atomic.Int32
	for range 20 {
		ParallelTasks(outer, func(o int) {
			Parallel(inner, 1<<30, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					hits[o*inner+i].Add(1)
				}
			})
		})
	}
	for i := range hits {
		if h := hits[i].Load(); h != 20 {
			t.Fatalf("index %d visited %d times, want 20", i, h)
		}
	}
}

func TestParallelSmallRunsInline(t *testing.T) {
	calls := 0 // not atomic: an inline call makes this safe, a race here is a failure
	Parallel(1000, 10, func(lo, hi int) {
		calls++
		if lo != 0 || hi != 1000 {
			t.Errorf("small loop split into [%d,%d)", lo, hi)
		}
	})
	if calls != 1 {
		t.Fatalf("small loop ran in %d pieces", calls)
	}
}
