package optim

import (
	"fmt"

	"facereward/nn"
	"facereward/tensor"
)

// Stateful is anything whose training state is saved in checkpoints.
type Stateful interface {
	// State returns the state as named tensors. The tensors may be the live
	// buffers, so save them before the next Step and do not modify them.
	State() map[string]*tensor.Tensor
	// SetState copies a State back in. It checks everything before changing
	// anything, so on error the receiver is as it was.
	SetState(map[string]*tensor.Tensor) error
}

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	Stateful
	// Step applies one update using the current gradients. Frozen
	// parameters and those without a gradient are left alone.
	Step()
	// StepCount is the number of Step calls so far (restored by SetState).
	StepCount() int
	// LR and SetLR get and set the learning rate; schedules call SetLR
	// before each Step. Rates are float64 because PyTorch keeps them as
	// Python floats, and the bias corrections are computed from them in
	// double precision.
	LR() float64
	SetLR(lr float64)
}

// Counts are stored as two float32s, high and low 24 bits, because a single
// float32 is exact only up to 2^24 and a long run may pass that.
const countHalf = 1 << 24

func countTensor(n int) *tensor.Tensor {
	return tensor.FromSlice([]float32{float32(n / countHalf), float32(n % countHalf)}, 2)
}

func countFrom(t *tensor.Tensor) (int, error) {
	if t == nil || !tensor.SameShape(t.Shape, []int{2}) {
		return 0, fmt.Errorf("count tensor must have shape [2]")
	}
	hi, lo := t.Data[0], t.Data[1]
	for _, v := range []float32{hi, lo} {
		if v < 0 || v >= countHalf || v != float32(int(v)) {
			return 0, fmt.Errorf("count tensor holds %v, not two integers in [0, 2^24)", t.Data)
		}
	}
	return int(hi)*countHalf + int(lo), nil
}

// checkNames rejects parameter lists whose names cannot key a state map.
func checkNames(ps []*nn.Param) error {
	seen := make(map[string]bool, len(ps))
	for i, p := range ps {
		if p == nil || p.Var == nil || p.Value == nil {
			return fmt.Errorf("parameter %d (%q) has no value", i, nameOf(p))
		}
		if p.Name == "" {
			return fmt.Errorf("parameter %d has no name", i)
		}
		if seen[p.Name] {
			return fmt.Errorf("parameter name %q appears twice", p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}

func nameOf(p *nn.Param) string {
	if p == nil {
		return ""
	}
	return p.Name
}

// trainable reports whether a parameter takes part in this update.
func trainable(p *nn.Param) bool {
	if p.Frozen() || p.Grad == nil {
		return false
	}
	if len(p.Grad.Data) != len(p.Value.Data) {
		// A gradient of the wrong size is a bug in the backward pass; going
		// on would corrupt the weights silently.
		panic(fmt.Sprintf("optim: parameter %q has %d values but its gradient has %d",
			p.Name, len(p.Value.Data), len(p.Grad.Data)))
	}
	return true
}
