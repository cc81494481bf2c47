package nn

import (
	"math"

	"facereward/tensor"
)

type binOp int

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
)

var binNames = [...]string{"Add", "Sub", "Mul", "Div"}

// Add returns a+b with broadcasting (numpy rules: shapes aligned at the right,
// each dimension equal or 1), e.g. x[N,H,W,C] + bias[C] or + temb[N,1,1,C].
func (g *Graph) Add(a, b *Var) *Var { return g.binary(opAdd, a, b) }

// Sub returns a-b with broadcasting.
func (g *Graph) Sub(a, b *Var) *Var { return g.binary(opSub, a, b) }

// Mul returns a*b elementwise with broadcasting.
func (g *Graph) Mul(a, b *Var) *Var { return g.binary(opMul, a, b) }

// Div returns a/b elementwise with broadcasting.
func (g *Graph) Div(a, b *Var) *Var { return g.binary(opDiv, a, b) }

// broadcast works out the output shape and, for each output dimension, the
// strides of a and b (0 where that operand is broadcast).
func broadcast(op string, as, bs []int) (out, sa, sb []int) {
	n := max(len(as), len(bs))
	pad := func(s []int) []int {
		p := make([]int, n)
		for i := range p {
			p[i] = 1
		}
		copy(p[n-len(s):], s)
		return p
	}
	pa, pb := pad(as), pad(bs)
	out = make([]int, n)
	for i := range n {
		switch {
		case pa[i] == pb[i] || pb[i] == 1:
			out[i] = pa[i]
		case pa[i] == 1:
			out[i] = pb[i]
		default:
			shapeErr(op, as, bs, "cannot broadcast")
		}
	}
	strides := func(p []int) []int {
		s := make([]int, n)
		st := 1
		for i := n - 1; i >= 0; i-- {
			if p[i] != 1 {
				s[i] = st
			}
			st *= p[i]
		}
		return s
	}
	return out, strides(pa), strides(pb)
}

func (g *Graph) binary(op binOp, a, b *Var) *Var {
	shape, sa, sb := broadcast(binNames[op], a.Shape(), b.Shape())
	out := g.newVar(shape, a, b)
	same := tensor.SameShape(a.Shape(), b.Shape())
	binaryForward(op, out.Value.Data, a.Value.Data, b.Value.Data, shape, sa, sb, same)
	g.record(out, func() { g.binaryGrad(op, out, a, b, shape, sa, sb, same) })
	return out
}

// binaryForward writes od = ad op bd over the broadcast shape; od may be
// ad (AddTo), as every output element reads only its own a element.
func binaryForward(op binOp, od, ad, bd []float32, shape, sa, sb []int, same bool) {
	if same {
		tensor.Parallel(len(od), len(od), func(lo, hi int) {
			switch op {
			case opAdd:
				tensor.VecAdd(od[lo:hi], ad[lo:hi], bd[lo:hi])
			case opMul:
				tensor.VecMulTo(od[lo:hi], ad[lo:hi], bd[lo:hi])
			default:
				binKernel(op, od[lo:hi], ad[lo:hi], bd[lo:hi], 1, 1)
			}
		})
		return
	}
	rows := len(od) / max(shape[len(shape)-1], 1)
	tensor.Parallel(rows, len(od), func(lo, hi int) {
		eachRow(shape, sa, sb, lo, hi, func(o, ia, ib, n, da, db int) {
			binKernel(op, od[o:o+n], ad[ia:], bd[ib:], da, db)
		})
	})
}

// AddTo is Add(a, b) written over a's buffer, for a residual or an
// embedding added to a convolution's output that nothing else reads: the
// sum takes the convolution output's place instead of joining it, as an
// in-place add does in PyTorch (one tensor fewer per sum). Values and gradients are those of Add, byte for byte. b may
// broadcast to a's shape. It panics unless a is the output of a Conv2D,
// whose backward pass does not read it; a's value must not be read again.
func (g *Graph) AddTo(a, b *Var) *Var {
	if !a.convOut {
		panic("nn.AddTo: the first operand must be a Conv2D output")
	}
	shape, sa, sb := broadcast(binNames[opAdd], a.Shape(), b.Shape())
	if !tensor.SameShape(shape, a.Shape()) {
		shapeErr("AddTo", a.Shape(), b.Shape(), "the sum must have the first operand's shape")
	}
	a.convOut = false // one sum per output
	out := &Var{Value: &tensor.Tensor{Shape: a.Shape(), Data: a.Value.Data}, NeedGrad: (a.NeedGrad || b.NeedGrad) && !g.NoGrad, pooled: true}
	same := tensor.SameShape(a.Shape(), b.Shape())
	binaryForward(opAdd, out.Value.Data, out.Value.Data, b.Value.Data, shape, sa, sb, same)
	g.record(out, func() { g.binaryGrad(opAdd, out, a, b, shape, sa, sb, same) })
	return out
}

// binaryGrad is the backward pass of a binary op of a and b giving out.
func (g *Graph) binaryGrad(op binOp, out, a, b *Var, shape, sa, sb []int, same bool) {
	gd := out.Grad.Data
	var ga, gb []float32
	if a.NeedGrad {
		ga = g.grad(a)
	}
	if b.NeedGrad {
		gb = g.grad(b)
	}
	if same && op == opAdd {
		// The commonest case (residual connections): plain accumulation.
		tensor.Parallel(len(gd), len(gd), func(lo, hi int) {
			if ga != nil {
				tensor.VecAddTo(ga[lo:hi], gd[lo:hi])
			}
			if gb != nil {
				tensor.VecAddTo(gb[lo:hi], gd[lo:hi])
			}
		})
		return
	}
	// Sequential: a broadcast operand's gradient sums over many rows.
	rows := len(gd) / max(shape[len(shape)-1], 1)
	eachRow(shape, sa, sb, 0, rows, func(o, ia, ib, n, da, db int) {
		binGrad(op, gd[o:o+n], a.Value.Data, b.Value.Data, ga, gb, ia, ib, da, db)
	})
}

// eachRow walks output rows [lo, hi) (runs along the last dimension),
// giving for each run the output offset, the operands' offsets, the run
// length and the operands' strides along it.
func eachRow(shape, sa, sb []int, lo, hi int, fn func(o, ia, ib, n, da, db int)) {
	nd := len(shape)
	if nd == 0 {
		fn(0, 0, 0, 1, 0, 0)
		return
	}
	last := shape[nd-1]
	idx := make([]int, nd-1)
	ia, ib := 0, 0
	for d, r := nd-2, lo; d >= 0; d-- {
		idx[d] = r % shape[d]
		r /= shape[d]
		ia += idx[d] * sa[d]
		ib += idx[d] * sb[d]
	}
	for r := lo; r < hi; r++ {
		fn(r*last, ia, ib, last, sa[nd-1], sb[nd-1])
		for d := nd - 2; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < shape[d] {
				break
			}
			ia -= sa[d] * shape[d]
			ib -= sb[d] * shape[d]
			idx[d] = 0
		}
	}
}

func binKernel(op binOp, o, a, b []float32, da, db int) {
	if da == 1 && db == 1 {
		switch op {
		case opAdd:
			tensor.VecAdd(o, a[:len(o)], b[:len(o)])
			return
		case opMul:
			tensor.VecMulTo(o, a[:len(o)], b[:len(o)])
			return
		}
	}
	switch op {
	case opAdd:
		for i := range o {
			o[i] = a[i*da] + b[i*db]
		}
	case opSub:
		for i := range o {
			o[i] = a[i*da] - b[i*db]
		}
	case opMul:
		for i := range o {
			o[i] = a[i*da] * b[i*db]
		}
	case opDiv:
		for i := range o {
			o[i] = a[i*da] / b[i*db]
		}
	}
}

// binGrad accumulates one run's gradients; a broadcast operand receives the
// sum over the positions it was repeated at.
func binGrad(op binOp, gd, a, b, ga, gb []float32, ia, ib, da, db int) {
	for i, gv := range gd {
		x, y := a[ia+i*da], b[ib+i*db]
		var dx, dy float32
		switch op {
		case opAdd:
			dx, dy = gv, gv
		case opSub:
			dx, dy = gv, -gv
		case opMul:
			dx, dy = gv*y, gv*x
		case opDiv:
			dx = gv / y
			dy = -gv * x / (y * y)
		}
		if ga != nil {
			ga[ia+i*da] += dx
		}
		if gb != nil {
			gb[ib+i*db] += dy
		}
	}
}

// Scale returns s*x.
func (g *Graph) Scale(x *Var, s float32) *Var {
	return g.unary(x, func(v float32) float32 { return s * v }, func(_, _ float32) float32 { return s })
}

// AddScalar returns x+s.
func (g *Graph) AddScalar(x *Var, s float32) *Var {
	return g.unary(x, func(v float32) float32 { return v + s }, func(_, _ float32) float32 { return 1 })
}

// unary applies f elementwise; df(x, y) is the derivative given input x and
// output y (whichever is cheaper to use).
func (g *Graph) unary(x *Var, f func(float32) float32, df func(x, y float32) float32) *Var {
	out := g.newVar(x.Shape(), x)
	xd, od := x.Value.Data, out.Value.Data
	tensor.Parallel(len(od), 8*len(od), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			od[i] = f(xd[i])
		}
	})
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		tensor.Parallel(len(od), 8*len(od), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gx[i] += gd[i] * df(xd[i], od[i])
			}
		})
	})
	return out
}

// vecUnary applies a vector kernel f over x in parallel chunks; back(gx,
// gy, lo, hi) accumulates the gradient of a chunk.
func (g *Graph) vecUnary(x *Var, f func(dst, src []float32), back func(gx, gy []float32, lo, hi int)) *Var {
	out := g.newVar(x.Shape(), x)
	xd, od := x.Value.Data, out.Value.Data
	tensor.Parallel(len(od), 8*len(od), func(lo, hi int) { f(od[lo:hi], xd[lo:hi]) })
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		tensor.Parallel(len(od), 4*len(od), func(lo, hi int) { back(gx, gd, lo, hi) })
	})
	return out
}

// Sigmoid returns 1/(1+exp(-x)).
func (g *Graph) Sigmoid(x *Var) *Var {
	var y []float32
	out := g.vecUnary(x, tensor.VecSigmoid, func(gx, gy []float32, lo, hi int) {
		for i := lo; i < hi; i++ {
			gx[i] += gy[i] * y[i] * (1 - y[i])
		}
	})
	y = out.Value.Data
	return out
}

// Softplus returns log(1+exp(x)), written as max(x,0) + log1p(exp(-|x|))
// so that neither a large x nor a large -x overflows; the Bradley–Terry
// loss -log σ(d) is Softplus(-d).
func (g *Graph) Softplus(x *Var) *Var {
	return g.unary(x, func(v float32) float32 {
		a := float64(v)
		return float32(max(a, 0) + math.Log1p(math.Exp(-math.Abs(a))))
	}, func(v, _ float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) })
}

// Tanh returns tanh(x).
func (g *Graph) Tanh(x *Var) *Var {
	var y []float32
	out := g.vecUnary(x, tensor.VecTanh, func(gx, gy []float32, lo, hi int) {
		for i := lo; i < hi; i++ {
			gx[i] += gy[i] * (1 - y[i]*y[i])
		}
	})
	y = out.Value.Data
	return out
}

// SiLU returns x·sigmoid(x). Its backward pass recomputes σ(x) from x, a
// block at a time, as PyTorch's does: keeping σ(x) from the forward pass
// would hold a second tensor of x's size per SiLU until the backward pass
// (the UNet's blocks have two SiLUs each), for an exp per element saved. The
// recomputed σ is the forward pass's, bit for bit: every vector path
// computes each element alone, whatever its offset.
func (g *Graph) SiLU(x *Var) *Var {
	out := g.newVar(x.Shape(), x)
	xd, od := x.Value.Data, out.Value.Data
	tensor.Parallel(len(od), 8*len(od), func(lo, hi int) {
		tensor.VecSiLU(od[lo:hi], nil, xd[lo:hi])
	})
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		tensor.Parallel(len(od), 12*len(od), func(lo, hi int) {
			var y, sig [siluBlock]float32
			for b := lo; b < hi; b += siluBlock {
				e := min(b+siluBlock, hi)
				tensor.VecSiLU(y[:e-b], sig[:e-b], xd[b:e])
				tensor.VecSiLUGrad(gx[b:e], gd[b:e], xd[b:e], sig[:e-b])
			}
		})
	})
	return out
}

// siluBlock is how many values of σ(x) SiLU's backward pass recomputes at
// a time: its scratch stays in the L1 cache.
const siluBlock = 1024

// GELU is the exact (erf) form, PyTorch's default.
func (g *Graph) GELU(x *Var) *Var {
	return g.unary(x, func(v float32) float32 {
		return float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
	}, func(v, _ float32) float32 {
		x := float64(v)
		cdf := 0.5 * (1 + math.Erf(x/math.Sqrt2))
		pdf := math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi)
		return float32(cdf + x*pdf)
	})
}
