package restorer

import (
	"fmt"

	"facereward/checkpoint"
	"facereward/nn"
	"facereward/safetensors"
)

// Model is the whole restorer: stage 1, the UNet prior and its control
// branch. Parameter names are prefixed "stage1.", "unet." and "control.",
// so one checkpoint holds all three.
type Model struct {
	Config  Config
	Stage1  *Stage1
	UNet    *UNet
	Control *Control
}

// NewModel builds a model from seed; the control branch starts as a copy
// of the UNet's encoder (ControlNet initialisation).
func NewModel(c Config, seed uint64) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("restorer: %w", err)
	}
	rng := nn.NewRNG(seed)
	s1, err := NewStage1(c.Stage1, rng)
	if err != nil {
		return nil, err
	}
	u, err := NewUNet(c.UNet, rng)
	if err != nil {
		return nil, err
	}
	k, err := NewControlFromUNet(u, rng)
	if err != nil {
		return nil, err
	}
	return &Model{Config: c, Stage1: s1, UNet: u, Control: k}, nil
}

// Params lists every parameter: stage 1, UNet, control branch.
func (m *Model) Params() []*nn.Param { return nn.Collect(m.Stage1, m.UNet, m.Control) }

// FreezeUNet excludes the UNet from training; gradients still flow through
// it into the control residuals.
func (m *Model) FreezeUNet() { nn.Freeze(m.UNet) }

// Predict runs the control branch on (x_t, t, cond) and the UNet with its
// residuals; it returns the UNet's prediction and the residuals (which
// ReFL's L_reg compares against a frozen copy's).
func (m *Model) Predict(g *nn.Graph, xt *nn.Var, t []int, cond *nn.Var) (pred *nn.Var, res []*nn.Var) {
	res = m.Control.Forward(g, xt, t, cond)
	return m.UNet.Forward(g, xt, t, res), res
}

// Save writes every parameter as float32 (so a reload is bit-exact) with
// meta, atomically.
func (m *Model) Save(path string, meta map[string]string) error {
	if err := checkpoint.Save(path, m.Params(), nil, meta, safetensors.F32); err != nil {
		return fmt.Errorf("restorer: saving %s: %w", path, err)
	}
	return nil
}

// Load restores every parameter from a file written by Save (or by a
// training run's checkpoint, whose optimiser state is skipped) and returns
// its metadata. The model must have been built with the same Config.
func (m *Model) Load(path string) (map[string]string, error) {
	meta, err := checkpoint.LoadParts(path, m.Params(), nil, checkpoint.Options{})
	if err != nil {
		return nil, fmt.Errorf("restorer: loading %s: %w", path, err)
	}
	return meta, nil
}
