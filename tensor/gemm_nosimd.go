//go:build !(goexperiment.simd && amd64)

package tensor

// simdKernels is empty without GOEXPERIMENT=simd on amd64: archsimd does not
// exist there.
func simdKernels() []*gemmKernel { return nil }
