package nn

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"facereward/tensor"
)

func TestWaveletLowpassGrad(t *testing.T) {
	// Radius 4 at the third level is wider than the 7-pixel rows, so taps
	// clamp from beyond both edges at once.
	for _, levels := range []int{1, 3} {
		checkGrads(t, "WaveletLowpass", func(g *Graph, in []*Var) *Var {
			return g.WaveletLowpass(in[0], levels)
		}, randTensor(7, 2, 9, 7, 3))
	}
}

func TestWaveletLowpassConstant(t *testing.T) {
	x := tensor.New(2, 5, 4, 2)
	for i := range x.Data {
		x.Data[i] = 0.7
	}
	out := NewGraph().WaveletLowpass(Constant(x), 3)
	for i, v := range out.Value.Data {
		if math.Abs(float64(v)-0.7) > 1e-6 {
			t.Fatalf("element %d of a constant 0.7 image became %g", i, v)
		}
	}
}

// TestWaveletLowpassByHand checks one level on a 3×3 image against sums
// worked out by hand. Channel 0 is the ramp 3y+x+1, channel 1 a single 16
// in the centre, which shows the centre weight and that channels stay apart.
func TestWaveletLowpassByHand(t *testing.T) {
	x := tensor.New(1, 3, 3, 2)
	for y := range 3 {
		for xx := range 3 {
			x.Data[(y*3+xx)*2] = float32(3*y + xx + 1)
		}
	}
	x.Data[(1*3+1)*2+1] = 16
	out := NewGraph().WaveletLowpass(Constant(x), 1).Value.Data
	at := func(y, xx, c int) float32 { return out[(y*3+xx)*2+c] }
	for _, tc := range []struct {
		what      string
		got, want float32
	}{
		// A symmetric kernel summing to 1 leaves a ramp's interior unchanged.
		{"ramp centre", at(1, 1, 0), 5},
		// Replicate padding folds the out-of-image taps onto row and column
		// 0, which then weigh 3/4 each: (9·1 + 3·2 + 3·4 + 1·5)/16.
		// Zero padding would give 1.3125.
		{"ramp corner", at(0, 0, 0), 2},
		{"spike centre", at(1, 1, 1), 4},
		{"spike corner", at(0, 0, 1), 1},
		{"spike edge", at(0, 1, 1), 2},
	} {
		if math.Abs(float64(tc.got-tc.want)) > 1e-6 {
			t.Errorf("%s: %g, want %g", tc.what, tc.got, tc.want)
		}
	}
}

func TestWaveletLowpassLevels(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("levels 0 did not panic")
		}
	}()
	NewGraph().WaveletLowpass(Constant(tensor.New(1, 2, 2, 1)), 0)
}

type waveletTensor struct {
	Shape []int
	Data  []float32
}

func (w waveletTensor) tensor() *tensor.Tensor {
	return &tensor.Tensor{Shape: w.Shape, Data: w.Data}
}

// TestTorchWaveletLowpass compares forward values and input gradients with
// PyTorch's F.pad(mode="replicate") + dilated grouped F.conv2d
// (tools/torchref/wavelet.py).
func TestTorchWaveletLowpass(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "torchref", "wavelet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Cases []struct {
			Name            string
			Levels          int
			X, W, Low, Grad waveletTensor
		}
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) == 0 {
		t.Fatal("fixture has no cases")
	}
	for _, c := range fx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			x := Input(c.X.tensor())
			g := NewGraph()
			out := g.WaveletLowpass(x, c.Levels)
			assertWithin(t, "low", out.Value, c.Low.tensor(), 1e-5)
			g.Backward(g.Sum(g.Mul(out, Constant(c.W.tensor()))))
			assertWithin(t, "grad", x.Grad, c.Grad.tensor(), 1e-5)
			g.Reset()
		})
	}
}

// assertWithin fails unless got and want agree element-wise to within an
// absolute tol.
func assertWithin(t *testing.T, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if !tensor.SameShape(got.Shape, want.Shape) || len(got.Data) != len(want.Data) {
		t.Fatalf("%s: shape %v (%d values), want %v (%d values)", what, got.Shape, len(got.Data), want.Shape, len(want.Data))
	}
	for i, v := range want.Data {
		if d := math.Abs(float64(got.Data[i] - v)); d > tol {
			t.Fatalf("%s: element %d is %g, PyTorch %g (difference %.2e)", what, i, got.Data[i], v, d)
		}
	}
}
