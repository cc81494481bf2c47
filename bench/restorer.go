package bench

import (
	"fmt"
	"io"
	"math/rand/v2"

	"facereward/diffusion"
	"facereward/nn"
	"facereward/optim"
	"facereward/restorer"
	"facereward/tensor"
)

// restorerTimes are one side's medians in seconds.
type restorerTimes struct {
	Stage1Train float64 `json:"stage1_train_s"`
	Stage2Train float64 `json:"stage2_train_s"`
	Restore     float64 `json:"restore_s"`
}

// torchRestorer is what Restorer reads of bench/restorer_torch.py's JSON
// line besides torchRun's keys.
type torchRestorer struct {
	restorerTimes
	Stage1Params  int `json:"stage1_params"`
	UNetParams    int `json:"unet_params"`
	ControlParams int `json:"control_params"`
}

// restorerNets name the networks Restorer counts the parameters of.
var restorerNets = []string{"stage 1", "UNet", "control"}

const restorerBatch, restorerSteps = 8, 20

// Restorer times the default restorer (restorer.DefaultConfig) in this
// binary's build and in PyTorch: a stage-1 and a stage-2 training step
// (batch 8) and the restore of one face (20 DDIM steps). The PyTorch side
// must model the same networks: equal parameter counts.
func Restorer(o Options, stdout io.Writer) error {
	m, err := restorer.NewModel(restorer.DefaultConfig(), 1)
	if err != nil {
		return err
	}
	counts := []int{nn.NumParams(m.Stage1.Params()), nn.NumParams(m.UNet.Params()), nn.NumParams(m.Control.Params())}
	printHeader(stdout, "restorer", o)
	fmt.Fprintf(stdout, "parameters: %s\n", paramList(restorerNets, counts))

	var tr torchRestorer
	t, err := runTorch(o, &tr)
	if err != nil {
		return fmt.Errorf("bench restorer: %w", err)
	}
	if t.ran() {
		if err := sameNets(o.Script, restorerNets, counts, []int{tr.Stage1Params, tr.UNetParams, tr.ControlParams}); err != nil {
			return fmt.Errorf("bench restorer: %w", err)
		}
	}
	goT := timeRestorer(m, o.Warmup, o.Iters)
	rows := []row{{"stage-1 train step (batch 8)", goT.Stage1Train, tr.Stage1Train}, {"stage-2 train step (batch 8)", goT.Stage2Train, tr.Stage2Train},
		{"restore one face (20 steps)", goT.Restore, tr.Restore}}
	if err := report(stdout, o, rows, goT, t, map[string]any{"params": counts}); err != nil {
		return fmt.Errorf("bench restorer: %w", err)
	}
	return nil
}

// timeRestorer times the three steps on m with random inputs (the timings
// do not depend on the weights' values).
func timeRestorer(m *restorer.Model, warmup, iters int) restorerTimes {
	s := m.Config.UNet.ImageSize
	rng := nn.NewRNG(3)
	img := func(n int) *tensor.Tensor {
		x := tensor.New(n, s, s, 3)
		nn.Normal(x, 0.5, rng)
		return x
	}
	var t restorerTimes
	g := nn.NewGraph()

	ps1 := m.Stage1.Params()
	opt1, _ := optim.NewAdamW(ps1, optim.DefaultAdam(2e-4))
	lq, hq := nn.Constant(img(restorerBatch)), nn.Constant(img(restorerBatch))
	t.Stage1Train = median(func() {
		g.Backward(g.L1Loss(m.Stage1.Forward(g, lq), hq))
		g.Reset()
		opt1.Step()
		nn.ZeroGrad(ps1)
	}, warmup, iters)

	sched, _ := diffusion.NewSchedule(diffusion.DefaultBetaSchedule, diffusion.DefaultT)
	den := diffusion.Denoiser{Pred: diffusion.Prediction(m.Config.UNet.Prediction), Net: func(g *nn.Graph, xt *nn.Var, ts []int, c *nn.Var) *nn.Var {
		out, _ := m.Predict(g, xt, ts, c)
		return out
	}}
	ps2 := nn.Collect(m.UNet, m.Control)
	opt2, _ := optim.NewAdamW(ps2, optim.DefaultAdam(2e-4))
	x0, cond := img(restorerBatch), nn.Constant(img(restorerBatch))
	lrng := rand.New(rand.NewPCG(1, 2))
	t.Stage2Train = median(func() {
		loss, err := sched.Loss(g, den, x0, cond, lrng, diffusion.LossOptions{})
		if err != nil {
			panic(err)
		}
		g.Backward(loss)
		g.Reset()
		opt2.Step()
		nn.ZeroGrad(ps2)
	}, warmup, iters)

	// All steps from pure noise, unguided and deterministic: the work the
	// PyTorch side times.
	smp, err := restorer.NewSampler(m, restorer.SampleOptions{Steps: restorerSteps, Strength: 1})
	if err != nil {
		panic(err)
	}
	face := img(1)
	t.Restore = median(func() {
		if _, _, err := smp.Restore(face, rng); err != nil {
			panic(err)
		}
	}, warmup, iters)
	return t
}
