package bench

import (
	"fmt"
	"io"
	"strconv"

	"facereward/nn"
	"facereward/refl"
	"facereward/restorer"
	"facereward/reward"
)

// reflTimes are one side's medians in seconds, and each step's peak
// resident memory in MB (medianPeak; the PyTorch side measures the same
// way).
type reflTimes struct {
	Step        float64 `json:"refl_step_s"`
	FRMUpdate   float64 `json:"frm_update_s"`
	StepMB      float64 `json:"refl_step_peak_mb"`
	FRMUpdateMB float64 `json:"frm_update_peak_mb"`
}

// torchReFL is what ReFL reads of bench/refl_torch.py's JSON line besides
// torchRun's keys.
type torchReFL struct {
	reflTimes
	ControlParams int `json:"control_params"`
	FRMParams     int `json:"frm_params"`
}

// ReFL times one ReFL step of the built-in restorer and FRM (refl.Bench:
// batch refl.BenchBatch, the default sampler) and one dynamic FRM update
// in this binary's build and in PyTorch. The PyTorch side must model the
// default control branch and FRM: equal parameter counts.
func ReFL(o Options, stdout io.Writer) error {
	step, update, err := refl.Bench(refl.DefaultOptions(""))
	if err != nil {
		return err
	}
	printHeader(stdout, "refl", o)
	var tr torchReFL
	t, err := runTorch(o, &tr, "--batch", strconv.Itoa(refl.BenchBatch))
	if err != nil {
		return fmt.Errorf("bench refl: %w", err)
	}
	if t.ran() {
		if err := sameReFLNets(o.Script, tr); err != nil {
			return fmt.Errorf("bench refl: %w", err)
		}
	}
	goT, err := timeReFL(step, update, o.Warmup, o.Iters)
	if err != nil {
		return fmt.Errorf("bench refl: %w", err)
	}
	rows := []row{
		{name: "ReFL step (batch 4)", goS: goT.Step, torchS: tr.Step, goMB: goT.StepMB, torchMB: tr.StepMB},
		{name: "dynamic FRM update (batch 4)", goS: goT.FRMUpdate, torchS: tr.FRMUpdate, goMB: goT.FRMUpdateMB, torchMB: tr.FRMUpdateMB},
	}
	if err := report(stdout, o, rows, goT, t, nil); err != nil {
		return fmt.Errorf("bench refl: %w", err)
	}
	return nil
}

// timeReFL returns the medians and peaks of step and update, or the first
// error either gave.
func timeReFL(step, update func() error, warmup, iters int) (t reflTimes, err error) {
	run := func(f func() error) func() {
		return func() {
			if e := f(); e != nil && err == nil {
				err = e
			}
		}
	}
	t.Step, t.StepMB = medianPeak(run(step), warmup, iters)
	t.FRMUpdate, t.FRMUpdateMB = medianPeak(run(update), warmup, iters)
	return t, err
}

// sameReFLNets checks that script's side, tr, models the default control
// branch and FRM.
func sameReFLNets(script string, tr torchReFL) error {
	m, err := restorer.NewModel(restorer.DefaultConfig(), 1)
	if err != nil {
		return err
	}
	frm, err := reward.New(reward.DefaultConfig(), nn.NewRNG(1))
	if err != nil {
		return err
	}
	return sameNets(script, []string{"control", "FRM"},
		[]int{nn.NumParams(m.Control.Params()), nn.NumParams(frm.Params())}, []int{tr.ControlParams, tr.FRMParams})
}
