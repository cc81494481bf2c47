package restorer

import (
	"math"
	"testing"

	"facereward/nn"
	"facereward/optim"
	"facereward/tensor"
)

// smoothFaces makes n smooth images in [-1,1] (low-frequency patterns),
// the kind of target stage 1 regresses to.
func smoothFaces(n, s int, seed uint64) *tensor.Tensor {
	rng := nn.NewRNG(seed)
	x := tensor.New(n, s, s, 3)
	for b := range n {
		for c := range 3 {
			fx, fy, ph := 1+3*rng.Float64(), 1+3*rng.Float64(), 6*rng.Float64()
			for y := range s {
				for xx := range s {
					v := 0.8 * math.Sin(fx*float64(xx)/float64(s)*math.Pi+ph) * math.Cos(fy*float64(y)/float64(s)*math.Pi)
					x.Data[((b*s+y)*s+xx)*3+c] = float32(v)
				}
			}
		}
	}
	return x
}

// Stage 1 must be able to learn: on a fixed batch of noisy inputs it cuts
// the L1 error to its targets by 5× within 200 Adam steps.
func TestStage1Overfits(t *testing.T) {
	const n, s = 4, 16
	net, err := NewStage1(Stage1Config{ImageSize: s, Unshuffle: 2, Width: 32, Blocks: 2}, nn.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	hq := smoothFaces(n, s, 2)
	lq := hq.Clone()
	noise := tensor.New(lq.Shape...)
	nn.Normal(noise, 0.2, nn.NewRNG(3))
	for i := range lq.Data {
		lq.Data[i] += noise.Data[i]
	}
	opt, err := optim.NewAdam(net.Params(), optim.DefaultAdam(2e-3))
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph()
	lqv, hqv := nn.Constant(lq), nn.Constant(hq)
	var first, last float32
	for step := range 200 {
		nn.ZeroGrad(net.Params())
		loss := g.L1Loss(net.Forward(g, lqv), hqv)
		last = loss.Value.Data[0]
		if step == 0 {
			first = last
		}
		g.Backward(loss)
		opt.Step()
		g.Reset()
	}
	t.Logf("L1 %.4f → %.4f", first, last)
	if !(last < first/5) {
		t.Fatalf("L1 went from %.4f to %.4f, want a 5× reduction", first, last)
	}
}
