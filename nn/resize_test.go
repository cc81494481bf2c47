package nn

import (
	"math"
	"testing"

	"facereward/tensor"
)

// resizeRef is tfjs's alignCorners=false bilinear resize written out per
// pixel in float64, as facenet's resizeBilinear does it.
func resizeRef(x *tensor.Tensor, oh, ow int) *tensor.Tensor {
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	src := func(size, out, d int) (lo, hi int, frac float64) {
		f := float64(size) / float64(out) * float64(d)
		lo = int(math.Floor(f))
		return lo, min(size-1, int(math.Ceil(f))), f - float64(lo)
	}
	out := tensor.New(n, oh, ow, c)
	for b := range n {
		px := func(y, xx, ch int) float64 { return float64(x.Data[((b*h+y)*w+xx)*c+ch]) }
		for r := range oh {
			y0, y1, fy := src(h, oh, r)
			for col := range ow {
				x0, x1, fx := src(w, ow, col)
				for ch := range c {
					top := px(y0, x0, ch) + (px(y0, x1, ch)-px(y0, x0, ch))*fx
					bot := px(y1, x0, ch) + (px(y1, x1, ch)-px(y1, x0, ch))*fx
					out.Data[((b*oh+r)*ow+col)*c+ch] = float32(top + (bot-top)*fy)
				}
			}
		}
	}
	return out
}

func TestResizeBilinear(t *testing.T) {
	for _, tc := range []struct {
		in     []int
		oh, ow int
	}{
		{[]int{2, 88, 88, 3}, 150, 150}, // the face crop for the recogniser
		{[]int{1, 7, 10, 2}, 13, 4},     // up one axis, down the other
		{[]int{1, 4, 4, 1}, 4, 4},       // identity
	} {
		x := randTensor(11, tc.in...)
		got := NewGraph().ResizeBilinear(Constant(x), tc.oh, tc.ow).Value
		want := resizeRef(x, tc.oh, tc.ow)
		for i, v := range want.Data {
			if d := math.Abs(float64(got.Data[i] - v)); d > 1e-6 || math.IsNaN(float64(got.Data[i])) {
				t.Fatalf("%v → %d×%d: element %d is %g, reference %g", tc.in, tc.oh, tc.ow, i, got.Data[i], v)
			}
		}
	}
}

// TestResizeBilinearSamples pins the sampling grid: 2 → 4 pixels samples the
// source at 0, 0.5, 1 and 1.5, the last clamped to the edge pixel; half-pixel
// centres (OpenCV, torch) would give 10, 12.5, 17.5, 20.
func TestResizeBilinearSamples(t *testing.T) {
	x := tensor.FromSlice([]float32{10, 20}, 1, 1, 2, 1)
	got := NewGraph().ResizeBilinear(Constant(x), 1, 4).Value.Data
	for i, want := range []float32{10, 15, 20, 20} {
		if got[i] != want {
			t.Fatalf("1×2 → 1×4 gave %v, want [10 15 20 20]", got)
		}
	}
}

func TestCrop(t *testing.T) {
	x := randTensor(12, 2, 6, 7, 3)
	got := NewGraph().Crop(Constant(x), 1, 2, 4, 3).Value
	if !tensor.SameShape(got.Shape, []int{2, 4, 3, 3}) {
		t.Fatalf("shape %v", got.Shape)
	}
	for b := range 2 {
		for y := range 4 {
			for xx := range 3 {
				for c := range 3 {
					if g, w := got.Data[((b*4+y)*3+xx)*3+c], x.Data[((b*6+y+1)*7+xx+2)*3+c]; g != w {
						t.Fatalf("pixel (%d,%d,%d,%d) is %g, want %g", b, y, xx, c, g, w)
					}
				}
			}
		}
	}
	for _, bad := range [][4]int{{-1, 0, 2, 2}, {0, 0, 7, 2}, {0, 5, 2, 3}, {0, 0, 0, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Crop%v of %v did not panic", bad, x.Shape)
				}
			}()
			NewGraph().Crop(Constant(x), bad[0], bad[1], bad[2], bad[3])
		}()
	}
}

func TestGradResizeCrop(t *testing.T) {
	checkGrads(t, "ResizeBilinear/up", func(g *Graph, in []*Var) *Var { return g.ResizeBilinear(in[0], 9, 4) },
		randTensor(13, 1, 5, 7, 2))
	checkGrads(t, "ResizeBilinear/down", func(g *Graph, in []*Var) *Var { return g.ResizeBilinear(in[0], 3, 11) },
		randTensor(14, 2, 8, 6, 2))
	checkGrads(t, "Crop", func(g *Graph, in []*Var) *Var { return g.Crop(in[0], 1, 2, 3, 4) },
		randTensor(15, 2, 5, 7, 2))
}
