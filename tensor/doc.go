// Package tensor holds dense float32 tensors and the matrix-product kernels
// that every layer of facereward is built on.
//
// Tensors are contiguous and row-major; images are NHWC so that a 1×1
// convolution is a plain matrix product over the channel axis.
//
// The kernels are where facereward's builds differ, and all of their build
// tags live in this package. The matrix product (Gemm) runs simd/archsimd
// code in the fast build (GOEXPERIMENT=simd; AVX-512, else AVX2+FMA, chosen
// at start-up), an SSE2 assembly kernel in the plain build on amd64 (portable
// Go elsewhere), and OpenBLAS's cblas_sgemm in the openblas build (-tags
// openblas, cgo); the elementwise kernels are vectorised in the fast build
// and portable Go otherwise. GemmBackend names the kernel in use;
// FACEREWARD_GEMM picks another, for tests and comparisons. Parallel and
// ParallelTasks spread work over the cores with long-lived helper
// goroutines.
package tensor
