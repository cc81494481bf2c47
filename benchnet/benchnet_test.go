package benchnet

import (
	"math"
	"testing"
)

// The benchmark nets must be real training problems: a few steps lower the
// loss, which stays finite.
func TestNetATrains(t *testing.T) {
	n := NewA(1)
	before := n.Loss()
	for range 5 {
		n.TrainStep()
	}
	after := n.Loss()
	if math.IsNaN(float64(after)) || !(after < before) {
		t.Fatalf("loss went from %g to %g over 5 Adam steps", before, after)
	}
}

func TestNetBTrains(t *testing.T) {
	n := NewB(1)
	before := n.Loss()
	for range 3 {
		n.TrainStep()
	}
	after := n.Loss()
	if math.IsNaN(float64(after)) || !(after < before) {
		t.Fatalf("loss went from %g to %g over 3 AdamW steps", before, after)
	}
}
