package reward

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"facereward/checkpoint"
	"facereward/imgproc"
	"facereward/nn"
	"facereward/optim"
	"facereward/safetensors"
	"facereward/tensor"
)

func tiny(t *testing.T, seed uint64) *FRM {
	t.Helper()
	m, err := New(Config{ImageSize: 16, Widths: []int{4, 6, 8}}, nn.NewRNG(seed))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func uniformImages(seed uint64, n, s int) *tensor.Tensor {
	x := tensor.New(n, s, s, 3)
	rng := nn.NewRNG(seed)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	return x
}

// fdCheck compares an analytic gradient with central differences of f
// along directions v in which every pixel moves: ⟨∇f, v⟩ against
// (f(x+εv) − f(x−εv))/2ε. A single pixel moves a float32 score by less
// than its rounding; a whole image does not. The first direction is the
// analytic gradient itself (the largest change for the step, so the
// tightest check: 1%); the others are random unit-normal directions, whose
// projections (about ‖∇f‖) must agree to within 10% of ‖∇f‖: the float32
// loss's rounding is a few per cent of such a small change, and a wrong
// gradient misses by about ‖∇f‖. ε is small because every leaky
// ReLU a step crosses bends the difference quotient.
func fdCheck(t *testing.T, name string, x *tensor.Tensor, analytic []float32, f func() float64) {
	t.Helper()
	const eps = 1e-3
	orig := x.Clone()
	var norm float64
	for _, a := range analytic {
		norm += float64(a) * float64(a)
	}
	if norm == 0 {
		t.Fatalf("%s: the analytic gradient is zero", name)
	}
	for d := range 4 {
		v, tol := tensor.New(x.Shape...), 0.1*math.Sqrt(norm)
		if d == 0 { // the gradient, scaled to a root-mean-square of 1 per pixel
			s := math.Sqrt(float64(len(analytic)) / norm)
			for j, a := range analytic {
				v.Data[j] = float32(float64(a) * s)
			}
			tol = 0.01 * math.Sqrt(norm*float64(len(analytic)))
		} else {
			nn.Normal(v, 1, nn.NewRNG(50+uint64(d)))
		}
		var want float64
		for j, vj := range v.Data {
			want += float64(analytic[j]) * float64(vj)
		}
		step := func(s float32) float64 {
			for j := range x.Data {
				x.Data[j] = orig.Data[j] + s*v.Data[j]
			}
			return f()
		}
		got := (step(eps) - step(-eps)) / (2 * eps)
		copy(x.Data, orig.Data)
		if math.Abs(got-want) > tol {
			t.Errorf("%s, direction %d: analytic %.6g, finite differences %.6g", name, d, want, got)
		}
	}
}

// The FRM's gradient with respect to its input image, which ReFL follows,
// agrees with finite differences: for a weighted sum of scores and for the
// BT loss (both images of the pair).
func TestInputGradient(t *testing.T) {
	m := tiny(t, 1)
	win, lose := uniformImages(2, 2, 16), uniformImages(3, 2, 16)
	eval := func(loss func(g *nn.Graph, sw, sl *nn.Var) *nn.Var) float64 {
		g := nn.NewGraph()
		g.NoGrad = true
		return float64(loss(g, m.Forward(g, nn.Constant(win)), m.Forward(g, nn.Constant(lose))).Value.Data[0])
	}
	for name, loss := range map[string]func(g *nn.Graph, sw, sl *nn.Var) *nn.Var{
		"scores": func(g *nn.Graph, sw, sl *nn.Var) *nn.Var {
			w := tensor.FromSlice([]float32{0.7, -1.3}, 2, 1)
			return g.Sum(g.Add(g.Mul(sw, nn.Constant(w)), g.Scale(sl, 0.4)))
		},
		"bt": BTLoss,
		"center": func(g *nn.Graph, sw, sl *nn.Var) *nn.Var {
			return g.Add(BTLoss(g, sw, sl), g.Scale(CenterLoss(g, sw, sl), 0.1))
		},
	} {
		vw, vl := nn.Input(win), nn.Input(lose)
		g := nn.NewGraph()
		g.Backward(loss(g, m.Forward(g, vw), m.Forward(g, vl)))
		f := func() float64 { return eval(loss) }
		fdCheck(t, name+"/win", win, vw.Grad.Data, f)
		fdCheck(t, name+"/lose", lose, vl.Grad.Data, f)
	}
}

// BT loss values by hand: log(1+e^-d) for a margin d, finite for huge ones.
func TestBTLossValues(t *testing.T) {
	for _, c := range []struct{ win, lose, want float64 }{
		{2, 0, math.Log1p(math.Exp(-2))},
		{0, 2, 2 + math.Log1p(math.Exp(-2))},
		{1, 1, math.Ln2},
		{100, 0, 0},
		{0, 100, 100},
	} {
		g := nn.NewGraph()
		w := nn.Constant(tensor.FromSlice([]float32{float32(c.win)}, 1, 1))
		l := nn.Constant(tensor.FromSlice([]float32{float32(c.lose)}, 1, 1))
		got := float64(BTLoss(g, w, l).Value.Data[0])
		if math.Abs(got-c.want) > 1e-5*(1+c.want) {
			t.Errorf("BT(%g, %g) = %g, want %g", c.win, c.lose, got, c.want)
		}
	}
	g := nn.NewGraph()
	w := nn.Constant(tensor.FromSlice([]float32{1, -3}, 2, 1))
	l := nn.Constant(tensor.FromSlice([]float32{2, 0}, 2, 1))
	if got := CenterLoss(g, w, l).Value.Data[0]; math.Abs(float64(got)-(10.0/2+4.0/2)/2) > 1e-6 {
		t.Errorf("CenterLoss = %g, want (mean(1, 9) + mean(4, 0))/2 = 3.5", got)
	}
}

// A saved FRM loads back to the same scores; a file without the FRM's
// config is refused with its name.
func TestSaveLoad(t *testing.T) {
	m := tiny(t, 4)
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir) // a run folder means its model.safetensors
	if err != nil {
		t.Fatal(err)
	}
	x := uniformImages(5, 3, 16)
	a, b := m.Score(x, 2), back.Score(x, 2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("score %d: %g before saving, %g after", i, a[i], b[i])
		}
	}
	if err := back.Save(path); err != nil {
		t.Fatal(err)
	}
	// Score in batches equals one batch.
	if c := m.Score(x, 3); c[2] != a[2] {
		t.Errorf("batching changed a score: %g vs %g", c[2], a[2])
	}
	other := filepath.Join(dir, "other.safetensors")
	if err := checkpoint.Save(other, []*nn.Param{nn.NewParam("x", tensor.New(2), false)}, nil, nil, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(other); err == nil || !strings.Contains(err.Error(), "other.safetensors") {
		t.Errorf("loading a non-FRM file: %v", err)
	}
}

// Trained with the BT loss on "sharp beats blurred" pairs, a small FRM
// ranks held-out pairs of new images the same way: the loss, the gradient
// and the update together learn a preference.
func TestLearnsAPreference(t *testing.T) {
	m, err := New(Config{ImageSize: 16, Widths: []int{8, 8, 16}}, nn.NewRNG(6))
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.NewAdamW(m.Params(), optim.DefaultAdam(3e-3))
	if err != nil {
		t.Fatal(err)
	}
	// pair is n random images and each one 3×3 box-blurred.
	pair := func(seed uint64, n int) (sharp, blurred *tensor.Tensor) {
		sharp = uniformImages(seed, n, 16)
		imgs := tensor.Unstack(sharp)
		for i, img := range imgs {
			imgs[i] = imgproc.Filter2D(img, slices.Repeat([]float32{1.0 / 9}, 9), 3, 3)
		}
		return sharp, tensor.Stack(imgs)
	}
	for step := range 60 {
		sharp, blurred := pair(100+uint64(step), 8)
		g := nn.NewGraph()
		g.Backward(BTLoss(g, m.Forward(g, nn.Constant(sharp)), m.Forward(g, nn.Constant(blurred))))
		opt.Step()
		nn.ZeroGrad(m.Params())
	}
	sharp, blurred := pair(7, 50)
	s, b := m.Score(sharp, 25), m.Score(blurred, 25)
	right := 0
	for i := range s {
		if s[i] > b[i] {
			right++
		}
	}
	if right < 48 {
		t.Errorf("sharp ranked above blurred in %d of 50 held-out pairs", right)
	}
}

// The default FRM's size, as README gives it (`go test -v -run
// DefaultSize ./reward` prints it): FLOPs counts each convolution's
// multiply-adds, which the head and the mean add little to.
func TestDefaultSize(t *testing.T) {
	m, err := New(DefaultConfig(), nn.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	params, flops := nn.NumParams(m.Params()), m.FLOPs()
	t.Logf("default FRM: %d parameters, %.3g FLOP per face", params, flops)
	// Stem 3→32 at 128², then per level a 3×3 stride-2 conv and a 3×3 conv.
	want := 2 * 128 * 128 * 27 * 32.0
	for i, w := range [][2]float64{{32, 32}, {32, 64}, {64, 128}, {128, 128}} {
		s := float64(int(64) >> i)
		want += 2 * s * s * 9 * (w[0]*w[1] + w[1]*w[1])
	}
	if flops != want {
		t.Errorf("FLOPs %g, want %g", flops, want)
	}
	if params != 591553 {
		t.Errorf("%d parameters, README says 0.59 M (591,553)", params)
	}
}
