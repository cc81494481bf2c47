package nn

import "facereward/tensor"

// MatMul multiplies the last two dimensions: a[..., M, K] · b[..., K, N].
// b may also be a plain [K, N] matrix shared by every batch entry (a weight).
func (g *Graph) MatMul(a, b *Var) *Var {
	as, bs := a.Shape(), b.Shape()
	if len(as) < 2 || len(bs) < 2 {
		shapeErr("MatMul", as, bs, "both operands need at least 2 dimensions")
	}
	m, k := as[len(as)-2], as[len(as)-1]
	k2, n := bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		shapeErr("MatMul", as, bs, "inner dimensions differ")
	}
	batch := tensor.Numel(as[:len(as)-2])
	shared := len(bs) == 2
	if !shared && !tensor.SameShape(as[:len(as)-2], bs[:len(bs)-2]) {
		shapeErr("MatMul", as, bs, "batch dimensions differ")
	}
	if shared {
		// A shared weight: fold the batch into M for one large product.
		m, batch = m*batch, 1
	}
	shape := append(append([]int(nil), as[:len(as)-1]...), n)
	out := g.newVar(shape, a, b)
	ad, bd, od := a.Value.Data, b.Value.Data, out.Value.Data
	bStride := k * n
	if shared {
		bStride = 0
	}
	for i := 0; i < batch; i++ {
		tensor.Gemm(false, false, m, n, k, 1, ad[i*m*k:], k, bd[i*bStride:], n, 0, od[i*m*n:], n)
	}
	g.record(out, func() {
		gd := out.Grad.Data
		if a.NeedGrad {
			ga := g.grad(a)
			for i := 0; i < batch; i++ {
				tensor.Gemm(false, true, m, k, n, 1, gd[i*m*n:], n, bd[i*bStride:], n, 1, ga[i*m*k:], k)
			}
		}
		if b.NeedGrad {
			gb := g.grad(b)
			for i := 0; i < batch; i++ {
				tensor.Gemm(true, false, k, n, m, 1, ad[i*m*k:], k, gd[i*m*n:], n, 1, gb[i*bStride:], n)
			}
		}
	})
	return out
}

// Linear returns x·w + b over the last dimension of x, with w [in, out] and
// b [out] (b may be nil).
func (g *Graph) Linear(x, w, b *Var) *Var {
	y := g.MatMul(x, w)
	if b == nil {
		return y
	}
	return g.addBias(y, b)
}

// addBias adds b[C] to every row of x[..., C]; the common broadcast, done
// without the general broadcasting walk.
func (g *Graph) addBias(x, b *Var) *Var {
	xs := x.Shape()
	c := xs[len(xs)-1]
	if len(b.Shape()) != 1 || b.Shape()[0] != c {
		shapeErr("addBias", xs, b.Shape(), "bias must be [C] matching the last dimension")
	}
	out := g.newVar(xs, x, b)
	xd, bd, od := x.Value.Data, b.Value.Data, out.Value.Data
	rows := len(xd) / max(c, 1)
	tensor.Parallel(rows, len(xd), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o, xr := od[r*c:(r+1)*c], xd[r*c:(r+1)*c]
			for j := range o {
				o[j] = xr[j] + bd[j]
			}
		}
	})
	g.record(out, func() {
		gd := out.Grad.Data
		if x.NeedGrad {
			addInto(g.grad(x), gd)
		}
		if b.NeedGrad {
			sumRows(g.grad(b), gd, c)
		}
	})
	return out
}

// sumRows adds the column sums of m (rows of width c) into dst, row after
// row (a convolution's bias gradient: 131072 rows for the FRM's stem).
func sumRows(dst, m []float32, c int) {
	dst = dst[:c]
	for r := 0; r+c <= len(m); r += c {
		addSmall(dst, m[r:r+c])
	}
}
