package main

import (
	"fmt"
	"io"

	"facereward/bench"
)

func benchReFL(args []string, stdout io.Writer) error {
	fs := newFlags("bench refl", "bench refl [flags]", `
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
runs this for the fast and plain builds.`, stdout)
	iters := fs.Int("iters", 5, "timed iterations per measurement (the median is reported)")
	warmup := fs.Int("warmup", 1, "untimed iterations first")
	python := fs.String("python", bench.DefaultPython(), "Python interpreter with torch")
	script := fs.String("torch-script", "bench/refl_torch.py", "the PyTorch side of the benchmark")
	noTorch := fs.Bool("no-torch", false, "skip PyTorch")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *iters < 1 || *warmup < 0 {
		return fmt.Errorf("bench refl: --iters must be ≥ 1 and --warmup ≥ 0")
	}
	return bench.ReFL(bench.Options{Iters: *iters, Warmup: *warmup, Python: *python, Script: *script, NoTorch: *noTorch, JSON: *jsonOut}, stdout)
}
