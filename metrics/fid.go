package metrics

import (
	"fmt"
	"math"
)

// FIDID is the Fréchet distance between Gaussian fits of two sets of
// identity descriptors (one descriptor per row, all of one length):
//
//	|μa − μb|² + tr(Σa + Σb − 2 (Σa Σb)^½)
//
// with unbiased covariances, as pytorch-fid computes FID on Inception
// features. tr((Σa Σb)^½) is taken as tr((Σa^½ Σb Σa^½)^½), which has the
// same eigenvalues but is symmetric, so no complex square root is needed.
func FIDID(a, b [][]float32) (float64, error) {
	ma, ca, err := meanCov(to64(a))
	if err != nil {
		return 0, fmt.Errorf("metrics: FID-ID first set: %w", err)
	}
	mb, cb, err := meanCov(to64(b))
	if err != nil {
		return 0, fmt.Errorf("metrics: FID-ID second set: %w", err)
	}
	if len(ma) != len(mb) {
		return 0, fmt.Errorf("metrics: FID-ID descriptors of length %d and %d", len(ma), len(mb))
	}
	var d float64
	for i := range ma {
		d += (ma[i] - mb[i]) * (ma[i] - mb[i])
		d += ca[i][i] + cb[i][i]
	}
	// Clamping tiny negative eigenvalues (rounding in a PSD matrix) to zero
	// plays the role of taking the real part of scipy's sqrtm.
	sqrtA := symFunc(ca, func(x float64) float64 { return math.Sqrt(math.Max(x, 0)) })
	w, _ := symEigen(matMul(matMul(sqrtA, cb), sqrtA))
	for _, x := range w {
		d -= 2 * math.Sqrt(math.Max(x, 0))
	}
	return d, nil
}

func to64(x [][]float32) [][]float64 {
	out := make([][]float64, len(x))
	for i, r := range x {
		out[i] = make([]float64, len(r))
		for j, v := range r {
			out[i][j] = float64(v)
		}
	}
	return out
}
