package main

import (
	"fmt"
	"io"
	"os"

	"facereward/photo"
	"facereward/restorer"
)

func runRestore(args []string, stdout io.Writer) error {
	fs := newFlags("restore", "restore IN... --out DIR --model DIR [flags]", `
Restores faces. IN are image files or folders (searched recursively; PNG,
JPEG, WebP). With --aligned each image is taken as an FFHQ-aligned face crop
and restored whole; otherwise faces are detected (pigo), located with the
68-point landmark net, aligned to the model's size, restored and pasted back
into the photo with a feathered seam. Results go to DIR with the input's
relative name as PNG. An unreadable image, or a photo without a usable face,
is reported and skipped.

Without --model the built-in weights are used (models/README.md: trained
on FFHQ at 128×128; CC BY-NC-SA 4.0). --model names a directory with
config.json and stage1/unet/control .safetensors, as "facereward pack"
writes from a stage-2 training run.`, stdout)
	out := fs.String("out", "", "output folder")
	model := fs.String("model", "", "model directory, or builtin:refl (the default: the ReFL-tuned built-in weights) or builtin:base (before ReFL)")
	so := restorer.DefaultSampleOptions()
	fs.IntVar(&so.Steps, "steps", so.Steps, "DDIM steps")
	seed := fs.Uint64("seed", 1, "random seed of the sampler")
	aligned := fs.Bool("aligned", false, "inputs are aligned face crops: restore them whole, no detection")
	fs.Float64Var(&so.Strength, "strength", so.Strength, "1: sample from pure noise; less: start from the stage-1 estimate noised to this fraction of the steps")
	fs.Float64Var(&so.Eta, "eta", so.Eta, "DDIM eta: 0 deterministic given the start, 1 as noisy as DDPM")
	fs.Float64Var(&so.Guidance, "guidance", so.Guidance, "restoration guidance in [0, 1]: how far each step's clean estimate moves toward the stage-1 estimate (fidelity over realism)")
	reward := fs.Float64("reward-strength", 1, "the reward's effect: 1 the ReFL-tuned control branch, 0 the base one it was tuned\nfrom, between a blend of the two branches' weights (tones down over-sharpening)")
	rewardBase := fs.String("reward-base", "", "with --reward-strength: the model --model was ReFL-tuned from (default for the\nbuilt-in: builtin:base)")
	saveStage1 := fs.String("save-stage1", "", "also write the stage-1 estimates (aligned faces) to this folder")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 || *out == "" {
		return fmt.Errorf("restore: give input images or folders and --out (see --help)")
	}
	if *saveStage1 != "" && !*aligned {
		return fmt.Errorf("restore: --save-stage1 needs --aligned (a photo's stage-1 estimate is of its aligned crop)")
	}
	o := photo.Options{Model: *model, Sampler: so, RewardStrength: reward, RewardBase: *rewardBase,
		Seed: *seed, Aligned: *aligned, Out: *out, Stage1: *saveStage1}
	return photo.Run(paths, o, stdout, os.Stderr)
}
