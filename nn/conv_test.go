package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"facereward/tensor"
)

// TestConvInputGradBands checks that the banded input gradient gives the
// bytes of the whole-batch one it replaced (in the openblas build, within
// sameOrNear's tolerance): all columns from one product,
// then folded (refCol2im), added onto a gradient that already holds
// values. The geometries cover the FRM's stride-2 convolutions, images wide
// enough to need several bands, strides above the kernel (rows no tap
// reaches) and non-square kernels.
func TestConvInputGradBands(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct{ n, h, w, cin, cout, kh, kw, stride, pad int }{
		{2, 128, 128, 32, 32, 3, 3, 2, 1},
		{2, 16, 16, 128, 128, 3, 3, 2, 1},
		{1, 41, 261, 3, 5, 3, 3, 2, 1},
		{2, 23, 300, 4, 7, 4, 4, 2, 1},
		{2, 17, 19, 3, 6, 2, 2, 3, 0},
		{1, 9, 700, 2, 20, 1, 3, 1, 1},
	} {
		t.Run(fmt.Sprintf("%+v", s), func(t *testing.T) {
			ho, wo := (s.h+2*s.pad-s.kh)/s.stride+1, (s.w+2*s.pad-s.kw)/s.stride+1
			c := convGeom{s.n, s.h, s.w, s.cin, s.kh, s.kw, s.stride, s.pad, ho, wo}
			gy := randSlice(rng, s.n*ho*wo*s.cout)
			w := randSlice(rng, s.kh*s.kw*s.cin*s.cout)
			got := randSlice(rng, s.n*s.h*s.w*s.cin)
			want := append([]float32(nil), got...)

			convInputGrad(got, gy, w, c, s.cout)

			m, k := s.n*ho*wo, s.kh*s.kw*s.cin
			col := make([]float32, m*k)
			tensor.Gemm(false, true, m, k, s.cout, 1, gy, s.cout, w, s.cout, 0, col, k)
			refCol2im(want, col, c)
			scale := maxAbs(want)
			for i := range want {
				if !sameOrNear(got[i], want[i], s.kh*s.kw*s.cout, scale) {
					t.Fatalf("gx[%d] = %v, want %v (bytes differ)", i, got[i], want[i])
				}
			}
		})
	}
}

// sameOrNear reports whether got has want's bytes or, in the openblas
// build, lies within 1e-5·√(k+1)·scale of it (k the terms summed, scale
// the output's largest magnitude): OpenBLAS picks its kernels by a
// product's shape, so a product split into bands or batches may round
// differently there, as tensor's TestGemmRowsIndependentOfM states.
func sameOrNear(got, want float32, k int, scale float64) bool {
	if math.Float32bits(got) == math.Float32bits(want) {
		return true
	}
	return tensor.GemmBackend() == "openblas" && math.Abs(float64(got-want)) <= 1e-5*math.Sqrt(float64(k+1))*scale
}

func maxAbs(x []float32) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

// refCol2im is the whole-batch fold convInputGrad replaced: for every
// input pixel, the column gradients of every tap that read it, in kernel
// order.
func refCol2im(gx, gcol []float32, c convGeom) {
	k := c.kh * c.kw * c.cin
	for r := range c.n * c.h {
		n, iy := r/c.h, r%c.h
		for ky := range c.kh {
			ty := iy + c.pad - ky
			if ty < 0 || ty%c.stride != 0 || ty/c.stride >= c.ho {
				continue
			}
			oy := ty / c.stride
			for ix := range c.w {
				dst := gx[((n*c.h+iy)*c.w+ix)*c.cin:][:c.cin]
				for kx := range c.kw {
					tx := ix + c.pad - kx
					if tx < 0 || tx%c.stride != 0 || tx/c.stride >= c.wo {
						continue
					}
					src := gcol[((n*c.ho+oy)*c.wo+tx/c.stride)*k+(ky*c.kw+kx)*c.cin:][:c.cin]
					for i, v := range src {
						dst[i] += v
					}
				}
			}
		}
	}
}

// TestIm2colMatchesDefinition checks im2col against the definition of a
// column, value by value, on chunks that start mid-row and mid-image, for
// strides and kernels whose rows are copied whole inside the image and
// pixel by pixel at its border, and for negative padding.
func TestIm2colMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range []struct{ n, h, w, cin, kh, kw, stride, pad int }{
		{2, 9, 11, 3, 3, 3, 1, 1},
		{2, 12, 10, 32, 3, 3, 2, 1},
		{1, 13, 9, 4, 4, 2, 3, 2},
		{2, 7, 8, 5, 1, 1, 1, 0},
		{1, 8, 9, 2, 3, 3, 1, -1}, // the flipped backward convolution of a wide padding crops
		{3, 2, 2, 3, 3, 3, 1, 1},  // no pixel whose kernel row is all inside
		{2, 6, 5, 3, 3, 3, 2, 2},
	} {
		ho, wo := (s.h+2*s.pad-s.kh)/s.stride+1, (s.w+2*s.pad-s.kw)/s.stride+1
		c := convGeom{s.n, s.h, s.w, s.cin, s.kh, s.kw, s.stride, s.pad, ho, wo}
		x := randSlice(rng, s.n*s.h*s.w*s.cin)
		k, m := s.kh*s.kw*s.cin, s.n*ho*wo
		for _, r0 := range []int{0, wo / 2, ho*wo - 1, m - 3} {
			r1 := min(m, r0+wo*ho/2+5)
			col := randSlice(rng, (r1-r0)*k) // garbage im2col must overwrite
			im2col(col, x, c, r0, r1)
			for r := r0; r < r1; r++ {
				n, oy, ox := r/(ho*wo), r/wo%ho, r%wo
				for j := range k {
					ky, kx, ci := j/(s.kw*s.cin), j/s.cin%s.kw, j%s.cin
					iy, ix := oy*s.stride-s.pad+ky, ox*s.stride-s.pad+kx
					var want float32
					if iy >= 0 && iy < s.h && ix >= 0 && ix < s.w {
						want = x[((n*s.h+iy)*s.w+ix)*s.cin+ci]
					}
					if got := col[(r-r0)*k+j]; got != want {
						t.Fatalf("%+v rows [%d,%d): col[%d][%d] = %v, want %v", s, r0, r1, r, j, got, want)
					}
				}
			}
		}
	}
}

// TestFlipKernel checks flipKernel against its definition on a kernel
// large enough to be split over the cores, and not square.
func TestFlipKernel(t *testing.T) {
	const kh, kw, cin, cout = 3, 2, 50, 40
	w := randSlice(rand.New(rand.NewPCG(7, 8)), kh*kw*cin*cout)
	wf := make([]float32, len(w))
	flipKernel(wf, w, kh, kw, cin, cout)
	for ky := range kh {
		for kx := range kw {
			for co := range cout {
				for ci := range cin {
					got := wf[((ky*kw+kx)*cout+co)*cin+ci]
					if want := w[(((kh-1-ky)*kw+kw-1-kx)*cin+ci)*cout+co]; got != want {
						t.Fatalf("wf[%d,%d,%d,%d] = %v, want %v", ky, kx, co, ci, got, want)
					}
				}
			}
		}
	}
}
