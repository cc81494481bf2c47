package nn

import (
	"fmt"

	"facereward/tensor"
)

// Reshape returns x with a new shape of the same size, as a view; one
// dimension may be -1 and is then inferred.
func (g *Graph) Reshape(x *Var, shape ...int) *Var {
	shape = append([]int(nil), shape...)
	infer, known := -1, 1
	for i, d := range shape {
		if d == -1 && infer < 0 {
			infer = i
		} else {
			known *= d
		}
	}
	if infer >= 0 && known > 0 {
		shape[infer] = x.Value.Len() / known
	}
	if tensor.Numel(shape) != x.Value.Len() {
		shapeErr("Reshape", x.Shape(), shape, "sizes differ")
	}
	// The output shares x's data (nothing writes into a value after it is
	// made); only the gradient has a buffer of its own.
	out := &Var{Value: &tensor.Tensor{Shape: shape, Data: x.Value.Data}, NeedGrad: x.NeedGrad && !g.NoGrad, pooled: true}
	g.inter = append(g.inter, out)
	g.record(out, func() { addInto(g.grad(x), out.Grad.Data) })
	return out
}

func addInto(dst, src []float32) {
	tensor.Parallel(len(dst), len(dst), func(lo, hi int) { tensor.VecAddTo(dst[lo:hi], src[lo:hi]) })
}

// Concat joins tensors along the last (channel) dimension; all other
// dimensions must agree.
func (g *Graph) Concat(xs ...*Var) *Var {
	first := xs[0].Shape()
	lead := first[:len(first)-1]
	widths := make([]int, len(xs))
	total := 0
	for i, x := range xs {
		s := x.Shape()
		if !tensor.SameShape(s[:len(s)-1], lead) {
			shapeErr("Concat", first, s, "all but the last dimension must agree")
		}
		widths[i] = s[len(s)-1]
		total += widths[i]
	}
	shape := append(append([]int(nil), lead...), total)
	out := g.newVar(shape, xs...)
	rows := tensor.Numel(lead)
	od := out.Value.Data
	off := 0
	for i, x := range xs {
		copyCols(od, total, off, x.Value.Data, widths[i], 0, widths[i], rows, false)
		off += widths[i]
	}
	g.record(out, func() {
		off := 0
		for i, x := range xs {
			if x.NeedGrad {
				copyCols(g.grad(x), widths[i], 0, out.Grad.Data, total, off, widths[i], rows, true)
			}
			off += widths[i]
		}
	})
	return out
}

// Slice returns channels [from, to) of x's last dimension.
func (g *Graph) Slice(x *Var, from, to int) *Var {
	xs := x.Shape()
	c := xs[len(xs)-1]
	if from < 0 || to > c || from >= to {
		panic(fmt.Sprintf("nn.Slice: channels [%d,%d) of x %s", from, to, tensor.ShapeString(xs)))
	}
	shape := append(append([]int(nil), xs[:len(xs)-1]...), to-from)
	out := g.newVar(shape, x)
	rows := x.Value.Len() / c
	copyCols(out.Value.Data, to-from, 0, x.Value.Data, c, from, to-from, rows, false)
	g.record(out, func() {
		copyCols(g.grad(x), c, from, out.Grad.Data, to-from, 0, to-from, rows, true)
	})
	return out
}

// copyCols copies (or adds) n columns per row from src (row width sw,
// starting at column so) to dst (row width dw, starting at column do).
func copyCols(dst []float32, dw, do int, src []float32, sw, so, n, rows int, add bool) {
	tensor.Parallel(rows, rows*n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			d, s := dst[r*dw+do:][:n], src[r*sw+so:][:n]
			if !add {
				copy(d, s)
				continue
			}
			for i, v := range s {
				d[i] += v
			}
		}
	})
}

// nhwc checks that x is an image batch and returns its dimensions.
func nhwc(op string, x *Var) (n, h, w, c int) {
	s := x.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("nn.%s: want an NHWC image batch, got shape %s", op, tensor.ShapeString(s)))
	}
	return s[0], s[1], s[2], s[3]
}

// spatialMap builds an op that moves whole channel vectors between pixels:
// output pixel (n, oy, ox) channels [oc, oc+len) come from input pixel
// src(n, oy, ox, oc). It covers nearest upsampling and pixel (un)shuffle; the
// backward pass scatters the gradient back along the same map.
func (g *Graph) spatialMap(x *Var, shape []int, seg int, src func(oy, ox, oc int) (iy, ix, ic int)) *Var {
	_, h, w, c := nhwc("spatialMap", x)
	n, ho, wo, co := shape[0], shape[1], shape[2], shape[3]
	out := g.newVar(shape, x)
	xd, od := x.Value.Data, out.Value.Data
	each := func(fn func(o, i int)) {
		for b := 0; b < n; b++ {
			for oy := 0; oy < ho; oy++ {
				for ox := 0; ox < wo; ox++ {
					for oc := 0; oc < co; oc += seg {
						iy, ix, ic := src(oy, ox, oc)
						fn(((b*ho+oy)*wo+ox)*co+oc, ((b*h+iy)*w+ix)*c+ic)
					}
				}
			}
		}
	}
	each(func(o, i int) { copy(od[o:o+seg], xd[i:i+seg]) })
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		each(func(o, i int) {
			for j, v := range gd[o : o+seg] {
				gx[i+j] += v
			}
		})
	})
	return out
}

// Upsample2x is nearest-neighbour ×2 upsampling.
func (g *Graph) Upsample2x(x *Var) *Var {
	n, h, w, c := nhwc("Upsample2x", x)
	return g.spatialMap(x, []int{n, 2 * h, 2 * w, c}, c, func(oy, ox, _ int) (int, int, int) {
		return oy / 2, ox / 2, 0
	})
}

// PixelShuffle moves channels to space: [N,H,W,C·r²] → [N,H·r,W·r,C], with
// torch's channel order (input channel c·r² + i·r + j goes to offset (i, j)).
func (g *Graph) PixelShuffle(x *Var, r int) *Var {
	n, h, w, c := nhwc("PixelShuffle", x)
	if c%(r*r) != 0 {
		panic(fmt.Sprintf("nn.PixelShuffle: %d channels not divisible by r²=%d", c, r*r))
	}
	co := c / (r * r)
	return g.spatialMap(x, []int{n, h * r, w * r, co}, 1, func(oy, ox, oc int) (int, int, int) {
		return oy / r, ox / r, oc*r*r + (oy%r)*r + ox%r
	})
}

// PixelUnshuffle is PixelShuffle's inverse: [N,H·r,W·r,C] → [N,H,W,C·r²].
func (g *Graph) PixelUnshuffle(x *Var, r int) *Var {
	n, h, w, c := nhwc("PixelUnshuffle", x)
	if h%r != 0 || w%r != 0 {
		panic(fmt.Sprintf("nn.PixelUnshuffle: %d×%d not divisible by %d", h, w, r))
	}
	return g.spatialMap(x, []int{n, h / r, w / r, c * r * r}, 1, func(oy, ox, oc int) (int, int, int) {
		ci, off := oc/(r*r), oc%(r*r)
		return oy*r + off/r, ox*r + off%r, ci
	})
}

// AvgPool2 is 2×2 average pooling at stride 2.
func (g *Graph) AvgPool2(x *Var) *Var {
	n, h, w, c := nhwc("AvgPool2", x)
	if h%2 != 0 || w%2 != 0 {
		panic(fmt.Sprintf("nn.AvgPool2: odd size %d×%d", h, w))
	}
	ho, wo := h/2, w/2
	out := g.newVar([]int{n, ho, wo, c}, x)
	xd, od := x.Value.Data, out.Value.Data
	rows := n * ho
	tensor.Parallel(rows, 4*len(xd), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, oy := r/ho, r%ho
			for ox := 0; ox < wo; ox++ {
				o := od[((b*ho+oy)*wo+ox)*c:][:c]
				p := xd[((b*h+2*oy)*w+2*ox)*c:]
				q := xd[((b*h+2*oy+1)*w+2*ox)*c:]
				for j := range o {
					o[j] = 0.25 * (p[j] + p[c+j] + q[j] + q[c+j])
				}
			}
		}
	})
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		tensor.Parallel(rows, 4*len(xd), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				b, oy := r/ho, r%ho
				for ox := 0; ox < wo; ox++ {
					o := gd[((b*ho+oy)*wo+ox)*c:][:c]
					p := gx[((b*h+2*oy)*w+2*ox)*c:]
					q := gx[((b*h+2*oy+1)*w+2*ox)*c:]
					for j, v := range o {
						v *= 0.25
						p[j] += v
						p[c+j] += v
						q[j] += v
						q[c+j] += v
					}
				}
			}
		})
	})
	return out
}
