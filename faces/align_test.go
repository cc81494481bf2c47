package faces

import (
	"math"
	"math/rand/v2"
	"testing"

	"facereward/tensor"
)

func TestUmeyamaRecoversSimilarity(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 200 {
		s := 0.1 + 5*rng.Float64()
		a := (rng.Float64()*2 - 1) * math.Pi
		tx, ty := rng.Float64()*2000-1000, rng.Float64()*2000-1000
		want := Affine{
			{s * math.Cos(a), -s * math.Sin(a), tx},
			{s * math.Sin(a), s * math.Cos(a), ty},
		}
		src := make([][2]float64, 5)
		dst := make([][2]float64, 5)
		for i := range src {
			x, y := rng.Float64()*1000, rng.Float64()*1000
			src[i] = [2]float64{x, y}
			dst[i] = [2]float64{
				want[0][0]*x + want[0][1]*y + want[0][2],
				want[1][0]*x + want[1][1]*y + want[1][2],
			}
		}
		got, err := Umeyama(src, dst)
		if err != nil {
			t.Fatal(err)
		}
		for r := range 2 {
			for c := range 3 {
				if d := math.Abs(got[r][c] - want[r][c]); d > 1e-4*math.Max(1, math.Abs(want[r][c])) {
					t.Fatalf("trial %d: M[%d][%d] = %v, want %v", trial, r, c, got[r][c], want[r][c])
				}
			}
		}
	}
}

func TestUmeyamaNeverReflects(t *testing.T) {
	// A mirrored point set has no similarity; the fit must stay a rotation
	// (positive determinant), as estimateAffinePartial2D's does.
	src := [][2]float64{{0, 0}, {10, 0}, {0, 5}, {3, 7}}
	dst := make([][2]float64, len(src))
	for i, p := range src {
		dst[i] = [2]float64{-p[0], p[1]}
	}
	m, err := Umeyama(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if det := m[0][0]*m[1][1] - m[0][1]*m[1][0]; det < 0 {
		t.Fatalf("determinant %v: the fit reflects", det)
	}
}

func TestUmeyamaDegenerate(t *testing.T) {
	if _, err := Umeyama([][2]float64{{1, 1}, {1, 1}}, [][2]float64{{0, 0}, {2, 2}}); err == nil {
		t.Fatal("coincident source points: want an error")
	}
	if _, err := Umeyama([][2]float64{{1, 1}}, [][2]float64{{0, 0}}); err == nil {
		t.Fatal("one point: want an error")
	}
}

func TestFivePoints(t *testing.T) {
	var l [68][2]float32
	for i := 36; i < 42; i++ {
		l[i] = [2]float32{float32(10 + i - 36), 20} // mean x 12.5
	}
	for i := 42; i < 48; i++ {
		l[i] = [2]float32{30, float32(20 + i - 42)} // mean y 22.5
	}
	l[30] = [2]float32{21, 30}
	l[48] = [2]float32{14, 40}
	l[54] = [2]float32{28, 41}
	want := [5][2]float32{{12.5, 20}, {30, 22.5}, {21, 30}, {14, 40}, {28, 41}}
	if got := FivePoints(l); got != want {
		t.Fatalf("FivePoints = %v, want %v", got, want)
	}
}

func TestAlignMatrixMapsTemplate(t *testing.T) {
	// Points that already are the 512 template, shrunk by 4, align to 128
	// with the identity.
	var pts [5]Point
	for i, p := range Template512 {
		pts[i] = Point{p[0] / 4, p[1] / 4}
	}
	m, err := AlignMatrix(pts, 128)
	if err != nil {
		t.Fatal(err)
	}
	id := Affine{{1, 0, 0}, {0, 1, 0}}
	for r := range 2 {
		for c := range 3 {
			if math.Abs(m[r][c]-id[r][c]) > 1e-5 {
				t.Fatalf("M = %v, want identity", m)
			}
		}
	}
}

// smooth is an image whose bilinear resampling error is small, so round
// trips measure the warp, not aliasing.
func smooth(h, w int) *tensor.Tensor {
	img := tensor.New(h, w, 3)
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			i := (y*w + x) * 3
			img.Data[i] = float32(0.5 + 0.4*math.Sin(6*fx+2*fy))
			img.Data[i+1] = float32(0.5 + 0.4*math.Cos(5*fy-3*fx))
			img.Data[i+2] = float32(fx*0.6 + fy*0.3)
		}
	}
	return img
}

func TestWarpIdentityIsExact(t *testing.T) {
	img := smooth(17, 23)
	out, err := Warp(img, Affine{{1, 0, 0}, {0, 1, 0}}, 17, 23, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range img.Data {
		if out.Data[i] != img.Data[i] {
			t.Fatalf("value %d: %v != %v", i, out.Data[i], img.Data[i])
		}
	}
}

func TestWarpRoundTrip(t *testing.T) {
	const n = 128
	img := smooth(n, n)
	// Rotate by 17°, scale by 1.6 about the centre into a 200 crop, then back.
	a, s := 17*math.Pi/180, 1.6
	c, si := s*math.Cos(a), s*math.Sin(a)
	m := Affine{{c, -si, 100 - (c*64 - si*64)}, {si, c, 100 - (si*64 + c*64)}}
	crop, err := Warp(img, m, 200, 200, Border[:])
	if err != nil {
		t.Fatal(err)
	}
	inv, err := m.Invert()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Warp(crop, inv, n, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Only pixels whose forward image lies well inside the crop survive.
	var sum, worst float64
	var cnt int
	for y := range n {
		for x := range n {
			// Keep pixels away from both images' edges, where the
			// border fill enters the bilinear taps.
			p := m.Apply(Point{float32(x), float32(y)})
			if x < 2 || y < 2 || x > n-3 || y > n-3 || p[0] < 2 || p[1] < 2 || p[0] > 197 || p[1] > 197 {
				continue
			}
			for ch := range 3 {
				i := (y*n+x)*3 + ch
				d := math.Abs(float64(back.Data[i] - img.Data[i]))
				sum += d
				worst = math.Max(worst, d)
				cnt++
			}
		}
	}
	if cnt < n*n/2 {
		t.Fatalf("only %d interior values compared", cnt)
	}
	mean := sum / float64(cnt)
	t.Logf("round trip over %d values: mean abs %.2e, max %.2e", cnt, mean, worst)
	if mean > 2e-4 || worst > 1e-3 {
		t.Fatalf("round trip error mean %.2e max %.2e", mean, worst)
	}
}

func TestWarpOutsideIsBorder(t *testing.T) {
	img := smooth(8, 8)
	// Shift the image far away: the whole output is the fill.
	out, err := Warp(img, Affine{{1, 0, 1e9}, {0, 1, -1e9}}, 4, 4, Border[:])
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out.Data {
		if v != Border[i%3] {
			t.Fatalf("value %d = %v, want border %v", i, v, Border[i%3])
		}
	}
	if _, err := Warp(img, Affine{}, 4, 4, nil); err == nil {
		t.Fatal("singular matrix: want an error")
	}
	if _, err := Warp(img, Affine{{1, 0, 0}, {0, 1, 0}}, 4, 4, []float32{0}); err == nil {
		t.Fatal("short border: want an error")
	}
}

func TestAlignFaceCutByBorder(t *testing.T) {
	// Five points hanging off the top-left corner: the crop is padded with
	// the border colour instead of failing.
	img := smooth(64, 64)
	var pts [5]Point
	for i, p := range Template512 {
		pts[i] = Point{p[0]/8 - 40, p[1]/8 - 40}
	}
	crop, m, err := Align(img, pts, 96)
	if err != nil {
		t.Fatal(err)
	}
	if crop.Shape[0] != 96 || crop.Shape[1] != 96 {
		t.Fatalf("crop shape %v", crop.Shape)
	}
	if m.Scale() < 1 {
		t.Fatalf("scale %v, want an enlargement", m.Scale())
	}
	if crop.Data[0] != Border[0] {
		t.Fatalf("top-left of the crop is %v, want the border fill", crop.Data[0])
	}
}
