package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"facereward/refl"
	"facereward/rundir"
	"facereward/train"
)

func runTrain(args []string, stdout io.Writer) error {
	return dispatch("train", "Trains a network in a run folder (config.json, log.jsonl, checkpoints/; --resume).", []subcommand{
		{"restorer", "the stage-1 net and the diffusion restorer (--stage 1|2)", trainRestorer},
		{"reward", "the Face Reward Model, from preference pairs", trainReward},
		{"refl", "fine-tune the restorer with reward feedback learning (ReFL)", trainReFL},
		{"report", "rebuild a run folder's report.html", trainReport},
	}, args, stdout)
}

func trainReport(args []string, stdout io.Writer) error {
	fs := newFlags("train report", "train report RUN", `
Rebuilds RUN/report.html from the run folder RUN alone (config.json,
log.jsonl, samples/ and, for ReFL, best/), for any training run: the page
each run rewrites after every dev-val pass and at its end. A restorer stage
or reward run gets a chart of every logged term and dev-val score, the
table of dev-val passes and the newest sample grid; a ReFL run (told by its
config) gets its own page, as `+"`train refl --report`"+` writes it. Safe while
the run is training: the page is replaced whole.`, stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("train report: want one run folder, got %d arguments (see --help)", fs.NArg())
	}
	dir := fs.Arg(0)
	if _, err := os.Stat(filepath.Join(dir, "log.jsonl")); err != nil {
		return fmt.Errorf("train report: %s is not a run folder (no log.jsonl): %w", dir, err)
	}
	isReFL, err := refl.IsRun(dir)
	if err != nil {
		return fmt.Errorf("train report: %w", err)
	}
	write := train.WriteReport
	if isReFL {
		write = refl.WriteReport
	}
	if err := write(dir); err != nil {
		return fmt.Errorf("train report: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, "report.html"))
	return nil
}

func trainReward(args []string, stdout io.Writer) error {
	fs := newFlags("train reward", "train reward --prefs DB|FILE.jsonl --store DIR --run DIR [--resume] [flags]", `
Trains the Face Reward Model (a CNN that scores a face; higher is better)
with the Bradley–Terry loss -log σ(s_win − s_lose) on the left/right
verdicts of --prefs: a database (SQLite file or postgres:// URL) or a JSONL
export, whose images are in --store. Human and automatic verdicts are used
alike; ties and skips are dropped. The pairs of a seeded --hold-out fraction
of the faces are held out: every --eval-every steps the EMA weights' accuracy
on them (val_acc: the preferred image scored higher) goes to log.jsonl.

The run folder holds config.json, log.jsonl, checkpoints/ and, at the end,
model.safetensors (the EMA weights with the FRM's config: what
`+"`reward score --model`"+` and ReFL read). --resume continues exactly; it
refuses changed verdicts (the config records their digest).`, stdout)
	src := fs.String("prefs", "", "preference data: a SQLite file, a postgres:// URL or a .jsonl export")
	store := fs.String("store", "", "the image store of the pairs (default: images/ beside a SQLite or JSONL --prefs)")
	dir := fs.String("run", "", "run folder")
	resume := fs.Bool("resume", false, "continue the run in --run from its newest checkpoint")
	o := train.DefaultRewardOptions("", "")
	fs.IntVar(&o.Net.ImageSize, "size", o.Net.ImageSize, "image size the model reads (a multiple of 16; the pairs' images must have it)")
	fs.IntVar(&o.Steps, "steps", o.Steps, "training steps")
	fs.IntVar(&o.Until, "until", 0, "stop at this step without changing the schedule; a later --resume carries on")
	fs.IntVar(&o.Batch, "batch", o.Batch, "pairs per step")
	fs.Float64Var(&o.LR, "lr", o.LR, "peak learning rate (AdamW, warm-up then cosine)")
	fs.Float64Var(&o.Center, "center", o.Center, "weight of the mean squared score, which keeps scores near 0 (the BT loss sees only differences)")
	fs.Float64Var(&o.HoldOut, "hold-out", o.HoldOut, "fraction of the faces whose pairs are held out for validation")
	fs.IntVar(&o.EvalEvery, "eval-every", o.EvalEvery, "steps between held-out passes")
	fs.IntVar(&o.SaveEvery, "save-every", o.SaveEvery, "steps between checkpoints")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (weights, batches, hold-out split)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *src == "" || *dir == "" {
		return fmt.Errorf("train reward: --prefs and --run are required (see --help)")
	}
	if *store == "" {
		var err error
		if *store, err = defaultStore(*src); err != nil {
			return fmt.Errorf("train reward: %w", err)
		}
	}
	o.Prefs, o.Store = *src, *store
	ctx, cancel := rundir.Interruptible(context.Background())
	defer cancel()
	return train.Reward(ctx, *dir, o, *resume, stdout)
}

// trainRestorerHelp is `train restorer --help`: long enough to keep apart
// from the flags.
const trainRestorerHelp = `
Trains the restorer on pairs degraded on the fly (--preset at the working
size) from the train split (ids 01001–04799) of --data, with AdamW, warm-up +
cosine learning rate, gradient clipping and an EMA of the weights. Every
--eval-every steps the EMA weights are scored on the dev-val split (ids
04800–04999, degraded with fixed seeds: PSNR, SSIM, IDS, LMD) and a sample
grid goes to the run's samples/ folder.

Stage 1 is the regression CNN (LQ → smooth estimate; L1, + --ssim-weight);
--init starts it from a trained restorer's stage 1, e.g. to carry the
built-in one on to a mix of presets (--preset codeformer-large,diffbir,gfpgan).
Stage 2 is the diffusion restorer (UNet + control branch):
  --mode joint    (default) both at once, conditioned on the stage-1
                  estimate (--stage1): the recipe of the built-in weights,
                  chosen because it needs far fewer steps on a CPU;
  --mode unet     DiffBIR's first run: the UNet alone learns the face prior;
  --mode control  DiffBIR's second run: the control branch, started from the
                  trained UNet's encoder (--unet), learns to steer the frozen
                  UNet with the stage-1 estimate (--stage1).
Detail terms (stage 2), on the clean-image estimate x0_hat that the
denoising loss alone trains towards a blur: --adv (a spectral-norm patch
discriminator, hinge loss, trained beside the restorer), --adv-component
(a second one on the eyes' and mouth's windows, as GFPGAN's facial-component
discriminators), --id-weight and
--feat-weight (through the face-recognition net: the person, and texture at
the scale of eyes and teeth). --init continues from a trained restorer
(its stage 1 frozen);
--t-max trains on the timesteps restore visits.
--until N stops a run at step N without changing its schedule (the built-in
weights were made that way); --resume later carries on past it.

The run folder holds config.json, log.jsonl, checkpoints/ (atomic) and, at
the end, model.safetensors (the EMA weights, which later stages load).
--resume continues exactly where the newest checkpoint left off; Ctrl-C
saves a checkpoint before exiting. Unset flags take the stage's defaults.`

func trainRestorer(args []string, stdout io.Writer) error {
	fs := newFlags("train restorer", "train restorer --stage 1|2 --data DIR --run DIR [--resume] [flags]", trainRestorerHelp, stdout)
	stage := fs.Int("stage", 1, "1 (regression CNN) or 2 (diffusion UNet / control branch)")
	data := fs.String("data", "", "folder of FFHQ-style faces (ids in the file names)")
	dir := fs.String("run", "", "run folder")
	resume := fs.Bool("resume", false, "continue the run in --run from its newest checkpoint")
	steps := fs.Int("steps", 0, "training steps (stage 1: 20000, stage 2: 5000)")
	until := fs.Int("until", 0, "stop at this step (checkpoint and model.safetensors written) without changing the\nschedule of --steps; a later --resume carries on")
	batch := fs.Int("batch", 0, "batch size (default 8)")
	lr := fs.Float64("lr", 0, "peak learning rate (default 2e-4)")
	warmup := fs.Int("warmup", 0, "learning-rate warm-up steps (stage 1: 500, stage 2: 500)")
	ema := fs.Float64("ema", 0, "decay of the weights' moving average, which dev-val passes and model.safetensors use (default 0.999)")
	preset := fs.String("preset", "", "degradation preset (default diffbir), or a comma-separated mix such as\ncodeformer-large,diffbir,gfpgan: each training face draws one; dev-val uses the first")
	seed := fs.Uint64("seed", 0, "random seed (default 1)")
	evalEvery := fs.Int("eval-every", 0, "steps between dev-val passes (stage 1: 1000, stage 2: 2000)")
	evalFaces := fs.Int("eval-faces", 0, "dev-val faces per pass (stage 1: 200, stage 2: 32)")
	saveEvery := fs.Int("save-every", 0, "steps between checkpoints (default 250)")
	ssim := fs.Float64("ssim-weight", 0, "stage 1: weight w of the SSIM term, loss = L1 + w·(1 − SSIM)")
	mode := fs.String("mode", train.ModeJoint, "stage 2: unet, control or joint")
	stage1 := fs.String("stage1", "", "stage 2 control/joint: the stage-1 run's model.safetensors")
	unet := fs.String("unet", "", "stage 2 control: the UNet run's model.safetensors")
	sampleSteps := fs.Int("sample-steps", 0, "stage 2: DDIM steps of dev-val passes (default 20)")
	initSpec := fs.String("init", "", "start from a whole restorer (model directory or builtin:NAME): stage 1 from its\nstage 1 (to carry it on to another --preset); stage 2 (joint) from its UNet and control\nbranch, its stage 1 frozen")
	tmax := fs.Float64("t-max", 0, "stage 2: train on timesteps below this fraction of T (0: all); restore at\nstrength S visits only those below S")
	detail := detailFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" || *dir == "" {
		return fmt.Errorf("train restorer: --data and --run are required (see --help)")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o1, o2 := train.DefaultStage1Options(*data), train.DefaultStage2Options(*data)
	override(set["steps"], *steps, &o1.Steps, &o2.Steps)
	override(set["batch"], *batch, &o1.Batch, &o2.Batch)
	override(set["eval-every"], *evalEvery, &o1.EvalEvery, &o2.EvalEvery)
	override(set["eval-faces"], *evalFaces, &o1.EvalFaces, &o2.EvalFaces)
	override(set["save-every"], *saveEvery, &o1.SaveEvery, &o2.SaveEvery)
	override(set["lr"], *lr, &o1.LR, &o2.LR)
	override(set["warmup"], *warmup, &o1.Warmup, &o2.Warmup)
	override(set["ema"], *ema, &o1.EMA, &o2.EMA)
	override(set["preset"], *preset, &o1.Preset, &o2.Preset)
	override(set["seed"], *seed, &o1.Seed, &o2.Seed)
	override(set["ssim-weight"], *ssim, &o1.SSIMWeight)
	override(set["sample-steps"], *sampleSteps, &o2.SampleSteps)
	o1.Until = *until
	o2.Mode, o2.Stage1, o2.UNet, o2.Until = *mode, *stage1, *unet, *until
	o1.Init, o2.Init, o2.TMax = *initSpec, *initSpec, *tmax
	detail(set, &o2.Detail)
	ctx, cancel := rundir.Interruptible(context.Background())
	defer cancel()
	switch *stage {
	case 1:
		return train.Stage1(ctx, *dir, o1, *resume, stdout)
	case 2:
		return train.Stage2(ctx, *dir, o2, *resume, stdout)
	}
	return fmt.Errorf("train restorer: --stage %d (want 1 or 2)", *stage)
}

// detailFlags declares stage 2's detail-term flags on fs and returns what
// applies them, once parsed, to a run's options (set: the flags given).
func detailFlags(fs *flag.FlagSet) func(set map[string]bool, d *train.DetailOptions) {
	adv := fs.Float64("adv", 0, "stage 2: weight of the adversarial (hinge, patch discriminator) term on x0_hat")
	comp := fs.Float64("adv-component", 0, "stage 2: weight of a second adversarial term, its own discriminator judging only\nthe windows of the eyes and the mouth (as --disc-high-pass says; 0: none)")
	idw := fs.Float64("id-weight", 0, "stage 2: weight of the identity term (squared face-descriptor distance to the GT)")
	feat := fs.Float64("feat-weight", 0, "stage 2: weight of the feature term (L1 of early face-recognition activations)")
	discLR := fs.Float64("disc-lr", 0, "stage 2: the discriminator's learning rate (default 1e-4)")
	discSteps := fs.Int("disc-steps", 0, "stage 2: discriminator updates per restorer step (default 1)")
	discHP := fs.Int("disc-high-pass", 0, "stage 2: show the discriminator only the face minus its wavelet lowpass of this\nmany levels (0: the whole face)")
	discHPGain := fs.Float64("disc-high-pass-gain", 4, "stage 2: with --disc-high-pass, the detail bands' gain")
	advMinT := fs.Float64("adv-min-t", 0, "stage 2: the adversarial term judges x0_hat made at t ≥ this fraction of T\nonly (default 0.2; below, x0_hat is the ground truth up to little noise)")
	return func(set map[string]bool, d *train.DetailOptions) {
		d.Adv, d.ID, d.Feat = *adv, *idw, *feat
		override(set["disc-lr"], *discLR, &d.DiscLR)
		override(set["adv-min-t"], *advMinT, &d.AdvMinT)
		override(set["disc-steps"], *discSteps, &d.DiscSteps)
		if *discHP > 0 {
			d.Disc.HighPass, d.Disc.HighPassGain = *discHP, *discHPGain
		}
		if d.Comp = *comp; d.Comp > 0 {
			d.CompDisc = d.Disc
		}
	}
}

// override sets each of dst to v when its flag was given: an unset flag
// keeps the stage's default.
func override[T any](given bool, v T, dst ...*T) {
	if given {
		for _, d := range dst {
			*d = v
		}
	}
}
