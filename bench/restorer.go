package bench

import (
	"fmt"
	"io"
	"math/rand/v2"

	"facereward/checkpoint"
	"facereward/diffusion"
	"facereward/nn"
	"facereward/optim"
	"facereward/restorer"
	"facereward/tensor"
	"facereward/train"
)

// restorerTimes are one side's medians in seconds.
type restorerTimes struct {
	Stage1Train float64 `json:"stage1_train_s"`
	Stage2Train float64 `json:"stage2_train_s"`
	// Stage2Detail is the stage-2 step with the detail terms
	// (detailOptions), both discriminators' steps included.
	Stage2Detail float64 `json:"stage2_detail_train_s"`
	Restore      float64 `json:"restore_s"`
	// Each step's peak resident memory in MB (medianPeak; the PyTorch
	// side measures the same way): its working set on top of the
	// weights every step shares.
	Stage1TrainMB  float64 `json:"stage1_train_peak_mb"`
	Stage2TrainMB  float64 `json:"stage2_train_peak_mb"`
	Stage2DetailMB float64 `json:"stage2_detail_train_peak_mb"`
	RestoreMB      float64 `json:"restore_peak_mb"`
}

// torchRestorer is what Restorer reads of bench/restorer_torch.py's JSON
// line besides torchRun's keys.
type torchRestorer struct {
	restorerTimes
	Stage1Params   int `json:"stage1_params"`
	UNetParams     int `json:"unet_params"`
	ControlParams  int `json:"control_params"`
	DiscParams     int `json:"disc_params"`
	CompDiscParams int `json:"comp_disc_params"`
	FaceNetParams  int `json:"face_net_params"`
}

// restorerNets name the networks Restorer counts the parameters of.
var restorerNets = []string{"stage 1", "UNet", "control", "discriminator", "component discriminator", "face net"}

const restorerBatch, restorerSteps = 8, 20

// Restorer times the default restorer (restorer.DefaultConfig) in this
// binary's build and in PyTorch: a stage-1 and a stage-2 training step
// (batch 8), the stage-2 step with the detail terms (detailOptions) and
// the restore of one face (20 DDIM steps). The PyTorch side must model the
// same networks: equal parameter counts.
func Restorer(o Options, stdout io.Writer) error {
	m, err := restorer.NewModel(restorer.DefaultConfig(), 1)
	if err != nil {
		return err
	}
	// The discriminators are counted as the detail step builds them: the
	// parts its checkpoints would carry.
	_, parts, err := train.NewStage2Stepper(m, detailOptions())
	if err != nil {
		return fmt.Errorf("bench restorer: %w", err)
	}
	discParams := func(part string) int {
		ps, _ := parts[part].(checkpoint.ParamsPart)
		return nn.NumParams(ps)
	}
	counts := []int{nn.NumParams(m.Stage1.Params()), nn.NumParams(m.UNet.Params()), nn.NumParams(m.Control.Params()),
		discParams("disc"), discParams("comp_disc"), faceNetParams()}
	printHeader(stdout, "restorer", o)
	fmt.Fprintf(stdout, "parameters: %s\n", paramList(restorerNets, counts))

	var tr torchRestorer
	t, err := runTorch(o, &tr)
	if err != nil {
		return fmt.Errorf("bench restorer: %w", err)
	}
	if t.ran() {
		torchCounts := []int{tr.Stage1Params, tr.UNetParams, tr.ControlParams, tr.DiscParams, tr.CompDiscParams, tr.FaceNetParams}
		if err := sameNets(o.Script, restorerNets, counts, torchCounts); err != nil {
			return fmt.Errorf("bench restorer: %w", err)
		}
	}
	goT, err := timeRestorer(m, o.Warmup, o.Iters)
	if err != nil {
		return fmt.Errorf("bench restorer: %w", err)
	}
	rows := []row{
		{"stage-1 train step (batch 8)", goT.Stage1Train, tr.Stage1Train, goT.Stage1TrainMB, tr.Stage1TrainMB},
		{"stage-2 train step (batch 8)", goT.Stage2Train, tr.Stage2Train, goT.Stage2TrainMB, tr.Stage2TrainMB},
		{"stage-2 detail step (batch 8)", goT.Stage2Detail, tr.Stage2Detail, goT.Stage2DetailMB, tr.Stage2DetailMB},
		{"restore one face (20 steps)", goT.Restore, tr.Restore, goT.RestoreMB, tr.RestoreMB},
	}
	if err := report(stdout, o, rows, goT, t, map[string]any{"params": counts}); err != nil {
		return fmt.Errorf("bench restorer: %w", err)
	}
	return nil
}

// timeRestorer times the four steps on m with random inputs (the timings
// do not depend on the weights' values).
func timeRestorer(m *restorer.Model, warmup, iters int) (restorerTimes, error) {
	s := m.Config.UNet.ImageSize
	rng := nn.NewRNG(3)
	img := func(n int) *tensor.Tensor {
		x := tensor.New(n, s, s, 3)
		nn.Normal(x, 0.5, rng)
		return x
	}
	var t restorerTimes
	// Each step has its own graph, whose buffer pool is garbage once the
	// step is timed, so a step's peak does not hold the one before.
	g := nn.NewGraph()
	g.FreeValues = true // as train's steps
	ps1 := m.Stage1.Params()
	opt1, _ := optim.NewAdamW(ps1, optim.DefaultAdam(2e-4))
	lq, hq := nn.Constant(img(restorerBatch)), nn.Constant(img(restorerBatch))
	t.Stage1Train, t.Stage1TrainMB = medianPeak(func() {
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
	g = nn.NewGraph()
	g.FreeValues = true
	t.Stage2Train, t.Stage2TrainMB = medianPeak(func() {
		loss, err := sched.Loss(g, den, x0, cond, lrng, diffusion.LossOptions{})
		if err != nil {
			panic(err)
		}
		g.Backward(loss)
		g.Reset()
		opt2.Step()
		nn.ZeroGrad(ps2)
	}, warmup, iters)

	var err error
	if t.Stage2Detail, t.Stage2DetailMB, err = timeDetail(m, warmup, iters); err != nil {
		return t, err
	}

	// All steps from pure noise, unguided and deterministic: the work the
	// PyTorch side times.
	t.Restore, t.RestoreMB, err = timeFace(m, warmup, iters)
	return t, err
}

// detailOptions are the stage-2 settings the detail row times: restoring's
// timesteps (t below 0.55·T) and all four detail terms on, the component
// critic's (--adv-component) with the whole-face critic's discriminator
// config, at weights of the order a run uses (the cost does not depend on
// them).
func detailOptions() train.Stage2Options {
	o := train.DefaultStage2Options("")
	o.TMax = 0.55
	o.Detail.Adv, o.Detail.ID, o.Detail.Feat = 0.01, 0.1, 0.05
	o.Detail.Comp, o.Detail.CompDisc = 0.01, restorer.DefaultDisc()
	return o
}

// timeDetail times the library's own stage-2 step with the detail terms on
// m (train.Stage2Stepper): the restorer's forward and backward passes, its
// AdamW step, then the discriminators' steps (the whole face's, then the
// component critic's).
func timeDetail(m *restorer.Model, warmup, iters int) (sec, mb float64, err error) {
	st, _, err := train.NewStage2Stepper(m, detailOptions())
	if err != nil {
		return 0, 0, fmt.Errorf("stage-2 detail step: %w", err)
	}
	ps := nn.Collect(m.UNet, m.Control)
	opt, err := optim.NewAdamW(ps, optim.DefaultAdam(2e-4))
	if err != nil {
		return 0, 0, fmt.Errorf("stage-2 detail step: %w", err)
	}
	// Faces in [0,1], as the data loader hands them to the step.
	s := m.Config.UNet.ImageSize
	rng := rand.New(rand.NewPCG(4, 5))
	unit := func() *tensor.Tensor {
		x := tensor.New(restorerBatch, s, s, 3)
		for i := range x.Data {
			x.Data[i] = rng.Float32()
		}
		return x
	}
	lq, hq := unit(), unit()
	var stepErr error
	sec, mb = medianPeak(func() {
		_, fields, err := st.Grad(lq, hq, rng)
		if err != nil {
			if stepErr == nil {
				stepErr = err
			}
			return
		}
		opt.Step()
		nn.ZeroGrad(ps)
		st.Disc(fields)
	}, warmup, iters)
	if stepErr != nil {
		return 0, 0, fmt.Errorf("stage-2 detail step: %w", stepErr)
	}
	return sec, mb, nil
}

// faceNetParams is the parameter count of facenet.Recognition, which
// exports none of its tensors: one weight and one bias per convolution
// (face-api's scale layers are folded into them at load), the 7×7 stem
// 3→32, two 3×3 convolutions per residual block and the 256→128 linear
// map without bias. TestFaceNetParams checks it against the embedded
// weights.
func faceNetParams() int {
	conv := func(k, cin, cout int) int { return k*k*cin*cout + cout }
	n := conv(7, 3, 32) + 256*128
	cin := 32
	for _, w := range []int{32, 32, 32, 64, 64, 64, 64, 128, 128, 128, 256, 256, 256, 256} {
		n += conv(3, cin, w) + conv(3, w, w)
		cin = w
	}
	return n
}
