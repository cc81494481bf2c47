//go:build goexperiment.simd && amd64

package tensor

import (
	"math"

	"simd/archsimd"
)

// 8-lane LeakyReLU kernels, for both vector paths: the same bit
// operations as the scalar ones, lane by lane, so the same bytes.

func leaky256(dst, src []float32, alpha float32) {
	n := len(dst)
	d, s := vecBase(dst), vecBase(src)
	one := archsimd.BroadcastInt32x8(int32(one32))
	av := archsimd.BroadcastInt32x8(int32(math.Float32bits(alpha)))
	i := 0
	for ; i+8 <= n; i += 8 {
		x := archsimd.LoadFloat32x8(vp8(s, i))
		b := x.AsInt32x8()
		neg := b.ShiftAllRight(31)
		if alpha == 0 {
			b.AndNot(neg).AsFloat32x8().Store(vp8(d, i))
		} else {
			x.Mul(one.AndNot(neg).Or(av.And(neg)).AsFloat32x8()).Store(vp8(d, i))
		}
	}
	archsimd.ClearAVXUpperBits()
	leakyScalar(dst[i:], src[i:], alpha)
}

func leakyGrad256(gx, gy, x []float32, alpha float32, set bool) {
	n := len(gx)
	pg, py, px := vecBase(gx), vecBase(gy), vecBase(x)
	one := archsimd.BroadcastInt32x8(int32(one32))
	av := archsimd.BroadcastInt32x8(int32(math.Float32bits(alpha)))
	unit := archsimd.BroadcastInt32x8(1)
	i := 0
	for ; i+8 <= n; i += 8 {
		b := archsimd.LoadFloat32x8(vp8(px, i)).AsInt32x8()
		notPos := b.ShiftAllRight(31).Or(b.Sub(unit).ShiftAllRight(31))
		slope := one.AndNot(notPos).Or(av.And(notPos)).AsFloat32x8()
		var g archsimd.Float32x8 // zeros with set
		if !set {
			g = archsimd.LoadFloat32x8(vp8(pg, i))
		}
		g.Add(archsimd.LoadFloat32x8(vp8(py, i)).Mul(slope)).Store(vp8(pg, i))
	}
	archsimd.ClearAVXUpperBits()
	leakyGradScalar(gx[i:], gy[i:], x[i:], alpha, set)
}
