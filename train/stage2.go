package train

import (
	"context"
	"fmt"
	"io"
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
	Schedule  string                `json:"schedule"`
	Preset    string                `json:"preset"`
	Seed      uint64                `json:"seed"`
	Steps     int                   `json:"steps"`
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
		Schedule: string(diffusion.DefaultBetaSchedule), Preset: "diffbir", Seed: 1,
		Steps: 5000, Batch: 8, LR: 2e-4, Warmup: 500, Clip: 1, EMA: 0.999,
		EvalEvery: 2000, EvalFaces: 32, SampleSteps: 20, SaveEvery: 250, KeepCheckpts: 3,
	}
}

// stage2Nets are the networks of a stage-2 run.
type stage2Nets struct {
	stage1  *restorer.Stage1 // frozen; nil in unet mode
	unet    *restorer.UNet
	control *restorer.Control // nil in unet mode
	pred    diffusion.Prediction
}

// denoiser wires the UNet (and the control branch reading cond) into the
// diffusion code's model function.
func (n *stage2Nets) denoiser() diffusion.Denoiser {
	return diffusion.Denoiser{Pred: n.pred, Net: func(g *nn.Graph, xt *nn.Var, t []int, cond *nn.Var) *nn.Var {
		var res []*nn.Var
		if n.control != nil {
			res = n.control.Forward(g, xt, t, cond)
		}
		return n.unet.Forward(g, xt, t, res)
	}}
}

// condition runs the frozen stage-1 net on a batch of LQ faces in [0,1] and
// returns its estimate in [-1,1], outside any training graph.
func (n *stage2Nets) condition(lq *tensor.Tensor) *tensor.Tensor {
	g := nn.NewGraph()
	g.NoGrad = true
	out := n.stage1.Forward(g, nn.Constant(restorer.ToSigned(lq))).Value.Clone()
	g.Reset()
	return out
}

func buildStage2(opt Stage2Options) (*stage2Nets, []*nn.Param, error) {
	if err := opt.Net.Validate(); err != nil {
		return nil, nil, err
	}
	n := &stage2Nets{pred: diffusion.Prediction(opt.Net.Prediction)}
	rng := nn.NewRNG(opt.Seed)
	var err error
	if n.unet, err = restorer.NewUNet(opt.Net, rng); err != nil {
		return nil, nil, err
	}
	if opt.Mode == ModeUNet {
		return n, n.unet.Params(), nil
	}
	if opt.Mode != ModeControl && opt.Mode != ModeJoint {
		return nil, nil, fmt.Errorf("train stage 2: mode %q (want unet, control or joint)", opt.Mode)
	}
	if opt.Stage1 == "" {
		return nil, nil, fmt.Errorf("train stage 2: mode %s needs the stage-1 weights (--stage1 run/model.safetensors)", opt.Mode)
	}
	if n.stage1, err = restorer.NewStage1(opt.Stage1Net, rng); err != nil {
		return nil, nil, err
	}
	if err := loadWeights(opt.Stage1, n.stage1.Params()); err != nil {
		return nil, nil, err
	}
	nn.Freeze(n.stage1)
	if opt.UNet != "" {
		if err := loadWeights(opt.UNet, n.unet.Params()); err != nil {
			return nil, nil, err
		}
	} else if opt.Mode == ModeControl {
		return nil, nil, fmt.Errorf("train stage 2: control mode needs a trained UNet (--unet run/model.safetensors)")
	}
	// ControlNet starts as a copy of the (trained) UNet's encoder.
	if n.control, err = restorer.NewControlFromUNet(n.unet, rng); err != nil {
		return nil, nil, err
	}
	if opt.Mode == ModeControl {
		nn.Freeze(n.unet)
		return n, n.control.Params(), nil
	}
	return n, nn.Collect(n.unet, n.control), nil
}

// Stage2 trains (or resumes) a stage-2 run until opt.Steps or until ctx is
// cancelled, saving a checkpoint either way.
func Stage2(ctx context.Context, dir string, opt Stage2Options, resume bool, stdout io.Writer) error {
	sched, err := diffusion.NewSchedule(diffusion.BetaSchedule(opt.Schedule), diffusion.DefaultT)
	if err != nil {
		return err
	}
	nets, ps, err := buildStage2(opt)
	if err != nil {
		return err
	}
	pd, err := openPairs("train stage 2", opt.Data, opt.Preset, opt.Net.ImageSize, opt.Seed, opt.EvalEvery, opt.EvalFaces)
	if err != nil {
		return err
	}
	ses, err := newSession(dir, opt, resume, ps, opt.LR, 0, opt.EMA, opt.KeepCheckpts, map[string]string{"stage": "2", "mode": opt.Mode}, nil, stdout)
	if err != nil {
		return err
	}
	defer ses.run.Close()
	loader, done, err := ses.loader(pd, opt.Batch, opt.Seed, opt.Steps, opt.Until, stdout)
	if done || err != nil {
		return err
	}
	defer loader.Close()
	dev, scorers := pd.dev, pd.scorers

	lr := optim.WarmupCosine(opt.LR, opt.Warmup, opt.Steps, opt.LR/100)
	den := nets.denoiser()
	g := nn.NewGraph()
	var eval func(int) error
	if dev != nil {
		eval = func(step int) error { return evalStage2(ses.run, step, nets, ses.ema, sched, opt, dev, scorers) }
	}
	return ses.loop(ctx, loopOptions{"train stage 2 " + opt.Mode, opt.Steps, opt.Until, opt.EvalEvery, opt.SaveEvery}, func() (float32, map[string]any, error) {
		b, err := loader.Next()
		if err != nil {
			return 0, nil, err
		}
		ses.opt.SetLR(lr(ses.step))
		var cond *nn.Var
		if nets.stage1 != nil {
			cond = nn.Constant(nets.condition(b.Tensors[0]))
		}
		// One stream per step, so a resumed run draws what it would have.
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(ses.step)))
		loss, err := sched.Loss(g, den, restorer.ToSigned(b.Tensors[1]), cond, rng, diffusion.LossOptions{})
		if err != nil {
			return 0, nil, err
		}
		lossV := loss.Value.Data[0]
		g.Backward(loss)
		g.Reset()
		return lossV, map[string]any{"grad_norm": ses.update(opt.Clip)}, nil
	}, eval, stdout)
}

// evalStage2 samples with the EMA weights (DDIM, eta 0, fixed noise). With a
// condition it scores the restorations of the dev set; the UNet alone
// draws unconditional faces, which have no ground truth, so only their grid
// is written.
func evalStage2(run *rundir.Run, step int, nets *stage2Nets, ema *optim.EMA, sched *diffusion.Schedule, opt Stage2Options, dev *evaluate.DevSet, scorers *evaluate.Pool) error {
	ema.Swap()
	defer ema.Swap()
	ddim := diffusion.DDIM{Schedule: sched, Steps: opt.SampleSteps}
	rng := rand.New(rand.NewPCG(opt.Seed, 1<<62))
	sample := func(lq *tensor.Tensor) (*tensor.Tensor, error) {
		g := nn.NewGraph()
		var cond *nn.Var
		if nets.stage1 != nil {
			cond = nn.Constant(nets.condition(lq))
		}
		xT := diffusion.Normal(rng, lq.Shape...)
		out, err := ddim.Sample(g, nets.denoiser(), xT, cond, rng, diffusion.SampleOptions{})
		if err != nil {
			return nil, err
		}
		return restorer.ToUnit(out.X), nil
	}
	if nets.stage1 == nil {
		out, err := sample(tensor.Stack(dev.LQ[:min(8, len(dev.LQ))]))
		if err != nil {
			return err
		}
		var rows [][]*tensor.Tensor
		for _, im := range tensor.Unstack(out) {
			rows = append(rows, []*tensor.Tensor{im})
		}
		return writeGrid(run, step, rows)
	}
	sc, outs, err := dev.Score(scorers, 8, sample)
	if err != nil {
		return err
	}
	if err := run.Log(step, map[string]any{"dev_psnr": sc.PSNR, "dev_ssim": sc.SSIM, "dev_ids": sc.IDS, "dev_lmd": sc.LMD, "dev_lmd_faces": sc.LMDCount}); err != nil {
		return err
	}
	return writeGrid(run, step, gridRows(dev, outs))
}
