package train

import (
	"fmt"
	"io"
	"path/filepath"

	"facereward/checkpoint"
	"facereward/nn"
	"facereward/optim"
	"facereward/rundir"
	"facereward/safetensors"
)

// session is what every training loop shares: the run folder, the trained
// parameters, their optimiser and EMA, and the step count.
type session struct {
	run   *rundir.Run
	ps    []*nn.Param
	opt   *optim.Adam
	ema   *optim.EMA
	parts map[string]optim.Stateful
	step  int
	keep  int
	meta  map[string]string
}

// newSession opens the run, builds AdamW and the EMA over ps and, with
// resume, restores the newest checkpoint.
func newSession(dir string, cfg any, resume bool, ps []*nn.Param, lr, wd, emaDecay float64, keep int, meta map[string]string, stdout io.Writer) (*session, error) {
	run, err := rundir.Open(dir, cfg, resume)
	if err != nil {
		return nil, err
	}
	adam := optim.DefaultAdam(lr)
	adam.WeightDecay = wd
	opt, err := optim.NewAdamW(ps, adam)
	if err != nil {
		run.Close()
		return nil, err
	}
	ema, err := optim.NewEMA(ps, emaDecay, true)
	if err != nil {
		run.Close()
		return nil, err
	}
	s := &session{run: run, ps: ps, opt: opt, ema: ema, parts: map[string]optim.Stateful{checkpoint.OptimPart: opt, "ema": ema}, keep: keep, meta: meta}
	if resume {
		if path, _, ok := run.Latest(); ok {
			if _, err := checkpoint.LoadParts(path, ps, s.parts, checkpoint.Options{}); err != nil {
				run.Close()
				return nil, err
			}
			s.step = opt.StepCount()
			fmt.Fprintf(stdout, "resuming %s from step %d (%s)\n", dir, s.step, filepath.Base(path))
		}
	}
	return s, nil
}

// save writes the step's checkpoint and prunes old ones.
func (s *session) save() error {
	if err := checkpoint.SaveParts(s.run.CheckpointPath(s.step), s.ps, s.parts, s.meta, safetensors.F32); err != nil {
		return err
	}
	return s.run.Prune(s.keep)
}

// update clips, steps the optimiser and the EMA, and clears the gradients;
// it returns the gradient norm before clipping.
func (s *session) update(clip float64) float64 {
	n := optim.ClipGradNorm(s.ps, clip)
	s.opt.Step()
	s.ema.Update()
	nn.ZeroGrad(s.ps)
	s.step++
	return n
}

// export writes the EMA weights alone to the run's model.safetensors, the
// file later stages and `restore` load.
func (s *session) export() error {
	s.ema.Swap()
	defer s.ema.Swap()
	return checkpoint.Save(filepath.Join(s.run.Dir, "model.safetensors"), s.ps, nil, s.meta, safetensors.F32)
}

// loadWeights fills ps from a model.safetensors (or any checkpoint holding
// them), ignoring tensors of other modules and state parts.
func loadWeights(path string, ps []*nn.Param) error {
	_, err := checkpoint.LoadParts(path, ps, nil, checkpoint.Options{AllowUnexpected: true})
	return err
}
