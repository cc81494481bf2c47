//go:build openblas && cgo

package tensor

import (
	"runtime"

	"facereward/tensor/internal/cblas"
)

// With -tags openblas, Gemm hands products to OpenBLAS, the reference the
// Go kernels are measured against; FACEREWARD_GEMM can still pick a Go
// kernel. OpenBLAS gets GOMAXPROCS threads at start-up, so that
// GOMAXPROCS=1 compares like with like.
var cblasGemm = func() func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	cblas.SetThreads(runtime.GOMAXPROCS(0))
	return cblas.Sgemm
}()
