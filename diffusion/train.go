package diffusion

import (
	"fmt"
	"math/rand/v2"

	"facereward/nn"
	"facereward/tensor"
)

// ModelFunc runs the denoising network on x_t at per-sample timesteps t with
// a condition (the stage-1 restoration; nil when unconditional) and returns
// its prediction, shaped like x_t.
type ModelFunc func(g *nn.Graph, xt *nn.Var, t []int, cond *nn.Var) *nn.Var

// Denoiser is a network together with what it predicts: what the training
// loss needs to build its target.
type Denoiser struct {
	Net  ModelFunc
	Pred Prediction
}

// SampleTimesteps draws n timesteps uniformly from [0, maxT), or from
// [0, T) when maxT is 0 or beyond T.
func (s *Schedule) SampleTimesteps(rng *rand.Rand, n, maxT int) []int {
	if maxT <= 0 || maxT > s.T() {
		maxT = s.T()
	}
	t := make([]int, n)
	for i := range t {
		t[i] = rng.IntN(maxT)
	}
	return t
}

// LossOptions adjust the denoising loss; the zero value is the plain MSE.
type LossOptions struct {
	// MinSNRGamma, when > 0, weighs each sample by min(SNR_t, γ) in x0
	// terms (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR
	// Weighting"; they use γ = 5): the nearly clean timesteps, whose easy
	// targets otherwise dominate the gradient, are capped.
	MinSNRGamma float64
	// MaxT, when > 0, draws the timesteps from [0, MaxT) instead of
	// [0, T): restoring from the stage-1 estimate at strength S visits only
	// the steps below S·T, so training beyond them spends the budget on
	// steps inference never takes.
	MaxT int
}

// Loss is one denoising training loss on a batch of clean images x0
// ([N,H,W,C] in [-1, 1]): it draws t (N uniform timesteps) and then ε (one
// normal per value) from rng in that order, builds x_t, runs the model and
// returns the mean squared error against the target (ε or v, per m.Pred),
// ready for g.Backward. The working tensors come from g's pool.
func (s *Schedule) Loss(g *nn.Graph, m Denoiser, x0 *tensor.Tensor, cond *nn.Var, rng *rand.Rand, opts LossOptions) (*nn.Var, error) {
	loss, _, _, err := s.loss(g, m, x0, cond, rng, opts, false)
	return loss, err
}

// LossX0 is Loss that also returns the model's clean-image estimate x0_hat
// (on the graph, so that terms on it train the model too) and the
// timesteps drawn: what the adversarial and face terms of stage-2 training
// judge, and at which noise level each estimate was made.
func (s *Schedule) LossX0(g *nn.Graph, m Denoiser, x0 *tensor.Tensor, cond *nn.Var, rng *rand.Rand, opts LossOptions) (loss, x0hat *nn.Var, t []int, err error) {
	return s.loss(g, m, x0, cond, rng, opts, true)
}

func (s *Schedule) loss(g *nn.Graph, m Denoiser, x0 *tensor.Tensor, cond *nn.Var, rng *rand.Rand, opts LossOptions, wantX0 bool) (loss, x0hat *nn.Var, t []int, err error) {
	if err := m.Pred.Validate(); err != nil {
		return nil, nil, nil, err
	}
	if len(x0.Shape) == 0 || x0.Shape[0] == 0 {
		return nil, nil, nil, fmt.Errorf("diffusion: loss batch has shape %s, want [N,...]", tensor.ShapeString(x0.Shape))
	}
	n := x0.Shape[0]
	t = s.SampleTimesteps(rng, n, opts.MaxT)
	scratch := func() *tensor.Tensor { return tensor.FromSlice(g.Scratch(x0.Len()), x0.Shape...) }
	eps := scratch()
	FillNormal(rng, eps.Data)
	xt := s.lincombInto("Loss", scratch(), x0, eps, t, noiseCoef)
	target := eps
	if m.Pred == PredictV {
		target = s.lincombInto("Loss", scratch(), eps, x0, t, vCoef)
	}
	xv := nn.Constant(xt)
	pred := m.Net(g, xv, t, cond)
	if !tensor.SameShape(pred.Shape(), x0.Shape) {
		return nil, nil, nil, fmt.Errorf("diffusion: loss: model returned shape %s for input %s",
			tensor.ShapeString(pred.Shape()), tensor.ShapeString(x0.Shape))
	}
	if wantX0 {
		x0hat = s.X0FromPredVar(g, m.Pred, xv, pred, t)
	}
	if opts.MinSNRGamma <= 0 {
		return g.MSELoss(pred, nn.Constant(target)), x0hat, t, nil
	}
	shape := make([]int, len(x0.Shape))
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = n
	w := tensor.FromSlice(g.Scratch(n), shape...)
	for i, ti := range t {
		w.Data[i] = float32(s.minSNRWeight(m.Pred, ti, opts.MinSNRGamma))
	}
	d := g.Sub(pred, nn.Constant(target))
	return g.Mean(g.Mul(g.Mul(d, d), nn.Constant(w))), x0hat, t, nil
}

// minSNRWeight converts the x0-space weight min(SNR, γ) into the weight of
// the ε or v loss: the ε error is the x0 error times SNR, the v error the
// x0 error times SNR+1.
func (s *Schedule) minSNRWeight(p Prediction, t int, gamma float64) float64 {
	snr := s.SNR(t)
	if p == PredictV {
		return min(snr, gamma) / (snr + 1)
	}
	return min(snr, gamma) / snr
}
