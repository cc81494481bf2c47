package nn

import (
	"fmt"

	"facereward/tensor"
)

// waveletTaps is one axis of the à-trous blur kernel; the 3×3 kernel
// [[1,2,1],[2,4,2],[1,2,1]]/16 is its outer product, and every product of
// two taps is a power of two, so the 2-D weights are exact in float32.
var waveletTaps = [3]float32{0.25, 0.5, 0.25}

// WaveletLowpass returns the low-frequency band of the à-trous (stationary)
// wavelet decomposition of x [N,H,W,C], as StableSR/DiffBIR's
// wavelet_decomposition computes it: levels successive blurs of every
// channel, level i at dilation 2^i with replicate (edge-clamp) padding.
// ReFL's structural-consistency loss compares these bands.
//
// The transform is linear, so the backward pass keeps no activations: it
// applies the adjoint of each level in reverse order.
func (g *Graph) WaveletLowpass(x *Var, levels int) *Var {
	n, h, w, c := nhwc("WaveletLowpass", x)
	if levels < 1 {
		panic(fmt.Sprintf("nn.WaveletLowpass: levels %d, want at least 1", levels))
	}
	out := g.newVar(x.Shape(), x)
	size := len(out.Value.Data)
	// Levels ping-pong between two temporaries; level i reads bufs[i] and
	// writes bufs[i+1], the first being x and the last out.
	bufs := make([][]float32, levels+1)
	bufs[0], bufs[levels] = x.Value.Data, out.Value.Data
	for i := 1; i < levels; i++ {
		bufs[i] = g.Scratch(size)
	}
	for i := range levels {
		waveletBlur(bufs[i+1], bufs[i], n, h, w, c, 1<<i)
	}

	g.record(out, func() {
		grads := make([][]float32, levels+1)
		grads[0], grads[levels] = g.grad(x), out.Grad.Data
		for i := levels - 1; i >= 0; i-- {
			if i > 0 {
				grads[i] = g.Scratch(size)
			}
			waveletBlurAdjoint(grads[i], grads[i+1], n, h, w, c, 1<<i)
		}
	})
	return out
}

// waveletBlur writes into dst one blur level of src at dilation r.
// Clamping the tap coordinates is replicate padding by r.
func waveletBlur(dst, src []float32, n, h, w, c, r int) {
	tensor.Parallel(n*h, 18*n*h*w*c, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			bi, oy := row/h, row%h
			for ox := range w {
				o := dst[((bi*h+oy)*w+ox)*c:][:c]
				clear(o)
				for ky, wy := range waveletTaps {
					iy := clampIndex(oy+(ky-1)*r, h)
					for kx, wx := range waveletTaps {
						ix := clampIndex(ox+(kx-1)*r, w)
						tensor.VecAxpy(o, wy*wx, src[((bi*h+iy)*w+ix)*c:][:c])
					}
				}
			}
		}
	})
}

// waveletBlurAdjoint adds into gsrc the gradient that flows back from gdst
// through one blur level. A clamped tap scatters onto the edge pixel it
// read, and clamping sends many outputs to the same pixel, so the work is
// split by image, never by row, to keep goroutines off each other's pixels.
func waveletBlurAdjoint(gsrc, gdst []float32, n, h, w, c, r int) {
	tensor.Parallel(n, 18*n*h*w*c, func(lo, hi int) {
		for bi := lo; bi < hi; bi++ {
			for oy := range h {
				for ox := range w {
					gd := gdst[((bi*h+oy)*w+ox)*c:][:c]
					for ky, wy := range waveletTaps {
						iy := clampIndex(oy+(ky-1)*r, h)
						for kx, wx := range waveletTaps {
							ix := clampIndex(ox+(kx-1)*r, w)
							tensor.VecAxpy(gsrc[((bi*h+iy)*w+ix)*c:][:c], wy*wx, gd)
						}
					}
				}
			}
		}
	})
}

// clampIndex clamps i to [0, size).
func clampIndex(i, size int) int { return min(max(i, 0), size-1) }
