package nn

import (
	"fmt"
	"math"

	"facereward/tensor"
)

// MaxPool2D takes the maximum over k×k windows of x [N,H,W,C] at the given
// stride. Padded positions (p) never win, as in TensorFlow's 'same' max
// pooling; a window wholly in the padding is not allowed. The gradient goes
// to the first maximum of each window.
func (g *Graph) MaxPool2D(x *Var, k, stride int, p Pad2D) *Var {
	n, h, w, c := nhwc("MaxPool2D", x)
	ho, wo := pool2DShape("MaxPool2D", h, w, k, stride, p)
	out := g.newVar([]int{n, ho, wo, c}, x)
	xd, od := x.Value.Data, out.Value.Data
	tensor.Parallel(n*ho, n*ho*wo*k*k*c, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bi, oy := r/ho, r%ho
			for ox := range wo {
				o := od[((bi*ho+oy)*wo+ox)*c:][:c]
				for j := range o {
					o[j] = float32(math.Inf(-1))
				}
				eachTap(bi, oy, ox, h, w, k, stride, p, func(pix int) {
					for j, v := range xd[pix*c:][:c] {
						o[j] = max(o[j], v)
					}
				})
			}
		}
	})
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		// Windows overlap when stride < k, so two output pixels may route
		// gradient to one input: split by batch image, not by row.
		tensor.Parallel(n, len(gd)*k*k, func(lo, hi int) {
			for bi := lo; bi < hi; bi++ {
				for oy := range ho {
					for ox := range wo {
						at := ((bi*ho+oy)*wo + ox) * c
						o, gy := od[at:][:c], gd[at:][:c]
						for j := range c {
							done := false
							eachTap(bi, oy, ox, h, w, k, stride, p, func(pix int) {
								if !done && xd[pix*c+j] == o[j] {
									gx[pix*c+j] += gy[j]
									done = true
								}
							})
						}
					}
				}
			}
		})
	})
	return out
}

// AvgPool2D averages k×k windows of x [N,H,W,C] at the given stride. Like
// TensorFlow, padded positions are left out of the average (the divisor is
// the number of real pixels under the window).
func (g *Graph) AvgPool2D(x *Var, k, stride int, p Pad2D) *Var {
	n, h, w, c := nhwc("AvgPool2D", x)
	ho, wo := pool2DShape("AvgPool2D", h, w, k, stride, p)
	out := g.newVar([]int{n, ho, wo, c}, x)
	xd, od := x.Value.Data, out.Value.Data
	count := func(oy, ox int) float32 {
		y0, y1 := max(oy*stride-p.Top, 0), min(oy*stride-p.Top+k, h)
		x0, x1 := max(ox*stride-p.Left, 0), min(ox*stride-p.Left+k, w)
		return float32((y1 - y0) * (x1 - x0))
	}
	tensor.Parallel(n*ho, n*ho*wo*k*k*c, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bi, oy := r/ho, r%ho
			for ox := range wo {
				o := od[((bi*ho+oy)*wo+ox)*c:][:c]
				clear(o)
				eachTap(bi, oy, ox, h, w, k, stride, p, func(pix int) { tensor.VecAddTo(o, xd[pix*c:][:c]) })
				tensor.VecScale(o, 1/count(oy, ox))
			}
		}
	})
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		tensor.Parallel(n, len(gd)*k*k, func(lo, hi int) {
			for bi := lo; bi < hi; bi++ {
				for oy := range ho {
					for ox := range wo {
						gy := gd[((bi*ho+oy)*wo+ox)*c:][:c]
						s := 1 / count(oy, ox)
						eachTap(bi, oy, ox, h, w, k, stride, p, func(pix int) { tensor.VecAxpy(gx[pix*c:][:c], s, gy) })
					}
				}
			}
		})
	})
	return out
}

// pool2DShape checks a pooling's arguments and returns its output size.
func pool2DShape(op string, h, w, k, stride int, p Pad2D) (ho, wo int) {
	p.check(op)
	if k < 1 || stride < 1 || p.Top >= k || p.Bottom >= k || p.Left >= k || p.Right >= k {
		panic(fmt.Sprintf("nn.%s: window %d, stride %d, padding %+v", op, k, stride, p))
	}
	ho, wo = poolOut(h, k, stride, p.Top, p.Bottom), poolOut(w, k, stride, p.Left, p.Right)
	if ho < 1 || wo < 1 {
		panic(fmt.Sprintf("nn.%s: window %d larger than the padded %d×%d input", op, k, h, w))
	}
	return ho, wo
}

// eachTap calls fn with the pixel index (over the batch) of every input
// pixel under output (oy, ox)'s window that is not padding.
func eachTap(bi, oy, ox, h, w, k, stride int, p Pad2D, fn func(pix int)) {
	for ky := range k {
		iy := oy*stride - p.Top + ky
		if iy < 0 || iy >= h {
			continue
		}
		for kx := range k {
			ix := ox*stride - p.Left + kx
			if ix < 0 || ix >= w {
				continue
			}
			fn((bi*h+iy)*w + ix)
		}
	}
}
