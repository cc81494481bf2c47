package refl

import (
	"fmt"

	"facereward/nn"
	"facereward/optim"
	"facereward/reward"
	"facereward/tensor"
)

// Updater is DiffusionReward's dynamic FRM update (docs/design.md §1):
// every few ReFL steps the FRM takes one step of Weight·BT(HQ preferred
// over the restorer's x0_hat), with its own AdamW, so that it keeps telling
// real faces from whatever the restorer has learnt to produce and the
// restorer cannot settle on images that only fool a fixed FRM.
type Updater struct {
	FRM    *reward.FRM
	Opt    *optim.Adam
	Weight float64 // the BT term's weight (the paper's 0.1)
	Clip   float64 // gradient-norm clip (1.0)

	g *nn.Graph // kept between steps, so its buffers are reused
}

// The paper's settings of the dynamic update.
const (
	DynamicLR          = 2e-6
	DynamicWeightDecay = 0.35
	DynamicWeight      = 0.1
	DynamicClip        = 1.0
)

// NewUpdater makes the dynamic update of m with the paper's settings.
func NewUpdater(m *reward.FRM) (*Updater, error) {
	cfg := optim.DefaultAdam(DynamicLR)
	cfg.WeightDecay = DynamicWeightDecay
	opt, err := optim.NewAdamW(m.Params(), cfg)
	if err != nil {
		return nil, fmt.Errorf("refl: dynamic update: %w", err)
	}
	return &Updater{FRM: m, Opt: opt, Weight: DynamicWeight, Clip: DynamicClip}, nil
}

// Step takes one update on a batch of ground truths hq and restorations
// x0 (both [N,S,S,3] in [0,1]; x0 is data here, no gradient reaches the
// restorer) and returns the BT loss before the step.
func (u *Updater) Step(hq, x0 *tensor.Tensor) float64 {
	ps := u.FRM.Params()
	nn.ZeroGrad(ps)
	if u.g == nil {
		u.g = nn.NewGraph()
		u.g.FreeValues = true
	}
	g := u.g
	bt := reward.BTLoss(g, u.FRM.Forward(g, nn.Constant(hq)), u.FRM.Forward(g, nn.Constant(x0)))
	loss := float64(bt.Value.Data[0])
	g.Backward(g.Scale(bt, float32(u.Weight)))
	g.Reset()
	optim.ClipGradNorm(ps, u.Clip)
	u.Opt.Step()
	nn.ZeroGrad(ps)
	return loss
}
