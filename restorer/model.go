package restorer

import (
	"fmt"

	"facereward/checkpoint"
	"facereward/diffusion"
	"facereward/nn"
	"facereward/safetensors"
	"facereward/tensor"
)

// Model is the whole restorer: stage 1, the UNet prior and its control
// branch, with the noise schedule the UNet was trained on. Parameter names
// are prefixed "stage1.", "unet." and "control.", so one checkpoint holds
// all three.
type Model struct {
	Config Config
	// Name is what errors and reports call the model (its directory, or
	// builtin:NAME); empty for one built in memory.
	Name    string
	Stage1  *Stage1
	UNet    *UNet
	Control *Control // nil while a UNet is trained alone (unconditional)
	// Schedule is Config.Schedule's β schedule over diffusion.DefaultT
	// steps.
	Schedule *diffusion.Schedule
}

// NewModel builds a model from seed; the control branch starts as a copy
// of the UNet's encoder (ControlNet initialisation). An empty c.Schedule
// is diffusion.DefaultBetaSchedule.
func NewModel(c Config, seed uint64) (*Model, error) {
	if c.Schedule == "" {
		c.Schedule = diffusion.DefaultBetaSchedule
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("restorer: %w", err)
	}
	sched, err := diffusion.NewSchedule(c.Schedule, diffusion.DefaultT)
	if err != nil {
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
	return &Model{Config: c, Stage1: s1, UNet: u, Control: k, Schedule: sched}, nil
}

// Params lists every parameter: stage 1, UNet, control branch.
func (m *Model) Params() []*nn.Param { return nn.Collect(m.Stage1, m.UNet, m.Control) }

// FreezeUNet excludes the UNet from training; gradients still flow through
// it into the control residuals.
func (m *Model) FreezeUNet() { nn.Freeze(m.UNet) }

// Condition runs stage 1 on lq [N,S,S,3] in [0,1] and returns its
// estimate in the networks' [-1,1], the control branch's condition.
func (m *Model) Condition(lq *tensor.Tensor) *tensor.Tensor {
	return m.ConditionIn(nn.NewGraph(), lq)
}

// ConditionIn is Condition run as a pass without gradients on g
// (nn.Graph.NoGradPass): a training step's graph, whose later passes
// then reuse stage 1's buffers instead of leaving a graph's worth of
// garbage every step.
func (m *Model) ConditionIn(g *nn.Graph, lq *tensor.Tensor) *tensor.Tensor {
	var cond *tensor.Tensor
	g.NoGradPass(func() {
		cond = m.Stage1.Forward(g, nn.Constant(ToSigned(lq))).Value.Clone()
	})
	return cond
}

// Predict runs the control branch on (x_t, t, cond) and the UNet with its
// residuals; it returns the UNet's prediction (of kind
// Config.UNet.Prediction) and the residuals (which ReFL's L_reg compares
// against a frozen copy's). Without a control branch the UNet runs alone
// and cond is ignored.
func (m *Model) Predict(g *nn.Graph, xt *nn.Var, t []int, cond *nn.Var) (pred *nn.Var, res []*nn.Var) {
	var hint *nn.Var
	if m.Control != nil {
		hint = m.Control.EmbedHint(g, cond)
	}
	return m.predictEmbedded(g, xt, t, hint)
}

// predictEmbedded is Predict with the condition already embedded by
// Control.EmbedHint (nil without a control branch).
func (m *Model) predictEmbedded(g *nn.Graph, xt *nn.Var, t []int, hint *nn.Var) (pred *nn.Var, res []*nn.Var) {
	if m.Control != nil {
		res = m.Control.ForwardEmbedded(g, xt, t, hint)
	}
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
