package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"facereward/nn"
	"facereward/tensor"
)

// AdamConfig holds Adam's hyper-parameters, with PyTorch's meanings.
type AdamConfig struct {
	LR           float64
	Beta1, Beta2 float64
	Eps          float64
	// WeightDecay is L2 regularisation added to the gradient for Adam and
	// decoupled decay (p *= 1 - lr·wd) for AdamW. Parameters marked NoDecay
	// get none in either case.
	WeightDecay float64
}

// DefaultAdam is PyTorch's default configuration with the given rate.
func DefaultAdam(lr float64) AdamConfig {
	return AdamConfig{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

func (c AdamConfig) check() error {
	switch {
	case !(c.LR >= 0):
		return fmt.Errorf("learning rate %v must be >= 0", c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1), !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("betas (%v, %v) must be in [0, 1)", c.Beta1, c.Beta2)
	case !(c.Eps >= 0):
		return fmt.Errorf("eps %v must be >= 0", c.Eps)
	case !(c.WeightDecay >= 0):
		return fmt.Errorf("weight decay %v must be >= 0", c.WeightDecay)
	}
	return nil
}

// Adam is torch.optim.Adam or, when decoupled, torch.optim.AdamW (PyTorch
// 1.13, amsgrad off), reproducing their float32 arithmetic in the same order.
type Adam struct {
	cfg       AdamConfig
	decoupled bool
	params    []*nn.Param
	state     []adamState // parallel to params
	steps     int
}

// adamState is one parameter's moments. Like PyTorch, it is created on the
// first step that has a gradient, and its step count advances only on steps
// where the parameter had one, so bias corrections are per parameter.
type adamState struct {
	step int
	m, v *tensor.Tensor // exp_avg and exp_avg_sq; nil before the first step
}

// NewAdam is torch.optim.Adam: weight decay, if any, is added to the
// gradient as L2 regularisation.
func NewAdam(ps []*nn.Param, cfg AdamConfig) (*Adam, error) { return newAdam(ps, cfg, false) }

// NewAdamW is torch.optim.AdamW: weight decay shrinks the weights directly,
// before and independently of the adaptive step.
func NewAdamW(ps []*nn.Param, cfg AdamConfig) (*Adam, error) { return newAdam(ps, cfg, true) }

func newAdam(ps []*nn.Param, cfg AdamConfig, decoupled bool) (*Adam, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("optim: %w", err)
	}
	if err := checkNames(ps); err != nil {
		return nil, fmt.Errorf("optim: %w", err)
	}
	return &Adam{
		cfg:       cfg,
		decoupled: decoupled,
		params:    append([]*nn.Param(nil), ps...),
		state:     make([]adamState, len(ps)),
	}, nil
}

// Config returns the hyper-parameters, with the current learning rate.
func (a *Adam) Config() AdamConfig { return a.cfg }
func (a *Adam) LR() float64        { return a.cfg.LR }
func (a *Adam) SetLR(lr float64)   { a.cfg.LR = lr }
func (a *Adam) StepCount() int     { return a.steps }

// Step applies one Adam(W) update to every trainable parameter with a
// gradient.
func (a *Adam) Step() {
	a.steps++
	for i, p := range a.params {
		if !trainable(p) {
			continue
		}
		s := &a.state[i]
		if s.m == nil {
			s.m = tensor.New(p.Value.Shape...)
			s.v = tensor.New(p.Value.Shape...)
		}
		s.step++
		wd := a.cfg.WeightDecay
		if p.NoDecay {
			wd = 0
		}
		a.update(p.Value.Data, p.Grad.Data, s, wd)
	}
}

// update follows torch/optim/adam.py and adamw.py (_single_tensor_*):
// scalars are Python floats (float64) rounded to float32 where they enter a
// float32 kernel, and each kernel's expression keeps ATen's operand order.
func (a *Adam) update(x, g []float32, s *adamState, wd float64) {
	lr, b1, b2 := a.cfg.LR, a.cfg.Beta1, a.cfg.Beta2
	t := float64(s.step)
	bc1 := 1 - math.Pow(b1, t)
	bc2 := 1 - math.Pow(b2, t)
	negStepSize := float32(-(lr / bc1))
	bc2Sqrt := float32(math.Sqrt(bc2))

	beta1, beta2 := float32(b1), float32(b2)
	oneMinusB1, oneMinusB2 := float32(1-b1), float32(1-b2)
	eps := float32(a.cfg.Eps)
	decay := float32(1 - lr*wd) // AdamW: param.mul_(1 - lr*wd)
	l2 := float32(wd)           // Adam: grad.add(param, alpha=wd)

	// The float32(...) conversions around products are not redundant: Go may
	// fuse a*b+c into one FMA on some CPUs (arm64), and an explicit
	// conversion forbids that, so every platform rounds each product the
	// same way and a run resumed on another machine stays bit-identical.
	//
	// Every value updates on its own, so the values are split over the
	// cores: the step of a 147 k-value weight (3×3×128×128) is otherwise a
	// serial stretch between parallel passes.
	m, v := s.m.Data, s.v.Data
	decoupled := a.decoupled
	tensor.Parallel(len(x), 16*len(x), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			gj := g[j]
			if wd != 0 {
				if decoupled {
					x[j] *= decay
				} else {
					gj += float32(l2 * x[j])
				}
			}
			m[j] = float32(m[j]*beta1) + float32(oneMinusB1*gj)      // exp_avg.mul_(b1).add_(g, alpha=1-b1)
			v[j] = float32(v[j]*beta2) + float32(oneMinusB2*gj*gj)   // exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2)
			denom := float32(math.Sqrt(float64(v[j])))/bc2Sqrt + eps // (exp_avg_sq.sqrt() / sqrt(bc2)).add_(eps)
			x[j] += negStepSize * m[j] / denom                       // addcdiv_(exp_avg, denom, value=-lr/bc1)
		}
	})
}

// State keys: "step" (the optimiser's step count), and for every parameter
// that has taken a step, "exp_avg/NAME", "exp_avg_sq/NAME" and "step/NAME"
// (its own count, which sets its bias correction).
const (
	keyStep     = "step"
	prefM       = "exp_avg/"
	prefV       = "exp_avg_sq/"
	prefCount   = "step/"
	errStateFmt = "optim: Adam state: %w"
)

// State returns the moments (live buffers, see Stateful) and step counts.
func (a *Adam) State() map[string]*tensor.Tensor {
	st := map[string]*tensor.Tensor{keyStep: countTensor(a.steps)}
	for i, p := range a.params {
		s := a.state[i]
		if s.m == nil {
			continue
		}
		st[prefM+p.Name] = s.m
		st[prefV+p.Name] = s.v
		st[prefCount+p.Name] = countTensor(s.step)
	}
	return st
}

// SetState restores a State. Parameters the state does not mention start
// fresh, as they would in PyTorch had they never received a gradient.
func (a *Adam) SetState(st map[string]*tensor.Tensor) error {
	steps, err := countFrom(st[keyStep])
	if err != nil {
		return fmt.Errorf(errStateFmt, fmt.Errorf("%q: %w", keyStep, err))
	}
	index := make(map[string]int, len(a.params))
	for i, p := range a.params {
		index[p.Name] = i
	}
	next := make([]adamState, len(a.params))
	var unknown []string
	for key := range st {
		if key == keyStep {
			continue
		}
		name, ok := paramOfKey(key)
		i, known := index[name]
		if !ok || !known {
			unknown = append(unknown, key)
			continue
		}
		if next[i].m != nil {
			continue // already loaded through one of its other keys
		}
		p := a.params[i]
		m, v, c := st[prefM+name], st[prefV+name], st[prefCount+name]
		if m == nil || v == nil || c == nil {
			return fmt.Errorf(errStateFmt, fmt.Errorf("parameter %q needs all of %s, %s and %s",
				name, prefM+name, prefV+name, prefCount+name))
		}
		for _, t := range []*tensor.Tensor{m, v} {
			if !tensor.SameShape(t.Shape, p.Value.Shape) || len(t.Data) != len(p.Value.Data) {
				return fmt.Errorf(errStateFmt, fmt.Errorf("parameter %q: moment has shape %s, parameter has %s",
					name, tensor.ShapeString(t.Shape), tensor.ShapeString(p.Value.Shape)))
			}
		}
		n, err := countFrom(c)
		if err != nil {
			return fmt.Errorf(errStateFmt, fmt.Errorf("%q: %w", prefCount+name, err))
		}
		next[i] = adamState{step: n, m: m.Clone(), v: v.Clone()}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf(errStateFmt, fmt.Errorf("unexpected entries %s", strings.Join(unknown, ", ")))
	}
	a.steps = steps
	a.state = next
	return nil
}

// paramOfKey splits a per-parameter state key into its parameter name.
func paramOfKey(key string) (string, bool) {
	for _, pre := range []string{prefM, prefV, prefCount} {
		if name, ok := strings.CutPrefix(key, pre); ok {
			return name, true
		}
	}
	return "", false
}
