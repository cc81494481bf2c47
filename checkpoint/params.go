package checkpoint

import (
	"fmt"

	"facereward/nn"
	"facereward/tensor"
)

// ParamsPart saves the weights of a network that is not what a run's
// optimiser trains (ReFL's dynamic FRM, stage 2's discriminator) as a
// state part, so that a resumed run continues with them exactly.
type ParamsPart []*nn.Param

// State returns the live weights, by parameter name.
func (p ParamsPart) State() map[string]*tensor.Tensor {
	st := make(map[string]*tensor.Tensor, len(p))
	for _, q := range p {
		st[q.Name] = q.Value
	}
	return st
}

// SetState copies the weights back in after checking every name and shape.
func (p ParamsPart) SetState(st map[string]*tensor.Tensor) error {
	for _, q := range p {
		v, ok := st[q.Name]
		if !ok {
			return fmt.Errorf("checkpoint: weights part: %s missing", q.Name)
		}
		if !tensor.SameShape(v.Shape, q.Value.Shape) {
			return fmt.Errorf("checkpoint: weights part: %s is %s, want %s", q.Name, tensor.ShapeString(v.Shape), tensor.ShapeString(q.Value.Shape))
		}
	}
	if len(st) != len(p) {
		return fmt.Errorf("checkpoint: weights part: %d tensors, want %d", len(st), len(p))
	}
	for _, q := range p {
		copy(q.Value.Data, st[q.Name].Data)
	}
	return nil
}
