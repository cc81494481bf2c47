package nn

import (
	"fmt"
	"math"
	"sync"

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
// ch/(c/groups). Sums are gathered per channel in float64 (one pass, no
// divisions in the inner loop), then combined per group, so that the passes
// over the data are plain per-channel multiply-adds.
func (g *Graph) norm(op string, x, gamma, beta *Var, segs, seg, c, groups int, eps float32) *Var {
	xs := x.Shape()
	for _, p := range []*Var{gamma, beta} {
		if len(p.Shape()) != 1 || p.Shape()[0] != c {
			shapeErr(op, xs, p.Shape(), "gain and bias must be [C]")
		}
	}
	cg := c / groups
	count := float64(seg / groups)
	out := g.newVar(xs, x, gamma, beta)
	mean := g.buf(segs*groups, false)
	rstd := g.buf(segs*groups, false)
	xd, od, gm, bt := x.Value.Data, out.Value.Data, gamma.Value.Data, beta.Value.Data
	tensor.Parallel(segs, 4*len(xd), func(lo, hi int) {
		s1, s2 := make([]float64, c), make([]float64, c)
		a, b := make([]float32, c), make([]float32, c)
		for s := lo; s < hi; s++ {
			xv := xd[s*seg : (s+1)*seg]
			channelSums(s1, s2, xv, xv, c)
			mu, rs := mean[s*groups:(s+1)*groups], rstd[s*groups:(s+1)*groups]
			for gr := range groups {
				var m, q float64
				for ch := gr * cg; ch < (gr+1)*cg; ch++ {
					m += s1[ch]
					q += s2[ch]
				}
				m /= count
				mu[gr] = float32(m)
				rs[gr] = float32(1 / math.Sqrt(max(q/count-m*m, 0)+float64(eps)))
			}
			// out = (x-μ)·rstd·γ + β = x·a + b per channel.
			for ch := range c {
				a[ch] = rs[ch/cg] * gm[ch]
				b[ch] = bt[ch] - mu[ch/cg]*a[ch]
			}
			ov := od[s*seg : (s+1)*seg]
			for p := 0; p < seg; p += c {
				xr, or := xv[p:p+c], ov[p:p+c]
				for ch, v := range xr {
					or[ch] = v*a[ch] + b[ch]
				}
			}
		}
	})
	g.record(out, func() {
		gd := out.Grad.Data
		var gx []float32
		if x.NeedGrad {
			gx = g.grad(x)
		}
		// Each goroutine sums its own gain and bias gradients, merged under
		// the lock at the end, so segments run in parallel.
		pg := make([]float64, c)
		pb := make([]float64, c)
		var lock sync.Mutex
		tensor.Parallel(segs, 6*len(xd), func(lo, hi int) {
			s1, s2 := make([]float64, c), make([]float64, c)
			lg, lb := make([]float64, c), make([]float64, c)
			a, b, k := make([]float32, c), make([]float32, c), make([]float32, c)
			defer func() {
				lock.Lock()
				for ch := range c {
					pg[ch] += lg[ch]
					pb[ch] += lb[ch]
				}
				lock.Unlock()
			}()
			for s := lo; s < hi; s++ {
				xv, gv := xd[s*seg:(s+1)*seg], gd[s*seg:(s+1)*seg]
				mu, rs := mean[s*groups:(s+1)*groups], rstd[s*groups:(s+1)*groups]
				// s1 = Σ dy, s2 = Σ dy·x per channel; with x̂ = (x-μ)·r,
				// Σ dy·x̂ = r·(s2 − μ·s1).
				channelSums(s1, s2, gv, xv, c)
				for gr := range groups {
					m, r := float64(mu[gr]), float64(rs[gr])
					var sdy, sdyx float64 // Σ dx̂ and Σ dx̂·x̂ over the group, dx̂ = dy·γ
					for ch := gr * cg; ch < (gr+1)*cg; ch++ {
						dyx := r * (s2[ch] - m*s1[ch])
						lg[ch] += dyx
						lb[ch] += s1[ch]
						sdy += float64(gm[ch]) * s1[ch]
						sdyx += float64(gm[ch]) * dyx
					}
					// dx = r·(dx̂ − Σdx̂/n − x̂·Σ(dx̂·x̂)/n) = dy·a + x·b + k.
					bb := -r * r * sdyx / count
					kk := -r*sdy/count - m*bb
					for ch := gr * cg; ch < (gr+1)*cg; ch++ {
						a[ch] = float32(r * float64(gm[ch]))
						b[ch] = float32(bb)
						k[ch] = float32(kk)
					}
				}
				if gx == nil {
					continue
				}
				gxv := gx[s*seg : (s+1)*seg]
				for p := 0; p < seg; p += c {
					xr, gr, dr := xv[p:p+c], gv[p:p+c], gxv[p:p+c]
					for ch, v := range xr {
						dr[ch] += gr[ch]*a[ch] + v*b[ch] + k[ch]
					}
				}
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

// channelSums sets s1[ch] = Σ u and s2[ch] = Σ u·v over the pixels (runs of
// c values) of u and v, in float64 so that the one-pass variance
// E[x²] − E[x]² keeps its precision over large groups.
func channelSums(s1, s2 []float64, u, v []float32, c int) {
	clear(s1)
	clear(s2)
	for p := 0; p < len(u); p += c {
		ur, vr := u[p:p+c], v[p:p+c]
		for ch, a := range ur {
			s1[ch] += float64(a)
			s2[ch] += float64(a) * float64(vr[ch])
		}
	}
}
