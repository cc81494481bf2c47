//go:build !(goexperiment.simd && amd64)

package tensor

// simdVecImpls is empty without GOEXPERIMENT=simd on amd64: archsimd does not
// exist there, so the scalar kernels run.
func simdVecImpls() []*vecImpl { return nil }
