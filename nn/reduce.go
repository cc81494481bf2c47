package nn

import (
	"fmt"
	"math"

	"facereward/tensor"
)

// Sum returns the sum of all elements as a scalar.
func (g *Graph) Sum(x *Var) *Var { return g.reduceAll(x, 1) }

// Mean returns the mean of all elements as a scalar.
func (g *Graph) Mean(x *Var) *Var { return g.reduceAll(x, 1/float32(x.Value.Len())) }

func (g *Graph) reduceAll(x *Var, scale float32) *Var {
	out := g.newVar([]int{1}, x)
	out.Value.Data[0] = float32(sumAll(x.Value.Data)) * scale
	g.record(out, func() {
		gx, d := g.grad(x), out.Grad.Data[0]*scale
		for i := range gx {
			gx[i] += d
		}
	})
	return out
}

// sumAll adds up x in chunks of float32 vector sums, totalled in float64.
func sumAll(x []float32) float64 {
	const chunk = 4096
	parts := make([]float64, (len(x)+chunk-1)/chunk)
	tensor.Parallel(len(parts), len(x), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			parts[i] = float64(tensor.VecSum(x[i*chunk : min(len(x), (i+1)*chunk)]))
		}
	})
	var s float64
	for _, p := range parts {
		s += p
	}
	return s
}

// MeanHW averages an image batch over its pixels: [N,H,W,C] → [N,C]
// (global average pooling).
func (g *Graph) MeanHW(x *Var) *Var {
	n, h, w, c := nhwc("MeanHW", x)
	hw := h * w
	out := g.newVar([]int{n, c}, x)
	xd, od := x.Value.Data, out.Value.Data
	acc := make([]float64, c)
	for b := 0; b < n; b++ {
		clear(acc)
		for p := 0; p < hw; p++ {
			for j, v := range xd[(b*hw+p)*c:][:c] {
				acc[j] += float64(v)
			}
		}
		for j := range acc {
			od[b*c+j] = float32(acc[j] / float64(hw))
		}
	}
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		inv := 1 / float32(hw)
		for b := 0; b < n; b++ {
			for p := 0; p < hw; p++ {
				for j := range c {
					gx[(b*hw+p)*c+j] += gd[b*c+j] * inv
				}
			}
		}
	})
	return out
}

// MSELoss is mean((a-b)²); L1Loss is mean(|a-b|). Both as torch's defaults
// (reduction "mean").
func (g *Graph) MSELoss(a, b *Var) *Var { return g.pairLoss("MSELoss", a, b, false) }

// L1Loss is mean(|a-b|); its gradient at a == b is taken as 0, as torch's.
func (g *Graph) L1Loss(a, b *Var) *Var { return g.pairLoss("L1Loss", a, b, true) }

func (g *Graph) pairLoss(op string, a, b *Var, l1 bool) *Var {
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		shapeErr(op, a.Shape(), b.Shape(), "shapes must be equal")
	}
	out := g.newVar([]int{1}, a, b)
	ad, bd := a.Value.Data, b.Value.Data
	var s float64
	for i, v := range ad {
		d := float64(v - bd[i])
		if l1 {
			s += max(d, -d)
		} else {
			s += d * d
		}
	}
	inv := 1 / float32(len(ad))
	out.Value.Data[0] = float32(s) * inv
	g.record(out, func() {
		d := out.Grad.Data[0] * inv
		var ga, gb []float32
		if a.NeedGrad {
			ga = g.grad(a)
		}
		if b.NeedGrad {
			gb = g.grad(b)
		}
		for i, v := range ad {
			diff := v - bd[i]
			var gv float32
			switch {
			case !l1:
				gv = 2 * diff * d
			case diff > 0:
				gv = d
			case diff < 0:
				gv = -d
			}
			if ga != nil {
				ga[i] += gv
			}
			if gb != nil {
				gb[i] -= gv
			}
		}
	})
	return out
}

// TimestepEmbedding is the sinusoidal embedding of diffusion timesteps used
// by guided-diffusion: [cos(t·f_i), sin(t·f_i)] with f_i = 10000^(-i/half).
// It takes no gradient.
func TimestepEmbedding(t []float32, dim int) *tensor.Tensor {
	if dim%2 != 0 {
		panic(fmt.Sprintf("nn.TimestepEmbedding: dimension %d is odd", dim))
	}
	half := dim / 2
	out := tensor.New(len(t), dim)
	for b, tv := range t {
		row := out.Data[b*dim : (b+1)*dim]
		for i := range half {
			// Rounded to float32 at each step, as torch computes it.
			f := float32(math.Exp(float64(float32(-math.Log(10000)) * float32(i) / float32(half))))
			a := tv * f
			row[i] = float32(math.Cos(float64(a)))
			row[half+i] = float32(math.Sin(float64(a)))
		}
	}
	return out
}
