//go:build goexperiment.simd && amd64

package tensor

import "simd/archsimd"

// 8-lane versions of the Winograd tile transforms, for both vector paths:
// a tile of 8-lane vectors fits AVX2's registers, and 16 lanes would leave
// most of the UNet's 48-channel vectors to the tail. The sums are written
// out one by one so that the tile stays in registers; the tiles come by
// value, as pointers through the function table would escape to the heap.

func winogradIn256(o, d [16][]float32) {
	n := len(o[0])
	k := 0
	for ; k+8 <= n; k += 8 {
		a0, b0, x0, y0 := archsimd.LoadFloat32x8(vp8(vecBase(d[0]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[4]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[8]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[12]), k))
		a1, b1, x1, y1 := archsimd.LoadFloat32x8(vp8(vecBase(d[1]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[5]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[9]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[13]), k))
		a2, b2, x2, y2 := archsimd.LoadFloat32x8(vp8(vecBase(d[2]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[6]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[10]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[14]), k))
		a3, b3, x3, y3 := archsimd.LoadFloat32x8(vp8(vecBase(d[3]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[7]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[11]), k)), archsimd.LoadFloat32x8(vp8(vecBase(d[15]), k))
		t00, t10, t20, t30 := a0.Sub(x0), b0.Add(x0), x0.Sub(b0), b0.Sub(y0)
		t01, t11, t21, t31 := a1.Sub(x1), b1.Add(x1), x1.Sub(b1), b1.Sub(y1)
		t02, t12, t22, t32 := a2.Sub(x2), b2.Add(x2), x2.Sub(b2), b2.Sub(y2)
		t03, t13, t23, t33 := a3.Sub(x3), b3.Add(x3), x3.Sub(b3), b3.Sub(y3)
		t00.Sub(t02).Store(vp8(vecBase(o[0]), k))
		t01.Add(t02).Store(vp8(vecBase(o[1]), k))
		t02.Sub(t01).Store(vp8(vecBase(o[2]), k))
		t01.Sub(t03).Store(vp8(vecBase(o[3]), k))
		t10.Sub(t12).Store(vp8(vecBase(o[4]), k))
		t11.Add(t12).Store(vp8(vecBase(o[5]), k))
		t12.Sub(t11).Store(vp8(vecBase(o[6]), k))
		t11.Sub(t13).Store(vp8(vecBase(o[7]), k))
		t20.Sub(t22).Store(vp8(vecBase(o[8]), k))
		t21.Add(t22).Store(vp8(vecBase(o[9]), k))
		t22.Sub(t21).Store(vp8(vecBase(o[10]), k))
		t21.Sub(t23).Store(vp8(vecBase(o[11]), k))
		t30.Sub(t32).Store(vp8(vecBase(o[12]), k))
		t31.Add(t32).Store(vp8(vecBase(o[13]), k))
		t32.Sub(t31).Store(vp8(vecBase(o[14]), k))
		t31.Sub(t33).Store(vp8(vecBase(o[15]), k))
	}
	archsimd.ClearAVXUpperBits()
	winogradInFrom(&o, &d, k)
}

func winogradOut256(y [4][]float32, m [16][]float32, bias []float32, accumulate bool) {
	n := len(y[0])
	k := 0
	for ; k+8 <= n; k += 8 {
		m00, m10, m20, m30 := archsimd.LoadFloat32x8(vp8(vecBase(m[0]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[4]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[8]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[12]), k))
		m01, m11, m21, m31 := archsimd.LoadFloat32x8(vp8(vecBase(m[1]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[5]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[9]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[13]), k))
		m02, m12, m22, m32 := archsimd.LoadFloat32x8(vp8(vecBase(m[2]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[6]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[10]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[14]), k))
		m03, m13, m23, m33 := archsimd.LoadFloat32x8(vp8(vecBase(m[3]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[7]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[11]), k)), archsimd.LoadFloat32x8(vp8(vecBase(m[15]), k))
		e00, e10 := m00.Add(m10).Add(m20), m10.Sub(m20).Sub(m30)
		e01, e11 := m01.Add(m11).Add(m21), m11.Sub(m21).Sub(m31)
		e02, e12 := m02.Add(m12).Add(m22), m12.Sub(m22).Sub(m32)
		e03, e13 := m03.Add(m13).Add(m23), m13.Sub(m23).Sub(m33)
		if bias != nil {
			bv := archsimd.LoadFloat32x8(vp8(vecBase(bias), k))
			e01, e11 = e01.Add(bv), e11.Add(bv)
		}
		s00, s01 := e00.Add(e01).Add(e02), e01.Sub(e02).Sub(e03)
		s10, s11 := e10.Add(e11).Add(e12), e11.Sub(e12).Sub(e13)
		p00, p01 := vp8(vecBase(y[0]), k), vp8(vecBase(y[1]), k)
		p10, p11 := vp8(vecBase(y[2]), k), vp8(vecBase(y[3]), k)
		if accumulate {
			s00, s01 = archsimd.LoadFloat32x8(p00).Add(s00), archsimd.LoadFloat32x8(p01).Add(s01)
			s10, s11 = archsimd.LoadFloat32x8(p10).Add(s10), archsimd.LoadFloat32x8(p11).Add(s11)
		}
		s00.Store(p00)
		s01.Store(p01)
		s10.Store(p10)
		s11.Store(p11)
	}
	archsimd.ClearAVXUpperBits()
	winogradOutFrom(&y, &m, bias, accumulate, k)
}
