package nn

import (
	"fmt"

	"facereward/tensor"
)

// Pad2D is a spatial zero padding with its four sides given separately:
// TensorFlow's 'same' padding puts the odd pixel at the bottom/right, which
// a single symmetric amount cannot express.
type Pad2D struct {
	Top, Bottom, Left, Right int
}

// SamePadding is TensorFlow's 'same' padding for a kh×kw window at the given
// stride over an h×w input: the output is ceil(in/stride) and the padding
// that needs is split with the smaller half at the top/left.
func SamePadding(h, w, kh, kw, stride int) Pad2D {
	side := func(in, k int) (int, int) {
		out := (in + stride - 1) / stride
		total := max((out-1)*stride+k-in, 0)
		return total / 2, total - total/2
	}
	var p Pad2D
	p.Top, p.Bottom = side(h, kh)
	p.Left, p.Right = side(w, kw)
	return p
}

func (p Pad2D) check(op string) {
	if p.Top < 0 || p.Bottom < 0 || p.Left < 0 || p.Right < 0 {
		panic(fmt.Sprintf("nn.%s: negative padding %+v", op, p))
	}
}

// poolOut is the output length of a window of k at stride s over in pixels
// padded by a and b.
func poolOut(in, k, s, a, b int) int { return (in+a+b-k)/s + 1 }

// ZeroPad pads x [N,H,W,C] with zeros on each side by the amounts in p.
func (g *Graph) ZeroPad(x *Var, p Pad2D) *Var {
	n, h, w, c := nhwc("ZeroPad", x)
	p.check("ZeroPad")
	ho, wo := h+p.Top+p.Bottom, w+p.Left+p.Right
	out := g.newVar([]int{n, ho, wo, c}, x)
	xd, od := x.Value.Data, out.Value.Data
	rows := n * ho
	tensor.Parallel(rows, len(od), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, oy := r/ho, r%ho
			dst := od[r*wo*c:][:wo*c]
			iy := oy - p.Top
			if iy < 0 || iy >= h {
				clear(dst)
				continue
			}
			clear(dst[:p.Left*c])
			copy(dst[p.Left*c:], xd[(b*h+iy)*w*c:][:w*c])
			clear(dst[(p.Left+w)*c:])
		}
	})
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		rows := n * h
		tensor.Parallel(rows, len(gx), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				b, iy := r/h, r%h
				src := gd[((b*ho+iy+p.Top)*wo+p.Left)*c:][:w*c]
				tensor.VecAddTo(gx[r*w*c:][:w*c], src)
			}
		})
	})
	return out
}
