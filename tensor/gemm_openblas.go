//go:build openblas && cgo

package tensor

import "facereward/tensor/internal/cblas"

// With -tags openblas, Gemm hands products to OpenBLAS, the reference the
// Go kernels are measured against; FACEREWARD_GEMM can still pick a Go
// kernel. OpenBLAS runs single-threaded and the engine's own helpers split
// large products over the cores (cblasParallel): the engine already runs
// convolution chunks and attention heads in parallel, and OpenBLAS's own
// threads, busy-waiting between calls, fought those for the two cores
// (net A trained 4× slower than PyTorch that way).
var cblasGemm = func() func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	cblas.SetThreads(1)
	return cblas.Sgemm
}()
