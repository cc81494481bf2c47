package tensor

import "runtime"

// A large product is cut into bands of C, run as tasks over the cores by
// ParallelTasks (parallel.go explains the helper goroutines behind it).

// parGemm is one product being computed by several goroutines.
type parGemm struct {
	kr             *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	splitM         bool
	unit           int // rows (splitM) or columns of C per task
}

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

	j := &parGemm{kr: kr, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, splitM: splitM, unit: unit}
	ParallelTasks((size+unit-1)/unit, func(t int) {
		w := getGemmWork()
		j.task(t, w)
		gemmPool.Put(w)
	})
}

// task computes band t of C.
func (j *parGemm) task(t int, w *gemmWork) {
	lo := t * j.unit
	if j.splitM {
		hi := min(lo+j.unit, j.m)
		var as []float32 // the band's first row of op(A)
		if j.transA {
			as = j.a[lo:]
		} else {
			as = j.a[lo*j.lda:]
		}
		gemmBlocked(j.kr, w, j.transA, j.transB, hi-lo, j.n, j.k, j.alpha, as, j.lda, j.b, j.ldb, j.beta, j.c[lo*j.ldc:], j.ldc)
		return
	}
	hi := min(lo+j.unit, j.n)
	var bs []float32 // the band's first column of op(B)
	if j.transB {
		bs = j.b[lo*j.ldb:]
	} else {
		bs = j.b[lo:]
	}
	gemmBlocked(j.kr, w, j.transA, j.transB, j.m, hi-lo, j.k, j.alpha, j.a, j.lda, bs, j.ldb, j.beta, j.c[lo:], j.ldc)
}

// cblasParallel splits a product for single-threaded OpenBLAS into bands of
// C, along M when it is tall enough, else along N.
func cblasParallel(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := runtime.GOMAXPROCS(0)
	splitM := m >= 64*p || m >= n
	size := n
	if splitM {
		size = m
	}
	tasks := max(1, min(p, size/16))
	ParallelTasks(tasks, func(t int) {
		lo, hi := t*size/tasks, (t+1)*size/tasks
		if splitM {
			var as []float32
			if transA {
				as = a[lo:]
			} else {
				as = a[lo*lda:]
			}
			cblasGemm(transA, transB, hi-lo, n, k, alpha, as, lda, b, ldb, beta, c[lo*ldc:], ldc)
			return
		}
		var bs []float32
		if transB {
			bs = b[lo*ldb:]
		} else {
			bs = b[lo:]
		}
		cblasGemm(transA, transB, m, hi-lo, k, alpha, a, lda, bs, ldb, beta, c[lo:], ldc)
	})
}
