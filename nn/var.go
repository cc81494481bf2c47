package nn

import "facereward/tensor"

// Var is a value in a computation together with its gradient.
//
// Grad is nil until a backward pass writes into it. Parameters and inputs own
// their gradients across steps (so gradients accumulate until ZeroGrad);
// intermediate values get theirs from the graph's buffer pool.
type Var struct {
	Value    *tensor.Tensor
	Grad     *tensor.Tensor
	NeedGrad bool

	pooled    bool // Value and Grad belong to a Graph's pool
	gradSlot  int  // Grad's index in its Graph's used buffers
	valueSlot int  // Value's, when it owns its buffer (not a view): index + 1, 0 for none
	convOut   bool // a Conv2D output not yet summed into (AddTo)
}

// Constant wraps a tensor that takes no gradient.
func Constant(t *tensor.Tensor) *Var { return &Var{Value: t} }

// Input wraps a tensor whose gradient is wanted (for example the image a
// reward model scores, when ReFL backpropagates into it).
func Input(t *tensor.Tensor) *Var { return &Var{Value: t, NeedGrad: true} }

// Shape is the value's shape.
func (v *Var) Shape() []int { return v.Value.Shape }

// Param is a named, trainable tensor of a module.
type Param struct {
	*Var
	Name string
	// NoDecay marks biases and normalisation gains, which AdamW leaves out of
	// weight decay.
	NoDecay bool
}

// NewParam makes a trainable parameter holding t.
func NewParam(name string, t *tensor.Tensor, noDecay bool) *Param {
	return &Param{Var: &Var{Value: t, NeedGrad: true}, Name: name, NoDecay: noDecay}
}

// Frozen reports whether the parameter is excluded from training.
func (p *Param) Frozen() bool { return !p.NeedGrad }

// ZeroGrad clears the gradients of ps (keeping their buffers).
func ZeroGrad(ps []*Param) {
	for _, p := range ps {
		if p.Grad != nil {
			clear(p.Grad.Data)
		}
	}
}
