package refl

import (
	"fmt"
	"math/rand/v2"

	"facereward/nn"
	"facereward/optim"
	"facereward/tensor"
)

// BenchBatch is the batch of the benchmark's step: the paper's effective
// batch.
const BenchBatch = 4

// Bench prepares one ReFL step as training takes it (descent to the last
// sampling step, the dearer of the two training draws m from, with eta
// 0.5, the forward pass with gradients, the loss, backward, clipping,
// AdamW on the trained weights) and one dynamic FRM update, on a fixed
// random batch of BenchBatch faces, for the benchmark to time.
func Bench(o Options) (step, frmUpdate func() error, err error) {
	if err := o.validate(); err != nil {
		return nil, nil, err
	}
	nets, err := LoadNets(o)
	if err != nil {
		return nil, nil, err
	}
	s := nets.Model.Config.UNet.ImageSize
	rng := nn.NewRNG(3)
	img := func() *tensor.Tensor {
		x := tensor.New(BenchBatch, s, s, 3)
		nn.Uniform(x, 1, rng)
		return x
	}
	lq, hq := img(), img()
	ps := nets.Trained(o.TrainAll)
	cfg := optim.DefaultAdam(o.LR)
	cfg.WeightDecay = o.WeightDecay
	adam, err := optim.NewAdamW(ps, cfg)
	if err != nil {
		return nil, nil, err
	}
	st := NewStepper(nets, o)
	noise := rand.New(rand.NewPCG(1, 2))
	var x0 *tensor.Tensor
	step = func() error {
		var err error
		if _, x0, err = st.Step(lq, hq, 0.5, o.SampleSteps-1, noise); err != nil {
			return err
		}
		optim.ClipGradNorm(ps, o.Clip)
		adam.Step()
		nn.ZeroGrad(ps)
		return nil
	}
	frmUpdate = func() error {
		if x0 == nil {
			return fmt.Errorf("train refl: the FRM update needs a step's x0_hat first")
		}
		nets.UpdateFRM(hq, x0)
		return nil
	}
	return step, frmUpdate, nil
}
