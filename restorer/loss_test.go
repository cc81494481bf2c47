package restorer

import (
	"math"
	"testing"

	"facereward/metrics"
	"facereward/nn"
	"facereward/tensor"
)

// quantised returns a random [1,s,s,3] image in [-1,1] whose [0,1] values
// are exact multiples of 1/255, so metrics.SSIM's rounding to 8 bits does
// not change it and the two SSIMs must agree.
func quantised(seed uint64, s int) (signed, unit *tensor.Tensor) {
	rng := nn.NewRNG(seed)
	signed, unit = tensor.New(1, s, s, 3), tensor.New(s, s, 3)
	for i := range unit.Data {
		// A smooth ramp plus noise, so the structure term is not trivial.
		q := min(max(int(40+float64(i%(3*s))*3+rng.NormFloat64()*30), 0), 255)
		unit.Data[i] = float32(q) / 255
		signed.Data[i] = float32(q)/255*2 - 1
	}
	return signed, unit
}

func TestSSIMMatchesMetrics(t *testing.T) {
	a, ua := quantised(1, 24)
	b, ub := quantised(2, 24)
	g := nn.NewGraph()
	g.NoGrad = true
	for _, tc := range []struct {
		name   string
		x, y   *tensor.Tensor
		ux, uy *tensor.Tensor
	}{{"different", a, b, ua, ub}, {"same", a, a, ua, ua}} {
		got := float64(SSIM(g, nn.Constant(tc.x), nn.Constant(tc.y)).Value.Data[0])
		want, err := metrics.SSIM(tc.ux, tc.uy, metrics.RGB, 0)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-4 {
			t.Errorf("%s: SSIM %.6f, metrics.SSIM %.6f", tc.name, got, want)
		}
		t.Logf("%s: SSIM %.6f, metrics.SSIM %.6f", tc.name, got, want)
	}
}

// The SSIM term's gradient (L1 is the engine's, and its kinks would defeat
// the large finite-difference steps).
func TestSSIMGradient(t *testing.T) {
	net, err := NewStage1(Stage1Config{ImageSize: 16, Unshuffle: 2, Width: 8, Blocks: 1}, nn.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	rng := nn.NewRNG(4)
	lq, hq := nn.Constant(randImage(rng, 2, 16)), nn.Constant(randImage(rng, 2, 16))
	fdCheck(t, net.Params(), func(g *nn.Graph) *nn.Var {
		// SSIM in float32 is noisy (E[a²] − μ² cancels), hence the scale
		// and the larger step.
		return g.Scale(SSIM(g, net.Forward(g, lq), hq), 100)
	}, 3, 6e-2, rng)
	// And the combined loss is L1 + w·(1 − SSIM).
	g := nn.NewGraph()
	g.NoGrad = true
	pred := net.Forward(g, lq)
	l1, ssim := g.L1Loss(pred, hq).Value.Data[0], SSIM(g, pred, hq).Value.Data[0]
	got := Stage1Loss(g, pred, hq, 0.5).Value.Data[0]
	if want := l1 + 0.5*(1-ssim); math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("Stage1Loss %v, want %v", got, want)
	}
}
