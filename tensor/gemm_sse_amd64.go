package tensor

import "unsafe"

// sseKernel is the vector kernel of the plain amd64 build (no GOEXPERIMENT):
// Go assembly using SSE2 only, which every amd64 CPU has, so it needs no
// feature check. Pure Go peaks near 5 GFLOP/s per core here because the
// compiler spills the register tile; this reaches 8–10× that.
//
// A is packed with every value repeated 4 times (aRep): the kernel then
// loads a ready broadcast instead of spending a shuffle, which would compete
// with MULPS and ADDPS for the same pipes. That makes the packed A block 4×
// larger, hence the small mc.
var sseKernel = &gemmKernel{
	name: "sse", mr: 6, nr: 8, kc: 256, kcT: 256, mc: 96, nc: 1024, aRep: 4, direct: false,
	tile: tileSSE, packRows: packRowsSSE, packCols: packColsSSE,
}

func sseKernels() []*gemmKernel { return []*gemmKernel{sseKernel} }

// tileSSE only ever gets packed panels (direct is false), so the A strides
// are fixed and ignored.
func tileSSE(kc int, a unsafe.Pointer, rsA, csA int, b, c unsafe.Pointer, ldc int, ab *[2]float32) {
	sseTile6x8(kc, a, b, c, ldc, ab)
}

//go:noescape
func sseTile6x8(kc int, a, b, c unsafe.Pointer, ldc int, ab *[2]float32)

func packRowsSSE(kc int, a []float32, lda int, pan []float32) {
	_ = a[5*lda+kc-1]
	_ = pan[24*kc-1]
	ssePackA6(kc, unsafe.Pointer(&a[0]), lda, unsafe.Pointer(&pan[0]))
}

func packColsSSE(kc int, a []float32, lda int, pan []float32) {
	_ = a[(kc-1)*lda+5]
	_ = pan[24*kc-1]
	ssePackAT6(kc, unsafe.Pointer(&a[0]), lda, unsafe.Pointer(&pan[0]))
}

// ssePackA6 packs 6 rows of kc values of A (row stride lda) as 4 copies of
// each, the layout sseTile6x8 reads.
//
//go:noescape
func ssePackA6(kc int, a unsafe.Pointer, lda int, dst unsafe.Pointer)

// ssePackAT6 is ssePackA6 for Aᵀ: 6 adjacent values from each of kc rows.
//
//go:noescape
func ssePackAT6(kc int, a unsafe.Pointer, lda int, dst unsafe.Pointer)
