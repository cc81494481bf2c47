package nn

import (
	"fmt"
	"math"

	"facereward/tensor"
)

// Softmax normalises over the last dimension.
func (g *Graph) Softmax(x *Var) *Var {
	xs := x.Shape()
	c := xs[len(xs)-1]
	out := g.newVar(xs, x)
	xd, od := x.Value.Data, out.Value.Data
	rows := len(xd) / c
	tensor.Parallel(rows, 8*len(xd), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			softmaxRow(od[r*c:(r+1)*c], xd[r*c:(r+1)*c], 1)
		}
	})
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		tensor.Parallel(rows, 4*len(xd), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				softmaxBackRow(gx[r*c:(r+1)*c], gd[r*c:(r+1)*c], od[r*c:(r+1)*c], 1, true)
			}
		})
	})
	return out
}

// softmaxRow writes softmax(scale·x) into y (which may be x) for a scale
// > 0, subtracting the maximum first so that exp never overflows.
func softmaxRow(y, x []float32, scale float32) {
	m := tensor.VecMax(x) * scale
	for i, v := range x {
		y[i] = v*scale - m
	}
	tensor.VecExp(y, y)
	tensor.VecScale(y, 1/tensor.VecSum(y))
}

// softmaxBackRow takes the gradient dy of y = softmax(scale·x) back to x:
// dx = scale·y⊙(dy − Σ dy⊙y), added into dx when accumulate is set, else
// written (dx may then be dy).
func softmaxBackRow(dx, dy, y []float32, scale float32, accumulate bool) {
	dot := tensor.VecDot(y, dy)
	for i, v := range y {
		g := scale * v * (dy[i] - dot)
		if accumulate {
			g += dx[i]
		}
		dx[i] = g
	}
}

// Attention is scaled dot-product self-attention: for q, k, v [B, L, C] with
// the channels split into `heads` contiguous groups of d = C/heads, each head
// computes softmax(q·kᵀ/√d)·v over the L positions; the heads' outputs are
// laid side by side again. Images enter as [N, H·W, C].
func (g *Graph) Attention(q, k, v *Var, heads int) *Var {
	qs := q.Shape()
	if len(qs) != 3 || !tensor.SameShape(qs, k.Shape()) || !tensor.SameShape(qs, v.Shape()) {
		shapeErr("Attention", qs, k.Shape(), "q, k and v must all be [B, L, C]")
	}
	b, l, c := qs[0], qs[1], qs[2]
	if heads < 1 || c%heads != 0 {
		panic(fmt.Sprintf("nn.Attention: %d channels do not split into %d heads", c, heads))
	}
	d := c / heads
	scale := float32(1 / math.Sqrt(float64(d)))
	out := g.newVar(qs, q, k, v)
	// The attention weights are kept for the backward pass: B·heads·L² values.
	p := g.buf(b*heads*l*l, false)
	qd, kd, vd, od := q.Value.Data, k.Value.Data, v.Value.Data, out.Value.Data
	tasks := b * heads
	tensor.Parallel(tasks, tasks*4*l*l*d, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			bi, h := t/heads, t%heads
			off := bi*l*c + h*d
			pt := p[t*l*l : (t+1)*l*l]
			tensor.GemmSerial(false, true, l, l, d, 1, qd[off:], c, kd[off:], c, 0, pt, l)
			for r := 0; r < l; r++ {
				row := pt[r*l : (r+1)*l]
				softmaxRow(row, row, scale)
			}
			tensor.GemmSerial(false, false, l, d, l, 1, pt, l, vd[off:], c, 0, od[off:], c)
		}
	})
	g.record(out, func() {
		gd := out.Grad.Data
		var gq, gk, gv []float32
		if q.NeedGrad {
			gq = g.grad(q)
		}
		if k.NeedGrad {
			gk = g.grad(k)
		}
		if v.NeedGrad {
			gv = g.grad(v)
		}
		ds := g.buf(b*heads*l*l, false)
		tensor.Parallel(tasks, tasks*8*l*l*d, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				bi, h := t/heads, t%heads
				off := bi*l*c + h*d
				pt, dt := p[t*l*l:(t+1)*l*l], ds[t*l*l:(t+1)*l*l]
				if gv != nil {
					tensor.GemmSerial(true, false, l, d, l, 1, pt, l, gd[off:], c, 1, gv[off:], c)
				}
				// dP = dO·vᵀ, then through the softmax (and its scale) to dS.
				tensor.GemmSerial(false, true, l, l, d, 1, gd[off:], c, vd[off:], c, 0, dt, l)
				for r := 0; r < l; r++ {
					row := dt[r*l : (r+1)*l]
					softmaxBackRow(row, row, pt[r*l:(r+1)*l], scale, false)
				}
				if gq != nil {
					tensor.GemmSerial(false, false, l, d, l, 1, dt, l, kd[off:], c, 1, gq[off:], c)
				}
				if gk != nil {
					tensor.GemmSerial(true, false, l, d, l, 1, dt, l, qd[off:], c, 1, gk[off:], c)
				}
			}
		})
	})
	return out
}
