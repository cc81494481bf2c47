package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"

	"facereward/nn"
	"facereward/refl"
	"facereward/restorer"
	"facereward/reward"
	"facereward/tensor"
)

// reflTimes are one side's medians in seconds.
type reflTimes struct {
	Step      float64 `json:"refl_step_s"`
	FRMUpdate float64 `json:"frm_update_s"`
}

// torchReFL is bench/refl_torch.py's JSON line.
type torchReFL struct {
	reflTimes
	Torch         string  `json:"torch"`
	Threads       int     `json:"threads"`
	ControlParams int     `json:"control_params"`
	FRMParams     int     `json:"frm_params"`
	PeakMB        float64 `json:"peak_rss_mb"`
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
	fmt.Fprintf(stdout, "facereward bench refl: build %s, GEMM %s, %d threads, median of %d after %d warm-up\n",
		tensor.Build(), tensor.GemmBackend(), runtime.GOMAXPROCS(0), o.Iters, o.Warmup)
	var tr *torchReFL
	var torchErr error
	if !o.NoTorch {
		if tr, torchErr, err = runTorchReFL(o); err != nil {
			return fmt.Errorf("bench refl: %w", err)
		}
	}
	goT, err := timeReFL(step, update, o.Warmup, o.Iters)
	if err != nil {
		return fmt.Errorf("bench refl: %w", err)
	}
	peak := PeakRSSMB()

	rows := []Row{{"ReFL step (batch 4)", goT.Step, 0}, {"dynamic FRM update (batch 4)", goT.FRMUpdate, 0}}
	var torchName string
	var torchPeak float64
	if tr != nil {
		rows[0].Torch, rows[1].Torch = tr.Step, tr.FRMUpdate
		torchName, torchPeak = tr.Torch, tr.PeakMB
	}
	PrintRatios(stdout, rows, peak, torchName, torchPeak, torchErr)
	if o.JSON != "" {
		rep := map[string]any{"go": goT, "go_peak_rss_mb": peak}
		if tr != nil {
			rep["torch"] = tr
		}
		if err := WriteJSON(o.JSON, rep); err != nil {
			return fmt.Errorf("bench refl: %w", err)
		}
	}
	return nil
}

// runTorchReFL runs the PyTorch side. A side that did not run (no torch)
// is torchErr, reported beside the Go times; one that ran but models other
// networks, or whose output does not read, is err.
func runTorchReFL(o Options) (tr *torchReFL, torchErr, err error) {
	last, _, torchErr := TorchJSON(o.Python, o.Script, "--threads", strconv.Itoa(runtime.GOMAXPROCS(0)), "--iters", strconv.Itoa(o.Iters),
		"--warmup", strconv.Itoa(o.Warmup), "--batch", strconv.Itoa(refl.BenchBatch), "--json")
	if torchErr != nil {
		return nil, torchErr, nil
	}
	tr = &torchReFL{}
	if err := json.Unmarshal(last, tr); err != nil {
		return nil, nil, fmt.Errorf("reading %s output: %w", o.Script, err)
	}
	if err := sameReFLNets(tr); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.Script, err)
	}
	return tr, nil, nil
}

// timeReFL returns the medians of step and update, or the first error
// either gave.
func timeReFL(step, update func() error, warmup, iters int) (t reflTimes, err error) {
	run := func(f func() error) func() {
		return func() {
			if e := f(); e != nil && err == nil {
				err = e
			}
		}
	}
	t.Step = Median(run(step), warmup, iters)
	t.FRMUpdate = Median(run(update), warmup, iters)
	return t, err
}

// sameReFLNets checks that the PyTorch side models the default control
// branch and FRM: equal parameter counts.
func sameReFLNets(tr *torchReFL) error {
	m, err := restorer.NewModel(restorer.DefaultConfig(), 1)
	if err != nil {
		return err
	}
	frm, err := reward.New(reward.DefaultConfig(), nn.NewRNG(1))
	if err != nil {
		return err
	}
	ctl, f := nn.NumParams(m.Control.Params()), nn.NumParams(frm.Params())
	if tr.ControlParams != ctl || tr.FRMParams != f {
		return fmt.Errorf("models %d control and %d FRM parameters, Go %d and %d: not the same networks", tr.ControlParams, tr.FRMParams, ctl, f)
	}
	return nil
}
