package metrics

import (
	"math"
	"sort"
	"sync"
)

// Natural-scene-statistics building blocks shared by BRISQUE and NIQE:
// the local mean/contrast normalisation (MSCN) and the (asymmetric)
// generalised Gaussian fits.

// gray32 is a single-channel float32 image.
type gray32 struct {
	h, w int
	v    []float32
}

// gaussKernel32 is cv::getGaussianKernel(n, sigma, CV_32F): computed in
// float64, normalised, then rounded to float32.
func gaussKernel32(n int, sigma float64) []float32 {
	k64 := gaussianTaps(n, sigma)
	k := make([]float32, n)
	for i, v := range k64 {
		k[i] = float32(v)
	}
	return k
}

// mscnKernel is BRISQUE's and NIQE's 7×7 Gaussian, σ = 7/6.
var mscnKernel = gaussKernel32(7, 7.0/6)

// blurReplicate is cv::GaussianBlur on float32 with BORDER_REPLICATE and the
// symmetric separable kernel k, rounding as OpenCV's AVX2 code path does on
// an FMA machine: a row pass of fused multiply-adds over the taps left to
// right, then a column pass that adds each symmetric pair of rows and fuses
// it in, outwards from the centre. Plain multiply-then-add changes exact
// zeros of the local variance on flat areas, which moves BRISQUE by >1.
func blurReplicate(dst, src gray32, k []float32, rows []float32) {
	r := len(k) / 2
	h, w := src.h, src.w
	for y := 0; y < h; y++ {
		in := src.v[y*w : (y+1)*w]
		out := rows[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			var s float32
			if x >= r && x+r < w {
				p := in[x-r:]
				for i, kv := range k {
					s = fma32(p[i], kv, s)
				}
			} else {
				for i, kv := range k {
					s = fma32(in[clampInt(x-r+i, w)], kv, s)
				}
			}
			out[x] = s
		}
	}
	for y := 0; y < h; y++ {
		out := dst.v[y*w : (y+1)*w]
		c := rows[y*w:]
		for x := 0; x < w; x++ {
			s := k[r] * c[x]
			for i := 1; i <= r; i++ {
				s = fma32(rows[clampInt(y+i, h)*w+x]+rows[clampInt(y-i, h)*w+x], k[r+i], s)
			}
			out[x] = s
		}
	}
}

// fma32 is a·b + c rounded once to float32. The float64 product of two
// float32 values is exact, so only the sum rounds (then to float32; the
// double rounding differs from a true float32 FMA only on exact ties).
func fma32(a, b, c float32) float32 {
	return float32(float64(a)*float64(b) + float64(c))
}

func clampInt(p, n int) int {
	if p < 0 {
		return 0
	}
	if p >= n {
		return n - 1
	}
	return p
}

// gammaTable lists the shape search of OpenCV's AGGDfit: γ from 0.2 while
// below 10, adding 0.001 in float64 each step, so the grid is decimal to
// ~1e-13 (OpenCV reports 1.204, not a float32-accumulated 1.2050004) and
// ends just under 10 (reported as 10 for an all-NaN fit), with
// r(γ) = Γ(2/γ)² / (Γ(1/γ) Γ(3/γ)).
var gammaTable = sync.OnceValues(func() ([]float64, []float64) {
	var gams, r []float64
	for g := 0.2; g < 10; g += 0.001 {
		gams = append(gams, g)
		r = append(r, math.Gamma(2/g)*math.Gamma(2/g)/(math.Gamma(1/g)*math.Gamma(3/g)))
	}
	return gams, r
})

// aggd holds an asymmetric generalised Gaussian fit.
type aggd struct {
	gamma          float64 // shape
	lsigma, rsigma float64 // left (negative side) and right standard deviations
}

// moments are the sums an AGGD fit needs. NaN and exact zeros count on
// neither side but do count in n, as in both reference implementations.
type moments struct {
	posSq, negSq, absSum float64
	pos, neg, n          int
}

func (m *moments) add(p float64) {
	m.n++
	if p > 0 {
		m.pos++
		m.posSq += p * p
		m.absSum += p
	} else if p < 0 {
		m.neg++
		m.negSq += p * p
		m.absSum -= p
	}
}

// fit estimates the shape from the moments: with firstMin, OpenCV
// quality's AGGDfit (stop at the first increase of |r(γ) − r̂|); otherwise
// the global minimum, as Mittal's MATLAB estimateaggdparam does.
func (m moments) fit(firstMin bool) aggd {
	var a aggd
	a.lsigma = math.Sqrt(m.negSq / float64(m.neg))
	a.rsigma = math.Sqrt(m.posSq / float64(m.pos))
	gh := a.lsigma / a.rsigma
	total := float64(m.n)
	rhat := (m.absSum / total) * (m.absSum / total) / ((m.negSq + m.posSq) / total)
	rnorm := rhat * (gh*gh*gh + 1) * (gh + 1) / ((gh*gh + 1) * (gh*gh + 1))
	gams, r := gammaTable()
	if !firstMin {
		// r(γ) increases strictly along the grid (TestGammaTableMonotonic),
		// so the global minimum is next to where r̂ would be inserted.
		i := sort.SearchFloat64s(r, rnorm)
		best := min(i, len(r)-1)
		if i > 0 && math.Abs(r[i-1]-rnorm) <= math.Abs(r[best]-rnorm) {
			best = i - 1
		}
		a.gamma = gams[best]
		return a
	}
	prevDiff := 1e10
	for i, g := range gams {
		d := math.Abs(r[i] - rnorm)
		if d > prevDiff {
			break
		}
		prevDiff = d
		a.gamma = g
	}
	return a
}

// meanParam is the AGGD's mean up to the scale factor OpenCV includes:
// (rσ − lσ)·Γ(2/γ)/Γ(1/γ)·√(Γ(1/γ)/Γ(3/γ)).
func (a aggd) meanParam() float64 {
	g := a.gamma
	return (a.rsigma - a.lsigma) * (math.Gamma(2/g) / math.Gamma(1/g)) * math.Sqrt(math.Gamma(1/g)/math.Gamma(3/g))
}

// fitAGGD is OpenCV quality's AGGDfit on float32 data.
func fitAGGD(v []float32) aggd {
	var m moments
	for _, f := range v {
		m.add(float64(f))
	}
	return m.fit(true)
}
