package nn

import "facereward/tensor"

// ReLU returns max(x, 0).
func (g *Graph) ReLU(x *Var) *Var { return g.LeakyReLU(x, 0) }

// LeakyReLU returns x for x > 0 and alpha·x otherwise (alpha 0 is ReLU),
// through tensor's branch-free kernels: the face nets and the reward model
// apply it after nearly every convolution.
func (g *Graph) LeakyReLU(x *Var, alpha float32) *Var {
	out := g.newVar(x.Shape(), x)
	xd, od := x.Value.Data, out.Value.Data
	tensor.Parallel(len(od), 2*len(od), func(lo, hi int) { tensor.VecLeakyReLU(od[lo:hi], xd[lo:hi], alpha) })
	g.record(out, func() {
		gx, set := g.gradToSet(x)
		gd := out.Grad.Data
		grad := tensor.VecLeakyReLUGrad
		if set {
			grad = tensor.VecLeakyReLUGradSet
		}
		tensor.Parallel(len(od), 2*len(od), func(lo, hi int) { grad(gx[lo:hi], gd[lo:hi], xd[lo:hi], alpha) })
	})
	return out
}
