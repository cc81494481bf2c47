package tensor

import "unsafe"

// scalarKernel is portable Go, the fallback where no vector kernel exists.
// A 4×4 tile keeps 16 accumulators, which fits the 32 FP registers of arm64.
// On amd64 the compiler spills part of any such tile and tops out near
// 5 GFLOP/s per core (2×4, 4×2, 3×4 and 2×8 tiles measured within 20% of
// each other), which is why amd64 has the SSE kernel.
var scalarKernel = &gemmKernel{
	name: "scalar", mr: 4, nr: 4, kc: 256, kcT: 256, mc: 128, nc: 1024, aRep: 1, direct: false,
	tile: tileScalar,
}

func tileScalar(kc int, a unsafe.Pointer, rsA, csA int, b, c unsafe.Pointer, ldc int, ab *[2]float32) {
	as := unsafe.Slice((*float32)(a), kc*4)
	bs := unsafe.Slice((*float32)(b), kc*4)
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	for len(as) >= 4 && len(bs) >= 4 {
		b0, b1, b2, b3 := bs[0], bs[1], bs[2], bs[3]
		a0 := as[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := as[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := as[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := as[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		as, bs = as[4:], bs[4:]
	}
	alpha, beta := ab[0], ab[1]
	cs := unsafe.Slice((*float32)(c), 3*ldc+4)
	storeRow4(cs[0:4], c00, c01, c02, c03, alpha, beta)
	storeRow4(cs[ldc:ldc+4], c10, c11, c12, c13, alpha, beta)
	storeRow4(cs[2*ldc:2*ldc+4], c20, c21, c22, c23, alpha, beta)
	storeRow4(cs[3*ldc:3*ldc+4], c30, c31, c32, c33, alpha, beta)
}

func storeRow4(r []float32, x0, x1, x2, x3, alpha, beta float32) {
	r = r[:4]
	if beta == 0 {
		r[0], r[1], r[2], r[3] = alpha*x0, alpha*x1, alpha*x2, alpha*x3
		return
	}
	r[0] = alpha*x0 + beta*r[0]
	r[1] = alpha*x1 + beta*r[1]
	r[2] = alpha*x2 + beta*r[2]
	r[3] = alpha*x3 + beta*r[3]
}
