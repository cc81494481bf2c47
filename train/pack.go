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
// branch learned to read, on the run's β schedule.
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
	m, err := restorer.NewModel(restorer.Config{Stage1: o.Stage1Net, UNet: o.Net, Schedule: o.Schedule}, 0)
	if err != nil {
		return fail(err)
	}
	weights := filepath.Join(stage2Run, "model.safetensors")
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
