//go:build !(openblas && cgo)

package tensor

// cblasGemm is set only when built with -tags openblas and cgo.
var cblasGemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
