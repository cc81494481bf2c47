package photo

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"facereward/dataset"
	"facereward/degrade"
	"facereward/facenet"
	"facereward/imageio"
	"facereward/progress"
	"facereward/restorer"
	"facereward/tensor"
)

// Options are a restore run's model, sampler settings and outputs.
type Options struct {
	Model   string                 // model directory or builtin:NAME; "" for the default
	// RewardStrength, when set, scales the reward's effect (see
	// restorer.LoadReward) against RewardBase ("" for the built-in base).
	RewardStrength *float64
	RewardBase     string
	Sampler restorer.SampleOptions // the sampler's settings
	Seed    uint64
	Aligned bool   // inputs are aligned face crops: no detection
	Out     string // folder of the restorations
	Stage1  string // with Aligned, also write the stage-1 estimates here; "" for none
}

// Run loads the model (and, for whole photos, the landmark net), restores
// every image of paths (files, or folders searched recursively) with
// RestoreAll, and prints how many were restored.
func Run(paths []string, o Options, stdout, stderr io.Writer) error {
	strength := 1.0
	if o.RewardStrength != nil {
		strength = *o.RewardStrength
	}
	m, err := restorer.LoadReward(o.Model, strength, o.RewardBase)
	if err != nil {
		return err
	}
	s, err := restorer.NewSampler(m, o.Sampler)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	r := &Restorer{Sampler: s}
	if !o.Aligned {
		if r.Landmarks, _, err = facenet.Load(); err != nil {
			return err
		}
	}
	inputs, err := dataset.Inputs(paths)
	if err != nil {
		return err
	}
	done, skipped := r.RestoreAll(inputs, o, stderr)
	fmt.Fprintf(stdout, "restore: %d images restored into %s", done, o.Out)
	if skipped > 0 {
		fmt.Fprintf(stdout, "; %d skipped", skipped)
	}
	fmt.Fprintln(stdout)
	if done == 0 {
		return fmt.Errorf("restore: nothing restored")
	}
	return nil
}

// RestoreAll restores every input (an aligned crop with o.Aligned, else a
// whole photo) and writes it under o.Out with the input's relative name as
// PNG, with a progress bar on stderr. An input that cannot be read or
// restored is reported on stderr and skipped; it returns how many were
// restored and skipped.
func (r *Restorer) RestoreAll(inputs []dataset.File, o Options, stderr io.Writer) (done, skipped int) {
	bar := progress.New(stderr, "restore", len(inputs))
	for _, in := range inputs {
		// One random stream per input name: results do not depend on
		// which other files were given.
		rng := rand.New(rand.NewPCG(o.Seed, degrade.Stream(in.Rel)))
		img, err := imageio.Read(in.Path)
		var res, est *tensor.Tensor
		if err == nil {
			if o.Aligned {
				est, res, err = r.Aligned(img, rng)
			} else {
				res, err = r.Photo(img, rng)
			}
		}
		name := strings.TrimSuffix(in.Rel, filepath.Ext(in.Rel)) + ".png"
		if err == nil {
			err = writeUnder(o.Out, name, res)
		}
		if err == nil && o.Stage1 != "" {
			err = writeUnder(o.Stage1, name, est)
		}
		if err != nil {
			skipped++
			fmt.Fprintf(stderr, "\nrestore: skipping %s: %v\n", in.Path, err)
		} else {
			done++
		}
		bar.Add(1)
	}
	bar.Finish()
	return done, skipped
}

// writeUnder writes img as dir/rel, making the folders on the way.
func writeUnder(dir, rel string, img *tensor.Tensor) error {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return imageio.WritePNG(path, img)
}
