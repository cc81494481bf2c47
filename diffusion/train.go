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

// SampleTimesteps draws n timesteps uniformly from [0, T).
func (s *Schedule) SampleTimesteps(rng *rand.Rand, n int) []int {
	t := make([]int, n)
	for i := range t {
		t[i] = rng.IntN(s.T())
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
}

// Loss is one denoising training loss on a batch of clean images x0
// ([N,H,W,C] in [-1, 1]): it draws t (N uniform timesteps) and then ε (one
// normal per value) from rng in that order, builds x_t, runs the model and
// returns the mean squared error against the target (ε or v, per m.Pred),
// ready for g.Backward. The working tensors come from g's pool.
func (s *Schedule) Loss(g *nn.Graph, m Denoiser, x0 *tensor.Tensor, cond *nn.Var, rng *rand.Rand, opts LossOptions) (*nn.Var, error) {
	if err := m.Pred.Validate(); err != nil {
		return nil, err
	}
	if len(x0.Shape) == 0 || x0.Shape[0] == 0 {
		return nil, fmt.Errorf("diffusion: loss batch has shape %s, want [N,...]", tensor.ShapeString(x0.Shape))
	}
	n := x0.Shape[0]
	t := s.SampleTimesteps(rng, n)
	scratch := func() *tensor.Tensor { return tensor.FromSlice(g.Scratch(x0.Len()), x0.Shape...) }
	eps := scratch()
	FillNormal(rng, eps.Data)
	xt := s.lincombInto("Loss", scratch(), x0, eps, t, noiseCoef)
	target := eps
	if m.Pred == PredictV {
		target = s.lincombInto("Loss", scratch(), eps, x0, t, vCoef)
	}
	pred := m.Net(g, nn.Constant(xt), t, cond)
	if !tensor.SameShape(pred.Shape(), x0.Shape) {
		return nil, fmt.Errorf("diffusion: loss: model returned shape %s for input %s",
			tensor.ShapeString(pred.Shape()), tensor.ShapeString(x0.Shape))
	}
	if opts.MinSNRGamma <= 0 {
		return g.MSELoss(pred, nn.Constant(target)), nil
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
	return g.Mean(g.Mul(g.Mul(d, d), nn.Constant(w))), nil
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
