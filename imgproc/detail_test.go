package imgproc

import (
	"math"
	"testing"

	"facereward/tensor"
)

func grey(h, w int, v func(y, x int) float32) *tensor.Tensor {
	t := tensor.New(h, w, 3)
	for y := range h {
		for x := range w {
			for c := range 3 {
				t.Data[(y*w+x)*3+c] = v(y, x)
			}
		}
	}
	return t
}

func TestHFEnergyByHand(t *testing.T) {
	// A grey checkerboard of 0 and 1: every inner Laplacian is ±4.
	board := grey(8, 8, func(y, x int) float32 { return float32((x + y) % 2) })
	if e := HFEnergy(board, 0, 0, 8); math.Abs(e-16) > 1e-9 {
		t.Errorf("checkerboard: %g, want 16", e)
	}
	// A linear ramp has no second derivative.
	ramp := grey(8, 8, func(y, x int) float32 { return 0.1*float32(x) + 0.05*float32(y) })
	if e := HFEnergy(ramp, 0, 0, 8); e > 1e-12 {
		t.Errorf("ramp: %g, want 0", e)
	}
	// One bright red pixel in a 3×3 image: only the centre has four
	// neighbours, and its luma is 0.299.
	dot := tensor.New(3, 3, 3)
	dot.Data[(1*3+1)*3] = 1
	if e, want := HFEnergy(dot, 0, 0, 3), 16*0.299*0.299; math.Abs(e-want) > 1e-12 {
		t.Errorf("red dot: %g, want %g", e, want)
	}
	// The Laplacian itself: the inner 6×6 of the board, row by row, +4 on
	// the ones and −4 on the zeros.
	l := Laplacian(board, 0, 0, 8)
	near := func(v, want float64) bool { return math.Abs(v-want) < 1e-9 }
	if len(l) != 36 || !near(l[0], -4) || !near(l[1], 4) || !near(l[6], 4) {
		t.Errorf("checkerboard Laplacian %v, want 36 values alternating from -4", l)
	}
	// The box is clipped to the image: a box beyond it sees the same pixels.
	if a, b := HFEnergy(board, -4, -4, 20), HFEnergy(board, 0, 0, 8); a != b {
		t.Errorf("clipped box %g, whole image %g", a, b)
	}
}

func TestCentralHFEnergyIgnoresTheBorder(t *testing.T) {
	// Detail only in the outer fifth of a 20×20 face (rows and columns
	// 0–3 and 16–19; the box is 4–15, whose neighbours reach 3 and 16):
	// keep rows 0–2 and 17–19 busy, the box sees nothing.
	face := grey(20, 20, func(y, x int) float32 {
		if y < 3 || y > 16 {
			return float32((x + y) % 2)
		}
		return 0.5
	})
	if e := CentralHFEnergy(face); e > 1e-20 {
		t.Errorf("border detail: central energy %g, want 0", e)
	}
	face.Data[(10*20+10)*3+1] = 1 // one green pixel inside
	if e, want := CentralHFEnergy(face), 0.587*0.587*(16+4)*0.25/144; math.Abs(e-want) > 1e-12 {
		t.Errorf("one green pixel: central energy %g, want %g", e, want)
	}
}
