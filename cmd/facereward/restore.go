package main

import (
	"fmt"
	"io"
	"os"

	"facereward/photo"
)

// restoreHelp is what restore --help says above the flags.
const restoreHelp = `
Restores faces. IN are image files or folders (searched recursively; PNG,
JPEG, WebP).

Whole photos (the default): faces are detected (--detector), placed with
the 68-point landmark net, aligned to the model's size (128×128) and
restored; each
restoration is then blended with the photo's own detail above the model's
resolution (all of it on a clean photo, none on a noisy one), matched to
the photo's colour, and pasted back into the photo upscaled by --upscale.
A face whose restoration the reward model does not prefer to the input
face, or that does not keep the person (descriptor cosine below
--min-identity), keeps its input (--no-gate pastes every restoration).
Outputs, as GFPGAN and CodeFormer lay them out: DIR/restored_imgs/ (the
photos), DIR/restored_faces/ and DIR/cropped_faces/ (each face at the
model's size, NAME_00.png…), DIR/cmp/ (both side by side) and
DIR/report.json (every face: box, detection score, reward before and
after, identity, restored or kept and why). One line per photo says how
many faces were found, restored, kept and skipped.

--aligned: each image is an FFHQ-aligned face crop, restored whole (any
size; at 128×128 and resized back) and written as DIR/NAME with its own
name, so that eval pairs it with its input.

Inputs are never overwritten: an --out that is, or lies inside, an input
folder is refused, and inputs whose outputs would share a name (face.jpg,
face.png) are written as face_jpg, face_png. Every flag is checked before
any work; the exit status is non-zero when any input failed.

Without --model the built-in weights are used (models/README.md: trained
on FFHQ at 128×128; CC BY-NC-SA 4.0). --model names a directory with
config.json and stage1/unet/control .safetensors, as "facereward pack"
writes from a stage-2 training run.`

func runRestore(args []string, stdout io.Writer) error {
	fs := newFlags("restore", "restore IN... --out DIR [flags]", restoreHelp, stdout)
	o := photo.DefaultOptions()
	fs.StringVar(&o.Out, "out", "", "output folder")
	fs.StringVar(&o.Model, "model", "", "model directory, or builtin:refl (the default: the ReFL-tuned built-in weights) or builtin:base (before ReFL)")
	fs.IntVar(&o.Sampler.Steps, "steps", o.Sampler.Steps, "DDIM steps over the whole schedule, in [1, 1000]")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed of the sampler")
	fs.BoolVar(&o.Aligned, "aligned", false, "inputs are aligned face crops: restore them whole, no detection")
	fs.Float64Var(&o.Sampler.Strength, "strength", o.Sampler.Strength, "in [0, 1]; 1: sample from pure noise; less: start from the stage-1 estimate noised to\nthis fraction of the steps")
	fs.Float64Var(&o.Sampler.Eta, "eta", o.Sampler.Eta, "DDIM eta in [0, 1]: 0 deterministic given the start, 1 as noisy as DDPM")
	fs.Float64Var(&o.Sampler.Guidance, "guidance", o.Sampler.Guidance, "restoration guidance in [0, 1]: how far each step's clean estimate moves toward the\nstage-1 estimate (fidelity over realism)")
	fs.Float64Var(&o.Sampler.MildGuidance, "mild-guidance", o.Sampler.MildGuidance, "the guidance of mild inputs, in [0, 1]: a face whose stage-1 estimate keeps fine detail\nis guided up to this far toward it, so that what stage 1 already restored is not redrawn\n(at or below --guidance: off)")
	fs.IntVar(&o.Batch, "batch", o.Batch, "aligned crops, or a photo's faces, restored together (1-32, about 200 MB each): faster, the same bytes\nas one at a time")
	fs.IntVar(&o.Sampler.LowBand, "low-band", o.Sampler.LowBand, "take the restoration's low band, its à-trous wavelet lowpass of this many levels\n(0-6), from the stage-1 estimate: fidelity in shading and shapes, the detail kept (0: off)")
	reward := fs.Float64("reward-strength", 1, "the reward's effect: 1 the ReFL-tuned control branch, 0 the base one it was tuned\nfrom, between a blend of the two branches' weights (tones down over-sharpening)")
	fs.StringVar(&o.RewardBase, "reward-base", "", "with --reward-strength: the model --model was ReFL-tuned from (default for the\nbuilt-in: builtin:base)")
	fs.StringVar(&o.Stage1, "save-stage1", "", "with --aligned, also write the stage-1 estimates to this folder")
	fs.IntVar(&o.Upscale, "upscale", o.Upscale, "whole photos: output size as a multiple of the input's, in [1, 8]")
	fs.StringVar(&o.Background, "bg-upsampler", o.Background, "whole photos: cubic, or esrgan (a ×2 super-resolution network: sharper background,\n3.6 TFLOP per output megapixel: slow on a CPU)")
	fs.StringVar(&o.Detector, "detector", o.Detector, "whole photos: face detector, ssd (face-api's SSD MobileNet v1) or pigo (README:\nrecall and false positives of both)")
	fs.IntVar(&o.MinFace, "min-face", o.MinFace, "whole photos: smallest face side restored, in pixels (≥ 8)")
	var minScore float64 = float64(o.MinScore)
	fs.Float64Var(&minScore, "min-score", minScore, "whole photos: the SSD detector's score threshold, in (0, 1)")
	fs.BoolVar(&o.OnlyCenter, "only-center-face", false, "whole photos: restore only the face nearest the centre")
	fs.BoolVar(&o.NoGate, "no-gate", false, "whole photos: paste every restoration, even where the input face scores higher")
	fs.Float64Var(&o.MinIdentity, "min-identity", o.MinIdentity, "whole photos: keep the input face when the restoration's descriptor cosine to it is\nbelow this, in [0, 1]")
	fs.StringVar(&o.Ext, "ext", o.Ext, "restored image format: auto (the input's, PNG or JPEG), png or jpg")
	fs.StringVar(&o.Suffix, "suffix", "", "appended to the restored images' and faces' names (NAME_SUFFIX)")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 || o.Out == "" {
		return fmt.Errorf("restore: give input images or folders and --out (see --help)")
	}
	o.RewardStrength, o.MinScore = reward, float32(minScore)
	return photo.Run(paths, o, stdout, os.Stderr)
}
