package metrics

import (
	"math"
	"sort"
	"testing"

	"facereward/tensor"
)

// TestBRISQUEGolden compares with cv2.quality.QualityBRISQUE_compute on
// faces, their degraded versions and two non-face images.
func TestBRISQUEGolden(t *testing.T) {
	f := loadFixture(t)
	names := make([]string, 0, len(f.BRISQUE))
	for n := range f.BRISQUE {
		names = append(names, n)
	}
	sort.Strings(names)
	var worst float64
	for _, n := range names {
		got, err := BRISQUE(readImage(t, n))
		if err != nil {
			t.Fatal(err)
		}
		want := f.BRISQUE[n]
		d := math.Abs(got - want)
		worst = math.Max(worst, d)
		t.Logf("%-22s %9.4f  OpenCV %9.4f  |Δ| %.4f", n, got, want, d)
		if d > 0.01 {
			t.Errorf("BRISQUE(%s) = %.4f, want %.4f", n, got, want)
		}
	}
	t.Logf("max |ΔBRISQUE| over %d images: %.4f", len(names), worst)
}

func TestBRISQUEErrors(t *testing.T) {
	if _, err := BRISQUE(tensor.New(1, 8, 3)); err == nil {
		t.Error("BRISQUE accepted a 1×8 image")
	}
	if _, err := BRISQUE(tensor.New(8, 8, 1)); err == nil {
		t.Error("BRISQUE accepted a grey tensor")
	}
}

// TestBRISQUEFlat: a flat image has no natural-scene statistics to speak
// of; OpenCV scores it 100 (see rbf32).
func TestBRISQUEFlat(t *testing.T) {
	img := tensor.New(32, 32, 3)
	for i := range img.Data {
		img.Data[i] = 0.5
	}
	s, err := BRISQUE(img)
	if err != nil {
		t.Fatal(err)
	}
	if s != 100 {
		t.Fatalf("BRISQUE of a flat image = %v, want 100 as cv2.quality gives", s)
	}
}
