package restorer

import (
	"fmt"
	"math"

	"facereward/models"
	"facereward/nn"
)

// LoadReward loads the restorer spec with the reward's effect scaled by
// strength: its control branch becomes base's + strength·(spec's − base's),
// where base is the restorer spec was ReFL-tuned from (baseSpec; "" for
// the built-in ReFL model's own base). 1 is spec as it is, 0 the base
// control branch, values between a blend of the two (and beyond 1 an
// extrapolation). ReFL trains the control branch only, so the two models
// must share stage 1 and the UNet; a blend of branches that steer
// different UNets would mean nothing.
func LoadReward(spec string, strength float64, baseSpec string) (*Model, error) {
	m, err := Load(spec)
	if err != nil || strength == 1 {
		return m, err
	}
	if math.IsNaN(strength) || math.IsInf(strength, 0) {
		return nil, fmt.Errorf("restorer: reward strength %v", strength)
	}
	if baseSpec == "" {
		if spec != "" && spec != models.BuiltinPrefix+models.ReFL {
			return nil, fmt.Errorf("restorer: a reward strength for %s needs the model it was tuned from (--reward-base)", m.Name)
		}
		baseSpec = models.BuiltinPrefix + models.Base
	}
	base, err := Load(baseSpec)
	if err != nil {
		return nil, err
	}
	if err := m.BlendControl(base, strength); err != nil {
		return nil, err
	}
	return m, nil
}

// BlendControl sets m's control branch to base's + s·(m's − base's),
// after checking that m and base differ in nothing else.
func (m *Model) BlendControl(base *Model, s float64) error {
	if m.Control == nil || base.Control == nil {
		return fmt.Errorf("restorer: blending control branches: %s or %s has none", m.Name, base.Name)
	}
	if m.Stage1 == nil || base.Stage1 == nil {
		return fmt.Errorf("restorer: blending control branches: %s or %s has no stage 1", m.Name, base.Name)
	}
	for _, pair := range [][2][]*nn.Param{{m.Stage1.Params(), base.Stage1.Params()}, {m.UNet.Params(), base.UNet.Params()}} {
		if name, same := sameParams(pair[0], pair[1]); !same {
			return fmt.Errorf("restorer: %s and %s differ in %s: a reward strength blends the control branches of one restorer before and after ReFL", m.Name, base.Name, name)
		}
	}
	mp, bp := m.Control.Params(), base.Control.Params()
	if len(mp) != len(bp) {
		return fmt.Errorf("restorer: %s and %s have control branches of %d and %d tensors", m.Name, base.Name, len(mp), len(bp))
	}
	for i, p := range mp {
		q := bp[i]
		if p.Name != q.Name || len(p.Value.Data) != len(q.Value.Data) {
			return fmt.Errorf("restorer: control tensor %s of %s does not match %s of %s", p.Name, m.Name, q.Name, base.Name)
		}
		for j, v := range p.Value.Data {
			b := float64(q.Value.Data[j])
			p.Value.Data[j] = float32(b + s*(float64(v)-b))
		}
	}
	return nil
}

// sameParams reports whether two parameter lists hold the same names and
// bytes, and the first that differs.
func sameParams(a, b []*nn.Param) (string, bool) {
	if len(a) != len(b) {
		return "their parameter lists", false
	}
	for i := range a {
		if a[i].Name != b[i].Name || len(a[i].Value.Data) != len(b[i].Value.Data) {
			return a[i].Name, false
		}
		for j, v := range a[i].Value.Data {
			if math.Float32bits(v) != math.Float32bits(b[i].Value.Data[j]) {
				return a[i].Name, false
			}
		}
	}
	return "", true
}
