package optim

import (
	"math"
	"testing"

	"facereward/nn"
	"facereward/tensor"
)

func TestClipGradNorm(t *testing.T) {
	a := nn.NewParam("a", tensor.New(2), false)
	b := nn.NewParam("b", tensor.New(1), true)
	frozen := nn.NewParam("f", tensor.New(1), false)
	frozen.NeedGrad = false
	none := nn.NewParam("n", tensor.New(1), false) // no gradient at all
	ps := []*nn.Param{a, b, frozen, none}
	set := func() {
		a.Grad = tensor.FromSlice([]float32{3, 4}, 2)
		b.Grad = tensor.FromSlice([]float32{12}, 1)
		frozen.Grad = tensor.FromSlice([]float32{100}, 1)
	}

	set()
	if total := ClipGradNorm(ps, 100); total != 13 {
		t.Fatalf("total %v, want 13 (frozen grads excluded)", total)
	}
	if a.Grad.Data[0] != 3 || b.Grad.Data[0] != 12 {
		t.Fatal("grads scaled although under the limit")
	}

	set()
	total := ClipGradNorm(ps, 6.5)
	coef := float32(6.5 / (13 + 1e-6))
	want := []float32{3 * coef, 4 * coef, 12 * coef}
	got := []float32{a.Grad.Data[0], a.Grad.Data[1], b.Grad.Data[0]}
	if total != 13 {
		t.Fatalf("total %v", total)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("clipped grads %v, want %v", got, want)
		}
	}
	if frozen.Grad.Data[0] != 100 {
		t.Fatal("frozen grad scaled")
	}
	if n := ClipGradNorm(ps, 6.5); math.Abs(n-6.5) > 1e-5 {
		t.Fatalf("norm after clipping %v, want 6.5", n)
	}

	a.Grad.Data[0] = float32(math.Inf(1))
	if n := ClipGradNorm(ps, 1); !math.IsInf(n, 1) || a.Grad.Data[1] == 0 {
		t.Fatalf("non-finite norm %v: grads must be left for the caller to skip", n)
	}
}

// TestAccumulationEquivalence: the gradient of a mean loss over 6 samples
// equals the average of the gradients of the mean loss over 3 micro-batches
// of 2, so accumulating and stepping gives the big-batch update.
func TestAccumulationEquivalence(t *testing.T) {
	// Linear model y = w·x + c with loss mean((y - target)²).
	xs := [][]float32{{1, 2}, {0.5, -1}, {3, 0}, {-2, 1}, {0.1, 0.2}, {1, 1}}
	ts := []float32{1, -1, 2, 0.5, 0, 3}
	newModel := func() []*nn.Param {
		return []*nn.Param{
			nn.NewParam("w", tensor.FromSlice([]float32{0.3, -0.2}, 2), false),
			nn.NewParam("c", tensor.FromSlice([]float32{0.1}, 1), true),
		}
	}
	// backward adds the gradient of the mean loss over samples lo..hi-1.
	backward := func(ps []*nn.Param, lo, hi int) {
		w, c := ps[0], ps[1]
		if w.Grad == nil {
			w.Grad, c.Grad = tensor.New(2), tensor.New(1)
		}
		n := float32(hi - lo)
		for i := lo; i < hi; i++ {
			r := w.Value.Data[0]*xs[i][0] + w.Value.Data[1]*xs[i][1] + c.Value.Data[0] - ts[i]
			w.Grad.Data[0] += 2 * r * xs[i][0] / n
			w.Grad.Data[1] += 2 * r * xs[i][1] / n
			c.Grad.Data[0] += 2 * r / n
		}
	}

	big := newModel()
	bigOpt, _ := NewAdamW(big, DefaultAdam(0.01))
	small := newModel()
	smallOpt, _ := NewAdamW(small, DefaultAdam(0.01))
	acc, err := NewAccumulator(3)
	if err != nil {
		t.Fatal(err)
	}
	for epoch := 0; epoch < 4; epoch++ {
		backward(big, 0, 6)
		for mb := 0; mb < 3; mb++ {
			backward(small, 2*mb, 2*mb+2)
			ready := acc.Add(small)
			if ready != (mb == 2) {
				t.Fatalf("Add after micro-batch %d returned %v", mb, ready)
			}
		}
		for i := range big {
			for j := range big[i].Grad.Data {
				g, h := small[i].Grad.Data[j], big[i].Grad.Data[j]
				if math.Abs(float64(g-h)) > 1e-6*math.Max(1, math.Abs(float64(h))) {
					t.Fatalf("epoch %d: accumulated grad %s[%d] %g, big batch %g", epoch, big[i].Name, j, g, h)
				}
			}
		}
		bigOpt.Step()
		smallOpt.Step()
		nn.ZeroGrad(big)
		nn.ZeroGrad(small)
	}
	for i := range big {
		for j := range big[i].Value.Data {
			if !closeEnough(small[i].Value.Data[j], big[i].Value.Data[j]) {
				t.Fatalf("weights diverge: %v vs %v", small[i].Value.Data, big[i].Value.Data)
			}
		}
	}

	// A partial group is averaged over what it holds.
	backward(small, 0, 2)
	backward(small, 0, 2)
	if acc.Pending() != 0 {
		t.Fatalf("pending %d after a step", acc.Pending())
	}
	if acc.Add(small) || acc.Pending() != 1 {
		t.Fatalf("first of 3 micro-batches: pending %d", acc.Pending())
	}
	acc.Add(small)
	g := small[1].Grad.Data[0]
	if !acc.Flush(small) || acc.Pending() != 0 || small[1].Grad.Data[0] != g/2 {
		t.Fatal("Flush did not average a partial group")
	}
	if acc.Flush(small) {
		t.Fatal("Flush of an empty group reported a step")
	}
	if _, err := NewAccumulator(0); err == nil {
		t.Fatal("NewAccumulator(0) accepted")
	}
}

func TestEMA(t *testing.T) {
	p := nn.NewParam("p", tensor.FromSlice([]float32{0, 10}, 2), false)
	frozen := nn.NewParam("f", tensor.FromSlice([]float32{5}, 1), false)
	frozen.NeedGrad = false
	e, err := NewEMA([]*nn.Param{p, frozen}, 0.9, false)
	if err != nil {
		t.Fatal(err)
	}
	// Reference in float64: s = d·s + (1-d)·x.
	ref := []float64{0, 10}
	for step := 1; step <= 5; step++ {
		p.Value.Data[0], p.Value.Data[1] = float32(step), float32(-step)
		e.Update()
		for j := range ref {
			ref[j] = 0.9*ref[j] + 0.1*float64(p.Value.Data[j])
		}
	}
	st := e.State()
	if len(st) != 2 || st["shadow/p"] == nil || e.Updates() != 5 {
		t.Fatalf("state keys %v, updates %d (frozen params are not averaged)", keys(st), e.Updates())
	}
	for j, want := range ref {
		if got := st["shadow/p"].Data[j]; math.Abs(float64(got)-want) > 1e-5 {
			t.Fatalf("shadow[%d] = %g, want %g", j, got, want)
		}
	}

	// Swap twice is the identity; once puts the average in the model.
	live := p.Value.Clone()
	e.Swap()
	if math.Abs(float64(p.Value.Data[0])-ref[0]) > 1e-5 {
		t.Fatalf("after Swap p = %v, want the average %v", p.Value.Data, ref)
	}
	e.Swap()
	if p.Value.Data[0] != live.Data[0] || p.Value.Data[1] != live.Data[1] {
		t.Fatal("double Swap changed the weights")
	}

	// CopyTo another model by name.
	other := []*nn.Param{nn.NewParam("p", tensor.New(2), false)}
	if err := e.CopyTo(other); err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(other[0].Value.Data[1])-ref[1]) > 1e-5 {
		t.Fatalf("CopyTo gave %v", other[0].Value.Data)
	}
	if err := e.CopyTo([]*nn.Param{nn.NewParam("p", tensor.New(3), false)}); err == nil {
		t.Fatal("CopyTo into the wrong shape accepted")
	}
	if err := e.CopyTo(nil); err == nil {
		t.Fatal("CopyTo into a model without the parameter accepted")
	}

	// State round trip: a restored EMA continues identically.
	q := nn.NewParam("p", p.Value.Clone(), false)
	e2, _ := NewEMA([]*nn.Param{q}, 0.9, false)
	if err := e2.SetState(e.State()); err != nil {
		t.Fatal(err)
	}
	e.Update()
	e2.Update()
	if e.State()["shadow/p"].Data[0] != e2.State()["shadow/p"].Data[0] || e2.Updates() != 6 {
		t.Fatal("restored EMA diverged")
	}
	if err := e2.SetState(map[string]*tensor.Tensor{"updates": countTensor(1)}); err == nil {
		t.Fatal("SetState without shadows accepted")
	}
}

func TestEMAWarmup(t *testing.T) {
	p := nn.NewParam("p", tensor.FromSlice([]float32{0}, 1), false)
	e, _ := NewEMA([]*nn.Param{p}, 0.5, true)
	want := []float64{0.1, 2.0 / 11, 3.0 / 12, 4.0 / 13, 5.0 / 14, 6.0 / 15, 7.0 / 16, 8.0 / 17, 0.5, 0.5} // (1+t)/(10+t) until it reaches 0.5
	for i, w := range want {
		if d := e.Decay(); math.Abs(d-w) > 1e-15 {
			t.Fatalf("decay at update %d = %v, want %v", i, d, w)
		}
		e.Update()
	}
	// With decay 0.1 the first update moves 90% of the way.
	e, _ = NewEMA([]*nn.Param{p}, 0.999, true)
	p.Value.Data[0] = 10
	e.Update()
	if got := e.State()["shadow/p"].Data[0]; math.Abs(float64(got)-9) > 1e-5 {
		t.Fatalf("first warm-up update gives %v, want 9", got)
	}
	if _, err := NewEMA(nil, 1.5, false); err == nil {
		t.Fatal("decay 1.5 accepted")
	}
}

func TestSchedules(t *testing.T) {
	if Constant(0.3)(0) != 0.3 || Constant(0.3)(1e6) != 0.3 {
		t.Fatal("Constant")
	}
	s := WarmupCosine(1e-3, 100, 1100, 1e-5)
	cases := []struct {
		step int
		want float64
	}{
		{-5, 0},
		{0, 0},
		{1, 1e-5},
		{50, 5e-4},
		{99, 9.9e-4},
		{100, 1e-3},              // peak
		{600, (1e-3 + 1e-5) / 2}, // halfway down the cosine
		{350, 1e-5 + (1e-3-1e-5)*0.5*(1+math.Cos(math.Pi/4))},
		{1099, 1e-5 + (1e-3-1e-5)*0.5*(1+math.Cos(math.Pi*999/1000))},
		{1100, 1e-5},
		{5000, 1e-5},
	}
	for _, c := range cases {
		if got := s(c.step); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("WarmupCosine(%d) = %.17g, want %.17g", c.step, got, c.want)
		}
	}
	// No warm-up: starts at the peak.
	s = WarmupCosine(1, 0, 10, 0)
	if s(0) != 1 || math.Abs(s(5)-0.5) > 1e-15 || s(10) != 0 {
		t.Errorf("no warm-up: %v %v %v", s(0), s(5), s(10))
	}
	// Degenerate: no room for the cosine.
	s = WarmupCosine(1, 10, 10, 0.1)
	if s(5) != 0.5 || s(10) != 0.1 || s(11) != 0.1 {
		t.Errorf("total == warmup: %v %v %v", s(5), s(10), s(11))
	}
}
