package nn

import (
	"fmt"
	"math"

	"facereward/tensor"
)

// SpectralNorm returns w/σ, σ being the largest singular value of w viewed
// as a [numel/cout, cout] matrix M (cout the last dimension). For a conv
// weight [kh,kw,Cin,Cout] M is PyTorch's [cout, -1] view transposed with its
// columns permuted, so σ is the one torch's spectral_norm estimates.
//
// σ comes from iters power iterations (see SpectralSigma) started afresh on
// every call from a fixed vector. Unlike torch, which carries u from step to
// step, the op keeps no state, so a resumed run computes exactly what an
// uninterrupted one would; the price is that iters must be enough to
// converge from scratch. The singular vectors' error, which the gradient
// inherits, shrinks as (σ₂/σ₁)^(2·iters), and σ₂/σ₁ of a random conv
// weight is often above 0.9.
//
// As in torch the backward pass holds the singular vectors u (length
// numel/cout) and v (length cout) constant, so dσ/dM = u vᵀ and
// dM = (G − ⟨G, M/σ⟩·u vᵀ)/σ.
func (g *Graph) SpectralNorm(w *Var, iters int) *Var {
	sigma, u, v := SpectralSigma(w.Value, iters)
	out := g.newVar(w.Shape(), w)
	wd, od := w.Value.Data, out.Value.Data
	rows, cols := len(u), len(v)
	tensor.Parallel(len(od), len(od), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			od[i] = float32(float64(wd[i]) / sigma)
		}
	})
	g.record(out, func() {
		gw, gd := g.grad(w), out.Grad.Data
		// ⟨G, M/σ⟩ by rows, totalled in a fixed order so that the result
		// does not depend on how many cores split the work.
		part := make([]float64, rows)
		tensor.Parallel(rows, len(gd), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				s := 0.0
				for c, x := range gd[r*cols:][:cols] {
					s += float64(x) * float64(od[r*cols+c])
				}
				part[r] = s
			}
		})
		k := 0.0
		for _, s := range part {
			k += s
		}
		tensor.Parallel(rows, 2*len(gd), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				ku := k * u[r]
				gr := gw[r*cols:][:cols]
				for c, x := range gd[r*cols:][:cols] {
					gr[c] += float32((float64(x) - ku*v[c]) / sigma)
				}
			}
		})
	})
	return out
}

// SpectralSigma estimates the largest singular value σ of w viewed as the
// [numel/cout, cout] matrix M, with its left (u, length numel/cout) and
// right (v, length cout) singular vectors: M v = σ u. Each of the iters
// power iterations sets u ← M v/‖M v‖, v ← Mᵀu/‖Mᵀu‖; then σ = ‖M v‖ and
// u = M v/σ, so σ never exceeds the true value and u, v, σ agree exactly.
// The work is in float64, and every sum runs in a fixed order, so the
// result depends on w and iters only.
func SpectralSigma(w *tensor.Tensor, iters int) (sigma float64, u, v []float64) {
	if len(w.Shape) == 0 || w.Len() == 0 || iters < 1 {
		panic(fmt.Sprintf("nn.SpectralSigma: weight %s, %d iterations; want a non-empty weight and at least 1",
			tensor.ShapeString(w.Shape), iters))
	}
	cols := w.Shape[len(w.Shape)-1]
	rows := w.Len() / cols
	u, v = make([]float64, rows), spectralStart(cols)
	unit(v)
	for range iters {
		matVec64(u, w.Data, v)
		unit(u)
		matTVec64(v, w.Data, u)
		unit(v)
	}
	matVec64(u, w.Data, v)
	return unit(u), u, v
}

// spectralStart is the power iteration's fixed start: a splitmix64 hash of
// each index mapped to [-1, 1). Any fixed vector works unless it is
// orthogonal to the top right singular vector, which pseudo-random entries
// make all but impossible.
func spectralStart(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		z := uint64(i+1) * 0x9e3779b97f4a7c15
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		v[i] = float64(z>>11)/(1<<52) - 1
	}
	return v
}

// unit scales x to unit length and returns the length it had.
func unit(x []float64) float64 {
	s := 0.0
	for _, e := range x {
		s += e * e
	}
	n := math.Sqrt(s)
	if n == 0 {
		panic("nn.SpectralNorm: the power iteration reached a zero vector (is the weight all zero?)")
	}
	for i := range x {
		x[i] /= n
	}
	return n
}

// matVec64 sets y = M x for the row-major M [len(y), len(x)].
func matVec64(y []float64, m []float32, x []float64) {
	cols := len(x)
	tensor.Parallel(len(y), len(m), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			// Four running sums break the chain of dependent additions.
			row := m[r*cols:][:cols]
			var s0, s1, s2, s3 float64
			c := 0
			for ; c+4 <= cols; c += 4 {
				r4, x4 := row[c:c+4:c+4], x[c:c+4:c+4]
				s0 += float64(r4[0]) * x4[0]
				s1 += float64(r4[1]) * x4[1]
				s2 += float64(r4[2]) * x4[2]
				s3 += float64(r4[3]) * x4[3]
			}
			for ; c < cols; c++ {
				s0 += float64(row[c]) * x[c]
			}
			y[r] = (s0 + s1) + (s2 + s3)
		}
	})
}

// matTVec64 sets y = Mᵀx for the row-major M [len(x), len(y)]. Goroutines
// split the columns, so each sum runs down the rows in order and no two
// write the same element.
func matTVec64(y []float64, m []float32, x []float64) {
	cols := len(y)
	tensor.Parallel(cols, len(m), func(lo, hi int) {
		yr := y[lo:hi]
		clear(yr)
		for r, xr := range x {
			row := m[r*cols+lo:][:len(yr)]
			for c, e := range row {
				yr[c] += float64(e) * xr
			}
		}
	})
}
