package restorer_test

import (
	"math"
	"strings"
	"testing"

	"facereward/restorer/restorertest"
)

// Strength 0 gives the base branch, 1 the tuned one, 0.5 the midpoint, and
// models that differ outside the control branch are refused.
func TestBlendControl(t *testing.T) {
	for _, s := range []float64{0, 0.5, 1} {
		base := restorertest.Model(t, 1, 0.1)
		tuned := restorertest.Model(t, 1, 0.1)
		for _, p := range tuned.Control.Params() {
			for i := range p.Value.Data {
				p.Value.Data[i] += 0.25
			}
		}
		if err := tuned.BlendControl(base, s); err != nil {
			t.Fatal(err)
		}
		bp := base.Control.Params()
		for i, p := range tuned.Control.Params() {
			for j, v := range p.Value.Data {
				want := bp[i].Value.Data[j] + float32(s*0.25)
				if math.Abs(float64(v-want)) > 1e-6 {
					t.Fatalf("s=%v %s[%d] = %v, want %v", s, p.Name, j, v, want)
				}
			}
		}
	}
	base, other := restorertest.Model(t, 1, 0.1), restorertest.Model(t, 2, 0.1)
	if err := other.BlendControl(base, 0.5); err == nil || !strings.Contains(err.Error(), "differ in") {
		t.Errorf("blending models with different UNets: %v", err)
	}
}
