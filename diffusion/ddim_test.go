package diffusion

import (
	"math"
	"math/rand/v2"
	"testing"

	"facereward/nn"
	"facereward/tensor"
)

// fromX0 turns a clean estimate into the prediction of kind p, computed here
// from the definitions rather than with the package's conversions.
func fromX0(s *Schedule, p Prediction, xt *tensor.Tensor, t []int, x0 func(n, i int, x float64, a, b float64) float64) *nn.Var {
	out := tensor.New(xt.Shape...)
	per := xt.Len() / len(t)
	for n, ti := range t {
		a, b := s.SqrtAlphaBar(ti), s.SqrtOneMinusAlphaBar(ti)
		for i := range per {
			x := float64(xt.Data[n*per+i])
			x0h := x0(n, i, x, a, b)
			eps := (x - a*x0h) / b
			v := eps
			if p == PredictV {
				v = a*eps - b*x0h
			}
			out.Data[n*per+i] = float32(v)
		}
	}
	return nn.Constant(out)
}

// pointOracle is the optimal denoiser for a dataset of one image x*: its
// x0 estimate is x* whatever x_t.
func pointOracle(s *Schedule, p Prediction, star *tensor.Tensor) Denoiser {
	per := star.Len() / star.Shape[0]
	return Denoiser{Pred: p, Net: func(_ *nn.Graph, xt *nn.Var, t []int, _ *nn.Var) *nn.Var {
		return fromX0(s, p, xt.Value, t, func(n, i int, _, _, _ float64) float64 { return float64(star.Data[n*per+i]) })
	}}
}

// gaussOracle is the optimal denoiser for data N(mu, sd²) per value:
// E[x0 | x_t] = mu + sd²·a·(x_t - a·mu)/(a²·sd² + b²).
func gaussOracle(s *Schedule, p Prediction, mu, sd float64) Denoiser {
	return Denoiser{Pred: p, Net: func(_ *nn.Graph, xt *nn.Var, t []int, _ *nn.Var) *nn.Var {
		return fromX0(s, p, xt.Value, t, func(_, _ int, x, a, b float64) float64 {
			return mu + sd*sd*a*(x-a*mu)/(a*a*sd*sd+b*b)
		})
	}}
}

// sampleRef is the plain DDIM loop from step start to the end on x (not
// modified), unconditional, for checking the step maths against oracles;
// restorer.Sampler is the loop the project runs (with guidance and an early
// stop) and is tested there. onStep, if set, runs before each step.
func sampleRef(d DDIM, m Denoiser, x *tensor.Tensor, rng *rand.Rand, start int, onStep func()) *tensor.Tensor {
	x = x.Clone()
	ts, z := d.Timesteps(), make([]float32, x.Len())
	tb := make([]int, x.Shape[0])
	g := nn.NewGraph()
	g.NoGrad = true
	for i := start; i < d.Steps; i++ {
		if onStep != nil {
			onStep()
		}
		for n := range tb {
			tb[n] = ts[i]
		}
		pred := m.Net(g, nn.Constant(x), tb, nil)
		if d.Schedule.Sigma(ts[i], d.Timestep(i+1), d.Eta) > 0 {
			FillNormal(rng, z)
		}
		d.Schedule.Step(m.Pred, x.Data, x.Data, pred.Value.Data, z, ts[i], d.Timestep(i+1), d.Eta)
		g.Reset()
	}
	return x
}

func TestTimestepsTrailing(t *testing.T) {
	s := mustSchedule(t, Linear)
	for _, c := range []struct {
		steps       int
		first, last int
		second      int
	}{{50, 999, 19, 979}, {10, 999, 99, 899}, {1000, 999, 0, 998}, {3, 999, 332, 666}, {1, 999, 999, 0}} {
		ts := DDIM{Schedule: s, Steps: c.steps}.Timesteps()
		if len(ts) != c.steps || ts[0] != c.first || ts[len(ts)-1] != c.last || (c.steps > 1 && ts[1] != c.second) {
			t.Errorf("%d steps: %v...", c.steps, ts[:min(len(ts), 4)])
		}
		for i := 1; i < len(ts); i++ {
			if ts[i] >= ts[i-1] {
				t.Fatalf("%d steps: timesteps not decreasing at %d", c.steps, i)
			}
		}
	}
}

// With the optimal denoiser of a one-image dataset every DDIM step predicts
// x* exactly and the last step (to ᾱ = 1) returns it, at any eta.
func TestDDIMPointOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	star := randTensor(rng, -1, 1, 2, 8, 8, 3)
	for _, kind := range []BetaSchedule{Linear, Cosine} {
		s := mustSchedule(t, kind)
		for _, p := range []Prediction{PredictEps, PredictV} {
			for _, steps := range []int{10, 50} {
				for _, eta := range []float64{0, 1} {
					d := DDIM{Schedule: s, Steps: steps, Eta: eta}
					res := sampleRef(d, pointOracle(s, p, star), Normal(rng, star.Shape...), rng, 0, nil)
					if diff := maxDiff(res, star); diff > 1e-3 {
						t.Errorf("%s %s %d steps eta %g: off x* by %g", kind, p, steps, eta, diff)
					}
				}
			}
		}
	}
}

// gaussChain propagates the exact mean and variance of DDIM's output for
// N(mu, sd²) data: with the optimal denoiser each step is affine in x_t plus
// independent noise, x' = A·x + B + σ·z. It uses only the definitions
// (x' = sqrt(ᾱ')·x0 + sqrt(1-ᾱ'-σ²)·ε + σ·z).
func gaussChain(s *Schedule, ts []int, eta, mu, sd float64) (mean, variance float64) {
	mean, variance = 0, 1 // x_T ~ N(0, 1)
	for i, t := range ts {
		tp := -1
		if i+1 < len(ts) {
			tp = ts[i+1]
		}
		at, ap := s.Alpha(t), s.Alpha(tp)
		a, b := math.Sqrt(at), math.Sqrt(1-at)
		sigma := eta * math.Sqrt((1-ap)/(1-at)) * math.Sqrt(1-at/ap)
		c := math.Sqrt(max(1-ap-sigma*sigma, 0))
		k := sd * sd * a / (a*a*sd*sd + b*b) // x0 = k·x + mu·(1 - k·a)
		x0A, x0B := k, mu*(1-k*a)
		epsA, epsB := (1-a*x0A)/b, -a*x0B/b // ε = (x - a·x0)/b
		A := math.Sqrt(ap)*x0A + c*epsA
		B := math.Sqrt(ap)*x0B + c*epsB
		mean = A*mean + B
		variance = A*A*variance + sigma*sigma
	}
	return mean, variance
}

// On N(mu, sd²) data, DDIM's samples must have the mean and variance the
// chain predicts (statistically), and with many steps that prediction must
// be (mu, sd) itself: this checks σ_t and the update, eta 0 and 1.
//
// With few steps the chain is under-dispersed even with the optimal
// denoiser (sd 0.44 instead of 0.5 for linear, 50 steps, eta 1): DDIM
// keeps only E[x0|x_t] and drops Var[x0|x_t], the error Analytic-DPM (Bao et
// al. 2022) corrects. It shrinks as 1/steps.
func TestDDIMGaussianData(t *testing.T) {
	const mu, sd = 0.3, 0.5
	for _, c := range []struct {
		kind  BetaSchedule
		p     Prediction
		steps int
		eta   float64
	}{
		{Cosine, PredictEps, 50, 0}, {Cosine, PredictEps, 50, 1},
		{Cosine, PredictV, 10, 0}, {Cosine, PredictV, 10, 1},
		{Linear, PredictEps, 10, 1}, {Linear, PredictV, 50, 0},
		{Cosine, PredictV, 50, 0.5},
		{Cosine, PredictEps, 1000, 0}, {Linear, PredictV, 1000, 1},
	} {
		shape := []int{64, 16, 16, 3}
		if c.steps == 1000 {
			shape[0] = 16
		}
		n := float64(tensor.Numel(shape))
		s := mustSchedule(t, c.kind)
		d := DDIM{Schedule: s, Steps: c.steps, Eta: c.eta}
		rng := rand.New(rand.NewPCG(7, uint64(c.steps)))
		res := sampleRef(d, gaussOracle(s, c.p, mu, sd), Normal(rng, shape...), rng, 0, nil)
		var sum, sum2 float64
		for _, v := range res.Data {
			sum += float64(v)
			sum2 += float64(v) * float64(v)
		}
		gotMean := sum / n
		gotSD := math.Sqrt(sum2/n - gotMean*gotMean)
		wantMean, wantVar := gaussChain(s, d.Timesteps(), c.eta, mu, sd)
		wantSD := math.Sqrt(wantVar)
		t.Logf("%s %s %d steps eta %g: mean %.4f (chain %.4f), sd %.4f (chain %.4f, data %g)",
			c.kind, c.p, c.steps, c.eta, gotMean, wantMean, gotSD, wantSD, sd)
		if math.Abs(gotMean-wantMean) > 4*wantSD/math.Sqrt(n) || math.Abs(gotSD-wantSD) > 4*wantSD/math.Sqrt(2*n) {
			t.Errorf("%s %s %d steps eta %g: samples mean %.4f sd %.4f, exact chain mean %.4f sd %.4f",
				c.kind, c.p, c.steps, c.eta, gotMean, gotSD, wantMean, wantSD)
		}
		if c.steps < 1000 {
			continue
		}
		// The pure-noise start (x_T has mean 0, not sqrt(ᾱ_{T-1})·mu) biases
		// the mean by about sqrt(ᾱ_{T-1})·mu·sd.
		if math.Abs(wantMean-mu) > 0.002 || math.Abs(wantSD-sd) > 0.01*sd {
			t.Errorf("%s %s %d steps eta %g: chain gives mean %.4f sd %.4f, data has %g, %g",
				c.kind, c.p, c.steps, c.eta, wantMean, wantSD, mu, sd)
		}
	}
}
