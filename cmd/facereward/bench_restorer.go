package main

import (
	"io"

	"facereward/bench"
)

func benchRestorer(args []string, stdout io.Writer) error {
	fs := newFlags("bench restorer", "bench restorer [flags]", `
Times the default restorer (restorer.DefaultConfig) in this binary's build
and the same networks in PyTorch (bench/restorer_torch.py, as many threads
as this process has) in the same run, and prints Go time / PyTorch time:
  stage-1 train step    batch 8 at 128×128: forward, L1, backward, AdamW
  stage-2 train step    batch 8, UNet and control branch trained jointly
                        (the default mode): v-prediction loss at uniform t
  stage-2 detail step   the same with the detail terms on x0_hat (t below
                        0.55·T): the patch discriminator's hinge term, the
                        component critic's (--adv-component: a second
                        discriminator on the windows of the eyes and the
                        mouth), the identity and feature terms through the
                        face-recognition net, then the two discriminators'
                        own steps
  restore one face      stage 1, then 20 DDIM steps of control + UNet,
                        batch 1 (what restore does per face, from pure noise)
The two sides' parameter counts are compared first: the PyTorch script
must model the same networks. PyTorch runs first, in its own process, so
the two never share the cores. bench/restorer.sh runs this for the fast and
plain builds.`, stdout)
	o, check := benchOptions(fs, 5, 1, "bench/restorer_torch.py")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := check("restorer"); err != nil {
		return err
	}
	return bench.Restorer(*o, stdout)
}
