package nn

import (
	"fmt"
	"math"

	"facereward/tensor"
)

// Crop returns the h×w window of x [N,H,W,C] whose top-left pixel is row
// y0, column x0: [N,h,w,C].
func (g *Graph) Crop(x *Var, y0, x0, h, w int) *Var {
	n, ih, iw, c := nhwc("Crop", x)
	if y0 < 0 || x0 < 0 || h < 1 || w < 1 || y0+h > ih || x0+w > iw {
		panic(fmt.Sprintf("nn.Crop: window %d×%d at row %d, column %d is not inside x %s",
			h, w, y0, x0, tensor.ShapeString(x.Shape())))
	}
	out := g.newVar([]int{n, h, w, c}, x)
	// Each image's window is h runs of w·c contiguous values.
	in, win := ih*iw*c, h*w*c
	at := (y0*iw + x0) * c
	for b := range n {
		copyCols(out.Value.Data[b*win:], w*c, 0, x.Value.Data[b*in+at:], iw*c, 0, w*c, h, false)
	}
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		for b := range n {
			copyCols(gx[b*in+at:], iw*c, 0, gd[b*win:], w*c, 0, w*c, h, true)
		}
	})
	return out
}

// ResizeBilinear resizes x [N,H,W,C] to [N,oh,ow,C] as TensorFlow.js's
// resizeBilinear with alignCorners=false (tfjs-core 1.7's CPU kernel, the
// resize facenet.Prepare reproduces for its nets): output pixel (r, c)
// samples the source at (r·H/oh, c·W/ow), with no half-pixel offset, unlike
// OpenCV and torch's align_corners=False. The weights and the blend are in
// float64, as that kernel's JavaScript numbers are, so a loss that resizes
// inside the graph feeds the nets what facenet.Prepare would.
func (g *Graph) ResizeBilinear(x *Var, oh, ow int) *Var {
	n, h, w, c := nhwc("ResizeBilinear", x)
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("nn.ResizeBilinear: output size %d×%d of x %s", oh, ow, tensor.ShapeString(x.Shape())))
	}
	ys, xs := bilinearTaps(h, oh), bilinearTaps(w, ow)
	out := g.newVar([]int{n, oh, ow, c}, x)
	xd, od := x.Value.Data, out.Value.Data
	tensor.Parallel(n*oh, 12*len(od), func(lo, hi int) {
		for row := lo; row < hi; row++ {
			bi, ty := row/oh, ys[row%oh]
			p0, p1 := xd[(bi*h+ty.lo)*w*c:][:w*c], xd[(bi*h+ty.hi)*w*c:][:w*c]
			for ox, tx := range xs {
				o := od[(row*ow+ox)*c:][:c]
				for j := range o {
					a, b := float64(p0[tx.lo*c+j]), float64(p0[tx.hi*c+j])
					d, e := float64(p1[tx.lo*c+j]), float64(p1[tx.hi*c+j])
					top := a + (b-a)*tx.frac
					bot := d + (e-d)*tx.frac
					o[j] = float32(top + (bot-top)*ty.frac)
				}
			}
		}
	})
	g.record(out, func() {
		gx, gd := g.grad(x), out.Grad.Data
		// Neighbouring output rows read the same source rows, so the work
		// is split by image to keep goroutines off each other's pixels.
		tensor.Parallel(n, 8*len(gd), func(lo, hi int) {
			for bi := lo; bi < hi; bi++ {
				for oy, ty := range ys {
					q0, q1 := gx[(bi*h+ty.lo)*w*c:][:w*c], gx[(bi*h+ty.hi)*w*c:][:w*c]
					for ox, tx := range xs {
						w00 := float32((1 - tx.frac) * (1 - ty.frac))
						w01 := float32(tx.frac * (1 - ty.frac))
						w10 := float32((1 - tx.frac) * ty.frac)
						w11 := float32(tx.frac * ty.frac)
						for j, v := range gd[((bi*oh+oy)*ow+ox)*c:][:c] {
							q0[tx.lo*c+j] += w00 * v
							q0[tx.hi*c+j] += w01 * v
							q1[tx.lo*c+j] += w10 * v
							q1[tx.hi*c+j] += w11 * v
						}
					}
				}
			}
		})
	})
	return out
}

// bilinearTap is where one output coordinate samples its axis: between
// source indices lo and hi (equal on a sample point or at the far edge), a
// fraction frac of the way to hi.
type bilinearTap struct {
	lo, hi int
	frac   float64
}

// bilinearTaps lists the taps of the out coordinates along an axis of n
// source pixels, each at source position d·n/out.
func bilinearTaps(n, out int) []bilinearTap {
	ratio := float64(n) / float64(out)
	t := make([]bilinearTap, out)
	for d := range t {
		f := ratio * float64(d)
		lo := int(math.Floor(f))
		t[d] = bilinearTap{lo, min(n-1, int(math.Ceil(f))), f - float64(lo)}
	}
	return t
}
