package restorer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"facereward/diffusion"
	"facereward/nn"
	"facereward/tensor"
)

// SampleOptions are the restoring sampler's settings.
type SampleOptions struct {
	// Steps is the number of DDIM steps over the whole schedule.
	Steps int
	// Strength is where sampling starts: 1 from (nearly) pure noise, less
	// from the stage-1 estimate noised to that fraction of the steps, which
	// then runs only that fraction.
	Strength float64
	// Guidance in [0, 1] is DiffBIR's restoration guidance: at every step
	// the clean-image estimate moves this fraction of the way to the
	// stage-1 estimate before the DDIM update, trading realism for fidelity
	// (1 returns the stage-1 estimate itself).
	Guidance float64
	// MildGuidance, when above Guidance, is the guidance of the mildest
	// inputs: each face's guidance rises from Guidance toward it with the
	// face's Mildness, the detail its stage-1 estimate keeps (mild.go). At
	// or below Guidance (0 included) every face gets Guidance. Restore and
	// its variants apply it; Descend and Sample, which ReFL and training
	// use, take Guidance alone, as GuideVar does on the tape.
	MildGuidance float64
	// Eta is DDIM's noise: 0 deterministic given the start, 1 as noisy as
	// DDPM.
	Eta float64
	// LowBand, when > 0, takes the restoration's low band from the stage-1
	// estimate: out = x − L(x) + L(cond), L the à-trous wavelet lowpass of
	// LowBand levels (DiffBIR's wavelet colour fix, which uses 5 levels for
	// colour alone). The diffusion stage then answers for the detail
	// bands, where the prior's texture lives, and the stage-1 net for the
	// coarse shading and shapes, which it regresses more faithfully than a
	// sample does: PSNR rises at the same detail (README). 0 is off.
	LowBand int
}

// MaxLowBand bounds SampleOptions.LowBand: 6 levels already reach 127
// pixels, a 128×128 face's whole extent.
const MaxLowBand = 6

// DefaultSampleOptions are the sampler the built-in weights were tuned
// with, chosen on 48 faces of the training split (not dev-val): start from
// the stage-1 estimate noised halfway (10 of 20 DDIM steps), pull each
// clean estimate 27.5% of the way to the stage-1 estimate, eta 0.2, and
// take the two coarsest wavelet levels from stage 1. Of the settings
// tried, the one with most detail (BRISQUE) whose IDS, PSNR and LMD stayed
// within the restorer issue's bounds of stage 1 (models/README.md). ReFL,
// the preference pairs and training's dev-val pass sample with them; the
// restore command adds DefaultMildGuidance (photo.DefaultOptions). Zero is
// a meaningful value of Guidance, Eta, Strength and LowBand, so the
// defaults are a constructor, not the zero value.
func DefaultSampleOptions() SampleOptions {
	return SampleOptions{Steps: 20, Strength: 0.5, Guidance: 0.275, Eta: 0.2, LowBand: 2}
}

// Validate reports the first setting out of range.
func (o SampleOptions) Validate() error {
	switch {
	case o.Steps < 1 || o.Steps > diffusion.DefaultT:
		return fmt.Errorf("restorer: %d steps outside [1, %d]", o.Steps, diffusion.DefaultT)
	case !(o.Strength >= 0 && o.Strength <= 1):
		return fmt.Errorf("restorer: strength %g outside [0, 1]", o.Strength)
	case !(o.Guidance >= 0 && o.Guidance <= 1):
		return fmt.Errorf("restorer: guidance %g outside [0, 1]", o.Guidance)
	case !(o.MildGuidance >= 0 && o.MildGuidance <= 1):
		return fmt.Errorf("restorer: mild guidance %g outside [0, 1]", o.MildGuidance)
	case !(o.Eta >= 0 && o.Eta <= 1):
		// Beyond 1 the DDIM step's noise exceeds what the next step's
		// noise level leaves room for (its square root goes negative).
		return fmt.Errorf("restorer: eta %g outside [0, 1]", o.Eta)
	case o.LowBand < 0 || o.LowBand > MaxLowBand:
		return fmt.Errorf("restorer: low band of %d wavelet levels outside [0, %d]", o.LowBand, MaxLowBand)
	}
	return nil
}

// Sampler restores aligned faces: stage 1, then DDIM steered by the control
// branch with the stage-1 estimate as its condition. Its options may be
// changed between calls (ReFL draws eta per step).
type Sampler struct {
	Model *Model
	SampleOptions
}

// NewSampler checks o and returns a sampler of m.
func NewSampler(m *Model, o SampleOptions) (*Sampler, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &Sampler{Model: m, SampleOptions: o}, nil
}

// DDIM is the step plan of the current options on the model's schedule.
func (s *Sampler) DDIM() diffusion.DDIM {
	return diffusion.DDIM{Schedule: s.Model.Schedule, Steps: s.Steps, Eta: s.Eta}
}

// Restore restores a batch of aligned faces lq [N,S,S,3] in [0,1]; the
// noise comes from rng, so the same seed gives the same bytes. It returns
// the stage-1 estimates and the final restorations, both in [0,1].
func (s *Sampler) Restore(lq *tensor.Tensor, rng *rand.Rand) (stage1, out *tensor.Tensor, err error) {
	return s.restore(lq, diffusion.RNGNoise(rng))
}

// RestoreEach is Restore with face i's noise from rngs[i]: each face comes
// out byte for byte as Restore of it alone with rngs[i] would give (the
// networks treat a batch's items independently, in the same summation
// order: TestRestoreEachIsRestoreAlone), so faces can share a batch, and
// the wider matrix products it makes, without changing any output.
func (s *Sampler) RestoreEach(lq *tensor.Tensor, rngs []*rand.Rand) (stage1, out *tensor.Tensor, err error) {
	if len(lq.Shape) == 0 || lq.Shape[0] != len(rngs) {
		return nil, nil, fmt.Errorf("restorer: %d random streams for a batch of shape %s", len(rngs), tensor.ShapeString(lq.Shape))
	}
	return s.restore(lq, diffusion.PerItem(rngs))
}

// RestoreRecorded is Restore with face i's noise read from draws[i], which
// must hold Draws() values per value of a face, as Restore of it alone
// would draw them.
func (s *Sampler) RestoreRecorded(lq *tensor.Tensor, draws [][]float32) (stage1, out *tensor.Tensor, err error) {
	if len(lq.Shape) == 0 || lq.Shape[0] != len(draws) {
		return nil, nil, fmt.Errorf("restorer: %d recorded draws for a batch of shape %s", len(draws), tensor.ShapeString(lq.Shape))
	}
	want := s.Draws() * (lq.Len() / len(draws))
	for i, d := range draws {
		if len(d) != want {
			return nil, nil, fmt.Errorf("restorer: face %d has %d recorded draws, want %d", i, len(d), want)
		}
	}
	return s.restore(lq, diffusion.Recorded(draws))
}

// Draws is how many standard normals Restore draws per value of a face:
// one to noise the stage-1 estimate when it starts from it, and one per
// step that adds noise (σ > 0). The sampling loop draws under these same
// conditions (TestDrawsCountsRestore).
func (s *Sampler) Draws() int {
	d := s.DDIM()
	start := d.StartStep(s.Strength)
	n := 0
	if start < d.Steps {
		n++
	}
	for i := start; i < d.Steps; i++ {
		if d.Schedule.Sigma(d.Timestep(i), d.Timestep(i+1), s.Eta) > 0 {
			n++
		}
	}
	return n
}

func (s *Sampler) restore(lq *tensor.Tensor, noise diffusion.Noise) (stage1, out *tensor.Tensor, err error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	cond := s.Model.Condition(lq)
	x, err := s.descend(cond, noise, 0, s.guidances(cond))
	if err != nil {
		return nil, nil, err
	}
	if s.LowBand > 0 {
		g := nn.NewGraph()
		g.NoGrad = true
		x = s.LowBandVar(g, nn.Constant(x), nn.Constant(cond)).Value.Clone()
		g.Reset()
	}
	return ToUnit(cond), ToUnit(x), nil
}

// LowBandVar is x with its low band of s.LowBand wavelet levels replaced by
// cond's (x itself when LowBand is 0): what Restore returns, on the tape,
// so that ReFL scores the image a user gets.
func (s *Sampler) LowBandVar(g *nn.Graph, x, cond *nn.Var) *nn.Var {
	if s.LowBand == 0 {
		return x
	}
	return g.Add(g.Sub(x, g.WaveletLowpass(x, s.LowBand)), g.WaveletLowpass(cond, s.LowBand))
}

// Descend samples without gradients from the condition cond (in [-1,1])
// noised to s.Strength: to the end when stopAt is 0, else to x_t at
// DDIM().Timestep(stopAt) (ReFL's descent to step m, from which one
// more forward pass with gradients predicts x0_hat).
func (s *Sampler) Descend(cond *tensor.Tensor, rng *rand.Rand, stopAt int) (*tensor.Tensor, error) {
	return s.descend(cond, diffusion.RNGNoise(rng), stopAt, nil)
}

// descend is Descend with face i guided by w[i] (all by s.Guidance when w
// is nil).
func (s *Sampler) descend(cond *tensor.Tensor, noise diffusion.Noise, stopAt int, w []float32) (*tensor.Tensor, error) {
	// StartFrom checks the steps, eta and strength, Sample all the options.
	x, start, err := s.DDIM().StartFrom(cond, s.Strength, noise)
	if err != nil {
		return nil, err
	}
	if stopAt > 0 && stopAt < start {
		return nil, fmt.Errorf("restorer: stop step %d comes before the start step %d (strength %g of %d steps)", stopAt, start, s.Strength, s.Steps)
	}
	stop := s.Steps
	if stopAt > 0 {
		stop = min(stopAt, s.Steps)
	}
	return x, s.sample(x, cond, start, stop, noise, w)
}

// Sample runs DDIM steps [from, to) on x in place: at each, the networks
// predict, the prediction is guided toward cond, and the scheduler steps.
// cond is nil for the UNet alone (unconditional; no guidance). Noise is
// drawn from rng only for steps with σ > 0 (every step but the last when
// eta > 0), len(x) standard normals per step in step order, so a run
// stopped at a step and resumed with the rng in the same state reproduces
// the straight one. One graph serves every step and is reset after each,
// so memory stays one step's worth.
func (s *Sampler) Sample(x, cond *tensor.Tensor, from, to int, rng *rand.Rand) error {
	return s.sample(x, cond, from, to, diffusion.RNGNoise(rng), nil)
}

// sample is Sample with face i guided by w[i] (all by s.Guidance when w is
// nil).
func (s *Sampler) sample(x, cond *tensor.Tensor, from, to int, noise diffusion.Noise, w []float32) error {
	if err := s.Validate(); err != nil {
		return err
	}
	d := s.DDIM()
	if err := d.Validate(); err != nil {
		return err
	}
	p := s.Model.Config.UNet.Prediction
	if err := p.Validate(); err != nil {
		return err
	}
	if from < 0 || from > to || to > s.Steps {
		return fmt.Errorf("restorer: steps [%d, %d) outside [0, %d]", from, to, s.Steps)
	}
	if len(x.Shape) == 0 || x.Shape[0] == 0 {
		return fmt.Errorf("restorer: sampling a tensor of shape %s, want a batch", tensor.ShapeString(x.Shape))
	}
	if cond == nil && s.Guidance > 0 {
		return errors.New("restorer: guidance without a condition")
	}
	if w == nil && cond != nil {
		w = s.uniformGuidance(x.Shape[0])
	}
	guided := slices.ContainsFunc(w, func(v float32) bool { return v > 0 })
	g := nn.NewGraph()
	g.NoGrad = true
	// The weights stay fixed over the steps, and g lives only for them.
	g.CacheKernels()
	xv := nn.Constant(x) // x's buffer is ours; Reset leaves it alone
	var cv *nn.Var
	if cond != nil {
		cv = nn.Constant(cond)
	}
	var z []float32
	if s.Eta > 0 {
		z = make([]float32, x.Len())
	}
	var hint *nn.Var
	if s.Model.Control != nil && from < to {
		// The control branch's embedding of cond is the same at every
		// step; a copy outlives the steps' resets.
		hint = nn.Constant(s.Model.Control.EmbedHint(g, cv).Value.Clone())
		g.Reset()
	}
	tb := make([]int, x.Shape[0])
	for i := from; i < to; i++ {
		t, tPrev := d.Timestep(i), d.Timestep(i+1)
		for n := range tb {
			tb[n] = t
		}
		pred, _ := s.Model.predictEmbedded(g, xv, tb, hint)
		if !tensor.SameShape(pred.Shape(), x.Shape) {
			g.Reset()
			return fmt.Errorf("restorer: step %d: the networks returned shape %s for input %s", i, tensor.ShapeString(pred.Shape()), tensor.ShapeString(x.Shape))
		}
		if guided {
			s.guide(p, x, pred.Value, cond, tb, w)
		}
		if d.Schedule.Sigma(t, tPrev, s.Eta) > 0 {
			noise(z)
		}
		d.Schedule.Step(p, x.Data, x.Data, pred.Value.Data, z, t, tPrev, s.Eta)
		g.Reset()
	}
	return nil
}

// guide rewrites pred (in place) so that face i's clean-image estimate is
// x0 + w[i]·(cond − x0), consistent with x_t: the DDIM update then carries
// the guided estimate, and its noise estimate is the one x_t implies.
func (s *Sampler) guide(p diffusion.Prediction, xt, pred, cond *tensor.Tensor, t []int, w []float32) {
	sch := s.Model.Schedule
	x0 := sch.X0FromPred(p, xt, pred, t)
	size := len(cond.Data) / len(w)
	for i, c := range cond.Data {
		x0.Data[i] += w[i/size] * (c - x0.Data[i])
	}
	copy(pred.Data, sch.PredFromX0(p, xt, x0, t).Data)
}

// GuideVar is guide on the tape: the clean-image estimate x0 moved the
// fraction s.Guidance of the way to the condition, which is what the
// sampler's last step returns, so ReFL scores the image a user would get.
func (s *Sampler) GuideVar(g *nn.Graph, x0, cond *nn.Var) *nn.Var {
	if s.Guidance == 0 {
		return x0
	}
	w := float32(s.Guidance)
	return g.Add(g.Scale(x0, 1-w), g.Scale(cond, w))
}
