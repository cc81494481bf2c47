package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Every path gives the scalar kernels' bytes, for ordinary values and for
// ±0, ±Inf, NaNs of both signs and subnormals, at lengths that exercise
// the vector bodies and tails; and the scalar kernels follow the
// definition (x for x > 0, alpha·x otherwise; ReLU gives +0). Setting the
// gradient over garbage gives the bytes of adding it into zeros.
func TestVecLeakyReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00000), math.Float32frombits(0xffc00000), math.Float32frombits(1), math.Float32frombits(0x80000001)}
	for _, n := range append([]int{8, 9, 64}, vecLens...) {
		x, gy, gx0 := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], gy[i], gx0[i] = float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
			if i%5 == 0 {
				x[i] = special[(i/5)%len(special)]
			}
		}
		for _, alpha := range []float32{0, 0.2} {
			want, wantG := make([]float32, n), append([]float32(nil), gx0...)
			leakyScalar(want, x, alpha)
			leakyGradScalar(wantG, gy, x, alpha, false)
			wantSet := make([]float32, n)
			leakyGradScalar(wantSet, gy, x, alpha, false)
			for i, v := range x {
				if v > 0 && want[i] != v || v < 0 && want[i] != alpha*v && alpha != 0 || alpha == 0 && !(v > 0) && !math.IsNaN(float64(v)) && math.Float32bits(want[i]) != 0 {
					t.Fatalf("scalar alpha %g: f(%g) = %g", alpha, v, want[i])
				}
				slope := alpha
				if v > 0 {
					slope = 1
				}
				if !math.IsNaN(float64(v)) && wantG[i] != gx0[i]+gy[i]*slope {
					t.Fatalf("scalar alpha %g: gradient at %g is %g, want %g", alpha, v, wantG[i]-gx0[i], gy[i]*slope)
				}
			}
			for _, v := range vecImpls {
				got, gotG := make([]float32, n), append([]float32(nil), gx0...)
				v.leaky(got, x, alpha)
				v.leakyGrad(gotG, gy, x, alpha, false)
				gotSet := make([]float32, n)
				for i := range gotSet {
					gotSet[i] = float32(math.NaN())
				}
				v.leakyGrad(gotSet, gy, x, alpha, true)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(gotG[i]) != math.Float32bits(wantG[i]) {
						t.Fatalf("%s alpha %g n=%d [%d] x=%g: %g, gradient %g; scalar %g, %g", v.name, alpha, n, i, x[i], got[i], gotG[i], want[i], wantG[i])
					}
					if math.Float32bits(gotSet[i]) != math.Float32bits(wantSet[i]) {
						t.Fatalf("%s alpha %g n=%d [%d] x=%g gy=%g: gradient set %g, added into zeros %g", v.name, alpha, n, i, x[i], gy[i], gotSet[i], wantSet[i])
					}
				}
			}
		}
	}
}
