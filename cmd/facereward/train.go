package main

import (
	"context"
	"fmt"
	"io"

	"facereward/rundir"
	"facereward/train"
)

func runTrain(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "restorer" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return trainRestorer([]string{"--help"}, stdout)
		}
		return fmt.Errorf("train: want a target: `facereward train restorer` (see --help)")
	}
	return trainRestorer(args[1:], stdout)
}

func trainRestorer(args []string, stdout io.Writer) error {
	fs := newFlags("train restorer", "train restorer --stage 1 --data DIR --run DIR [--resume] [flags]", `
Trains the restorer's stage 1: a residual CNN from degraded faces to a
smooth estimate, on pairs degraded on the fly (--preset at the working
size) from the train split (ids 01001–04799) of --data, with AdamW,
warm-up + cosine learning rate, gradient clipping and an EMA of the weights.
Every --eval-every steps the EMA weights are scored on the dev-val split
(ids 04800–04999, degraded with fixed seeds: PSNR, SSIM, IDS, LMD) and a
sample grid (LQ | stage 1 | GT) goes to the run's samples/ folder.

The run folder holds config.json, log.jsonl and checkpoints/ (written
atomically). --resume continues exactly where the newest checkpoint left
off; Ctrl-C saves a checkpoint before exiting. Stage 2 (the diffusion UNet
and control branch) is not trainable yet.`, stdout)
	stage := fs.Int("stage", 1, "which stage to train (only 1 so far)")
	data := fs.String("data", "", "folder of FFHQ-style faces (ids in the file names)")
	dir := fs.String("run", "", "run folder")
	resume := fs.Bool("resume", false, "continue the run in --run from its newest checkpoint")
	o := train.DefaultStage1Options("")
	fs.IntVar(&o.Steps, "steps", o.Steps, "training steps")
	fs.IntVar(&o.Batch, "batch", o.Batch, "batch size")
	fs.Float64Var(&o.LR, "lr", o.LR, "peak learning rate")
	fs.StringVar(&o.Preset, "preset", o.Preset, "degradation preset")
	fs.Float64Var(&o.SSIMWeight, "ssim-weight", o.SSIMWeight, "weight w of the SSIM term: loss = L1 + w·(1 − SSIM)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (initialisation, data order, degradations)")
	fs.IntVar(&o.EvalEvery, "eval-every", o.EvalEvery, "steps between dev-val passes (0: none)")
	fs.IntVar(&o.EvalFaces, "eval-faces", o.EvalFaces, "dev-val faces per pass")
	fs.IntVar(&o.SaveEvery, "save-every", o.SaveEvery, "steps between checkpoints")
	fs.IntVar(&o.Net.Width, "width", o.Net.Width, "channels of the network body")
	fs.IntVar(&o.Net.Blocks, "blocks", o.Net.Blocks, "residual blocks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stage != 1 {
		return fmt.Errorf("train restorer: stage %d cannot be trained yet (only stage 1)", *stage)
	}
	if *data == "" || *dir == "" {
		return fmt.Errorf("train restorer: --data and --run are required (see --help)")
	}
	o.Data = *data
	ctx, cancel := rundir.Interruptible(context.Background())
	defer cancel()
	return train.Stage1(ctx, *dir, o, *resume, stdout)
}
