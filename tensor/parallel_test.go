package tensor

import (
	"runtime"
	"sync"
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

// Two callers on separate goroutines, the first finishing while the second
// still runs: when the second hands the helpers back, the first is done, so
// no job may stay published (a published dead job keeps its closure's
// buffers reachable; restore's server leaked hundreds of MB that way).
func TestParallelConcurrentCallersLeaveNoJob(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS ≥ 2 for the helpers to exist")
	}
	ParallelTasks(2, func(int) {}) // start from no published job
	if j := helpers.cur.Load(); j != nil {
		t.Fatalf("a lone call left job %p published", j)
	}
	for round := range 20 {
		bStarted, aDone := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // A: published first, finishes first
			defer wg.Done()
			defer close(aDone)
			ParallelTasks(2, func(task int) {
				if task == 0 {
					<-bStarted
				}
			})
		}()
		for helpers.cur.Load() == nil {
			runtime.Gosched()
		}
		ParallelTasks(2, func(task int) { // B: interrupts A, outlives it
			if task == 0 {
				close(bStarted)
				<-aDone
			}
		})
		wg.Wait()
		if j := helpers.cur.Load(); j != nil {
			t.Fatalf("round %d: a finished job is still published (unpublished=%v)", round, j.unpublished.Load())
		}
	}
}
