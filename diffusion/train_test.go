package diffusion

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"facereward/nn"
	"facereward/tensor"
)

func TestSampleTimesteps(t *testing.T) {
	s := DefaultSchedule()
	const n = 200000
	ts := s.SampleTimesteps(rand.New(rand.NewPCG(21, 0)), n, 0)
	var bins [10]int
	for _, ti := range ts {
		if ti < 0 || ti >= s.T() {
			t.Fatalf("timestep %d outside [0, %d)", ti, s.T())
		}
		bins[ti*10/s.T()]++
	}
	for i, c := range bins {
		if math.Abs(float64(c)-n/10) > 5*math.Sqrt(n/10) {
			t.Errorf("bin %d has %d of %d draws", i, c, n)
		}
	}
	again := s.SampleTimesteps(rand.New(rand.NewPCG(21, 0)), n, 0)
	for i := range ts {
		if ts[i] != again[i] {
			t.Fatal("same seed, different timesteps")
		}
	}
	for _, ti := range s.SampleTimesteps(rand.New(rand.NewPCG(22, 0)), 10000, 300) {
		if ti < 0 || ti >= 300 {
			t.Fatalf("maxT 300: timestep %d outside [0, 300)", ti)
		}
	}
}

// scaleModel predicts w·x_t with one trainable weight, so the loss is a
// simple function of w whose derivative can be checked.
func scaleModel(w *nn.Param) ModelFunc {
	return func(g *nn.Graph, xt *nn.Var, _ []int, _ *nn.Var) *nn.Var { return g.Mul(xt, w.Var) }
}

// The loss draws t then ε from rng; replaying those draws here, the loss of
// a model is computed from the definitions and must match, with and
// without min-SNR weights, and its gradient must match finite differences.
func TestLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 0))
	x0 := randTensor(rng, -1, 1, 4, 5, 5, 3)
	per := x0.Len() / 4
	for _, kind := range []BetaSchedule{Linear, Cosine} {
		s := mustSchedule(t, kind)
		for _, p := range []Prediction{PredictEps, PredictV} {
			for _, gamma := range []float64{0, 5} {
				w := nn.NewParam("w", tensor.FromSlice([]float32{0.3}, 1), false)
				m := Denoiser{Net: scaleModel(w), Pred: p}
				expected := func(wv float64) float64 {
					r := rand.New(rand.NewPCG(23, 0))
					ts := s.SampleTimesteps(r, 4, 0)
					sum := 0.0
					for n, ti := range ts {
						a, b := s.SqrtAlphaBar(ti), s.SqrtOneMinusAlphaBar(ti)
						snr := a * a / (b * b)
						weight := 1.0
						if gamma > 0 {
							weight = min(snr, gamma) / snr
							if p == PredictV {
								weight = min(snr, gamma) / (snr + 1)
							}
						}
						for i := range per {
							x := float64(x0.Data[n*per+i])
							e := float64(float32(r.NormFloat64()))
							xt := float64(float32(a*x + b*e))
							target := e
							if p == PredictV {
								target = a*e - b*x
							}
							d := wv*xt - target
							sum += weight * d * d
						}
					}
					return sum / float64(x0.Len())
				}
				g := nn.NewGraph()
				loss, err := s.Loss(g, m, x0, nil, rand.New(rand.NewPCG(23, 0)), LossOptions{MinSNRGamma: gamma})
				if err != nil {
					t.Fatal(err)
				}
				want := expected(0.3)
				if got := float64(loss.Value.Data[0]); math.Abs(got-want) > 1e-5*want {
					t.Errorf("%s %s γ=%g: loss %g, want %g", kind, p, gamma, got, want)
				}
				g.Backward(loss)
				fd := (expected(0.3+1e-4) - expected(0.3-1e-4)) / 2e-4
				if got := float64(w.Grad.Data[0]); math.Abs(got-fd) > 1e-3*max(1, math.Abs(fd)) {
					t.Errorf("%s %s γ=%g: dloss/dw %g, finite difference %g", kind, p, gamma, got, fd)
				}
				g.Reset()
			}
		}
	}
}

// For a one-image dataset the oracle's loss is zero and is the minimum: a
// perturbed oracle does worse.
func TestLossOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 0))
	star := randTensor(rng, -1, 1, 8, 4, 4, 3)
	for _, p := range []Prediction{PredictEps, PredictV} {
		s := DefaultSchedule()
		g := nn.NewGraph()
		loss, err := s.Loss(g, pointOracle(s, p, star), star, nil, rand.New(rand.NewPCG(25, 0)), LossOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l := loss.Value.Data[0]; l > 1e-8 {
			t.Errorf("%s: oracle loss %g", p, l)
		}
		g.Reset()
		bad := star.Clone()
		bad.Data[0] += 0.5
		loss, err = s.Loss(g, pointOracle(s, p, bad), star, nil, rand.New(rand.NewPCG(25, 0)), LossOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l := loss.Value.Data[0]; !(l > 1e-6) {
			t.Errorf("%s: a wrong oracle has loss %g", p, l)
		}
		g.Reset()
		// LossX0 draws as Loss does, and the oracle's clean-image estimate
		// is the image, at timesteps below MaxT.
		loss2, x0hat, ts, err := s.LossX0(g, pointOracle(s, p, star), star, nil, rand.New(rand.NewPCG(25, 0)), LossOptions{MaxT: 200})
		if err != nil {
			t.Fatal(err)
		}
		if l := loss2.Value.Data[0]; l > 1e-8 {
			t.Errorf("%s: LossX0 oracle loss %g", p, l)
		}
		if len(ts) != star.Shape[0] || slices.Max(ts) >= 200 {
			t.Errorf("%s: LossX0 timesteps %v, want %d below 200", p, ts, star.Shape[0])
		}
		for i, v := range x0hat.Value.Data {
			if math.Abs(float64(v-star.Data[i])) > 1e-3 {
				t.Fatalf("%s: x0_hat[%d] = %v, want %v", p, i, v, star.Data[i])
			}
		}
	}
}

func TestLossErrors(t *testing.T) {
	s := DefaultSchedule()
	g := nn.NewGraph()
	rng := rand.New(rand.NewPCG(26, 0))
	x0 := tensor.New(2, 4, 4, 3)
	pool := Denoiser{Pred: PredictV, Net: func(g *nn.Graph, xt *nn.Var, _ []int, _ *nn.Var) *nn.Var { return g.AvgPool2(xt) }}
	if _, err := s.Loss(g, pool, x0, nil, rng, LossOptions{}); err == nil {
		t.Error("wrong output shape accepted")
	}
	if _, err := s.Loss(g, Denoiser{Pred: "x0", Net: pool.Net}, x0, nil, rng, LossOptions{}); err == nil {
		t.Error("unknown prediction accepted")
	}
}
