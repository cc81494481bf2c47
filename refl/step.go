package refl

import (
	"fmt"
	"math/rand/v2"

	"facereward/nn"
	"facereward/restorer"
	"facereward/reward"
	"facereward/safetensors"
	"facereward/tensor"
)

// Nets are a ReFL run's networks.
type Nets struct {
	Model   *restorer.Model   // the base; it carries its β schedule and prediction type
	Frozen  *restorer.Control // the base control branch, L_reg's reference
	FRM     *reward.FRM       // trained by the dynamic update
	Static  *reward.FRM       // the FRM as loaded: what dev-val passes score with
	Updater *Updater
}

// LoadNets loads o's base restorer and FRM: stage 1 frozen, the UNet too
// unless o.TrainAll, the frozen copy of the control branch, and the FRM
// with its static copy and its dynamic update.
func LoadNets(o Options) (*Nets, error) {
	var n Nets
	var err error
	if n.Model, err = restorer.Load(o.Base); err != nil {
		return nil, fmt.Errorf("train refl: %w", err)
	}
	nn.Freeze(n.Model.Stage1)
	if !o.TrainAll {
		n.Model.FreezeUNet()
	}
	n.Frozen = nn.FrozenCopy(n.Model.Control)
	if n.FRM, err = reward.LoadOrBuiltin(o.Reward); err != nil {
		return nil, fmt.Errorf("train refl: %w", err)
	}
	n.Static = nn.FrozenCopy(n.FRM)
	if n.FRM.Config.ImageSize != n.Model.Config.UNet.ImageSize {
		return nil, fmt.Errorf("train refl: the FRM reads %d×%d faces but the restorer makes %d×%d", n.FRM.Config.ImageSize, n.FRM.Config.ImageSize, n.Model.Config.UNet.ImageSize, n.Model.Config.UNet.ImageSize)
	}
	if n.Updater, err = NewUpdater(n.FRM); err != nil {
		return nil, err
	}
	// Frozen but for its own update: the ReFL loss's gradient flows
	// through the FRM to x0_hat, and its weights need none.
	nn.Freeze(n.FRM)
	return &n, nil
}

// Sampler is the sampler a run descends and validates with: o's settings
// on the base's schedule, eta set per use.
func (n *Nets) Sampler(o Options) *restorer.Sampler {
	return &restorer.Sampler{Model: n.Model, SampleOptions: restorer.SampleOptions{Steps: o.SampleSteps, Strength: o.Strength, Guidance: o.Guidance, LowBand: o.LowBand}}
}

// Trained lists what the optimiser updates: the control branch, and with
// all the UNet too.
func (n *Nets) Trained(all bool) []*nn.Param {
	if all {
		return nn.Collect(n.Model.UNet, n.Model.Control)
	}
	return n.Model.Control.Params()
}

// UpdateFRM is the dynamic FRM update on hq over x0 (both in [0,1]); it
// returns the BT loss before the step.
func (n *Nets) UpdateFRM(hq, x0 *tensor.Tensor) float64 {
	nn.Unfreeze(n.FRM)
	defer nn.Freeze(n.FRM)
	return n.Updater.Step(hq, x0)
}

// SaveModel writes the restorer with the current weights as a model
// directory (F32, so a reload is exact).
func (n *Nets) SaveModel(dir string) error {
	return restorer.SaveDir(dir, n.Model, safetensors.F32)
}

// Stepper runs ReFL's micro-batches, the same for training and the
// benchmark. Each micro-batch takes fresh graphs: keeping them between
// steps (so their buffers are reused) measured no faster here (2.72 s
// against 2.77 s a step, within this machine's noise) and kept the whole
// tape's buffers, raising peak memory from 1.9 GB to 2.6 GB.
type Stepper struct {
	nets    *Nets
	weights Weights
	accum   int
	sampler *restorer.Sampler
	// freeValues is the step graph's nn.Graph.FreeValues (tests compare
	// both settings).
	freeValues bool
}

// NewStepper steps nets with o's loss weights, sampler and accumulation.
func NewStepper(nets *Nets, o Options) *Stepper {
	return &Stepper{nets: nets, weights: o.Weights, accum: o.Accum, sampler: nets.Sampler(o), freeValues: true}
}

// Step is one micro-batch of a ReFL step on lq and hq ([N,S,S,3] in
// [0,1]): the condition, the descent without gradients with DDIM's eta to
// step m (the caller draws both: eta ~ U(0,1), m from the last LastSteps;
// rng draws the descent's noise), one forward pass with gradients at m
// giving x0_hat (guided, and its low band taken from the condition, as
// the sampler's last step and Restore do), the loss and its
// backward pass scaled for accumulation: the gradients add up in the
// trained parameters, for the caller's update. It returns the loss
// (KeyLoss) and its unweighted terms (KeyReg, KeyStruct, KeyReward,
// KeyPixel), and x0_hat in [0,1] (for the dynamic FRM update).
func (st *Stepper) Step(lq, hq *tensor.Tensor, eta float64, m int, rng *rand.Rand) (map[string]float64, *tensor.Tensor, error) {
	s, nets := st.sampler, st.nets
	s.Eta = eta
	cond := nets.Model.Condition(lq)
	xt, err := s.Descend(cond, rng, m)
	if err != nil {
		return nil, nil, err
	}
	ts := make([]int, lq.Shape[0])
	for i := range ts {
		ts[i] = s.DDIM().Timestep(m)
	}
	// The frozen branch's residuals are constants of the loss; computing
	// them off the tape keeps its activations out of memory, and the pass
	// with gradients reuses its buffers.
	g := nn.NewGraph()
	g.FreeValues = st.freeValues
	var frozen []*nn.Var
	g.NoGradPass(func() {
		for _, r := range nets.Frozen.Forward(g, nn.Constant(xt), ts, nn.Constant(cond)) {
			frozen = append(frozen, nn.Constant(r.Value.Clone()))
		}
	})
	xv, cv := nn.Constant(xt), nn.Constant(cond)
	pred, res := nets.Model.Predict(g, xv, ts, cv)
	x0 := s.LowBandVar(g, s.GuideVar(g, nets.Model.Schedule.X0FromPredVar(g, nets.Model.Config.UNet.Prediction, xv, pred, ts), cv), cv)
	terms := Loss(g, st.weights, x0, nn.Constant(restorer.ToSigned(hq)), res, frozen, nets.FRM)
	out := tensor.New(x0.Value.Shape...)
	for i, v := range x0.Value.Data {
		out.Data[i] = 0.5 * (v + 1)
	}
	vals := map[string]float64{}
	for k, v := range map[string]*nn.Var{KeyLoss: terms.Total, KeyReg: terms.Reg, KeyStruct: terms.Struct, KeyReward: terms.Reward, KeyPixel: terms.Pixel} {
		if v != nil {
			vals[k] = float64(v.Value.Data[0])
		}
	}
	g.Backward(g.Scale(terms.Total, float32(1/float64(st.accum))))
	g.Reset()
	return vals, out, nil
}
