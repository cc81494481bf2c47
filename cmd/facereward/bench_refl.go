package main

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

// torchReFL is bench/refl_torch.py's JSON line.
type torchReFL struct {
	Torch         string  `json:"torch"`
	Threads       int     `json:"threads"`
	Step          float64 `json:"refl_step_s"`
	FRMUpdate     float64 `json:"frm_update_s"`
	ControlParams int     `json:"control_params"`
	FRMParams     int     `json:"frm_params"`
	PeakMB        float64 `json:"peak_rss_mb"`
}

const benchReFLAbout = `
Times one ReFL training step of the built-in restorer and FRM in this
binary's build and the same step in PyTorch (bench/refl_torch.py, as many
threads as this process has) in the same run, and prints Go / PyTorch:
  ReFL step          batch 4 at 128×128 with the default sampler (20 DDIM
                     steps from strength 0.5, guidance 0.45): stage 1, the
                     descent without gradients to the last step (9 control +
                     UNet passes), the frozen branch's residuals, one control
                     + UNet pass with gradients, x0_hat, the loss (L_reg,
                     wavelet L_struct, FRM reward term, pixel L1), backward,
                     clipping, AdamW on the control branch
  FRM update         the dynamic update (every 10 steps in training):
                     0.1·BT(HQ over x0_hat), backward, clipping, AdamW
Training draws m from the last two steps; the benchmark fixes the last one,
the dearer. PyTorch runs first, in its own process. bench/refl_step.sh
runs this for the fast and plain builds.`

func benchReFL(args []string, stdout io.Writer) error {
	fs := newFlags("bench refl", "bench refl [flags]", benchReFLAbout, stdout)
	iters := fs.Int("iters", 5, "timed iterations per measurement (the median is reported)")
	warmup := fs.Int("warmup", 1, "untimed iterations first")
	python := fs.String("python", defaultPython(), "Python interpreter with torch")
	script := fs.String("torch-script", "bench/refl_torch.py", "the PyTorch side of the benchmark")
	noTorch := fs.Bool("no-torch", false, "skip PyTorch")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *iters < 1 || *warmup < 0 {
		return fmt.Errorf("bench refl: --iters must be ≥ 1 and --warmup ≥ 0")
	}
	step, update, err := refl.Bench(refl.DefaultOptions(""))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "facereward bench refl: build %s, GEMM %s, %d threads, median of %d after %d warm-up\n",
		buildName(), tensor.GemmBackend(), runtime.GOMAXPROCS(0), *iters, *warmup)
	var tr *torchReFL
	var torchErr error
	if !*noTorch {
		if tr, torchErr, err = runTorchReFL(*python, *script, *iters, *warmup); err != nil {
			return fmt.Errorf("bench refl: %w", err)
		}
	}
	goStep, goUpdate, err := timeReFL(step, update, *warmup, *iters)
	if err != nil {
		return fmt.Errorf("bench refl: %w", err)
	}
	peak := peakRSSMB()

	rows := []ratioRow{{"ReFL step (batch 4)", goStep, 0}, {"dynamic FRM update (batch 4)", goUpdate, 0}}
	var torchName string
	var torchPeak float64
	if tr != nil {
		rows[0].torS, rows[1].torS = tr.Step, tr.FRMUpdate
		torchName, torchPeak = tr.Torch, tr.PeakMB
	}
	printRatios(stdout, rows, peak, torchName, torchPeak, torchErr)
	if *jsonOut == "" {
		return nil
	}
	rep := map[string]any{"refl_step_s": goStep, "frm_update_s": goUpdate, "go_peak_rss_mb": peak}
	if tr != nil {
		rep["torch"] = tr
	}
	if err := writeBenchJSON(*jsonOut, rep); err != nil {
		return fmt.Errorf("bench refl: %w", err)
	}
	return nil
}

// runTorchReFL runs the PyTorch side. A side that did not run (no torch)
// is torchErr, reported beside the Go times; one that ran but models other
// networks, or whose output does not read, is err.
func runTorchReFL(python, script string, iters, warmup int) (tr *torchReFL, torchErr, err error) {
	last, _, torchErr := torchJSON(python, script, "--threads", strconv.Itoa(runtime.GOMAXPROCS(0)), "--iters", strconv.Itoa(iters),
		"--warmup", strconv.Itoa(warmup), "--batch", strconv.Itoa(refl.BenchBatch), "--json")
	if torchErr != nil {
		return nil, torchErr, nil
	}
	tr = &torchReFL{}
	if err := json.Unmarshal(last, tr); err != nil {
		return nil, nil, fmt.Errorf("reading %s output: %w", script, err)
	}
	if err := sameReFLNets(tr); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", script, err)
	}
	return tr, nil, nil
}

// timeReFL returns the medians of step and update in seconds, or the
// first error either gave.
func timeReFL(step, update func() error, warmup, iters int) (stepS, updateS float64, err error) {
	run := func(f func() error) func() {
		return func() {
			if e := f(); e != nil && err == nil {
				err = e
			}
		}
	}
	stepS = median(run(step), warmup, iters)
	updateS = median(run(update), warmup, iters)
	return stepS, updateS, err
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
