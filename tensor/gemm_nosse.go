//go:build !amd64

package tensor

// sseKernels is empty off amd64; the portable kernel takes over.
func sseKernels() []*gemmKernel { return nil }
