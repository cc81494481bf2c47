package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// A large product is cut into bands of C (tasks) that the calling goroutine
// and long-lived helper goroutines take from a shared counter. Two facts,
// measured on the 2-vCPU VM this was tuned on, shaped it:
//
//   - Waking a parked goroutine on the idle vCPU takes about 70 µs, as long
//     as a whole 256×128×256 product on one core; with a fresh goroutine per
//     call that product gained nothing from the second core. Helpers
//     therefore spin (yielding) for a while after each job before parking,
//     so that the back-to-back products of a training step find them awake.
//   - Helpers may start late or not at all (the other core may be busy), so
//     work is not split statically: the caller keeps taking tasks and only
//     waits for those a helper has already begun.

// helperSpin is how long an idle helper keeps polling for the next job.
const helperSpin = 200 * time.Microsecond

// parJob is one product being computed by several goroutines. Jobs are
// pooled; a helper holds a reference (refs) while it may touch one, and
// checks that the job is still published after taking it, so a recycled job
// is never read half-written.
type parJob struct {
	kr             *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	splitM         bool
	unit           int // rows (splitM) or columns of C per task
	tasks, next    atomic.Int32
	refs           atomic.Int32
}

var (
	parPool = sync.Pool{New: func() any { return new(parJob) }}
	helpers struct {
		mu      sync.Mutex
		started atomic.Int32
		cur     atomic.Pointer[parJob]
		parked  atomic.Int32
		wake    chan struct{}
	}
)

func init() { helpers.wake = make(chan struct{}, 64) }

// gemmParallel splits C along N when the kernel reads A in place and the
// panels divide evenly or are many (nothing is then packed twice), else
// along M, where each task packs all of op(B): a small cost next to a band
// of a tall product.
func gemmParallel(kr *gemmKernel, p, tilesM, tilesN int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	splitM := !(kr.direct && tilesN%p == 0 || tilesN >= 4*p && tilesN >= tilesM)
	tiles, tile, size := tilesN, kr.nr, n
	if splitM {
		tiles, tile, size = tilesM, kr.mr, m
	}
	// More tasks than goroutines absorb a helper that starts late, but each
	// band of M repacks all of op(B): bands below ~512 rows would spend more
	// than 5% of their time on that (576×32768×64 with Aᵀ: 8 bands ran at
	// 225 GFLOP/s, 2 at 320).
	tasks := 4 * p
	if splitM {
		tasks = max(p, min(tasks, m/512))
	}
	tasks = min(tasks, tiles)
	unit := (tiles + tasks - 1) / tasks * tile

	j := parPool.Get().(*parJob)
	j.kr, j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.beta = kr, transA, transB, m, n, k, alpha, beta
	j.a, j.b, j.c, j.lda, j.ldb, j.ldc = a, b, c, lda, ldb, ldc
	j.splitM, j.unit = splitM, unit
	j.next.Store(0)
	j.tasks.Store(int32((size + unit - 1) / unit))

	startHelpers(p - 1)
	helpers.cur.Store(j)
	if helpers.parked.Load() > 0 {
		for range p - 1 {
			select {
			case helpers.wake <- struct{}{}:
			default:
			}
		}
	}
	w := getGemmWork()
	j.run(w)
	gemmPool.Put(w)
	helpers.cur.CompareAndSwap(j, nil)
	for j.refs.Load() != 0 {
		runtime.Gosched()
	}
	j.a, j.b, j.c = nil, nil, nil
	parPool.Put(j)
}

// run takes tasks until none are left.
func (j *parJob) run(w *gemmWork) {
	for {
		t := int(j.next.Add(1) - 1)
		if t >= int(j.tasks.Load()) {
			return
		}
		lo := t * j.unit
		if j.splitM {
			hi := min(lo+j.unit, j.m)
			var as []float32
			if j.transA {
				as = j.a[lo:]
			} else {
				as = j.a[lo*j.lda:]
			}
			gemmBlocked(j.kr, w, j.transA, j.transB, hi-lo, j.n, j.k, j.alpha, as, j.lda, j.b, j.ldb, j.beta, j.c[lo*j.ldc:], j.ldc)
		} else {
			hi := min(lo+j.unit, j.n)
			var bs []float32
			if j.transB {
				bs = j.b[lo*j.ldb:]
			} else {
				bs = j.b[lo:]
			}
			gemmBlocked(j.kr, w, j.transA, j.transB, j.m, hi-lo, j.k, j.alpha, j.a, j.lda, bs, j.ldb, j.beta, j.c[lo:], j.ldc)
		}
	}
}

// pending reports whether the published job has unclaimed tasks; it reads
// only atomics, so it is safe on a job being recycled.
func pending() bool {
	j := helpers.cur.Load()
	return j != nil && j.next.Load() < j.tasks.Load()
}

// startHelpers makes sure at least n helpers exist; GOMAXPROCS may grow.
func startHelpers(n int) {
	if int(helpers.started.Load()) >= n {
		return
	}
	helpers.mu.Lock()
	for int(helpers.started.Load()) < n {
		helpers.started.Add(1)
		go gemmHelper()
	}
	helpers.mu.Unlock()
}

func gemmHelper() {
	w := new(gemmWork)
	for {
		if j := helpers.cur.Load(); j != nil && pending() {
			j.refs.Add(1)
			if helpers.cur.Load() == j {
				j.run(w)
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
