package tensor

import (
	"runtime"
	"sync"
)

// minParallelWork is the number of scalar operations below which splitting a
// loop over goroutines costs more than it saves.
const minParallelWork = 1 << 15

// Parallel calls fn over [0,n) split into contiguous chunks, one per available
// core. work is a rough count of scalar operations for the whole loop; small
// loops run inline.
func Parallel(n, work int, fn func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if p > n {
		p = n
	}
	if p <= 1 || work < minParallelWork {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < p; i++ {
		lo, hi := i*n/p, (i+1)*n/p
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
