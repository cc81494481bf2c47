package nn

import (
	"sync"

	"facereward/tensor"
)

// maxPartials bounds how many partial sums a parallel reduction keeps:
// enough groups to balance the cores, few enough that zeroing and merging
// the parts stays small next to the work.
const maxPartials = 16

// orderedPartials computes a sum over [0, n) in parallel and
// deterministically: the range is cut into groups that depend on n alone
// (never on the core count or on scheduling), fn adds group [lo, hi)'s
// contribution into its own zeroed part of width values, and merge then
// takes the parts in group order. Floating-point addition is not
// associative, so merging in completion order, as a lock would, changes
// the last bits from run to run, and a resumed training run must give the
// same bytes as an uninterrupted one.
func orderedPartials[T float32 | float64](n, width, work int, fn func(lo, hi int, part []T), merge func(part []T)) {
	if n <= 0 {
		return
	}
	groups := min(n, maxPartials)
	if work < 1<<15 {
		groups = 1
	}
	// One allocation for all parts, reused across calls: fresh large
	// allocations on every backward pass cost more than the reduction.
	all := partsPool[T](groups * width)
	tensor.ParallelTasks(groups, func(gi int) {
		part := all[gi*width : (gi+1)*width]
		clear(part) // by the task, so that the cores share the zeroing
		fn(gi*n/groups, (gi+1)*n/groups, part)
	})
	for gi := range groups {
		merge(all[gi*width : (gi+1)*width])
	}
	putParts(all)
}

var (
	pool32 sync.Pool
	pool64 sync.Pool
)

func partsPool[T float32 | float64](n int) []T {
	var p *sync.Pool
	switch any(*new(T)).(type) {
	case float32:
		p = &pool32
	default:
		p = &pool64
	}
	if v, ok := p.Get().(*[]T); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]T, n)
}

func putParts[T float32 | float64](s []T) {
	switch any(*new(T)).(type) {
	case float32:
		pool32.Put(&s)
	default:
		pool64.Put(&s)
	}
}
