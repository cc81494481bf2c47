package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"facereward/dataset"
	"facereward/degrade"
	"facereward/facenet"
	"facereward/faces"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/progress"
	"facereward/restorer"
	"facereward/tensor"
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
	o := restorer.DefaultSampleOptions()
	fs.IntVar(&o.Steps, "steps", o.Steps, "DDIM steps")
	seed := fs.Uint64("seed", 1, "random seed of the sampler")
	aligned := fs.Bool("aligned", false, "inputs are aligned face crops: restore them whole, no detection")
	fs.Float64Var(&o.Strength, "strength", o.Strength, "1: sample from pure noise; less: start from the stage-1 estimate noised to this fraction of the steps")
	fs.Float64Var(&o.Eta, "eta", o.Eta, "DDIM eta: 0 deterministic given the start, 1 as noisy as DDPM")
	fs.Float64Var(&o.Guidance, "guidance", o.Guidance, "restoration guidance in [0, 1]: how far each step's clean estimate moves toward the stage-1 estimate (fidelity over realism)")
	saveStage1 := fs.String("save-stage1", "", "also write the stage-1 estimates (aligned faces) to this folder")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 || *out == "" {
		return fmt.Errorf("restore: give input images or folders and --out (see --help)")
	}
	m, err := restorer.Load(*model)
	if err != nil {
		return err
	}
	s, err := restorer.NewSampler(m, o)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if *saveStage1 != "" && !*aligned {
		return fmt.Errorf("restore: --save-stage1 needs --aligned (a photo's stage-1 estimate is of its aligned crop)")
	}
	var lm *facenet.Landmarks68
	if !*aligned {
		if lm, _, err = facenet.Load(); err != nil {
			return err
		}
	}
	inputs, err := listInputs(paths)
	if err != nil {
		return err
	}
	size := m.Config.UNet.ImageSize
	bar := progress.New(os.Stderr, "restore", len(inputs))
	done, skipped := 0, 0
	for _, in := range inputs {
		// One random stream per input name: results do not depend on
		// which other files were given.
		rng := rand.New(rand.NewPCG(*seed, degrade.Stream(in.rel)))
		img, err := imageio.Read(in.path)
		var res, est *tensor.Tensor
		if err == nil {
			if *aligned {
				est, res, err = restoreAligned(s, img, size, rng)
			} else {
				res, err = restorePhoto(s, lm, img, size, rng)
			}
		}
		name := strings.TrimSuffix(in.rel, filepath.Ext(in.rel)) + ".png"
		if err == nil {
			err = writeUnder(*out, name, res)
		}
		if err == nil && *saveStage1 != "" {
			err = writeUnder(*saveStage1, name, est)
		}
		if err != nil {
			skipped++
			fmt.Fprintf(os.Stderr, "\nrestore: skipping %s: %v\n", in.path, err)
		} else {
			done++
		}
		bar.Add(1)
	}
	bar.Finish()
	fmt.Fprintf(stdout, "restore: %d images restored into %s", done, *out)
	if skipped > 0 {
		fmt.Fprintf(stdout, "; %d skipped", skipped)
	}
	fmt.Fprintln(stdout)
	if done == 0 {
		return fmt.Errorf("restore: nothing restored")
	}
	return nil
}

// writeUnder writes img as dir/rel, making the folders on the way.
func writeUnder(dir, rel string, img *tensor.Tensor) error {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return imageio.WritePNG(path, img)
}

type input struct{ path, rel string }

// listInputs expands folders into their images; a file keeps its base name.
func listInputs(args []string) ([]input, error) {
	var ins []input
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			ins = append(ins, input{a, filepath.Base(a)})
			continue
		}
		f, err := dataset.Open(a)
		if err != nil {
			return nil, err
		}
		for _, file := range f.Files {
			ins = append(ins, input{file.Path, filepath.ToSlash(file.Rel)})
		}
	}
	return ins, nil
}

// restoreAligned restores an aligned crop of any size at the model's size
// and returns the stage-1 estimate and the restoration at the crop's size.
func restoreAligned(s *restorer.Sampler, img *tensor.Tensor, size int, rng *rand.Rand) (est, res *tensor.Tensor, err error) {
	h, w := img.Shape[0], img.Shape[1]
	x := img
	if h != size || w != size {
		x = imgproc.Resize(img, size, size, imgproc.Area)
	}
	s1, out, err := s.Restore(tensor.FromSlice(x.Data, 1, size, size, 3), rng)
	if err != nil {
		return nil, nil, err
	}
	est, res = tensor.FromSlice(s1.Data, size, size, 3), tensor.FromSlice(out.Data, size, size, 3)
	if h != size || w != size {
		est, res = imgproc.Resize(est, h, w, imgproc.Cubic), imgproc.Resize(res, h, w, imgproc.Cubic)
	}
	return est, res, nil
}

func restorePhoto(s *restorer.Sampler, lm *facenet.Landmarks68, img *tensor.Tensor, size int, rng *rand.Rand) (*tensor.Tensor, error) {
	found, err := faces.DefaultOptions().Detect(img)
	if err != nil {
		return nil, err
	}
	if len(found.Faces) == 0 {
		why := "no face found"
		if len(found.Skipped) > 0 {
			why += " (" + found.Skipped[0].Reason + ")"
		}
		return nil, errors.New(why)
	}
	photo := img
	for _, f := range found.Faces {
		if err := faces.RefinePoints(img, &f, lm); err != nil {
			return nil, err
		}
		crop, m, err := faces.Align(img, f.Points, size)
		if err != nil {
			return nil, err
		}
		_, out, err := s.Restore(tensor.FromSlice(crop.Data, 1, size, size, 3), rng)
		if err != nil {
			return nil, err
		}
		if photo, err = faces.PasteBack(photo, tensor.FromSlice(out.Data, size, size, 3), m); err != nil {
			return nil, err
		}
	}
	return photo, nil
}
