package train

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"facereward/atomicfile"
	"facereward/evaluate"
	"facereward/nn"
	"facereward/optim"
	"facereward/restorer"
	"facereward/rundir"
	"facereward/tensor"
)

// Stage1Options are every setting of a stage-1 run; they are saved as the
// run's config.json and must match on --resume.
type Stage1Options struct {
	Data   string                `json:"data"`
	Net    restorer.Stage1Config `json:"net"`
	Preset string                `json:"preset"`
	Seed   uint64                `json:"seed"`
	Steps  int                   `json:"steps"`
	// Init starts the run from the stage 1 of a whole restorer (a model
	// directory or builtin:NAME), whose config replaces Net: to carry a
	// trained stage 1 on to another degradation.
	Init string `json:"init,omitempty"`
	// Until stops the run early, at this step, without changing the
	// schedule; not part of the run's config (0: run all Steps).
	Until        int     `json:"-"`
	Batch        int     `json:"batch"`
	LR           float64 `json:"lr"`
	Warmup       int     `json:"warmup"`
	WeightDecay  float64 `json:"weight_decay"`
	Clip         float64 `json:"clip"`
	SSIMWeight   float64 `json:"ssim_weight"` // loss = L1 + w·(1 − SSIM)
	EMA          float64 `json:"ema"`
	EvalEvery    int     `json:"eval_every"`
	EvalFaces    int     `json:"eval_faces"`
	SaveEvery    int     `json:"save_every"`
	KeepCheckpts int     `json:"keep_checkpoints"`
}

// DefaultStage1Options trains the default stage-1 net on the diffbir
// preset at 128×128.
func DefaultStage1Options(data string) Stage1Options {
	return Stage1Options{
		Data: data, Net: restorer.DefaultStage1(), Preset: "diffbir", Seed: 1,
		Steps: 20000, Batch: 8, LR: 2e-4, Warmup: 500, WeightDecay: 0, Clip: 1, EMA: 0.999,
		EvalEvery: 1000, EvalFaces: 200, SaveEvery: 250, KeepCheckpts: 3,
	}
}

// Stage1 trains (or resumes) a stage-1 run in dir until opt.Steps or until
// ctx is cancelled, saving a checkpoint either way.
func Stage1(ctx context.Context, dir string, opt Stage1Options, resume bool, stdout io.Writer) error {
	c := Counts{Steps: opt.Steps, Until: opt.Until, Batch: opt.Batch, Warmup: opt.Warmup, EvalEvery: opt.EvalEvery, EvalFaces: opt.EvalFaces,
		SaveEvery: opt.SaveEvery, KeepCheckpts: opt.KeepCheckpts, LR: opt.LR, WeightDecay: opt.WeightDecay, Clip: opt.Clip, EMA: opt.EMA}
	if err := c.Validate("train stage 1"); err != nil {
		return err
	}
	net, err := buildStage1(&opt)
	if err != nil {
		return err
	}
	pd, err := OpenPairs("train stage 1", opt.Data, opt.Preset, opt.Net.ImageSize, opt.Seed, opt.EvalEvery, opt.EvalFaces)
	if err != nil {
		return err
	}
	ses, err := NewSession(dir, opt, resume, net.Params(), opt.LR, opt.WeightDecay, opt.EMA, opt.KeepCheckpts, map[string]string{"stage": "1"}, nil, stdout)
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

	sched := optim.WarmupCosine(opt.LR, opt.Warmup, opt.Steps, opt.LR/100)
	g := nn.NewGraph()
	g.FreeValues = true
	var eval func(int) error
	if dev != nil {
		eval = func(step int) error { return evalStage1(ses.run, step, net, ses.ema, dev, scorers) }
	}
	return ses.Loop(ctx, LoopOptions{"train stage 1", opt.Steps, opt.Until, opt.EvalEvery, opt.SaveEvery}, func() (float32, map[string]any, error) {
		b, err := loader.Next()
		if err != nil {
			return 0, nil, err
		}
		ses.opt.SetLR(sched(ses.step))
		lq, gt := nn.Constant(restorer.ToSigned(b.Tensors[0])), nn.Constant(restorer.ToSigned(b.Tensors[1]))
		loss := restorer.Stage1Loss(g, net.Forward(g, lq), gt, float32(opt.SSIMWeight))
		lossV := loss.Value.Data[0]
		g.Backward(loss)
		g.Reset()
		return lossV, map[string]any{KeyGradNorm: ses.Update(opt.Clip)}, nil
	}, eval, stdout)
}

// buildStage1 makes the run's net: opt.Init's stage 1, its config then
// recorded in opt.Net, or a new net of opt.Net.
func buildStage1(opt *Stage1Options) (*restorer.Stage1, error) {
	if opt.Init == "" {
		if err := opt.Net.Validate(); err != nil {
			return nil, err
		}
		return restorer.NewStage1(opt.Net, nn.NewRNG(opt.Seed))
	}
	m, err := restorer.Load(opt.Init)
	if err != nil {
		return nil, fmt.Errorf("train stage 1: %w", err)
	}
	if m.Stage1 == nil {
		return nil, fmt.Errorf("train stage 1: --init %s has no stage 1", opt.Init)
	}
	opt.Net = m.Config.Stage1
	return m.Stage1, nil
}

// evalStage1 scores the EMA weights on the dev set, logs the means and
// writes a sample grid of the first eight faces (LQ | stage 1 | GT).
func evalStage1(run *rundir.Run, step int, net *restorer.Stage1, ema *optim.EMA, dev *evaluate.DevSet, scorers *evaluate.Pool) error {
	ema.Swap()
	defer ema.Swap()
	g := nn.NewGraph()
	g.NoGrad = true
	sc, outs, err := dev.Score(scorers, 8, func(lq *tensor.Tensor) (*tensor.Tensor, error) {
		out := restorer.ToUnit(net.Forward(g, nn.Constant(restorer.ToSigned(lq))).Value)
		g.Reset()
		return out, nil
	})
	if err != nil {
		return err
	}
	if err := run.Log(step, map[string]any{KeyDevPSNR: sc.PSNR, KeyDevSSIM: sc.SSIM, KeyDevIDS: sc.IDS, KeyDevLMD: sc.LMD, KeyDevLMDFaces: sc.LMDCount}); err != nil {
		return err
	}
	return WriteGrid(run, step, dev.Rows(outs))
}

// WriteGrid writes a sample grid to the run's samples/step-N.png.
func WriteGrid(run *rundir.Run, step int, rows [][]*tensor.Tensor) error {
	png, err := Grid(rows)
	if err != nil {
		return err
	}
	path := filepath.Join(run.Dir, "samples", fmt.Sprintf("step-%08d.png", step))
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(png)
		return err
	})
}
