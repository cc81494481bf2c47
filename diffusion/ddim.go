package diffusion

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"facereward/tensor"
)

// DDIM is the step plan of Song et al. 2021's sampler: which timesteps a
// run of Steps visits and how noisy each update is (eta 0 deterministic,
// eta 1 DDPM's posterior variance). It holds no network: a sampler's loop
// (restorer.Sampler) calls its network at Timestep(i) and hands the
// prediction to Schedule.Step(..., Timestep(i), Timestep(i+1), d.Eta, ...).
// DDIM is a small value, so a run with its own eta (ReFL draws eta ~ U(0,1)
// per training step) is a copy with Eta set.
type DDIM struct {
	Schedule *Schedule
	Steps    int
	Eta      float64
}

// Timestep is the timestep of step i in [0, Steps), with "trailing"
// spacing: round(T - i·T/Steps) - 1, so 999, 979, ..., 19 for 50 of 1000;
// Timestep(Steps) is -1, the clean image (ᾱ = 1) the last step goes to.
// Trailing starts at t = T-1, the timestep at which the model was trained
// on (almost) pure noise, so the x_T we feed it matches its training; the
// "leading" spacing of early Stable Diffusion starts at 980 (or 981) and
// the model is handed pure noise while told 2% of signal is left (Lin et
// al. 2024, "Common diffusion noise schedules and sample steps are
// flawed").
func (d DDIM) Timestep(i int) int {
	if i >= d.Steps {
		return -1
	}
	T := d.Schedule.T()
	return int(math.Round(float64(T)-float64(i)*float64(T)/float64(d.Steps))) - 1
}

// Timesteps are the Steps timesteps visited, from noisiest to cleanest.
func (d DDIM) Timesteps() []int {
	ts := make([]int, d.Steps)
	for i := range ts {
		ts[i] = d.Timestep(i)
	}
	return ts
}

// Validate reports a missing schedule, a step count outside [1, T] or an
// eta that is negative or not finite.
func (d DDIM) Validate() error {
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
// given the network's prediction pred of kind p, written into dst (which may
// alias x or pred, so a sampler steps in place). z (standard normal draws,
// one per value) is read only when the step's σ > 0 and may be nil
// otherwise. It is pure arithmetic: the sampler's loop (restorer.Sampler)
// calls the network, guides its prediction and draws z.
func (s *Schedule) Step(p Prediction, dst, x, pred, z []float32, t, tPrev int, eta float64) {
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

// StartFrom noises a clean estimate x0 (the stage-1 restoration) for a
// partial run: strength in [0, 1] is the fraction of the Steps to run, as
// Stable Diffusion's img2img. It returns x_t at Timestep(step) and step,
// the index of the first step to run. Strength 0 returns a copy of x0 and
// Steps (nothing to run, no draws).
//
// Strength 1 starts at t = T-1 with sqrt(ᾱ_{T-1})·x0 + sqrt(1-ᾱ_{T-1})·ε,
// where ε are exactly the draws noise would make for a pure noise x_T; the
// two differ by sqrt(ᾱ_{T-1})·x0 + (sqrt(1-ᾱ_{T-1})-1)·ε (|coefficients|
// < 5e-5 for the cosine schedule, 6.4e-3 for linear).
func (d DDIM) StartFrom(x0 *tensor.Tensor, strength float64, noise Noise) (*tensor.Tensor, int, error) {
	if err := d.Validate(); err != nil {
		return nil, 0, err
	}
	if !(strength >= 0 && strength <= 1) {
		return nil, 0, fmt.Errorf("diffusion: start strength %g outside [0, 1]", strength)
	}
	if len(x0.Shape) == 0 || x0.Shape[0] == 0 {
		return nil, 0, fmt.Errorf("diffusion: start image has shape %s, want a batch", tensor.ShapeString(x0.Shape))
	}
	step := d.StartStep(strength)
	if step == d.Steps {
		return x0.Clone(), step, nil
	}
	t := make([]int, x0.Shape[0])
	for n := range t {
		t[n] = d.Timestep(step)
	}
	eps := tensor.New(x0.Shape...)
	noise(eps.Data)
	return d.Schedule.Noise(x0, eps, t), step, nil
}

// StartStep is the first step a run at strength in [0, 1] takes: it runs
// the last round(strength·Steps) of the Steps (Steps: none).
func (d DDIM) StartStep(strength float64) int {
	return d.Steps - int(math.Round(strength*float64(d.Steps)))
}

// Noise fills dst with standard normal draws: a sampler's one source of
// randomness, so that who draws what, in which order, is the caller's.
type Noise func(dst []float32)

// RNGNoise draws from rng, in order: a batch's faces share one stream.
func RNGNoise(rng *rand.Rand) Noise { return func(dst []float32) { FillNormal(rng, dst) } }

// Recorded replays draws made beforehand: item i of a batch reads its next
// values from items[i], in order, as if it were drawing them itself. A
// caller that must keep the draws of one stream shared by items restored
// one after another (the faces of a photo) draws each item's share first
// and then samples them together.
func Recorded(items [][]float32) Noise {
	next := make([]int, len(items))
	return func(dst []float32) {
		per := len(dst) / len(items)
		for i, src := range items {
			copy(dst[i*per:(i+1)*per], src[next[i]:next[i]+per])
			next[i] += per
		}
	}
}

// PerItem draws item i of a batch from rngs[i] (dst splits into len(rngs)
// equal parts), so that an item's draws, and so its sample, do not depend
// on the items batched with it.
func PerItem(rngs []*rand.Rand) Noise {
	return func(dst []float32) {
		per := len(dst) / len(rngs)
		for i, r := range rngs {
			FillNormal(r, dst[i*per:(i+1)*per])
		}
	}
}

// Normal returns a tensor of standard normal draws from rng.
func Normal(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	FillNormal(rng, t.Data)
	return t
}

// FillNormal overwrites dst with standard normal draws from rng, in order.
func FillNormal(rng *rand.Rand, dst []float32) {
	for i := range dst {
		dst[i] = float32(rng.NormFloat64())
	}
}
