package refl

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"

	"facereward/checkpoint"
	"facereward/dataset"
	"facereward/optim"
	"facereward/train"
)

// Train fine-tunes a restorer with reward feedback learning
// (docs/design.md §1) in the run folder dir until opt.Steps or until ctx
// is cancelled, saving a checkpoint either way. A finished run leaves
// model/ (the tuned restorer), best/ (the best dev-val pass's, see
// WatchOptions), frm.safetensors (the dynamically updated FRM) and
// report.html.
func Train(ctx context.Context, dir string, opt Options, resume bool, stdout io.Writer) error {
	if err := opt.validate(); err != nil {
		return err
	}
	nets, err := LoadNets(opt)
	if err != nil {
		return err
	}
	size := nets.Model.Config.UNet.ImageSize
	pd, err := train.OpenPairs("train refl", opt.Data, opt.Preset, size, opt.Seed, opt.Watch.Every, opt.Watch.Faces)
	if err != nil {
		return err
	}
	// The dynamic FRM's weights and optimiser travel in every checkpoint,
	// so a resumed run goes on with the FRM it had.
	extra := map[string]optim.Stateful{"frm": checkpoint.ParamsPart(nets.FRM.Params()), "frm_optim": nets.Updater.Opt}
	ses, err := train.NewSession(dir, opt, resume, nets.Trained(opt.TrainAll), opt.LR, opt.WeightDecay, opt.EMA, opt.KeepCheckpts, map[string]string{"stage": "refl"}, extra, stdout)
	if err != nil {
		return err
	}
	defer ses.Run().Close()
	ses.ReportsItself()
	w, err := newWatch(ses, nets, opt, pd)
	if err != nil {
		return err
	}
	if done, err := ses.AtEnd(opt.Steps, opt.Until, stdout); done || err != nil {
		if err == nil {
			err = w.finish(stdout)
		}
		return err
	}
	loader, err := pd.Loader(opt.Batch, opt.Seed, ses.Step()*opt.Accum)
	if err != nil {
		return err
	}
	defer loader.Close()
	if ses.Step() == 0 && w.dev != nil && !w.haveBase() {
		fmt.Fprintln(stdout, "train refl: scoring the base restorer on dev-val (step 0)")
		if err := w.pass(0, stdout); err != nil {
			return err
		}
	}
	step := updateStep(ses, nets, opt, loader)
	var eval func(int) error
	if w.dev != nil {
		eval = func(step int) error { return w.pass(step, stdout) }
	}
	loop := train.LoopOptions{Label: "train refl", Steps: opt.Steps, Until: opt.Until, EvalEvery: opt.Watch.Every, SaveEvery: opt.SaveEvery}
	if err := ses.Loop(ctx, loop, step, eval, stdout); err != nil || ses.Step() < train.StopStep(opt.Steps, opt.Until) {
		return err
	}
	return w.finish(stdout)
}

// updateStep is the loop's step: one update of the trained weights from
// opt.Accum micro-batches of loader, each with its own eta, m and noise,
// and on every opt.FRMEvery-th update the dynamic FRM update on the last
// micro-batch. It returns the mean loss and the mean terms, the gradient
// norm and the FRM update's BT loss for the log.
func updateStep(ses *train.Session, nets *Nets, opt Options, loader *dataset.Loader) func() (float32, map[string]any, error) {
	st := NewStepper(nets, opt)
	return func() (float32, map[string]any, error) {
		sum := map[string]float64{}
		fields := map[string]any{}
		for micro := range opt.Accum {
			b, err := loader.Next()
			if err != nil {
				return 0, nil, err
			}
			// One stream per micro-batch: a resumed run draws what the
			// straight run would have.
			rng := rand.New(rand.NewPCG(opt.Seed, uint64(ses.Step()*opt.Accum+micro)))
			eta, m := rng.Float64(), opt.SampleSteps-1-rng.IntN(opt.LastSteps)
			terms, x0, err := st.Step(b.Tensors[0], b.Tensors[1], eta, m, rng)
			if err != nil {
				return 0, nil, err
			}
			for k, v := range terms {
				sum[k] += v / float64(opt.Accum)
			}
			if opt.FRMEvery > 0 && (ses.Step()+1)%opt.FRMEvery == 0 && micro == opt.Accum-1 {
				fields[KeyFRMBT] = nets.UpdateFRM(b.Tensors[1], x0)
			}
		}
		fields[KeyGradNorm] = ses.Update(opt.Clip)
		for k, v := range sum {
			if k != KeyLoss {
				fields[k] = v
			}
		}
		return float32(sum[KeyLoss]), fields, nil
	}
}
