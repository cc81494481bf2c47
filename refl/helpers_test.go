package refl

import (
	"testing"

	"facereward/nn"
	"facereward/reward"
)

// tinyFRM is a Face Reward Model for 16×16 faces with a few hundred
// parameters, built from seed.
func tinyFRM(t *testing.T, seed uint64) *reward.FRM {
	t.Helper()
	m, err := reward.New(reward.Config{ImageSize: 16, Widths: []int{4, 6, 8}}, nn.NewRNG(seed))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
