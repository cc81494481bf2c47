package optim

import (
	"fmt"
	"math"

	"facereward/nn"
)

// ClipGradNorm is torch.nn.utils.clip_grad_norm_ with the L2 norm: it
// returns the global norm of all trainable gradients, taken as if they were
// one vector, and scales them by maxNorm/(total+1e-6) when that is below 1.
//
// The sum of squares is accumulated in float64 so that millions of small
// terms do not lose precision. If the norm is Inf or NaN the gradients are
// left as they are (PyTorch would zero or poison them); the caller should
// check the returned value and skip the step.
func ClipGradNorm(ps []*nn.Param, maxNorm float64) float64 {
	var sum float64
	for _, p := range ps {
		if !trainable(p) {
			continue
		}
		for _, g := range p.Grad.Data {
			sum += float64(g) * float64(g)
		}
	}
	total := math.Sqrt(sum)
	if math.IsInf(total, 0) || math.IsNaN(total) {
		return total
	}
	coef := maxNorm / (total + 1e-6)
	if coef >= 1 {
		return total
	}
	c := float32(coef)
	for _, p := range ps {
		if !trainable(p) {
			continue
		}
		for i := range p.Grad.Data {
			p.Grad.Data[i] *= c
		}
	}
	return total
}

// ScaleGrads multiplies every trainable gradient by s.
func ScaleGrads(ps []*nn.Param, s float32) {
	for _, p := range ps {
		if !trainable(p) {
			continue
		}
		for i := range p.Grad.Data {
			p.Grad.Data[i] *= s
		}
	}
}

// Accumulator counts micro-batches for gradient accumulation. Gradients
// add up across backward passes until ZeroGrad, so n backward passes of a
// mean loss give n times the big-batch gradient; the accumulator divides by
// n before the step so one update over n micro-batches equals one update
// over a batch n times larger. The loop is:
//
//	acc := optim.NewAccumulator(4)
//	for each micro-batch {
//		forward; backward            // adds into p.Grad
//		if acc.Add(params) {         // grads now averaged
//			optim.ClipGradNorm(params, 1)
//			opt.Step()
//			nn.ZeroGrad(params)
//		}
//	}
//	if acc.Flush(params) { opt.Step(); nn.ZeroGrad(params) } // a partial last group
type Accumulator struct {
	n, count int
}

// NewAccumulator steps every n micro-batches; n must be at least 1.
func NewAccumulator(n int) (*Accumulator, error) {
	if n < 1 {
		return nil, fmt.Errorf("optim: accumulation over %d micro-batches", n)
	}
	return &Accumulator{n: n}, nil
}

// Add records one micro-batch whose gradients are already in ps. When it
// completes a group it divides the gradients by the group size and returns
// true: the caller should step and zero the gradients.
func (a *Accumulator) Add(ps []*nn.Param) bool {
	a.count++
	if a.count < a.n {
		return false
	}
	return a.Flush(ps)
}

// Flush ends a group early (say at the end of the data), averaging over the
// micro-batches it holds. It returns false, changing nothing, if the group
// is empty.
func (a *Accumulator) Flush(ps []*nn.Param) bool {
	if a.count == 0 {
		return false
	}
	if a.count > 1 {
		// Divide rather than multiply by 1/n: 1/3 is not a float32, and
		// dividing keeps each gradient correctly rounded.
		d := float32(a.count)
		for _, p := range ps {
			if !trainable(p) {
				continue
			}
			for i := range p.Grad.Data {
				p.Grad.Data[i] /= d
			}
		}
	}
	a.count = 0
	return true
}

// Pending is the number of micro-batches added since the last step.
func (a *Accumulator) Pending() int { return a.count }
