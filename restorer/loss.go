package restorer

import (
	"fmt"
	"math"

	"facereward/nn"
	"facereward/tensor"
)

// SSIM constants on the [0,1] scale, as basicsr's (0.01·255)² and
// (0.03·255)² on the 0–255 scale.
const (
	ssimC1 = 0.01 * 0.01
	ssimC2 = 0.03 * 0.03
)

// ssimTaps is the 11-tap Gaussian of σ 1.5 that basicsr's SSIM uses (and
// metrics.SSIM reproduces), so the training loss measures what the
// evaluation reports.
func ssimTaps() []float64 {
	const n, sigma = 11, 1.5
	k := make([]float64, n)
	sum := 0.0
	for i := range k {
		x := float64(i) - (n-1)/2.0
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}

// SSIM is the mean structural similarity of a and b [N,H,W,3] in [-1,1]
// (compared on the [0,1] scale), over the 'valid' positions of an 11×11
// Gaussian window and over channels, as a differentiable scalar. It is
// metrics.SSIM without the rounding to 8 bits, which has no gradient.
func SSIM(g *nn.Graph, a, b *nn.Var) *nn.Var {
	s := a.Shape()
	if !tensor.SameShape(s, b.Shape()) || len(s) != 4 || s[1] < 11 || s[2] < 11 {
		panic(fmt.Sprintf("restorer.SSIM: shapes %s and %s, want equal [N,H,W,C] of at least 11×11",
			tensor.ShapeString(s), tensor.ShapeString(b.Shape())))
	}
	c := s[3]
	ua := g.AddScalar(g.Scale(a, 0.5), 0.5)
	ub := g.AddScalar(g.Scale(b, 0.5), 0.5)
	// The five local moments go through one depthwise filter together.
	taps := ssimTaps()
	w := tensor.New(11, 11, 5*c)
	for y, ky := range taps {
		for x, kx := range taps {
			row := w.Data[(y*11+x)*5*c:][:5*c]
			for i := range row {
				row[i] = float32(ky * kx)
			}
		}
	}
	m := g.DepthwiseConv2D(g.Concat(ua, ub, g.Mul(ua, ua), g.Mul(ub, ub), g.Mul(ua, ub)), nn.Constant(w), nil, 1, nn.Pad2D{})
	muA, muB := g.Slice(m, 0, c), g.Slice(m, c, 2*c)
	muAB := g.Mul(muA, muB)
	muAA, muBB := g.Mul(muA, muA), g.Mul(muB, muB)
	varA, varB := g.Sub(g.Slice(m, 2*c, 3*c), muAA), g.Sub(g.Slice(m, 3*c, 4*c), muBB)
	cov := g.Sub(g.Slice(m, 4*c, 5*c), muAB)
	num := g.Mul(g.AddScalar(g.Scale(muAB, 2), ssimC1), g.AddScalar(g.Scale(cov, 2), ssimC2))
	den := g.Mul(g.AddScalar(g.Add(muAA, muBB), ssimC1), g.AddScalar(g.Add(varA, varB), ssimC2))
	return g.Mean(g.Div(num, den))
}

// Stage1Loss is stage 1's training loss: L1(pred, hq), plus
// ssimWeight·(1 − SSIM(pred, hq)) when ssimWeight > 0.
func Stage1Loss(g *nn.Graph, pred, hq *nn.Var, ssimWeight float32) *nn.Var {
	l := g.L1Loss(pred, hq)
	if ssimWeight > 0 {
		l = g.Add(l, g.Scale(g.AddScalar(g.Scale(SSIM(g, pred, hq), -1), 1), ssimWeight))
	}
	return l
}
