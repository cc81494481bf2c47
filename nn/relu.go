package nn

import (
	"math"

	"facereward/tensor"
)

var one32 = math.Float32bits(1)

// ReLU returns max(x, 0).
func (g *Graph) ReLU(x *Var) *Var { return g.LeakyReLU(x, 0) }

// LeakyReLU returns x for x > 0 and alpha·x otherwise (alpha 0 is ReLU).
//
// Written out rather than through unary: the face nets apply it after
// nearly every convolution, and a function call per element is slow.
func (g *Graph) LeakyReLU(x *Var, alpha float32) *Var {
	out := g.newVar(x.Shape(), x)
	xd, od := x.Value.Data, out.Value.Data
	// Branch-free on the sign bit: with inputs of random sign, a branch per
	// element mispredicts half the time and cost a third of the landmark
	// net's time. neg is all ones for a negative input (and −0).
	ab := math.Float32bits(alpha)
	tensor.Parallel(len(od), 2*len(od), func(lo, hi int) {
		o, in := od[lo:hi], xd[lo:hi]
		if alpha == 0 {
			for i, v := range in {
				b := math.Float32bits(v)
				o[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
			}
			return
		}
		for i, v := range in {
			neg := uint32(int32(math.Float32bits(v)) >> 31)
			o[i] = v * math.Float32frombits(one32&^neg|ab&neg)
		}
	})
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		tensor.Parallel(len(od), 2*len(od), func(lo, hi int) {
			// The slope is 1 where x > 0 and alpha elsewhere (−0 and +0
			// included, as PyTorch), chosen on the bits without a branch,
			// which mispredicted half the time and made this loop a third
			// of the reward model's training step. notPos is all ones for
			// a sign bit set (x < 0, −0) or for +0, whose bits are 0.
			for i := lo; i < hi; i++ {
				b := int32(math.Float32bits(xd[i]))
				notPos := uint32(b>>31) | uint32((b-1)>>31)
				gx[i] += gd[i] * math.Float32frombits(one32&^notPos|ab&notPos)
			}
		})
	})
	return out
}
