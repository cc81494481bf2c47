package train

import (
	"testing"

	"facereward/nn"
	"facereward/restorer"
	"facereward/tensor"
)

// The component windows sit on facexlib's template, worked by hand for
// 128×128 faces: the eyes at (48.25, 59.99) and (79.73, 60.05), the mouth
// corners' midpoint at (64.29, 92.82), squares of 32 pixels.
func TestComponentBoxes(t *testing.T) {
	got, err := ComponentBoxes(128, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []Box{{Y: 44, X: 32, Side: 32}, {Y: 44, X: 64, Side: 32}, {Y: 77, X: 48, Side: 32}}
	if len(got) != len(want) {
		t.Fatalf("%d boxes, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("box %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// The side is a multiple of the discriminator's 2^levels, the boxes
	// inside the face.
	got, err = ComponentBoxes(40, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range got {
		if b.Side != 8 || b.Y < 0 || b.X < 0 || b.Y+b.Side > 40 || b.X+b.Side > 40 {
			t.Errorf("box %+v on a 40×40 face with 2 levels, want side 8 inside", b)
		}
	}
	if _, err := ComponentBoxes(16, 3); err == nil {
		t.Error("16×16 faces with 3 levels: windows of 4 pixels accepted")
	}
}

// componentOnly is a detail with the component critic alone, on 32×32
// faces (windows of 8 pixels).
func componentOnly(t *testing.T) *detail {
	o := DefaultStage2Options("").Detail
	o.Comp, o.DiscSteps, o.DiscLR = 0.1, 1, 1e-3
	o.CompDisc = restorer.DiscConfig{Widths: []int{8, 16}, PowerIters: 8}
	d, parts, err := newDetail(o, 32, 1, nn.NewGraph())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.critics) != 1 || parts["comp_disc"] == nil || parts["comp_disc_optim"] == nil || parts["disc"] != nil {
		t.Fatalf("%d critics, parts %v: want the component critic alone, checkpointed", len(d.critics), parts)
	}
	return d
}

// The component term's gradient reaches the estimate inside the eyes' and
// mouth's windows and nowhere else.
func TestComponentCriticJudgesItsWindows(t *testing.T) {
	d := componentOnly(t)
	x := tensor.New(2, 32, 32, 3)
	nn.Normal(x, 0.5, nn.NewRNG(3))
	in := nn.Input(x)
	g := nn.NewGraph()
	total, fields := d.generator(g, in, []int{999, 999}, x)
	if _, ok := fields[KeyAdvComp]; !ok {
		t.Fatalf("no %s in %v", KeyAdvComp, fields)
	}
	g.Backward(total)
	boxes, _ := ComponentBoxes(32, 2)
	inside := func(y, x int) int {
		for i, b := range boxes {
			if y >= b.Y && y < b.Y+b.Side && x >= b.X && x < b.X+b.Side {
				return i
			}
		}
		return -1
	}
	reached := make([]bool, len(boxes))
	for n := range 2 {
		for y := range 32 {
			for xx := range 32 {
				for c := range 3 {
					v := in.Grad.Data[((n*32+y)*32+xx)*3+c]
					switch i := inside(y, xx); {
					case i < 0 && v != 0:
						t.Fatalf("gradient %v at (%d, %d), outside every window", v, y, xx)
					case i >= 0 && v != 0:
						reached[i] = true
					}
				}
			}
		}
	}
	for i, r := range reached {
		if !r {
			t.Errorf("no gradient inside window %d %+v", i, boxes[i])
		}
	}
}
