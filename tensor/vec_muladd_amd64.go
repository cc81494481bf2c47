//go:build goexperiment.simd && amd64

package tensor

import "simd/archsimd"

// mulAdd256 is dst = a·b + c, the per-channel affine maps of normalisation
// layers; memory-bound, so 8 lanes serve AVX-512 too.
func mulAdd256(dst, a, b, c []float32) {
	n := len(dst)
	d, pa, pb, pc := vecBase(dst), vecBase(a), vecBase(b), vecBase(c)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat32x8(vp8(pa, i)).MulAdd(archsimd.LoadFloat32x8(vp8(pb, i)), archsimd.LoadFloat32x8(vp8(pc, i))).Store(vp8(d, i))
	}
	if i < n {
		vecStoreTail8(vecLoadTail8(a[i:]).MulAdd(vecLoadTail8(b[i:]), vecLoadTail8(c[i:])), dst[i:])
	}
	archsimd.ClearAVXUpperBits()
}
