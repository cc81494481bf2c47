package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Work is split into tasks that the calling goroutine and long-lived helper
// goroutines take from a shared counter. Two facts, measured on the 2-vCPU
// VM this was tuned on, shaped it:
//
//   - Waking a parked goroutine on the idle vCPU takes about 70 µs, as long
//     as a whole 256×128×256 product on one core; with a fresh goroutine per
//     call, that product gained nothing from the second core. Helpers
//     therefore spin (yielding) for a while after each job before parking,
//     so that the back-to-back operations of a training step find them awake.
//   - Helpers may start late or not at all (the other core may be busy), so
//     work is not split statically: the caller keeps taking tasks and only
//     waits for those a helper has already begun.
//
// Calls may nest (a task may itself call Parallel): the inner job takes the
// helpers' attention until it is done, then hands it back to the outer one.

// helperSpin is how long an idle helper keeps polling for the next job.
const helperSpin = 200 * time.Microsecond

// minParallelWork is the number of scalar operations below which splitting a
// loop costs more than it saves.
const minParallelWork = 1 << 15

// parJob is one call's tasks. A helper holds a reference (refs) while it may
// run tasks, and checks that the job is still published after taking the
// reference, so the caller can tell when no helper will touch it again.
type parJob struct {
	fn          func(task int)
	tasks       int32
	next, refs  atomic.Int32
	prev        *parJob
	unpublished atomic.Bool
}

var helpers struct {
	mu      sync.Mutex
	started atomic.Int32
	cur     atomic.Pointer[parJob]
	parked  atomic.Int32
	wake    chan struct{}
}

func init() { helpers.wake = make(chan struct{}, 64) }

// Parallel calls fn over [0,n) split into contiguous chunks spread over the
// cores. work is a rough count of scalar operations for the whole loop;
// small loops run inline on the caller.
func Parallel(n, work int, fn func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if p <= 1 || n <= 1 || work < minParallelWork {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	// A few chunks per core let the caller absorb a helper that starts late.
	tasks := min(n, 4*p)
	ParallelTasks(tasks, func(t int) { fn(t*n/tasks, (t+1)*n/tasks) })
}

// ParallelTasks runs fn(t) for every t in [0, tasks) on the calling
// goroutine and the helpers, and returns when all have finished.
func ParallelTasks(tasks int, fn func(task int)) {
	p := runtime.GOMAXPROCS(0)
	if p <= 1 || tasks <= 1 {
		for t := range tasks {
			fn(t)
		}
		return
	}
	j := &parJob{fn: fn, tasks: int32(tasks)}
	startHelpers(p - 1)
	j.prev = helpers.cur.Swap(j)
	if helpers.parked.Load() > 0 {
		for range p - 1 {
			select {
			case helpers.wake <- struct{}{}:
			default:
			}
		}
	}
	j.run()
	// Hand the helpers back to the job this one interrupted, if any. With
	// concurrent (not nested) callers that job may have finished since:
	// skip finished ones, or cur would keep a dead job, and through its
	// closure its buffers, reachable (and the next job would chain onto
	// it). A job that finishes between the check and the swap is dropped
	// at the next call's hand-back, so at most one dead job is held.
	prev := j.prev
	for prev != nil && prev.unpublished.Load() {
		prev = prev.prev
	}
	helpers.cur.CompareAndSwap(j, prev)
	j.unpublished.Store(true)
	for j.refs.Load() != 0 {
		runtime.Gosched()
	}
}

// run takes tasks until none are left.
func (j *parJob) run() {
	for {
		t := j.next.Add(1) - 1
		if t >= j.tasks {
			return
		}
		j.fn(int(t))
	}
}

// pending reports whether the published job has unclaimed tasks.
func pending() bool {
	j := helpers.cur.Load()
	return j != nil && j.next.Load() < j.tasks
}

// startHelpers makes sure at least n helpers exist; GOMAXPROCS may grow.
func startHelpers(n int) {
	if int(helpers.started.Load()) >= n {
		return
	}
	helpers.mu.Lock()
	for int(helpers.started.Load()) < n {
		helpers.started.Add(1)
		go helper()
	}
	helpers.mu.Unlock()
}

func helper() {
	for {
		if j := helpers.cur.Load(); j != nil && pending() {
			j.refs.Add(1)
			if !j.unpublished.Load() {
				j.run()
			}
			j.refs.Add(-1)
			continue
		}
		idle := time.Now()
		for !pending() && time.Since(idle) < helperSpin {
			runtime.Gosched()
		}
		if pending() {
			continue
		}
		// Announce parking before the last look, so that a job published
		// in between is either seen here or sees parked > 0 and wakes us.
		helpers.parked.Add(1)
		if !pending() {
			<-helpers.wake
		}
		helpers.parked.Add(-1)
	}
}
