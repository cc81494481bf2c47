package metrics

import (
	"math"
	"testing"
)

func TestIDS(t *testing.T) {
	for _, c := range []struct {
		a, b     []float32
		cos, deg float64
	}{
		{[]float32{1, 0}, []float32{2, 0}, 1, 0},
		{[]float32{1, 0}, []float32{0, 3}, 0, 90},
		{[]float32{1, 0}, []float32{1, 1}, math.Sqrt2 / 2, 45},
		{[]float32{1, 2, 3}, []float32{-1, -2, -3}, -1, 180},
		// (1,1,0)·(0,1,1) = 1, norms √2·√2: cos ½, 60°.
		{[]float32{1, 1, 0}, []float32{0, 1, 1}, 0.5, 60},
	} {
		cos, deg, err := IDS(c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(cos-c.cos) > 1e-12 || math.Abs(deg-c.deg) > 1e-6 {
			t.Errorf("IDS(%v, %v) = %v, %v°; want %v, %v°", c.a, c.b, cos, deg, c.cos, c.deg)
		}
	}
	if _, _, err := IDS([]float32{1}, []float32{1, 2}); err == nil {
		t.Error("IDS accepted descriptors of different lengths")
	}
	if _, _, err := IDS([]float32{0, 0}, []float32{1, 2}); err == nil {
		t.Error("IDS accepted a zero descriptor")
	}
}

func TestLMD(t *testing.T) {
	gt := make([]Point, 68)
	for i := range gt {
		gt[i] = Point{float64(i), float64(2 * i)}
	}
	// Eye contours: the left one centred on (40, 50), the right on (70, 90),
	// 50 px apart (a 30-40-50 triangle).
	// Offsets of ±1 alternate, so each contour's mean is its centre.
	for i := 36; i <= 41; i++ {
		d := float64(2*(i%2) - 1)
		gt[i] = Point{40 + d, 50 - d}
	}
	for i := 42; i <= 47; i++ {
		d := float64(2*(i%2) - 1)
		gt[i] = Point{70 - d, 90 + d}
	}
	pred := make([]Point, 68)
	copy(pred, gt)
	// Move 17 points by a 3-4-5 step: total 85 px over 68 points.
	for i := 0; i < 68; i += 4 {
		pred[i].X += 3
		pred[i].Y -= 4
	}
	px, norm, err := LMD(pred, gt)
	if err != nil {
		t.Fatal(err)
	}
	if want := 85.0 / 68; math.Abs(px-want) > 1e-12 || math.Abs(norm-want/50) > 1e-12 {
		t.Fatalf("LMD = %v, %v; want %v, %v", px, norm, want, want/50)
	}
	if _, _, err := LMD(pred[:5], gt[:5]); err == nil {
		t.Error("LMD accepted 5 landmarks")
	}
}
