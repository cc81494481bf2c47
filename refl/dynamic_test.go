package refl

import (
	"slices"
	"testing"

	"facereward/imgproc"
	"facereward/nn"
	"facereward/reward"
	"facereward/tensor"
)

// One dynamic step moves the FRM towards preferring the ground truth to
// the restoration it was shown (the BT loss on that batch falls), and a
// step with the paper's tiny rate moves it only a little.
func TestUpdaterStep(t *testing.T) {
	m := tinyFRM(t, 8)
	u, err := NewUpdater(m)
	if err != nil {
		t.Fatal(err)
	}
	hq := tensor.New(4, 16, 16, 3)
	rng := nn.NewRNG(9)
	for i := range hq.Data {
		hq.Data[i] = rng.Float32()
	}
	// A restoration that lost detail, which the update learns to score
	// below its ground truth: each face 3×3 box-blurred.
	faces := tensor.Unstack(hq)
	for i, f := range faces {
		faces[i] = imgproc.Filter2D(f, slices.Repeat([]float32{1.0 / 9}, 9), 3, 3)
	}
	x0 := tensor.Stack(faces)
	bt := func() float64 {
		g := nn.NewGraph()
		g.NoGrad = true
		return float64(reward.BTLoss(g, m.Forward(g, nn.Constant(hq)), m.Forward(g, nn.Constant(x0))).Value.Data[0])
	}
	before := bt()
	if got := u.Step(hq, x0); got != before {
		t.Errorf("Step reported BT %g, the loss before it is %g", got, before)
	}
	small := bt()
	if !(small < before) || before-small > 1e-3 {
		t.Errorf("at lr %g the BT loss went %g → %g: want a small fall", DynamicLR, before, small)
	}
	u.Opt.SetLR(1e-2)
	for range 5 {
		u.Step(hq, x0)
	}
	if after := bt(); !(after < small-0.05) {
		t.Errorf("five steps at lr 1e-2 moved the BT loss %g → %g: want a clear fall", small, after)
	}
	for _, p := range m.Params() {
		if p.Grad != nil {
			for _, v := range p.Grad.Data {
				if v != 0 {
					t.Fatalf("%s keeps a gradient after the step", p.Name)
				}
			}
		}
	}
}
