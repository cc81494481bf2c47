package train

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"facereward/checkpoint"
	"facereward/dataset"
	"facereward/nn"
	"facereward/optim"
	"facereward/progress"
	"facereward/rundir"
	"facereward/safetensors"
)

// Session is what every training loop shares: the run folder, the trained
// parameters, their optimiser and EMA, and the step count, which only
// Update advances.
type Session struct {
	run   *rundir.Run
	ps    []*nn.Param
	opt   *optim.Adam
	ema   *optim.EMA
	parts map[string]optim.Stateful
	step  int
	keep  int
	meta  map[string]string
	// ownReport: the caller writes report.html (ReportsItself).
	ownReport bool
}

// NewSession opens the run, builds AdamW and the EMA over ps and, with
// resume, restores the newest checkpoint, including the extra parts (state
// beyond ps's weights, optimiser and EMA) that every checkpoint carries.
func NewSession(dir string, cfg any, resume bool, ps []*nn.Param, lr, wd, emaDecay float64, keep int, meta map[string]string, extra map[string]optim.Stateful, stdout io.Writer) (*Session, error) {
	run, err := rundir.Open(dir, cfg, resume)
	if err != nil {
		return nil, err
	}
	if run.RemovedTemps > 0 {
		fmt.Fprintf(stdout, "%s: removed %d temporary file(s) an interrupted write left behind\n", dir, run.RemovedTemps)
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
	s := &Session{run: run, ps: ps, opt: opt, ema: ema, parts: map[string]optim.Stateful{checkpoint.OptimPart: opt, "ema": ema}, keep: keep, meta: meta}
	for k, v := range extra {
		s.parts[k] = v
	}
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

// Run is the session's run folder.
func (s *Session) Run() *rundir.Run { return s.run }

// Step is the number of updates taken (restored ones included).
func (s *Session) Step() int { return s.step }

// EMA is the trained parameters' moving average; Swap it in to evaluate
// or export the averaged weights, and back.
func (s *Session) EMA() *optim.EMA { return s.ema }

// loader starts pd's batches where the run stands; done says the run is
// already at its last step (steps, or until when that comes first), in
// which case the EMA weights are exported and there is nothing to load.
func (s *Session) loader(pd *Pairs, batch int, seed uint64, steps, until int, stdout io.Writer) (l *dataset.Loader, done bool, err error) {
	if done, err := s.AtEnd(steps, until, stdout); done || err != nil {
		return nil, done, err
	}
	l, err = pd.Loader(batch, seed, s.step)
	return l, false, err
}

// AtEnd reports whether the run already stands at its stop step (steps,
// or until when that comes first), exporting the EMA weights if so: a
// rerun of a finished command writes its result again and trains nothing.
func (s *Session) AtEnd(steps, until int, stdout io.Writer) (bool, error) {
	end := StopStep(steps, until)
	if s.step < end {
		return false, nil
	}
	fmt.Fprintf(stdout, "%s: already at step %d of %d\n", s.run.Dir, s.step, end)
	return true, s.finish(stdout)
}

// StopStep is where a run stops: its last step, or until when that is set
// and comes first. Stopping early leaves the learning-rate schedule (which
// spans steps) as it is, so a run stopped at until and one resumed past it
// are the same run.
func StopStep(steps, until int) int {
	if until > 0 && until < steps {
		return until
	}
	return steps
}

// save writes the step's checkpoint and prunes old ones.
func (s *Session) save() error {
	if err := checkpoint.SaveParts(s.run.CheckpointPath(s.step), s.ps, s.parts, s.meta, safetensors.F32); err != nil {
		return err
	}
	return s.run.Prune(s.keep)
}

// Update clips, steps the optimiser and the EMA, and clears the gradients;
// it returns the gradient norm before clipping.
func (s *Session) Update(clip float64) float64 {
	n := optim.ClipGradNorm(s.ps, clip)
	s.opt.Step()
	s.ema.Update()
	nn.ZeroGrad(s.ps)
	s.step++
	return n
}

// finish writes the EMA weights alone to the run's model.safetensors, the
// file later stages and `restore` load, and the run's report.html.
func (s *Session) finish(stdout io.Writer) error {
	s.ema.Swap()
	defer s.ema.Swap()
	path := filepath.Join(s.run.Dir, "model.safetensors")
	if err := checkpoint.Save(path, s.ps, nil, s.meta, safetensors.F32); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: at step %d; EMA weights in %s\n", s.run.Dir, s.step, path)
	s.writeReport(stdout)
	return nil
}

// loadWeights fills ps from a model.safetensors (or any checkpoint holding
// them), ignoring tensors of other modules and state parts.
func loadWeights(path string, ps []*nn.Param) error {
	_, err := checkpoint.LoadParts(path, ps, nil, checkpoint.Options{AllowUnexpected: true})
	return err
}

// LoopOptions are a training loop's counts.
type LoopOptions struct {
	Label                              string
	Steps, Until, EvalEvery, SaveEvery int
}

// Loop runs step until o.Steps (or o.Until, see StopStep) or until ctx is
// cancelled. step does one update (through s.Update) and returns its loss
// and what else to log; eval, when not nil, runs every o.EvalEvery steps
// and at the end. A cancelled loop saves a checkpoint and returns nil; a
// finished one saves, exports the EMA weights and returns nil. The run's
// report.html is rewritten after every eval pass and when the loop ends
// either way (writeReport).
func (s *Session) Loop(ctx context.Context, o LoopOptions, step func() (float32, map[string]any, error), eval func(step int) error, stdout io.Writer) error {
	bar := progress.New(os.Stderr, o.Label, o.Steps)
	bar.Resume(s.step)
	start, startStep := time.Now(), s.step
	end := StopStep(o.Steps, o.Until)
	for s.step < end {
		if ctx.Err() != nil {
			bar.Finish()
			if err := s.save(); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "interrupted at step %d; saved %s (continue with --resume)\n", s.step, s.run.CheckpointPath(s.step))
			s.writeReport(stdout)
			return nil
		}
		loss, fields, err := step()
		if err != nil {
			return fmt.Errorf("%s: %w", o.Label, err)
		}
		n := s.step
		bar.SetExtra(fmt.Sprintf("loss %.4f", loss))
		bar.Add(1)
		if n%10 == 0 || n == o.Steps {
			fields[KeyLoss] = loss
			fields[KeyLR] = s.opt.LR()
			fields[KeyStepsPerS] = float64(n-startStep) / time.Since(start).Seconds()
			if err := s.run.Log(n, fields); err != nil {
				return err
			}
		}
		if eval != nil && (n%o.EvalEvery == 0 || n == o.Steps) {
			if err := eval(n); err != nil {
				return err
			}
			s.writeReport(stdout)
		}
		if n%o.SaveEvery == 0 || n == end {
			if err := s.save(); err != nil {
				return err
			}
		}
	}
	bar.Finish()
	return s.finish(stdout)
}
