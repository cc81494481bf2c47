package nn

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// directConv is a float64 reference: out[n,y,x,co] = bias[co] +
// Σ x[n, y−pad+ky, x−pad+kx, ci]·w[ky,kx,ci,co], zeros outside the image.
func directConv(x, w, bias []float32, c convGeom, cout int) []float64 {
	out := make([]float64, c.n*c.ho*c.wo*cout)
	for n := range c.n {
		for oy := range c.ho {
			for ox := range c.wo {
				o := out[((n*c.ho+oy)*c.wo+ox)*cout:][:cout]
				for co := range o {
					if bias != nil {
						o[co] = float64(bias[co])
					}
				}
				for ky := range c.kh {
					iy := oy - c.pad + ky
					for kx := range c.kw {
						ix := ox - c.pad + kx
						if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w {
							continue
						}
						for ci := range c.cin {
							xv := float64(x[((n*c.h+iy)*c.w+ix)*c.cin+ci])
							wr := w[((ky*c.kw+kx)*c.cin+ci)*cout:][:cout]
							for co, wv := range wr {
								o[co] += xv * float64(wv)
							}
						}
					}
				}
			}
		}
	}
	return out
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// TestWinogradMatchesDirect checks convForward on shapes that take the
// Winograd path and, below the channel threshold, the im2col one, against
// the float64 reference. Inputs and weights are N(0,1), so an output is a
// sum of 9·Cin products and of size √(9·Cin). Winograd's float32 rounding
// grows with that sum like the direct one's, plus its transforms' (Bᵀ d B
// adds up to 4 inputs per value, Aᵀ m A up to 9 products per output, G
// halves): measured at most 2.0e-6 of √(9·Cin), against 1.4e-6 for im2col.
// The tolerance, 1e-5 of it (about 80 float32 ulps of an output), leaves
// room for other GEMM kernels' orders, while a wrong coefficient, index or
// padding gives errors of the order of the output itself.
func TestWinogradMatchesDirect(t *testing.T) {
	winogradFrom(t, winogradMinChannels)
	rng := rand.New(rand.NewPCG(7, 8))
	const mc = winogradMinChannels
	for _, s := range []struct{ n, h, w, cin, cout, pad int }{
		{1, 5, 7, mc, mc, 1},
		{3, 8, 8, mc, mc + 16, 1},
		{1, 9, 6, mc + 16, mc + 3, 0},
		{3, 7, 5, mc + 8, mc + 1, 2},
		{1, 1, 1, mc, mc, 1},
		{3, 6, 9, 2 * mc, mc, 1},
		{1, 9, 9, 4 * mc, 64, 1},
		{2, 7, 8, mc - 1, mc, 1},
		{1, 6, 5, mc, mc - 1, 1},
		{1, 6, 5, 12, 32, 1},
		{2, 5, 6, mc, 2*mc + 5, 1},
		{1, 5, 5, 4 * mc, 4*mc + 1, 1},
	} {
		for _, accumulate := range []bool{false, true} {
			for _, withBias := range []bool{false, true} {
				if accumulate && withBias {
					continue // convForward's contract: bias is nil when accumulating
				}
				name := fmt.Sprintf("%dx%dx%dx%d->%d/pad%d/acc%v/bias%v", s.n, s.h, s.w, s.cin, s.cout, s.pad, accumulate, withBias)
				ho, wo := s.h+2*s.pad-2, s.w+2*s.pad-2
				c := convGeom{s.n, s.h, s.w, s.cin, 3, 3, 1, s.pad, ho, wo}
				wino := useWinograd(c, s.cout)
				if want := s.cin >= winogradMinChannels && s.cout >= winogradMinChannels; wino != want {
					t.Fatalf("%s: useWinograd %v, want %v", name, wino, want)
				}
				x := randSlice(rng, s.n*s.h*s.w*s.cin)
				w := randSlice(rng, 9*s.cin*s.cout)
				var bias []float32
				if withBias {
					bias = randSlice(rng, s.cout)
				}
				out := make([]float32, s.n*ho*wo*s.cout)
				var prior []float32
				if accumulate {
					prior = randSlice(rng, len(out))
					copy(out, prior)
				}
				convForward(out, x, w, bias, c, s.cout, accumulate)
				ref := directConv(x, w, bias, c, s.cout)
				scale := math.Sqrt(9 * float64(s.cin))
				var maxErr float64
				for i, v := range out {
					r := ref[i]
					if accumulate {
						r += float64(prior[i])
					}
					maxErr = max(maxErr, math.Abs(float64(v)-r))
				}
				if tol := 1e-5 * scale; maxErr > tol || math.IsNaN(maxErr) {
					t.Errorf("%s (winograd %v): max abs error %.3g > %.3g", name, wino, maxErr, tol)
				}
				t.Logf("%s (winograd %v): max abs error %.3g, %.3g of scale", name, wino, maxErr, maxErr/scale)
			}
		}
	}
}

// TestWinogradBatchIndependent checks that an image's output bytes are the
// same alone as in a batch of three, for several chunkings of the tiles
// (in the openblas build, within sameOrNear's tolerance).
func TestWinogradBatchIndependent(t *testing.T) {
	winogradFrom(t, winogradMinChannels)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range []struct{ h, w, cin, cout int }{{11, 13, 48, 48}, {32, 32, 96, 96}, {5, 5, 64, 48}} {
		c := convGeom{3, s.h, s.w, s.cin, 3, 3, 1, 1, s.h, s.w}
		if !useWinograd(c, s.cout) {
			t.Fatalf("%v does not take the Winograd path", s)
		}
		x := randSlice(rng, 3*s.h*s.w*s.cin)
		w := randSlice(rng, 9*s.cin*s.cout)
		bias := randSlice(rng, s.cout)
		all := make([]float32, 3*s.h*s.w*s.cout)
		convForward(all, x, w, bias, c, s.cout, false)
		one := c
		one.n = 1
		per := s.h * s.w
		for i := range 3 {
			alone := make([]float32, per*s.cout)
			convForward(alone, x[i*per*s.cin:][:per*s.cin], w, bias, one, s.cout, false)
			got := all[i*per*s.cout:][:per*s.cout]
			scale := maxAbs(alone)
			for j := range alone {
				if !sameOrNear(got[j], alone[j], 9*s.cin, scale) {
					t.Fatalf("%v image %d: output %d is %v alone, %v in the batch", s, i, j, alone[j], got[j])
				}
			}
		}
		if slices.Equal(all[:per*s.cout], all[per*s.cout:2*per*s.cout]) {
			t.Fatalf("%v: images 0 and 1 give the same output", s)
		}
	}
}

// TestWinogradConv2DGrad runs Conv2D forward and backward with and without
// Winograd at paddings 0, 1 and 2, whose input gradients are convolutions
// padded by 2, 1 and 0: output and input gradient must agree within the
// tolerance of TestWinogradMatchesDirect (the weight and bias gradients do
// not go through convForward and must be equal).
func TestWinogradConv2DGrad(t *testing.T) {
	winogradFrom(t, winogradMinChannels)
	run := func(off bool, pad int) (out, gx, gw, gb []float32) {
		winogradOff = off
		defer func() { winogradOff = false }()
		x := Input(randTensor(1, 2, 7, 6, winogradMinChannels))
		w := Input(randTensor(2, 3, 3, winogradMinChannels, winogradMinChannels+8))
		b := Input(randTensor(3, winogradMinChannels+8))
		g := NewGraph()
		y := g.Conv2D(x, w, b, 1, pad)
		g.Backward(g.Sum(g.Mul(y, Constant(randTensor(4, y.Shape()...)))))
		return slices.Clone(y.Value.Data), x.Grad.Data, w.Grad.Data, b.Grad.Data
	}
	scale := math.Sqrt(9 * winogradMinChannels)
	for pad := range 3 {
		o0, x0, w0, b0 := run(true, pad)
		o1, x1, w1, b1 := run(false, pad)
		for _, p := range []struct {
			name     string
			ref, got []float32
			tol      float64
		}{{"output", o0, o1, 1e-5 * scale}, {"input gradient", x0, x1, 1e-5 * scale}, {"weight gradient", w0, w1, 0}, {"bias gradient", b0, b1, 0}} {
			var maxErr float64
			for i, v := range p.got {
				maxErr = max(maxErr, math.Abs(float64(v)-float64(p.ref[i])))
			}
			if maxErr > p.tol || math.IsNaN(maxErr) {
				t.Errorf("pad %d: %s differs from im2col's by %.3g > %.3g", pad, p.name, maxErr, p.tol)
			}
		}
	}
}

// TestCacheKernels checks that a graph caching its kernels gives the bytes
// of one that does not, pass after pass, and that the cache never outlives
// a weight change it is told of: a pass with gradients recorded (an
// optimiser may step after it) drops the cache, so the next pass without
// gradients sees the new weights. A weight computed in the graph (here
// w·1, a fresh value each pass) is never cached.
func TestCacheKernels(t *testing.T) {
	winogradFrom(t, winogradMinChannels)
	const cin, cout = winogradMinChannels, 2*winogradMinChannels + 5 // two panels, the second partly padding
	x := Constant(randTensor(1, 2, 7, 6, cin))
	w := Input(randTensor(2, 3, 3, cin, cout))
	b := Input(randTensor(3, cout))
	uncached := func() []byte {
		g := NewGraph()
		g.NoGrad = true
		return floatBytes(g.Conv2D(x, w, b, 1, 1).Value.Data)
	}
	g := NewGraph()
	g.CacheKernels()
	g.NoGrad = true
	pass := func(name string) {
		t.Helper()
		want := uncached()
		if got := floatBytes(g.Conv2D(x, w, b, 1, 1).Value.Data); !bytes.Equal(got, want) {
			t.Errorf("%s: cached convolution differs from the uncached one", name)
		}
		g.Reset()
	}
	pass("first pass")
	pass("second pass")
	if len(g.kernels) != 1 {
		t.Fatalf("%d kernels cached after two passes over one weight, want 1", len(g.kernels))
	}

	g.NoGrad = false
	y := g.Conv2D(x, w, b, 1, 1)
	g.Backward(g.Sum(y))
	g.Reset()
	for i, d := range w.Grad.Data {
		w.Value.Data[i] -= 0.1 * d // the optimiser's step
	}
	g.NoGrad = true
	pass("pass after a training step")

	g.Conv2D(x, g.Scale(w, 1), b, 1, 1)
	g.Reset()
	if len(g.kernels) != 1 {
		t.Errorf("%d kernels cached after a convolution by a computed weight, want 1", len(g.kernels))
	}
}

func floatBytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

// winogradFrom sets the Winograd threshold to min channels for the rest of
// the test: the tests of the path run it from winogradMinChannels whatever
// the process's kernel.
func winogradFrom(t *testing.T, min int) {
	old := winogradMin
	winogradMin = min
	t.Cleanup(func() { winogradMin = old })
}

// The SSE2 kernel takes Winograd only from 128 channels, where it measured
// faster; the others from 48.
func TestWinogradThresholdPerKernel(t *testing.T) {
	geo := func(ch int) convGeom { return convGeom{8, 32, 32, ch, 3, 3, 1, 1, 32, 32} }
	for _, k := range []struct {
		kernel   string
		from, to int // the first width taking Winograd, and one below it
	}{{"sse", 128, 96}, {"avx512", 48, 32}, {"avx2", 48, 32}, {"scalar", 48, 32}, {"openblas", 48, 32}} {
		winogradFrom(t, winogradMinFor(k.kernel))
		if !useWinograd(geo(k.from), k.from) || useWinograd(geo(k.to), k.to) || useWinograd(geo(k.from), k.to) {
			t.Errorf("%s: Winograd at %d channels %v, at %d %v (want from %d only)", k.kernel,
				k.from, useWinograd(geo(k.from), k.from), k.to, useWinograd(geo(k.to), k.to), k.from)
		}
	}
}
