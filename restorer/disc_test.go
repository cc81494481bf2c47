package restorer

import (
	"math"
	"slices"
	"strings"
	"testing"

	"facereward/nn"
	"facereward/tensor"
)

func TestDiscriminatorShapeAndCost(t *testing.T) {
	d, err := NewDiscriminator(DefaultDisc(), 128, nn.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph()
	out := d.Forward(g, nn.Constant(tensor.New(2, 128, 128, 3)))
	if want := []int{2, 16, 16, 1}; !tensor.SameShape(out.Shape(), want) {
		t.Fatalf("logits %v, want %v", out.Shape(), want)
	}
	// 64², 32², 16² stride-2 levels and the 16² head, 3×3 each.
	want := 2 * 9 * float64(64*64*3*64+32*32*64*128+16*16*128*256+16*16*256*1)
	if d.FLOPs() != want {
		t.Errorf("FLOPs %v, want %v", d.FLOPs(), want)
	}
	if _, err := NewDiscriminator(DefaultDisc(), 100, nn.NewRNG(1)); err == nil {
		t.Error("a 100×100 face for three stride-2 levels was accepted")
	}
	if _, err := NewDiscriminator(DiscConfig{Widths: []int{8}}, 16, nn.NewRNG(1)); err == nil {
		t.Error("zero power iterations were accepted")
	}
}

// Every field of a discriminator config is bounded before anything is
// allocated, and the error names the field.
func TestDiscConfigBounds(t *testing.T) {
	ok := DefaultDisc()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	with := func(f func(*DiscConfig)) DiscConfig {
		c := DefaultDisc()
		c.Widths = slices.Clone(c.Widths)
		f(&c)
		return c
	}
	for _, tc := range []struct {
		field string
		c     DiscConfig
	}{
		{"len(widths)", with(func(c *DiscConfig) { c.Widths = nil })},
		{"len(widths)", with(func(c *DiscConfig) { c.Widths = make([]int, 64) })}, // 1<<64 levels would divide by zero
		{"widths[1]", with(func(c *DiscConfig) { c.Widths[1] = 100000 })},
		{"widths[0]", with(func(c *DiscConfig) { c.Widths[0] = 0 })},
		{"power_iters", with(func(c *DiscConfig) { c.PowerIters = 0 })},
		{"power_iters", with(func(c *DiscConfig) { c.PowerIters = 1 << 30 })},
		{"high_pass", with(func(c *DiscConfig) { c.HighPass = -1 })},
		{"high_pass", with(func(c *DiscConfig) { c.HighPass, c.HighPassGain = 1000, 1 })},
		{"high_pass_gain", with(func(c *DiscConfig) { c.HighPass = 2 })},
		{"high_pass_gain", with(func(c *DiscConfig) { c.HighPass, c.HighPassGain = 2, math.Inf(1) })},
		{"parameters", with(func(c *DiscConfig) { c.Widths = []int{4096, 4096, 4096} })},
	} {
		err := tc.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: error %v, want one naming %s", tc.c, err, tc.field)
		}
	}
}

// The hinge losses by hand: D wants real logits above 1 and fake ones
// below −1 and pays linearly inside the margin; G wants fake logits high.
func TestHinge(t *testing.T) {
	g := nn.NewGraph()
	real := nn.Constant(tensor.FromSlice([]float32{2, 0.5, -1, 1}, 4))
	fake := nn.Constant(tensor.FromSlice([]float32{-3, 0, 0.5, -1}, 4))
	// real: max(0, 1−r) = 0, 0.5, 2, 0 → 0.625; fake: max(0, 1+f) = 0, 1, 1.5, 0 → 0.625.
	if got := HingeD(g, real, fake, nil).Value.Data[0]; math.Abs(float64(got)-1.25) > 1e-6 {
		t.Errorf("HingeD %v, want 1.25", got)
	}
	if got := HingeG(g, fake, nil).Value.Data[0]; math.Abs(float64(got)-0.875) > 1e-6 {
		t.Errorf("HingeG %v, want 0.875", got)
	}
	// Weights leave faces out: fakes 2 and 3 only (0.5 and −1 → 1.5 and 0).
	w := []float32{0, 0, 1, 1}
	if got := HingeD(g, real, fake, w).Value.Data[0]; math.Abs(float64(got)-(0.625+0.75)) > 1e-6 {
		t.Errorf("weighted HingeD %v, want 1.375", got)
	}
	if got := HingeG(g, fake, w).Value.Data[0]; math.Abs(float64(got)-0.25) > 1e-6 {
		t.Errorf("weighted HingeG %v, want 0.25", got)
	}
}

// With HighPass a flat face and the same face shifted in brightness are
// the same to the discriminator: it sees only the detail bands.
func TestDiscriminatorHighPass(t *testing.T) {
	c := DefaultDisc()
	c.HighPass, c.HighPassGain = 2, 4
	d, err := NewDiscriminator(c, 32, nn.NewRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	rng := nn.NewRNG(3)
	x := tensor.New(1, 32, 32, 3)
	nn.Normal(x, 0.3, rng)
	y := x.Clone()
	for i := range y.Data {
		y.Data[i] += 0.2
	}
	g := nn.NewGraph()
	a, b := d.Forward(g, nn.Constant(x)), d.Forward(g, nn.Constant(y))
	for i := range a.Value.Data {
		if math.Abs(float64(a.Value.Data[i]-b.Value.Data[i])) > 1e-5 {
			t.Fatalf("logit %d: %v and %v for faces that differ only in brightness", i, a.Value.Data[i], b.Value.Data[i])
		}
	}
	c.HighPassGain = 0
	if _, err := NewDiscriminator(c, 32, nn.NewRNG(2)); err == nil {
		t.Error("a high pass without a gain was accepted")
	}
}
