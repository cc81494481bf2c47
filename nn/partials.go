package nn

import "facereward/tensor"

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
	parts := make([][]T, groups)
	tensor.ParallelTasks(groups, func(gi int) {
		parts[gi] = make([]T, width)
		fn(gi*n/groups, (gi+1)*n/groups, parts[gi])
	})
	for _, p := range parts {
		merge(p)
	}
}
