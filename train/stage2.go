package train

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"

	"facereward/diffusion"
	"facereward/evaluate"
	"facereward/nn"
	"facereward/optim"
	"facereward/restorer"
	"facereward/rundir"
	"facereward/tensor"
)

// Stage-2 modes. DiffBIR trains in two runs: first the UNet alone learns
// the face prior from clean faces ("unet"), then the control branch learns
// to steer the frozen UNet with the stage-1 estimate ("control"), which is
// also the branch ReFL later tunes. "joint" trains both at once and is the
// default: on 2 CPU cores the step budget is a few thousand, and one run
// that learns prior and control together reaches usable restorations in
// it, where the two-run schedule would spend half of it on a prior that
// never sees the condition.
const (
	ModeUNet    = "unet"
	ModeControl = "control"
	ModeJoint   = "joint"
)

// Stage2Options are every setting of a stage-2 run (saved as config.json).
type Stage2Options struct {
	Data   string              `json:"data"`
	Mode   string              `json:"mode"`
	Net    restorer.UNetConfig `json:"net"`
	Stage1 string              `json:"stage1"` // stage-1 model.safetensors: the condition (control, joint)
	// Stage1Net must match the weights in Stage1.
	Stage1Net restorer.Stage1Config `json:"stage1_net"`
	UNet      string                `json:"unet"` // UNet model.safetensors to start from (control mode)
	// Init starts a joint run from a whole restorer (a model directory or
	// builtin:NAME): its stage 1 (frozen), UNet and control branch, whose
	// configs replace Net, Stage1Net and Schedule.
	Init string `json:"init,omitempty"`
	// TMax, when in (0, 1), draws the training timesteps from
	// [0, TMax·T): restoring at strength S visits only the steps below
	// S·T. Such a run cannot sample from pure noise, so its dev-val
	// passes restore as the restore command does.
	TMax     float64                `json:"t_max,omitempty"`
	Detail   DetailOptions          `json:"detail"`
	Schedule diffusion.BetaSchedule `json:"schedule"`
	Preset   string                 `json:"preset"`
	Seed     uint64                 `json:"seed"`
	Steps    int                    `json:"steps"`
	// Until stops the run early, at this step, without changing the
	// schedule; not part of the run's config (0: run all Steps).
	Until     int     `json:"-"`
	Batch     int     `json:"batch"`
	LR        float64 `json:"lr"`
	Warmup    int     `json:"warmup"`
	Clip      float64 `json:"clip"`
	EMA       float64 `json:"ema"`
	EvalEvery int     `json:"eval_every"`
	EvalFaces int     `json:"eval_faces"`
	// SampleSteps is the DDIM step count of dev-val passes.
	SampleSteps  int `json:"sample_steps"`
	SaveEvery    int `json:"save_every"`
	KeepCheckpts int `json:"keep_checkpoints"`
}

// DefaultStage2Options trains the default UNet and control branch jointly
// (the shipped weights' recipe; see ModeJoint).
func DefaultStage2Options(data string) Stage2Options {
	return Stage2Options{
		Data: data, Mode: ModeJoint, Net: restorer.DefaultUNet(), Stage1Net: restorer.DefaultStage1(),
		Schedule: diffusion.DefaultBetaSchedule, Preset: "diffbir", Seed: 1,
		Steps: 5000, Batch: 8, LR: 2e-4, Warmup: 500, Clip: 1, EMA: 0.999,
		EvalEvery: 2000, EvalFaces: 32, SampleSteps: 20, SaveEvery: 250, KeepCheckpts: 3,
		Detail: DetailOptions{Disc: restorer.DefaultDisc(), DiscLR: 1e-4, DiscSteps: 1, AdvMinT: 0.2},
	}
}

// maxT is TMax in timesteps (0: the whole schedule).
func (o Stage2Options) maxT() int {
	if o.TMax > 0 && o.TMax < 1 {
		return int(o.TMax * diffusion.DefaultT)
	}
	return 0
}

// denoiser is m as the training loss reads it: the UNet, with the control
// branch reading cond when there is one.
func denoiser(m *restorer.Model) diffusion.Denoiser {
	return diffusion.Denoiser{Pred: m.Config.UNet.Prediction, Net: func(g *nn.Graph, xt *nn.Var, t []int, cond *nn.Var) *nn.Var {
		pred, _ := m.Predict(g, xt, t, cond)
		return pred
	}}
}

// buildStage2 builds the networks of a stage-2 run as a restorer (no stage
// 1 or control branch in unet mode) and lists the parameters it trains.
func buildStage2(opt Stage2Options) (*restorer.Model, []*nn.Param, error) {
	if opt.Init != "" {
		return initStage2(opt)
	}
	if err := opt.Net.Validate(); err != nil {
		return nil, nil, err
	}
	sched, err := diffusion.NewSchedule(opt.Schedule, diffusion.DefaultT)
	if err != nil {
		return nil, nil, err
	}
	m := &restorer.Model{Config: restorer.Config{Stage1: opt.Stage1Net, UNet: opt.Net, Schedule: opt.Schedule}, Schedule: sched}
	rng := nn.NewRNG(opt.Seed)
	if m.UNet, err = restorer.NewUNet(opt.Net, rng); err != nil {
		return nil, nil, err
	}
	if opt.Mode == ModeUNet {
		return m, m.UNet.Params(), nil
	}
	if opt.Mode != ModeControl && opt.Mode != ModeJoint {
		return nil, nil, fmt.Errorf("train stage 2: mode %q (want unet, control or joint)", opt.Mode)
	}
	if opt.Stage1 == "" {
		return nil, nil, fmt.Errorf("train stage 2: mode %s needs the stage-1 weights (--stage1 run/model.safetensors)", opt.Mode)
	}
	if m.Stage1, err = restorer.NewStage1(opt.Stage1Net, rng); err != nil {
		return nil, nil, err
	}
	if err := loadWeights(opt.Stage1, m.Stage1.Params()); err != nil {
		return nil, nil, err
	}
	nn.Freeze(m.Stage1)
	if opt.UNet != "" {
		if err := loadWeights(opt.UNet, m.UNet.Params()); err != nil {
			return nil, nil, err
		}
	} else if opt.Mode == ModeControl {
		return nil, nil, fmt.Errorf("train stage 2: control mode needs a trained UNet (--unet run/model.safetensors)")
	}
	// ControlNet starts as a copy of the (trained) UNet's encoder.
	if m.Control, err = restorer.NewControlFromUNet(m.UNet, rng); err != nil {
		return nil, nil, err
	}
	if opt.Mode == ModeControl {
		nn.Freeze(m.UNet)
		return m, m.Control.Params(), nil
	}
	return m, nn.Collect(m.UNet, m.Control), nil
}

// initStage2 loads the whole restorer of opt.Init for a joint run.
func initStage2(opt Stage2Options) (*restorer.Model, []*nn.Param, error) {
	if opt.Mode != ModeJoint {
		return nil, nil, fmt.Errorf("train stage 2: --init starts a joint run (mode %s)", opt.Mode)
	}
	if opt.Stage1 != "" || opt.UNet != "" {
		return nil, nil, fmt.Errorf("train stage 2: --init brings its own stage 1 and UNet (drop --stage1 and --unet)")
	}
	m, err := restorer.Load(opt.Init)
	if err != nil {
		return nil, nil, fmt.Errorf("train stage 2: %w", err)
	}
	if m.Stage1 == nil || m.Control == nil {
		return nil, nil, fmt.Errorf("train stage 2: --init %s has no stage 1 or control branch", opt.Init)
	}
	nn.Freeze(m.Stage1)
	return m, nn.Collect(m.UNet, m.Control), nil
}

// Stage2 trains (or resumes) a stage-2 run until opt.Steps or until ctx is
// cancelled, saving a checkpoint either way.
func Stage2(ctx context.Context, dir string, opt Stage2Options, resume bool, stdout io.Writer) error {
	c := Counts{Steps: opt.Steps, Until: opt.Until, Batch: opt.Batch, Warmup: opt.Warmup, EvalEvery: opt.EvalEvery, EvalFaces: opt.EvalFaces,
		SaveEvery: opt.SaveEvery, KeepCheckpts: opt.KeepCheckpts, LR: opt.LR, Clip: opt.Clip, EMA: opt.EMA}
	if err := c.Validate("train stage 2"); err != nil {
		return err
	}
	m, ps, err := buildStage2(opt)
	if err != nil {
		return err
	}
	// config.json records the networks the run trains.
	opt.Net, opt.Stage1Net, opt.Schedule = m.Config.UNet, m.Config.Stage1, m.Config.Schedule
	st, parts, err := NewStage2Stepper(m, opt)
	if err != nil {
		return err
	}
	pd, err := OpenPairs("train stage 2", opt.Data, opt.Preset, opt.Net.ImageSize, opt.Seed, opt.EvalEvery, opt.EvalFaces)
	if err != nil {
		return err
	}
	ses, err := NewSession(dir, opt, resume, ps, opt.LR, 0, opt.EMA, opt.KeepCheckpts, map[string]string{"stage": "2", "mode": opt.Mode}, parts, stdout)
	if err != nil {
		return err
	}
	defer ses.run.Close()
	loader, done, err := ses.loader(pd, opt.Batch, opt.Seed, opt.Steps, opt.Until, stdout)
	if done || err != nil {
		return err
	}
	defer loader.Close()
	dev, scorers := pd.Dev, pd.Scorers

	lr := optim.WarmupCosine(opt.LR, opt.Warmup, opt.Steps, opt.LR/100)
	var eval func(int) error
	if dev != nil {
		eval = func(step int) error { return evalStage2(ses.run, step, m, ses.ema, opt, dev, scorers) }
	}
	return ses.Loop(ctx, LoopOptions{"train stage 2 " + opt.Mode, opt.Steps, opt.Until, opt.EvalEvery, opt.SaveEvery}, func() (float32, map[string]any, error) {
		b, err := loader.Next()
		if err != nil {
			return 0, nil, err
		}
		ses.opt.SetLR(lr(ses.step))
		// One stream per step, so a resumed run draws what it would have.
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(ses.step)))
		loss, fields, err := st.Grad(b.Tensors[0], b.Tensors[1], rng)
		if err != nil {
			return 0, nil, err
		}
		fields[KeyGradNorm] = ses.Update(opt.Clip)
		st.Disc(fields)
		return loss, fields, nil
	}, eval, stdout)
}

// Stage2Stepper computes a stage-2 step: the denoising loss on x_t at
// timesteps below MaxT and, when on, the detail terms on x0_hat; then, as
// a separate update after the restorer's, the discriminator's step.
type Stage2Stepper struct {
	Model *restorer.Model
	MaxT  int // 0: the whole schedule
	det   *detail
	g     *nn.Graph
	hq    *tensor.Tensor // the last batch's ground truth, for Disc
}

// NewStage2Stepper builds the step of opt's terms for m and returns the
// state (the discriminator and its optimiser) that checkpoints must carry.
func NewStage2Stepper(m *restorer.Model, opt Stage2Options) (*Stage2Stepper, map[string]optim.Stateful, error) {
	g := nn.NewGraph()
	g.FreeValues = true
	det, parts, err := newDetail(opt.Detail, m.Config.UNet.ImageSize, opt.Seed, g)
	if err != nil {
		return nil, nil, err
	}
	return &Stage2Stepper{Model: m, MaxT: opt.maxT(), det: det, g: g}, parts, nil
}

// Grad runs the forward and backward passes on a batch (lq and hq
// [N,S,S,3] in [0,1]), accumulating the trained parameters' gradients,
// and returns the loss and the fields to log. rng draws t and ε.
func (s *Stage2Stepper) Grad(lq, hq *tensor.Tensor, rng *rand.Rand) (float32, map[string]any, error) {
	m, g := s.Model, s.g
	var cond *nn.Var
	if m.Stage1 != nil {
		cond = nn.Constant(m.ConditionIn(g, lq))
	}
	s.hq = restorer.ToSigned(hq)
	den, lo := denoiser(m), diffusion.LossOptions{MaxT: s.MaxT}
	fields := map[string]any{}
	var loss, x0hat *nn.Var
	var err error
	if !s.det.opt.On() {
		if loss, err = m.Schedule.Loss(g, den, s.hq, cond, rng, lo); err != nil {
			return 0, nil, err
		}
	} else {
		var t []int
		if loss, x0hat, t, err = m.Schedule.LossX0(g, den, s.hq, cond, rng, lo); err != nil {
			return 0, nil, err
		}
		fields[KeyDiffusion] = loss.Value.Data[0]
		terms, f := s.det.generator(g, x0hat, t, s.hq)
		maps.Copy(fields, f)
		if terms != nil {
			loss = g.Add(loss, terms)
		}
	}
	v := loss.Value.Data[0]
	g.Backward(loss)
	g.Reset()
	return v, fields, nil
}

// Disc takes the discriminator's update on the last Grad's batch and adds
// its fields; without the adversarial term it does nothing.
func (s *Stage2Stepper) Disc(fields map[string]any) { s.det.discStep(s.hq, fields) }

// evalStage2 samples with the EMA weights through the restore command's
// sampler from pure noise (all steps, eta 0, no guidance, fixed noise).
// With a condition it scores the restorations of the dev set; the UNet
// alone draws unconditional faces, which have no ground truth, so only
// their grid is written.
func evalStage2(run *rundir.Run, step int, m *restorer.Model, ema *optim.EMA, opt Stage2Options, dev *evaluate.DevSet, scorers *evaluate.Pool) error {
	ema.Swap()
	defer ema.Swap()
	so := restorer.SampleOptions{Steps: opt.SampleSteps, Strength: 1}
	if opt.maxT() > 0 {
		so = restorer.DefaultSampleOptions()
		so.Steps = opt.SampleSteps
	}
	smp, err := restorer.NewSampler(m, so)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 1<<62))
	sample := func(lq *tensor.Tensor) (*tensor.Tensor, error) {
		if opt.maxT() > 0 {
			_, out, err := smp.Restore(lq, rng)
			return out, err
		}
		var cond *tensor.Tensor
		if m.Stage1 != nil {
			cond = m.Condition(lq)
		}
		x := diffusion.Normal(rng, lq.Shape...)
		if err := smp.Sample(x, cond, 0, smp.Steps, rng); err != nil {
			return nil, err
		}
		return restorer.ToUnit(x), nil
	}
	if m.Stage1 == nil {
		out, err := sample(tensor.Stack(dev.LQ[:min(8, len(dev.LQ))]))
		if err != nil {
			return err
		}
		var rows [][]*tensor.Tensor
		for _, im := range tensor.Unstack(out) {
			rows = append(rows, []*tensor.Tensor{im})
		}
		return WriteGrid(run, step, rows)
	}
	sc, outs, err := dev.Score(scorers, 8, sample)
	if err != nil {
		return err
	}
	fields := map[string]any{KeyDevPSNR: sc.PSNR, KeyDevSSIM: sc.SSIM, KeyDevIDS: sc.IDS, KeyDevLMD: sc.LMD, KeyDevLMDFaces: sc.LMDCount}
	if !math.IsNaN(sc.BRISQUE) {
		fields[KeyDevBRISQUE] = sc.BRISQUE
	}
	if err := run.Log(step, fields); err != nil {
		return err
	}
	return WriteGrid(run, step, dev.Rows(outs))
}
