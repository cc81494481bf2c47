package nn

import (
	"fmt"

	"facereward/tensor"
)

// DepthwiseConv2D convolves every channel of x [N,H,W,C] with its own
// kh×kw kernel, w [kh,kw,C] (TF.js stores it as [kh,kw,C,1]; the trailing
// channel multiplier of 1 is dropped), plus bias b [C] (may be nil), at the
// given stride after zero padding p. This is the first half of a
// depthwise-separable convolution; the pointwise half is a 1×1 Conv2D.
//
// There is no GEMM to hand this to (each output value reads only kh·kw
// inputs), so the loops run over pixels with the channel axis innermost,
// which is contiguous in NHWC for input, kernel tap and output alike.
func (g *Graph) DepthwiseConv2D(x, w, b *Var, stride int, p Pad2D) *Var {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 3 || ws[2] != xs[3] {
		shapeErr("DepthwiseConv2D", xs, ws, "want x [N,H,W,C] and w [kh,kw,C]")
	}
	if b != nil && (len(b.Shape()) != 1 || b.Shape()[0] != xs[3]) {
		shapeErr("DepthwiseConv2D", xs, b.Shape(), "bias must be [C]")
	}
	if stride < 1 {
		panic(fmt.Sprintf("nn.DepthwiseConv2D: stride %d", stride))
	}
	p.check("DepthwiseConv2D")
	n, h, wd, c := xs[0], xs[1], xs[2], xs[3]
	kh, kw := ws[0], ws[1]
	ho, wo := poolOut(h, kh, stride, p.Top, p.Bottom), poolOut(wd, kw, stride, p.Left, p.Right)
	if ho < 1 || wo < 1 {
		shapeErr("DepthwiseConv2D", xs, ws, "kernel larger than the padded input")
	}
	out := g.newVar([]int{n, ho, wo, c}, x, w, b)
	xd, wdat, od := x.Value.Data, w.Value.Data, out.Value.Data
	work := 2 * n * ho * wo * kh * kw * c

	if stride == 1 {
		depthwiseRows(od, xd, wdat, b, n, h, wd, c, kh, kw, ho, wo, p)
	} else {
		tensor.Parallel(n*ho, work, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				bi, oy := r/ho, r%ho
				for ox := range wo {
					o := od[((bi*ho+oy)*wo+ox)*c:][:c]
					if b != nil {
						copy(o, b.Value.Data)
					} else {
						clear(o)
					}
					for ky := range kh {
						iy := oy*stride - p.Top + ky
						if iy < 0 || iy >= h {
							continue
						}
						for kx := range kw {
							ix := ox*stride - p.Left + kx
							if ix < 0 || ix >= wd {
								continue
							}
							tensor.VecMulAdd(o, wdat[(ky*kw+kx)*c:][:c], xd[((bi*h+iy)*wd+ix)*c:][:c], o)
						}
					}
				}
			}
		})
	}

	g.record(out, func() {
		gd := out.Grad.Data
		if b != nil && b.NeedGrad {
			sumRows(g.grad(b), gd, c)
		}
		if w.NeedGrad {
			depthwiseWeightGrad(g.grad(w), xd, gd, n, h, wd, c, kh, kw, ho, wo, stride, p)
		}
		if !x.NeedGrad {
			return
		}
		// Gather per input row, so that goroutines never write the same
		// pixel: input (iy, ix) received tap (ky, kx) from output
		// ((iy+Top−ky)/stride, …) when that division is exact.
		gx := g.grad(x)
		tensor.Parallel(n*h, work, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				bi, iy := r/h, r%h
				for ix := range wd {
					dst := gx[((bi*h+iy)*wd+ix)*c:][:c]
					for ky := range kh {
						ty := iy + p.Top - ky
						if ty < 0 || ty%stride != 0 || ty/stride >= ho {
							continue
						}
						oy := ty / stride
						for kx := range kw {
							tx := ix + p.Left - kx
							if tx < 0 || tx%stride != 0 || tx/stride >= wo {
								continue
							}
							ox := tx / stride
							tensor.VecMulAdd(dst, wdat[(ky*kw+kx)*c:][:c], gd[((bi*ho+oy)*wo+ox)*c:][:c], dst)
						}
					}
				}
			}
		})
	})
	return out
}

// depthwiseRows is the stride-1 forward pass a whole output row at a time.
// At stride 1 the input pixels under one kernel tap for consecutive output
// pixels are adjacent, so each tap is one long multiply-add of the row
// against a slice of an input row, with the tap's C weights tiled along the
// row. With the few channels of the face nets (32–256), one short vector
// call per pixel and tap spent more time in calls than in arithmetic.
func depthwiseRows(od, xd, w []float32, b *Var, n, h, wd, c, kh, kw, ho, wo int, p Pad2D) {
	row := wo * c
	tiled := scratch(kh * kw * row)
	defer colPool.Put(tiled)
	for t := range kh * kw {
		fillRows((*tiled)[t*row:][:row], w[t*c:][:c], c)
	}
	tensor.Parallel(n*ho, 2*n*ho*row*kh*kw, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bi, oy := r/ho, r%ho
			o := od[r*row:][:row]
			if b != nil {
				fillRows(o, b.Value.Data, c)
			} else {
				clear(o)
			}
			for ky := range kh {
				iy := oy - p.Top + ky
				if iy < 0 || iy >= h {
					continue
				}
				for kx := range kw {
					// Output pixels whose tap (ky, kx) lands inside the input.
					ox0, ox1 := max(0, p.Left-kx), min(wo, wd+p.Left-kx)
					if ox0 >= ox1 {
						continue
					}
					seg := o[ox0*c : ox1*c]
					ix0 := ox0 - p.Left + kx
					tw := (*tiled)[(ky*kw+kx)*row:][ox0*c : ox1*c]
					tensor.VecMulAdd(seg, tw, xd[((bi*h+iy)*wd+ix0)*c:][:len(seg)], seg)
				}
			}
		}
	})
}

// depthwiseWeightGrad adds Σ x·gy over every output pixel into gw
// [kh,kw,C]; groups of rows sum into their own copies, merged in a fixed
// order (orderedPartials).
func depthwiseWeightGrad(gw, x, gy []float32, n, h, wd, c, kh, kw, ho, wo, stride int, p Pad2D) {
	orderedPartials(n*ho, len(gw), 2*n*ho*wo*kh*kw*c, func(lo, hi int, part []float32) {
		for r := lo; r < hi; r++ {
			bi, oy := r/ho, r%ho
			for ox := range wo {
				o := gy[((bi*ho+oy)*wo+ox)*c:][:c]
				for ky := range kh {
					iy := oy*stride - p.Top + ky
					if iy < 0 || iy >= h {
						continue
					}
					for kx := range kw {
						ix := ox*stride - p.Left + kx
						if ix < 0 || ix >= wd {
							continue
						}
						t := part[(ky*kw+kx)*c:][:c]
						tensor.VecMulAdd(t, o, x[((bi*h+iy)*wd+ix)*c:][:c], t)
					}
				}
			}
		}
	}, func(part []float32) { tensor.VecAddTo(gw, part) })
}
