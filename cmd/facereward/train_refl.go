package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"facereward/refl"
	"facereward/rundir"
)

const trainReFLAbout = `
Fine-tunes the restorer with reward feedback learning (DiffusionReward).
Each step degrades a batch of train faces (--preset) on the fly, runs the
restore command's sampler (--sample-steps, --strength, --guidance) without
gradients from the stage-1 estimate down to a step m drawn from the last
--last-steps steps, with DDIM eta drawn from U(0,1), then runs one forward
pass with gradients at m to predict x0_hat (guided as the sampler's last
step is) and minimises

  reg·L_reg + struct·L_struct + reward·(1 − σ(FRM(x0_hat))) + pixel·L1(x0_hat, HQ)

L_reg: mean squared difference of the control branch's residuals from a
frozen copy's at the same inputs, summed over residuals. L_struct: L1
between the 3-level wavelet lowpass bands of x0_hat and HQ. Images are
measured in [0,1]. AdamW trains the control branch (--train-all: the UNet
too). Every --frm-every steps the FRM takes one step of
0.1·BT(HQ preferred over x0_hat) with its own AdamW (lr 2e-6, weight decay
0.35, clip 1); --frm-every 0 keeps it static.

Every --eval-every steps the restorer is scored on --eval-faces dev-val
faces (fixed degradations and noise): the loaded (static) FRM's score, PSNR,
SSIM, IDS, LMD and BRISQUE. A pass whose FRM score rose while PSNR or IDS
fell beyond --psnr-tol / --ids-tol of the base (step 0) is flagged loudly as
reward hacking. best/ keeps the restorer of the pass with the highest FRM
score among those within both tolerances.

The run folder holds config.json, log.jsonl, checkpoints/, samples/,
report.html (curves, the pass table and the strip LQ | base | best | latest
| GT, rewritten after every pass), best/ and, at the end, model/ (the tuned
restorer: ` + "`restore --model RUN/model`" + `) and frm.safetensors (the updated
FRM). --resume continues exactly; Ctrl-C saves first. --report RUN rebuilds
report.html from a run folder and exits.`

func trainReFL(args []string, stdout io.Writer) error {
	fs := newFlags("train refl", "train refl --data DIR --run DIR [--base DIR|builtin:NAME] [--reward FILE|DIR] [--resume] [flags]", trainReFLAbout, stdout)
	o := refl.DefaultOptions("")
	dir := fs.String("run", "", "run folder")
	resume := fs.Bool("resume", false, "continue the run in --run from its newest checkpoint")
	reportOnly := fs.String("report", "", "rebuild RUN/report.html from the run folder RUN and exit")
	reflFlags(fs, &o)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *reportOnly != "" {
		if err := refl.WriteReport(*reportOnly); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s/report.html\n", *reportOnly)
		return nil
	}
	if o.Data == "" || *dir == "" {
		return fmt.Errorf("train refl: --data and --run are required (see --help)")
	}
	ctx, cancel := rundir.Interruptible(context.Background())
	defer cancel()
	return refl.Train(ctx, *dir, o, *resume, stdout)
}

// reflFlags binds the settings of a ReFL run to fs, with o's values as
// defaults.
func reflFlags(fs *flag.FlagSet, o *refl.Options) {
	fs.StringVar(&o.Data, "data", "", "folder of FFHQ-style faces (train split: ids 01001–04799; dev-val: 04800–04999)")
	fs.StringVar(&o.Base, "base", o.Base, "restorer to tune: a model directory or builtin:NAME (builtin:base is the built-in restorer before ReFL)")
	fs.StringVar(&o.Reward, "reward", "", "FRM: a model.safetensors or a `train reward` run folder (default: the built-in FRM)")
	fs.StringVar(&o.Preset, "preset", o.Preset, "degradation preset of the training pairs and dev-val, or a comma-separated mix (dev-val uses the first)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (batches, degradations, eta, m, noise)")
	fs.IntVar(&o.Steps, "steps", o.Steps, "optimiser steps")
	fs.IntVar(&o.Until, "until", 0, "stop at this step; a later --resume carries on")
	fs.IntVar(&o.Batch, "batch", o.Batch, "faces per micro-batch")
	fs.IntVar(&o.Accum, "accum", o.Accum, "micro-batches per optimiser step (effective batch = batch·accum)")
	fs.Float64Var(&o.LR, "lr", o.LR, "learning rate (AdamW, constant)")
	fs.Float64Var(&o.WeightDecay, "weight-decay", o.WeightDecay, "AdamW weight decay")
	fs.Float64Var(&o.Clip, "clip", o.Clip, "gradient-norm clip")
	fs.Float64Var(&o.EMA, "ema", o.EMA, "EMA decay of the exported weights (0: none)")
	fs.BoolVar(&o.TrainAll, "train-all", o.TrainAll, "train the UNet as well as the control branch")
	fs.Float64Var(&o.Weights.Reg, "reg", o.Weights.Reg, "weight of L_reg (0: the ablation without it)")
	fs.Float64Var(&o.Weights.Struct, "struct", o.Weights.Struct, "weight of L_struct (0: the ablation without it)")
	fs.Float64Var(&o.Weights.Reward, "reward-weight", o.Weights.Reward, "weight of the reward term 1 − σ(FRM score)")
	fs.Float64Var(&o.Weights.Pixel, "pixel", o.Weights.Pixel, "weight of the pixel L1 term (the paper's LPIPS slot)")
	fs.IntVar(&o.SampleSteps, "sample-steps", o.SampleSteps, "DDIM steps of the sampler")
	fs.Float64Var(&o.Strength, "strength", o.Strength, "where sampling starts (as restore --strength)")
	fs.Float64Var(&o.Guidance, "guidance", o.Guidance, "restoration guidance (as restore --guidance)")
	fs.IntVar(&o.LowBand, "low-band", o.LowBand, "the low band's wavelet levels taken from the stage-1 estimate (as restore --low-band)")
	fs.IntVar(&o.LastSteps, "last-steps", o.LastSteps, "m is drawn from this many last DDIM steps")
	fs.IntVar(&o.FRMEvery, "frm-every", o.FRMEvery, "steps between dynamic FRM updates (0: a static FRM)")
	fs.IntVar(&o.Watch.Every, "eval-every", o.Watch.Every, "steps between dev-val passes (0: none)")
	fs.IntVar(&o.Watch.Faces, "eval-faces", o.Watch.Faces, "dev-val faces per pass")
	fs.Float64Var(&o.Watch.PSNRTol, "psnr-tol", o.Watch.PSNRTol, "PSNR drop (dB) from the base beyond which a rising reward is flagged as hacking")
	fs.Float64Var(&o.Watch.IDSTol, "ids-tol", o.Watch.IDSTol, "IDS drop from the base beyond which a rising reward is flagged as hacking")
	fs.IntVar(&o.SaveEvery, "save-every", o.SaveEvery, "steps between checkpoints")
}
