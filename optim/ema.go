package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"facereward/nn"
	"facereward/tensor"
)

// EMA keeps an exponential moving average of parameters ("shadow" weights),
// which usually samples better than the raw weights of a diffusion model:
//
//	shadow -= (1 - d) · (shadow - param)
//
// With warm-up the decay used at update t (counting from 0) is
// min(decay, (1+t)/(10+t)), so the average follows the weights closely at
// first instead of staying near their random initial values for thousands
// of steps.
type EMA struct {
	decay   float64
	warmup  bool
	params  []*nn.Param
	shadow  []*tensor.Tensor // parallel to params
	updates int
}

// NewEMA starts an average of the parameters of ps that are not frozen,
// initialised to their current values. decay must be in [0, 1].
func NewEMA(ps []*nn.Param, decay float64, warmup bool) (*EMA, error) {
	if !(decay >= 0 && decay <= 1) {
		return nil, fmt.Errorf("optim: EMA decay %v must be in [0, 1]", decay)
	}
	if err := checkNames(ps); err != nil {
		return nil, fmt.Errorf("optim: EMA: %w", err)
	}
	e := &EMA{decay: decay, warmup: warmup}
	for _, p := range ps {
		if p.Frozen() {
			continue
		}
		e.params = append(e.params, p)
		e.shadow = append(e.shadow, p.Value.Clone())
	}
	return e, nil
}

// Decay is the factor the next Update will use.
func (e *EMA) Decay() float64 {
	if !e.warmup {
		return e.decay
	}
	t := float64(e.updates)
	return math.Min(e.decay, (1+t)/(10+t))
}

// Updates is the number of Update calls so far.
func (e *EMA) Updates() int { return e.updates }

// Update moves the shadow weights towards the current parameter values; call
// it after each optimiser step.
func (e *EMA) Update() {
	omd := float32(1 - e.Decay())
	for i, p := range e.params {
		s, x := e.shadow[i].Data, p.Value.Data
		for j := range s {
			s[j] -= float32(omd * (s[j] - x[j])) // conversion: no FMA, same bits everywhere
		}
	}
	e.updates++
}

// CopyTo writes the shadow weights into the same-named parameters of dst,
// for example a separate model used for evaluation or export. Every
// averaged parameter must be there with the same shape; others in dst are
// left alone.
func (e *EMA) CopyTo(dst []*nn.Param) error {
	byName := make(map[string]*nn.Param, len(dst))
	for _, p := range dst {
		byName[p.Name] = p
	}
	for i, src := range e.params {
		p := byName[src.Name]
		if p == nil {
			return fmt.Errorf("optim: EMA.CopyTo: no parameter %q", src.Name)
		}
		if !tensor.SameShape(p.Value.Shape, e.shadow[i].Shape) {
			return fmt.Errorf("optim: EMA.CopyTo: parameter %q has shape %s, average has %s",
				src.Name, tensor.ShapeString(p.Value.Shape), tensor.ShapeString(e.shadow[i].Shape))
		}
	}
	for i, src := range e.params {
		copy(byName[src.Name].Value.Data, e.shadow[i].Data)
	}
	return nil
}

// Swap exchanges the shadow weights with the live parameter values, so the
// model can be evaluated with the average and a second Swap restores it.
// Only the data slices move, so the parameters keep their tensors.
func (e *EMA) Swap() {
	for i, p := range e.params {
		p.Value.Data, e.shadow[i].Data = e.shadow[i].Data, p.Value.Data
	}
}

// State keys: "updates" and "shadow/NAME" for every averaged parameter.
const (
	keyUpdates = "updates"
	prefShadow = "shadow/"
)

// State returns the update count and the shadow weights (live buffers, see
// Stateful).
func (e *EMA) State() map[string]*tensor.Tensor {
	st := map[string]*tensor.Tensor{keyUpdates: countTensor(e.updates)}
	for i, p := range e.params {
		st[prefShadow+p.Name] = e.shadow[i]
	}
	return st
}

// SetState restores a State; it must hold a shadow for every averaged
// parameter and nothing else.
func (e *EMA) SetState(st map[string]*tensor.Tensor) error {
	updates, err := countFrom(st[keyUpdates])
	if err != nil {
		return fmt.Errorf("optim: EMA state: %q: %w", keyUpdates, err)
	}
	want := map[string]bool{keyUpdates: true}
	for i, p := range e.params {
		key := prefShadow + p.Name
		want[key] = true
		t := st[key]
		if t == nil {
			return fmt.Errorf("optim: EMA state: missing %q", key)
		}
		if !tensor.SameShape(t.Shape, e.shadow[i].Shape) || len(t.Data) != len(e.shadow[i].Data) {
			return fmt.Errorf("optim: EMA state: %q has shape %s, parameter has %s",
				key, tensor.ShapeString(t.Shape), tensor.ShapeString(e.shadow[i].Shape))
		}
	}
	var extra []string
	for key := range st {
		if !want[key] {
			extra = append(extra, key)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("optim: EMA state: unexpected entries %s", strings.Join(extra, ", "))
	}
	for i, p := range e.params {
		copy(e.shadow[i].Data, st[prefShadow+p.Name].Data)
	}
	e.updates = updates
	return nil
}
