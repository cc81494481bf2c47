package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"facereward/checkpoint"
	"facereward/nn"
	"facereward/optim"
	"facereward/restorer"
)

// Pack assembles the restorer a finished stage-2 run makes: its UNet and
// control branch (from the run's model.safetensors; in control mode the
// UNet comes from the run it was started on) and the stage-1 net whose
// estimates the run was conditioned on, which is the one the control
// branch learned to read, on the run's β schedule. A run started with
// --init keeps that model's stage 1.
//
// With ckpt (a file of the run's checkpoints/), the UNet and control
// branch are that checkpoint's EMA weights instead of the finished run's:
// a run can be measured, or shipped, at any step it saved.
func Pack(stage2Run, ckpt string) (*restorer.Model, error) {
	fail := func(err error) (*restorer.Model, error) {
		return nil, fmt.Errorf("pack %s: %w", stage2Run, err)
	}
	var o Stage2Options
	b, err := os.ReadFile(filepath.Join(stage2Run, "config.json"))
	if err != nil {
		return fail(err)
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return fail(fmt.Errorf("config.json: %w", err))
	}
	if o.Mode != ModeJoint && o.Mode != ModeControl {
		return fail(fmt.Errorf("a %q run has no control branch; pack a joint or control run", o.Mode))
	}
	weights := filepath.Join(stage2Run, "model.safetensors")
	if o.Init != "" {
		// The run trained the UNet and control branch of its --init model
		// and kept that model's stage 1.
		m, err := restorer.Load(o.Init)
		if err != nil {
			return fail(err)
		}
		if err := loadTrained(weights, ckpt, nn.Collect(m.UNet, m.Control)); err != nil {
			return fail(err)
		}
		return m, nil
	}
	m, err := restorer.NewModel(restorer.Config{Stage1: o.Stage1Net, UNet: o.Net, Schedule: o.Schedule}, 0)
	if err != nil {
		return fail(err)
	}
	unet := weights
	if o.Mode == ModeControl {
		unet = o.UNet
	}
	if err := loadWeights(o.Stage1, m.Stage1.Params()); err != nil {
		return fail(err)
	}
	if o.Mode == ModeControl {
		if err := loadWeights(unet, m.UNet.Params()); err != nil {
			return fail(err)
		}
		if err := loadTrained(weights, ckpt, m.Control.Params()); err != nil {
			return fail(err)
		}
		return m, nil
	}
	if err := loadTrained(weights, ckpt, nn.Collect(m.UNet, m.Control)); err != nil {
		return fail(err)
	}
	return m, nil
}

// loadTrained fills ps, the parameters a run trained, from its final
// weights, or from the EMA weights of the checkpoint ckpt when that is set.
func loadTrained(weights, ckpt string, ps []*nn.Param) error {
	if ckpt == "" {
		return loadWeights(weights, ps)
	}
	ema, err := optim.NewEMA(ps, 0.5, false)
	if err != nil {
		return err
	}
	if _, err := checkpoint.LoadParts(ckpt, ps, map[string]optim.Stateful{"ema": ema}, checkpoint.Options{AllowUnexpected: true}); err != nil {
		return err
	}
	ema.Swap()
	return nil
}
