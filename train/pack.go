package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"facereward/nn"
	"facereward/restorer"
)

// Pack assembles the restorer a finished stage-2 run makes: its UNet and
// control branch (from the run's model.safetensors; in control mode the
// UNet comes from the run it was started on) and the stage-1 net whose
// estimates the run was conditioned on, which is the one the control
// branch learned to read, on the run's β schedule. A run started with
// --init keeps that model's stage 1.
func Pack(stage2Run string) (*restorer.Model, error) {
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
		if err := loadWeights(weights, nn.Collect(m.UNet, m.Control)); err != nil {
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
	for _, src := range []struct {
		path string
		mod  nn.Module
	}{{o.Stage1, m.Stage1}, {unet, m.UNet}, {weights, m.Control}} {
		if err := loadWeights(src.path, src.mod.Params()); err != nil {
			return fail(err)
		}
	}
	return m, nil
}
