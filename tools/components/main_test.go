package main

import (
	"math"
	"testing"

	"facereward/nn"
	"facereward/tensor"
	"facereward/train"
)

// The match measure is 1 for the same detail whatever the brightness, −1
// for inverted detail, and near 0 for unrelated grain.
func TestLaplacianCorr(t *testing.T) {
	a, b := tensor.New(32, 32, 3), tensor.New(32, 32, 3)
	nn.Normal(a, 0.2, nn.NewRNG(1))
	nn.Normal(b, 0.2, nn.NewRNG(2))
	brighter, inverted := a.Clone(), a.Clone()
	for i := range a.Data {
		brighter.Data[i] += 0.3
		inverted.Data[i] = -a.Data[i]
	}
	for _, c := range []struct {
		name   string
		x      *tensor.Tensor
		lo, hi float64
	}{{"brighter", brighter, 0.9999, 1.0001}, {"inverted", inverted, -1.0001, -0.9999}, {"grain", b, -0.1, 0.1}} {
		if r := laplacianCorr(a, c.x); !(r >= c.lo && r <= c.hi) || math.IsNaN(r) {
			t.Errorf("%s: %v, want in [%v, %v]", c.name, r, c.lo, c.hi)
		}
	}
}

// crop copies the box's pixels, and enlarge repeats each k×k times.
func TestCropEnlarge(t *testing.T) {
	img := tensor.New(8, 8, 3)
	for i := range img.Data {
		img.Data[i] = float32(i)
	}
	c := crop(img, train.Box{Y: 2, X: 3, Side: 2})
	want := []float32{57, 58, 59, 60, 61, 62, 81, 82, 83, 84, 85, 86}
	for i, v := range want {
		if c.Data[i] != v {
			t.Fatalf("crop = %v, want %v", c.Data, want)
		}
	}
	e := enlarge(c, 2)
	if e.Shape[0] != 4 || e.Data[0] != 57 || e.Data[3] != 57 || e.Data[6] != 60 || e.Data[4*3*2] != 81 || e.Data[(3*4+3)*3] != 84 {
		t.Errorf("enlarge = %v", e.Data)
	}
}
