package imgproc

import (
	"math"
	"math/rand"
	"testing"

	"facereward/tensor"
)

func randImage(r *rand.Rand, h, w, c int) *tensor.Tensor {
	t := tensor.New(h, w, c)
	for i := range t.Data {
		t.Data[i] = r.Float32()
	}
	return t
}

func TestFilter2DIdentityKernel(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, ks := range [][2]int{{1, 1}, {3, 3}, {5, 3}, {11, 11}} {
		src := randImage(r, 9, 7, 3)
		k := make([]float32, ks[0]*ks[1])
		k[len(k)/2] = 1 // centre tap
		got := Filter2D(src, k, ks[0], ks[1])
		if d := maxDiff(t, "identity", got, src); d != 0 {
			t.Errorf("identity kernel %dx%d: max diff %g, want 0", ks[0], ks[1], d)
		}
	}
}

// TestFilter2DReflect101ByHand uses single-tap 3×3 kernels, which shift the
// image by one pixel, so the output shows exactly which border pixels
// BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba) picks.
func TestFilter2DReflect101ByHand(t *testing.T) {
	src := tensor.New(4, 4, 1)
	for i := range src.Data {
		src.Data[i] = float32(i) // value 4y+x
	}
	cases := []struct {
		tap  int // index of the single 1 in the 3×3 kernel
		want []float32
	}{
		{0, []float32{ // out(y,x) = in(y-1, x-1); row/col -1 reflects to 1
			5, 4, 5, 6,
			1, 0, 1, 2,
			5, 4, 5, 6,
			9, 8, 9, 10,
		}},
		{8, []float32{ // out(y,x) = in(y+1, x+1); row/col 4 reflects to 2
			5, 6, 7, 6,
			9, 10, 11, 10,
			13, 14, 15, 14,
			9, 10, 11, 10,
		}},
	}
	for _, tc := range cases {
		k := make([]float32, 9)
		k[tc.tap] = 1
		got := Filter2D(src, k, 3, 3)
		want := tensor.FromSlice(tc.want, 4, 4, 1)
		if d := maxDiff(t, "reflect101", got, want); d != 0 {
			t.Errorf("tap %d: got %v, want %v", tc.tap, got.Data, tc.want)
		}
	}

	// Channels are filtered independently: a 2-channel image whose second
	// channel is the first plus 100 must come out the same way.
	two := tensor.New(4, 4, 2)
	for i, v := range src.Data {
		two.Data[2*i], two.Data[2*i+1] = v, v+100
	}
	k := make([]float32, 9)
	k[0] = 1
	got := Filter2D(two, k, 3, 3)
	for i, w := range cases[0].want {
		if got.Data[2*i] != w || got.Data[2*i+1] != w+100 {
			t.Fatalf("2 channels, pixel %d: got (%v, %v), want (%v, %v)", i, got.Data[2*i], got.Data[2*i+1], w, w+100)
		}
	}
}

func TestReflect101(t *testing.T) {
	// n = 4: ... 2 1 | 0 1 2 3 | 2 1 0 1 2 ... (a long kernel reflects repeatedly)
	want := map[int]int{-3: 3, -2: 2, -1: 1, 0: 0, 3: 3, 4: 2, 5: 1, 6: 0, 7: 1, 10: 2}
	for p, w := range want {
		if got := reflect101(p, 4); got != w {
			t.Errorf("reflect101(%d, 4) = %d, want %d", p, got, w)
		}
	}
	if got := reflect101(-5, 1); got != 0 {
		t.Errorf("reflect101(-5, 1) = %d, want 0", got)
	}
}

// naiveFilter2D is the textbook definition, for checking the fast path's
// tiling, tails and zero-tap skipping on awkward sizes.
func naiveFilter2D(src *tensor.Tensor, k []float32, kh, kw int) *tensor.Tensor {
	h, w, c := src.Shape[0], src.Shape[1], src.Shape[2]
	out := tensor.New(h, w, c)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for ch := 0; ch < c; ch++ {
				var s float64
				for i := 0; i < kh; i++ {
					for j := 0; j < kw; j++ {
						sy, sx := reflect101(y+i-kh/2, h), reflect101(x+j-kw/2, w)
						s += float64(k[i*kw+j]) * float64(src.Data[(sy*w+sx)*c+ch])
					}
				}
				out.Data[(y*w+x)*c+ch] = float32(s)
			}
		}
	}
	return out
}

func TestFilter2DMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, tc := range []struct{ h, w, c, kh, kw int }{
		{1, 1, 1, 3, 3}, {1, 5, 3, 1, 7}, {2, 2, 1, 5, 5}, {3, 7, 3, 7, 9}, {13, 11, 3, 11, 11}, {6, 9, 2, 3, 1},
	} {
		src := randImage(r, tc.h, tc.w, tc.c)
		k := make([]float32, tc.kh*tc.kw)
		for i := range k {
			if r.Intn(4) > 0 { // leave some taps zero to exercise the skipping
				k[i] = r.Float32() - 0.3
			}
		}
		d := maxDiff(t, "naive", Filter2D(src, k, tc.kh, tc.kw), naiveFilter2D(src, k, tc.kh, tc.kw))
		if d > 1e-5 {
			t.Errorf("%+v: max diff %g from the naive filter", tc, d)
		}
	}
}

func TestFilter2DInPlace(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	src := randImage(r, 10, 12, 3)
	k := []float32{0.1, 0.2, 0.1, 0.2, 0.4, 0.2, 0.1, 0.2, 0.1}
	want := Filter2D(src, k, 3, 3)
	var s Scratch
	s.Filter2DInto(src, src, k, 3, 3)
	if d := maxDiff(t, "in place", src, want); d != 0 {
		t.Errorf("in-place filter differs by %g", d)
	}
}

func TestResizeSameSizeIsIdentity(t *testing.T) {
	src := randImage(rand.New(rand.NewSource(4)), 17, 23, 3)
	for _, interp := range []Interp{Linear, Cubic, Area} {
		if d := maxDiff(t, "same size", Resize(src, 17, 23, interp), src); d != 0 {
			t.Errorf("%v: same-size resize differs by %g", interp, d)
		}
	}
}

func TestResizeConstantStaysConstant(t *testing.T) {
	const v = 0.3764706
	sizes := [][2]int{{1, 1}, {7, 5}, {32, 32}, {43, 43}, {64, 17}, {90, 90}, {128, 256}, {448, 448}, {3, 300}}
	for _, c := range []int{1, 3} {
		src := tensor.New(128, 128, c)
		for i := range src.Data {
			src.Data[i] = v
		}
		for _, interp := range []Interp{Linear, Cubic, Area} {
			for _, sz := range sizes {
				got := Resize(src, sz[0], sz[1], interp)
				for _, x := range got.Data {
					// Weights sum to 1 only up to float32 rounding, and a float32
					// box sum over a huge block (128×128 → 1×1) drifts further,
					// in OpenCV as here.
					tol := 1e-6
					if sz[0]*sz[1] < 16 {
						tol = 3e-5
					}
					if math.Abs(float64(x)-v) > tol {
						t.Fatalf("%v to %v, %d channels: value %v, want %v", interp, sz, c, x, v)
					}
				}
			}
		}
	}
}

// TestResizeAreaIntegerIsBoxMean checks the INTER_AREA integer path against
// its meaning: each output is the mean of its block.
func TestResizeAreaIntegerIsBoxMean(t *testing.T) {
	src := randImage(rand.New(rand.NewSource(5)), 12, 18, 3)
	got := Resize(src, 4, 6, Area) // 3×3 blocks
	for y := 0; y < 4; y++ {
		for x := 0; x < 6; x++ {
			for ch := 0; ch < 3; ch++ {
				var s float64
				for i := 0; i < 3; i++ {
					for j := 0; j < 3; j++ {
						s += float64(src.Data[((3*y+i)*18+3*x+j)*3+ch])
					}
				}
				if d := math.Abs(float64(got.Data[(y*6+x)*3+ch]) - s/9); d > 1e-6 {
					t.Fatalf("(%d,%d,%d): %v, want %v", y, x, ch, got.Data[(y*6+x)*3+ch], s/9)
				}
			}
		}
	}
}

func TestScratchReuseAllocatesNothing(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	src := randImage(r, 128, 128, 3)
	k := make([]float32, 121)
	for i := range k {
		k[i] = r.Float32()
	}
	filtered := tensor.New(128, 128, 3)
	small := tensor.New(45, 45, 3)
	var s Scratch
	for _, interp := range []Interp{Linear, Cubic, Area} {
		run := func() {
			s.Filter2DInto(filtered, src, k, 11, 11)
			s.ResizeInto(small, filtered, interp)
			s.ResizeInto(filtered, small, interp)
		}
		run()
		want := filtered.Clone()
		if n := testing.AllocsPerRun(5, run); n != 0 {
			t.Errorf("%v: %v allocations per run with a warm Scratch", interp, n)
		}
		if d := maxDiff(t, "reuse", filtered, want); d != 0 {
			t.Errorf("%v: result changed on reuse by %g", interp, d)
		}
	}
}

func TestPanicsNameTheFunction(t *testing.T) {
	src := tensor.New(4, 4, 3)
	for name, f := range map[string]func(){
		"even kernel":  func() { Filter2D(src, make([]float32, 4), 2, 2) },
		"short kernel": func() { Filter2D(src, make([]float32, 8), 3, 3) },
		"2-D image":    func() { Filter2D(tensor.New(4, 4), make([]float32, 9), 3, 3) },
		"bad interp":   func() { Resize(src, 2, 2, Interp(7)) },
		"zero size":    func() { Resize(src, 0, 2, Linear) },
		"channels":     func() { new(Scratch).ResizeInto(tensor.New(2, 2, 1), src, Linear) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if len(msg) < 8 || msg[:8] != "imgproc." {
					t.Errorf("%s: panic %q, want one naming imgproc.<func>", name, msg)
				}
			}()
			f()
		}()
	}
}

func BenchmarkFilter2D(b *testing.B) {
	r := rand.New(rand.NewSource(7))
	src := randImage(r, 128, 128, 3)
	dst := tensor.New(128, 128, 3)
	k := make([]float32, 11*11)
	for i := range k {
		k[i] = r.Float32() / 121
	}
	var s Scratch
	b.ReportAllocs()
	for b.Loop() {
		s.Filter2DInto(dst, src, k, 11, 11)
	}
}

// BenchmarkResize is one down-and-up round trip, 128→32→128, bilinear.
func BenchmarkResize(b *testing.B) {
	src := randImage(rand.New(rand.NewSource(8)), 128, 128, 3)
	small, back := tensor.New(32, 32, 3), tensor.New(128, 128, 3)
	var s Scratch
	b.ReportAllocs()
	for b.Loop() {
		s.ResizeInto(small, src, Linear)
		s.ResizeInto(back, small, Linear)
	}
}
