package diffusion

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"facereward/nn"
	"facereward/tensor"
)

// ModelFunc runs the denoising network on x_t at per-sample timesteps t with
// a condition (the stage-1 restoration; nil when unconditional) and returns
// its prediction, shaped like x_t.
type ModelFunc func(g *nn.Graph, xt *nn.Var, t []int, cond *nn.Var) *nn.Var

// Denoiser is a network together with what it predicts.
type Denoiser struct {
	Net  ModelFunc
	Pred Prediction
}

// DDIM is the sampler of Song et al. 2021. Eta 0 is deterministic; eta 1
// has DDPM's posterior variance. DDIM is a small value: a call with its own
// eta (ReFL draws eta ~ U(0,1) per training step) is
// DDIM{Schedule: s, Steps: 50, Eta: rng.Float64()}.Sample(...).
type DDIM struct {
	Schedule *Schedule
	Steps    int
	Eta      float64
}

// Timesteps are the Steps timesteps visited, from noisiest to cleanest,
// with "trailing" spacing: round(T - i·T/Steps) - 1, so 999, 979, ..., 19
// for 50 of 1000. Trailing starts at t = T-1, the timestep at which the
// model was trained on (almost) pure noise, so the x_T we feed it matches
// its training; the "leading" spacing of early Stable Diffusion starts at
// 980 (or 981) and the model is handed pure noise while told 2% of signal
// is left (Lin et al. 2024, "Common diffusion noise schedules and sample
// steps are flawed"). Either spacing ends with a step to ᾱ = 1 (timestep
// -1), which returns x0_hat.
func (d DDIM) Timesteps() []int {
	T := d.Schedule.T()
	ts := make([]int, d.Steps)
	for i := range ts {
		ts[i] = int(math.Round(float64(T)-float64(i)*float64(T)/float64(d.Steps))) - 1
	}
	return ts
}

func (d DDIM) validate() error {
	if d.Schedule == nil {
		return errors.New("diffusion: DDIM has no schedule")
	}
	if d.Steps < 1 || d.Steps > d.Schedule.T() {
		return fmt.Errorf("diffusion: DDIM steps %d outside [1, %d]", d.Steps, d.Schedule.T())
	}
	if !(d.Eta >= 0) || math.IsInf(d.Eta, 0) {
		return fmt.Errorf("diffusion: DDIM eta %g must be finite and >= 0", d.Eta)
	}
	return nil
}

// Sigma is the DDIM noise scale of the step t → tPrev:
// eta·sqrt((1-ᾱ_prev)/(1-ᾱ_t))·sqrt(1-ᾱ_t/ᾱ_prev).
func (s *Schedule) Sigma(t, tPrev int, eta float64) float64 {
	s.checkT(t)
	s.checkT(tPrev)
	at, ap := s.Alpha(t), s.Alpha(tPrev)
	return eta * math.Sqrt((1-ap)/(1-at)*(1-at/ap))
}

// stepCoefs folds a DDIM step into x_prev = cx·x_t + cp·pred + σ·z. The
// step is sqrt(ᾱ_prev)·x0 + sqrt(1-ᾱ_prev-σ²)·ε + σ·z, and both x0 and ε are
// linear in (x_t, pred) for either parameterisation.
func (s *Schedule) stepCoefs(p Prediction, t, tPrev int, eta float64) (cx, cp, sigma float64) {
	sigma = s.Sigma(t, tPrev, eta)
	a, b := s.SqrtAlphaBar(t), s.SqrtOneMinusAlphaBar(t)
	ap := s.SqrtAlphaBar(tPrev)
	c := math.Sqrt(max(1-s.Alpha(tPrev)-sigma*sigma, 0)) // rounding can leave -1e-17
	if p == PredictV {
		// x0 = a·x - b·v, ε = b·x + a·v.
		return ap*a + c*b, c*a - ap*b, sigma
	}
	// x0 = (x - b·ε)/a.
	return ap / a, c - ap*b/a, sigma
}

// Step is one DDIM update from timestep t to tPrev (-1 for the clean image)
// given the network's prediction pred of kind p. noise (standard normal,
// shaped like xt) is used only when the step's σ > 0 and may be nil
// otherwise.
func (s *Schedule) Step(p Prediction, xt, pred *tensor.Tensor, t, tPrev int, eta float64, noise *tensor.Tensor) *tensor.Tensor {
	out := tensor.New(xt.Shape...)
	var z []float32
	if noise != nil {
		z = noise.Data
	}
	s.stepInto(p, out.Data, xt.Data, pred.Data, z, t, tPrev, eta)
	return out
}

// stepInto writes the step into dst, which may alias x or pred.
func (s *Schedule) stepInto(p Prediction, dst, x, pred, z []float32, t, tPrev int, eta float64) {
	if len(x) != len(dst) || len(pred) != len(dst) {
		panic(fmt.Sprintf("diffusion.Step: x_t has %d values, pred %d", len(x), len(pred)))
	}
	cx, cp, sigma := s.stepCoefs(p, t, tPrev, eta)
	if sigma > 0 && len(z) != len(dst) {
		panic(fmt.Sprintf("diffusion.Step: σ = %g needs %d noise values, got %d", sigma, len(dst), len(z)))
	}
	tensor.Parallel(len(dst), 4*len(dst), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := cx*float64(x[i]) + cp*float64(pred[i])
			if sigma > 0 {
				v += sigma * float64(z[i])
			}
			dst[i] = float32(v)
		}
	})
}

// StepVar is Step on graph values, for a gradient through a DDIM update.
func (s *Schedule) StepVar(g *nn.Graph, p Prediction, xt, pred *nn.Var, t, tPrev int, eta float64, noise *tensor.Tensor) *nn.Var {
	cx, cp, sigma := s.stepCoefs(p, t, tPrev, eta)
	out := g.Add(g.Scale(xt, float32(cx)), g.Scale(pred, float32(cp)))
	if sigma > 0 {
		out = g.Add(out, g.Scale(nn.Constant(noise), float32(sigma)))
	}
	return out
}

// SampleOptions adjust one Sample call; the zero value runs every step.
type SampleOptions struct {
	// StartStep is the index of the first step to run; xT is then x_t at
	// Timesteps()[StartStep] (see StartFrom).
	StartStep int
	// StopAt, when > 0, stops before step StopAt and returns x_t at
	// Timesteps()[StopAt]: ReFL's no-gradient descent to step m.
	StopAt int
	// OnStep is called before each step with its index, its timestep and the
	// current x_t, which is valid only during the call.
	OnStep func(step, t int, xt *tensor.Tensor)
}

// Sampled is what Sample returns.
type Sampled struct {
	// X is the clean sample, or x_t when stopped early. It is owned by the
	// caller.
	X *tensor.Tensor
	// Step is the index of the next step to run (Steps when finished).
	Step int
	// T is X's timestep and TPrev the one the next step goes to; both -1
	// when finished.
	T, TPrev int
}

// Sample runs the DDIM sampler on x_T (not modified). Noise is drawn from
// rng only for steps with σ > 0 (every step but the last when eta > 0),
// len(xT) standard normals per step in step order, so a run resumed at a
// step with an rng in the same state reproduces the original.
//
// The model runs with g in NoGrad mode (restored on return) and g.Reset()
// is called after every step, so memory stays one step's worth. Every value
// already built on g is freed by the first step: call Sample on a graph
// that holds nothing still needed, and keep cond out of g (wrap a copy in
// nn.Constant; an intermediate cond is reported as an error).
func (d DDIM) Sample(g *nn.Graph, m Denoiser, xT *tensor.Tensor, cond *nn.Var, rng *rand.Rand, opts SampleOptions) (Sampled, error) {
	if err := d.validate(); err != nil {
		return Sampled{}, err
	}
	if err := m.Pred.Validate(); err != nil {
		return Sampled{}, err
	}
	stop := d.Steps
	if opts.StopAt > 0 {
		stop = min(opts.StopAt, d.Steps)
	}
	if opts.StartStep < 0 || opts.StartStep > stop {
		return Sampled{}, fmt.Errorf("diffusion: DDIM start step %d outside [0, %d]", opts.StartStep, stop)
	}
	if len(xT.Shape) == 0 || xT.Shape[0] == 0 {
		return Sampled{}, fmt.Errorf("diffusion: DDIM input has shape %s, want a batch", tensor.ShapeString(xT.Shape))
	}
	ts := d.Timesteps()
	at := func(i int) int { // timestep before step i
		if i >= d.Steps {
			return -1
		}
		return ts[i]
	}

	x := xT.Clone()
	xv := nn.Constant(x) // x's buffer is ours; Reset leaves it alone
	var z []float32
	if d.Eta > 0 {
		z = make([]float32, x.Len())
	}
	tb := make([]int, x.Shape[0])
	defer func(was bool) { g.NoGrad = was }(g.NoGrad)
	g.NoGrad = true
	for i := opts.StartStep; i < stop; i++ {
		t, tPrev := at(i), at(i+1)
		if opts.OnStep != nil {
			opts.OnStep(i, t, x)
		}
		for n := range tb {
			tb[n] = t
		}
		pred := m.Net(g, xv, tb, cond)
		if !tensor.SameShape(pred.Shape(), x.Shape) {
			err := fmt.Errorf("diffusion: DDIM step %d: model returned shape %s for input %s",
				i, tensor.ShapeString(pred.Shape()), tensor.ShapeString(x.Shape))
			g.Reset()
			return Sampled{}, err
		}
		if d.Schedule.Sigma(t, tPrev, d.Eta) > 0 {
			fillNormal(rng, z)
		}
		d.Schedule.stepInto(m.Pred, x.Data, x.Data, pred.Value.Data, z, t, tPrev, d.Eta)
		g.Reset()
		if cond != nil && cond.Value == nil {
			return Sampled{}, errors.New("diffusion: DDIM condition was an intermediate value of the graph and was freed by Reset; pass a copy")
		}
	}
	return Sampled{X: x, Step: stop, T: at(stop), TPrev: at(stop + 1)}, nil
}

// StartFrom noises a clean estimate x0 (the stage-1 restoration) for a
// partial run: strength in [0, 1] is the fraction of the Steps to run, as
// Stable Diffusion's img2img. It returns x_t at Timesteps()[step] and step,
// the StartStep to pass to Sample. Strength 0 returns a copy of x0 and
// Steps (nothing to run, no draws).
//
// Strength 1 starts at t = T-1 with sqrt(ᾱ_{T-1})·x0 + sqrt(1-ᾱ_{T-1})·ε,
// where ε are exactly the draws Normal(rng, shape) would make for a pure
// noise x_T; the two differ by sqrt(ᾱ_{T-1})·x0 + (sqrt(1-ᾱ_{T-1})-1)·ε
// (|coefficients| < 5e-5 for the cosine schedule, 6.4e-3 for linear).
func (d DDIM) StartFrom(x0 *tensor.Tensor, strength float64, rng *rand.Rand) (*tensor.Tensor, int, error) {
	if err := d.validate(); err != nil {
		return nil, 0, err
	}
	if !(strength >= 0 && strength <= 1) {
		return nil, 0, fmt.Errorf("diffusion: start strength %g outside [0, 1]", strength)
	}
	if len(x0.Shape) == 0 || x0.Shape[0] == 0 {
		return nil, 0, fmt.Errorf("diffusion: start image has shape %s, want a batch", tensor.ShapeString(x0.Shape))
	}
	run := int(math.Round(strength * float64(d.Steps)))
	step := d.Steps - run
	if run == 0 {
		return x0.Clone(), step, nil
	}
	t := make([]int, x0.Shape[0])
	for n := range t {
		t[n] = d.Timesteps()[step]
	}
	return d.Schedule.Noise(x0, Normal(rng, x0.Shape...), t), step, nil
}

// Normal returns a tensor of standard normal draws from rng.
func Normal(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	fillNormal(rng, t.Data)
	return t
}

func fillNormal(rng *rand.Rand, dst []float32) {
	for i := range dst {
		dst[i] = float32(rng.NormFloat64())
	}
}
