package nn

import (
	"fmt"
	"math"

	"facereward/tensor"
)

// GroupNorm normalises NHWC x over each sample's groups of C/groups adjacent
// channels (and all pixels), then applies the per-channel gain and bias,
// as torch.nn.GroupNorm.
func (g *Graph) GroupNorm(x, gamma, beta *Var, groups int, eps float32) *Var {
	xs := x.Shape()
	c := xs[len(xs)-1]
	if groups < 1 || c%groups != 0 {
		panic(fmt.Sprintf("nn.GroupNorm: %d channels do not split into %d groups (x %s)", c, groups, tensor.ShapeString(xs)))
	}
	n := xs[0]
	return g.norm("GroupNorm", x, gamma, beta, n, len(x.Value.Data)/n, c, groups, eps)
}

// LayerNorm normalises x over its last dimension, as torch.nn.LayerNorm.
func (g *Graph) LayerNorm(x, gamma, beta *Var, eps float32) *Var {
	xs := x.Shape()
	c := xs[len(xs)-1]
	return g.norm("LayerNorm", x, gamma, beta, len(x.Value.Data)/c, c, c, 1, eps)
}

// norm handles both normalisations: x is split into `segs` contiguous
// segments of `seg` values (a sample for GroupNorm, a row for LayerNorm),
// each a run of pixels of c channels; channel ch belongs to group
// ch/(c/groups). The passes over the data are per-pixel vector operations
// on whole channel rows; statistics are gathered per channel about a shift
// (the segment's first pixel, or the mean in the backward pass), so that
// float32 partial sums do not cancel when the mean is large next to the
// spread, and combined per group in float64.
func (g *Graph) norm(op string, x, gamma, beta *Var, segs, seg, c, groups int, eps float32) *Var {
	xs := x.Shape()
	for _, p := range []*Var{gamma, beta} {
		if len(p.Shape()) != 1 || p.Shape()[0] != c {
			shapeErr(op, xs, p.Shape(), "gain and bias must be [C]")
		}
	}
	cg := c / groups
	count := float64(seg / groups)
	pixels := float64(seg / c)
	out := g.newVar(xs, x, gamma, beta)
	mean := g.buf(segs*groups, false)
	rstd := g.buf(segs*groups, false)
	xd, od, gm, bt := x.Value.Data, out.Value.Data, gamma.Value.Data, beta.Value.Data
	tensor.Parallel(segs, 4*len(xd), func(lo, hi int) {
		w := newNormWork(c)
		for s := lo; s < hi; s++ {
			xv := xd[s*seg : (s+1)*seg]
			for ch := range c {
				w.shift[ch] = -xv[ch]
			}
			w.sums(xv, nil)
			mu, rs := mean[s*groups:(s+1)*groups], rstd[s*groups:(s+1)*groups]
			for gr := range groups {
				// Σ(x−K) and Σ(x−K)² per channel give the group's mean and
				// its sum of squared deviations.
				var m float64
				for ch := gr * cg; ch < (gr+1)*cg; ch++ {
					m += float64(xv[ch])*pixels + w.s1[ch]
				}
				m /= count
				var q float64
				for ch := gr * cg; ch < (gr+1)*cg; ch++ {
					d := float64(xv[ch]) - m
					q += w.s2[ch] + 2*d*w.s1[ch] + pixels*d*d
				}
				mu[gr] = float32(m)
				rs[gr] = float32(1 / math.Sqrt(max(q/count, 0)+float64(eps)))
			}
			// out = (x−μ)·rstd·γ + β = x·a + b per channel.
			for ch := range c {
				w.a[ch] = rs[ch/cg] * gm[ch]
				w.b[ch] = bt[ch] - mu[ch/cg]*w.a[ch]
			}
			ov := od[s*seg : (s+1)*seg]
			for p := 0; p < seg; p += c {
				tensor.VecMulAdd(ov[p:p+c], xv[p:p+c], w.a, w.b)
			}
		}
	})
	g.record(out, func() {
		gd := out.Grad.Data
		var gx []float32
		if x.NeedGrad {
			gx = g.grad(x)
		}
		// Groups of segments sum their own gain and bias gradients (part
		// holds both, 2c wide), merged in a fixed order (orderedPartials).
		pg := make([]float64, c)
		pb := make([]float64, c)
		orderedPartials(segs, 2*c, 8*len(xd), func(lo, hi int, part []float64) {
			w := newNormWork(c)
			lg, lb := part[:c], part[c:]
			for s := lo; s < hi; s++ {
				xv, gv := xd[s*seg:(s+1)*seg], gd[s*seg:(s+1)*seg]
				mu, rs := mean[s*groups:(s+1)*groups], rstd[s*groups:(s+1)*groups]
				for ch := range c {
					w.shift[ch] = -mu[ch/cg]
				}
				// s1 = Σ dy, s2 = Σ dy·(x−μ) per channel; Σ dy·x̂ = r·s2.
				w.sums(xv, gv)
				for gr := range groups {
					r := float64(rs[gr])
					var sdy, sdyx float64 // Σ dx̂ and Σ dx̂·x̂ over the group, dx̂ = dy·γ
					for ch := gr * cg; ch < (gr+1)*cg; ch++ {
						dyx := r * w.s2[ch]
						lg[ch] += dyx
						lb[ch] += w.s1[ch]
						sdy += float64(gm[ch]) * w.s1[ch]
						sdyx += float64(gm[ch]) * dyx
					}
					// dx = r·(dx̂ − Σdx̂/n − x̂·Σ(dx̂·x̂)/n) = dy·a + (x−μ)·b + k.
					for ch := gr * cg; ch < (gr+1)*cg; ch++ {
						w.a[ch] = float32(r * float64(gm[ch]))
						w.b[ch] = float32(-r * r * sdyx / count)
						w.k[ch] = float32(-r * sdy / count)
					}
				}
				if gx == nil {
					continue
				}
				gxv := gx[s*seg : (s+1)*seg]
				for p := 0; p < seg; p += c {
					d := gxv[p : p+c]
					tensor.VecAdd(w.t, xv[p:p+c], w.shift)
					tensor.VecMulAdd(d, gv[p:p+c], w.a, d)
					tensor.VecMulAdd(d, w.t, w.b, d)
					tensor.VecAddTo(d, w.k)
				}
			}
		}, func(part []float64) {
			for ch := range c {
				pg[ch] += part[ch]
				pb[ch] += part[c+ch]
			}
		})
		for _, p := range []struct {
			v    *Var
			part []float64
		}{{gamma, pg}, {beta, pb}} {
			if !p.v.NeedGrad {
				continue
			}
			gp := g.grad(p.v)
			for ch, t := range p.part {
				gp[ch] += float32(t)
			}
		}
	})
	return out
}

// normWork is one goroutine's per-channel scratch for norm.
type normWork struct {
	c                int
	s1, s2           []float64
	f1, f2, t, shift []float32
	a, b, k          []float32
}

func newNormWork(c int) *normWork {
	f := make([]float32, 7*c)
	return &normWork{c: c, s1: make([]float64, c), s2: make([]float64, c),
		f1: f[:c], f2: f[c : 2*c], t: f[2*c : 3*c], shift: f[3*c : 4*c], a: f[4*c : 5*c], b: f[5*c : 6*c], k: f[6*c:]}
}

// normBlock is how many pixels are summed in float32 before the partial
// sums join the float64 totals.
const normBlock = 64

// sums sets, per channel, s1 = Σ u and s2 = Σ u·(x+shift) when u is given,
// else s1 = Σ (x+shift) and s2 = Σ (x+shift)².
func (w *normWork) sums(x, u []float32) {
	c := w.c
	clear(w.s1)
	clear(w.s2)
	for p0 := 0; p0 < len(x); p0 += normBlock * c {
		clear(w.f1)
		clear(w.f2)
		for p := p0; p < min(len(x), p0+normBlock*c); p += c {
			tensor.VecAdd(w.t, x[p:p+c], w.shift)
			if u == nil {
				tensor.VecAddTo(w.f1, w.t)
				tensor.VecMulAdd(w.f2, w.t, w.t, w.f2)
			} else {
				tensor.VecAddTo(w.f1, u[p:p+c])
				tensor.VecMulAdd(w.f2, u[p:p+c], w.t, w.f2)
			}
		}
		for ch := range c {
			w.s1[ch] += float64(w.f1[ch])
			w.s2[ch] += float64(w.f2[ch])
		}
	}
}
