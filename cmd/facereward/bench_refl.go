package main

import (
	"io"

	"facereward/bench"
)

func benchReFL(args []string, stdout io.Writer) error {
	fs := newFlags("bench refl", "bench refl [flags]", `
Times one ReFL training step of the built-in restorer and FRM in this
binary's build and the same step in PyTorch (bench/refl_torch.py, as many
threads as this process has) in the same run, and prints Go / PyTorch:
  ReFL step          batch 4 at 128×128 with the default sampler (20 DDIM
                     steps from strength 0.5, guidance 0.275, low band 2): stage 1, the
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
	o, check := benchOptions(fs, 5, 1, "bench/refl_torch.py")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := check("refl"); err != nil {
		return err
	}
	return bench.ReFL(*o, stdout)
}
