package optim

import (
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"facereward/nn"
	"facereward/safetensors"
	"facereward/tensor"
)

// closeEnough is the tolerance against PyTorch: 1e-4 relative with a 1e-6
// absolute floor (the arithmetic matches torch's, but ATen may fuse
// multiply-adds and uses a different pow).
func closeEnough(got, want float32) bool {
	d := math.Abs(float64(got) - float64(want))
	return d <= math.Max(1e-6, 1e-4*math.Abs(float64(want)))
}

func loadFixture(t *testing.T, name string) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read("../testdata/torchref/" + name)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("fixture %s not generated (tools/torchref/gen_fixtures.py)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func metaFloat(t *testing.T, f *safetensors.File, key string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(f.Meta[key], 64)
	if err != nil {
		t.Fatalf("fixture metadata %q: %v", key, err)
	}
	return v
}

func fixtureConfig(t *testing.T, f *safetensors.File) AdamConfig {
	return AdamConfig{
		LR:    metaFloat(t, f, "lr"),
		Beta1: metaFloat(t, f, "beta1"),
		Beta2: metaFloat(t, f, "beta2"),
		Eps:   metaFloat(t, f, "eps"),
	}
}

// compare checks got against torch's want and logs the largest deviation,
// which shows whether the float32 arithmetic matches torch's exactly.
func compare(t *testing.T, label string, got, want *tensor.Tensor) {
	t.Helper()
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("%s: shape %v, want %v", label, got.Shape, want.Shape)
	}
	maxDiff, ulps := 0.0, 0
	for i := range want.Data {
		if !closeEnough(got.Data[i], want.Data[i]) {
			t.Errorf("%s[%d] = %.9g, torch %.9g", label, i, got.Data[i], want.Data[i])
		}
		maxDiff = math.Max(maxDiff, math.Abs(float64(got.Data[i])-float64(want.Data[i])))
		if got.Data[i] != want.Data[i] {
			ulps++
		}
	}
	t.Logf("%s: max |diff| %.3g, %d of %d values not bit-identical", label, maxDiff, ulps, len(want.Data))
}

func TestAdamMatchesTorch(t *testing.T) {
	f := loadFixture(t, "adam.safetensors")
	cfg := fixtureConfig(t, f)
	cfg.WeightDecay = metaFloat(t, f, "weight_decay")
	p := nn.NewParam("p", f.Tensors["p0"].Clone(), false)
	opt, err := NewAdam([]*nn.Param{p}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		p.Grad = f.Tensors["g"+strconv.Itoa(i)].Clone()
		opt.Step()
		compare(t, "p"+strconv.Itoa(i), p.Value, f.Tensors["p"+strconv.Itoa(i)])
	}
	if opt.StepCount() != 3 {
		t.Fatalf("StepCount %d", opt.StepCount())
	}
}

func TestAdamWMatchesTorch(t *testing.T) {
	f := loadFixture(t, "adamw.safetensors")
	cfg := fixtureConfig(t, f)
	cfg.WeightDecay = metaFloat(t, f, "weight_decay_p")
	if metaFloat(t, f, "weight_decay_b") != 0 {
		t.Fatal("fixture's bias group is expected to have no decay")
	}
	p := nn.NewParam("p", f.Tensors["p0"].Clone(), false)
	b := nn.NewParam("b", f.Tensors["b0"].Clone(), true)
	opt, err := NewAdamW([]*nn.Param{p, b}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		s := strconv.Itoa(i)
		p.Grad = f.Tensors["g"+s].Clone()
		b.Grad = f.Tensors["bg"+s].Clone()
		opt.Step()
		compare(t, "p"+s, p.Value, f.Tensors["p"+s])
		compare(t, "b"+s, b.Value, f.Tensors["b"+s])
	}
}

// On the first step m̂ = g and v̂ = g², so Adam moves each weight by
// lr·g/(|g|+eps) ≈ lr·sign(g); with L2 decay g includes wd·p.
func TestAdamFirstStepAndDecay(t *testing.T) {
	cfg := DefaultAdam(0.1)
	cfg.WeightDecay = 0.5
	w := nn.NewParam("w", tensor.FromSlice([]float32{1, -1, 2}, 3), false)
	bias := nn.NewParam("b", tensor.FromSlice([]float32{1, -1, 2}, 3), true)
	grad := []float32{0.3, 0.3, -0.8} // with decay: 0.8, -0.2, 0.2
	w.Grad = tensor.FromSlice(append([]float32(nil), grad...), 3)
	bias.Grad = tensor.FromSlice(append([]float32(nil), grad...), 3)
	opt, err := NewAdam([]*nn.Param{w, bias}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	opt.Step()
	wantW := []float32{0.9, -0.9, 1.9}
	wantB := []float32{0.9, -1.1, 2.1}
	for i := range wantW {
		if !closeEnough(w.Value.Data[i], wantW[i]) || !closeEnough(bias.Value.Data[i], wantB[i]) {
			t.Fatalf("Adam L2 step: w %v want %v, b %v want %v", w.Value.Data, wantW, bias.Value.Data, wantB)
		}
	}

	// AdamW: decay shrinks w by 1 - lr·wd = 0.95 first, the step uses g alone.
	w = nn.NewParam("w", tensor.FromSlice([]float32{1, -1, 2}, 3), false)
	w.Grad = tensor.FromSlice(append([]float32(nil), grad...), 3)
	optW, _ := NewAdamW([]*nn.Param{w}, cfg)
	optW.Step()
	wantW = []float32{0.95 - 0.1, -0.95 - 0.1, 1.9 + 0.1}
	for i := range wantW {
		if !closeEnough(w.Value.Data[i], wantW[i]) {
			t.Fatalf("AdamW step: w %v want %v", w.Value.Data, wantW)
		}
	}
}

func TestAdamSkipsFrozenAndGradless(t *testing.T) {
	frozen := nn.NewParam("frozen", tensor.FromSlice([]float32{1, 2}, 2), false)
	frozen.NeedGrad = false
	frozen.Grad = tensor.FromSlice([]float32{1, 1}, 2)
	late := nn.NewParam("late", tensor.FromSlice([]float32{1, 2}, 2), false)
	opt, err := NewAdamW([]*nn.Param{frozen, late}, DefaultAdam(0.1))
	if err != nil {
		t.Fatal(err)
	}
	opt.Step()
	opt.Step()
	if frozen.Value.Data[0] != 1 || late.Value.Data[0] != 1 {
		t.Fatalf("frozen %v, gradless %v changed", frozen.Value.Data, late.Value.Data)
	}
	if st := opt.State(); len(st) != 1 {
		t.Fatalf("state for untouched params: %v", keys(st))
	}
	// The first real gradient gets a first-step bias correction even though
	// the optimiser is on its third step, as in PyTorch.
	late.Grad = tensor.FromSlice([]float32{0.01, -5}, 2)
	opt.Step()
	if !closeEnough(late.Value.Data[0], 0.9) || !closeEnough(late.Value.Data[1], 2.1) {
		t.Fatalf("late param %v, want [0.9 2.1]", late.Value.Data)
	}
	if opt.StepCount() != 3 {
		t.Fatalf("StepCount %d", opt.StepCount())
	}
}

func TestAdamConfigErrors(t *testing.T) {
	ok := nn.NewParam("a", tensor.New(1), false)
	cases := []struct {
		ps   []*nn.Param
		cfg  AdamConfig
		want string
	}{
		{[]*nn.Param{ok}, AdamConfig{LR: -1, Beta1: 0.9, Beta2: 0.999}, "learning rate"},
		{[]*nn.Param{ok}, AdamConfig{LR: 1, Beta1: 1, Beta2: 0.999}, "betas"},
		{[]*nn.Param{ok}, AdamConfig{LR: math.NaN(), Beta1: 0.9, Beta2: 0.999}, "learning rate"},
		{[]*nn.Param{ok, nn.NewParam("a", tensor.New(2), false)}, DefaultAdam(1), `"a" appears twice`},
		{[]*nn.Param{nn.NewParam("", tensor.New(2), false)}, DefaultAdam(1), "has no name"},
	}
	for _, c := range cases {
		if _, err := NewAdam(c.ps, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

// trainSetup makes a few parameters with deterministic gradients for state
// tests; grads(step) fills them for a given step.
func trainSetup() ([]*nn.Param, func(step int)) {
	ps := []*nn.Param{
		nn.NewParam("w", tensor.New(3, 4), false),
		nn.NewParam("b", tensor.New(4), true),
		nn.NewParam("late", tensor.New(2), false), // gradients only from step 2
	}
	for _, p := range ps {
		for i := range p.Value.Data {
			p.Value.Data[i] = float32(math.Sin(float64(i+len(p.Name)))) * 0.5
		}
	}
	return ps, func(step int) {
		for k, p := range ps {
			if p.Name == "late" && step < 2 {
				p.Grad = nil
				continue
			}
			p.Grad = tensor.New(p.Value.Shape...)
			for i := range p.Grad.Data {
				p.Grad.Data[i] = float32(math.Cos(float64(step*7+i*3+k))) * float32(step+1)
			}
		}
	}
}

func cloneParams(ps []*nn.Param) []*nn.Param {
	out := make([]*nn.Param, len(ps))
	for i, p := range ps {
		out[i] = nn.NewParam(p.Name, p.Value.Clone(), p.NoDecay)
	}
	return out
}

func copyGrads(dst, src []*nn.Param) {
	for i := range src {
		dst[i].Grad = nil
		if src[i].Grad != nil {
			dst[i].Grad = src[i].Grad.Clone()
		}
	}
}

func sameBits(t *testing.T, label string, a, b []*nn.Param) {
	t.Helper()
	for i := range a {
		for j := range a[i].Value.Data {
			if math.Float32bits(a[i].Value.Data[j]) != math.Float32bits(b[i].Value.Data[j]) {
				t.Fatalf("%s: %s[%d] %g vs %g", label, a[i].Name, j, a[i].Value.Data[j], b[i].Value.Data[j])
			}
		}
	}
}

func TestAdamStateRoundTrip(t *testing.T) {
	ps, grads := trainSetup()
	cfg := DefaultAdam(0.01)
	cfg.WeightDecay = 0.1
	a, _ := NewAdamW(ps, cfg)
	for step := 0; step < 3; step++ {
		grads(step)
		a.Step()
	}
	ps2 := cloneParams(ps)
	b, _ := NewAdamW(ps2, cfg)
	if err := b.SetState(a.State()); err != nil {
		t.Fatal(err)
	}
	if b.StepCount() != 3 {
		t.Fatalf("restored StepCount %d", b.StepCount())
	}
	for step := 3; step < 6; step++ {
		grads(step)
		copyGrads(ps2, ps)
		a.Step()
		b.Step()
		sameBits(t, "after restore", ps, ps2)
	}
}

func TestAdamSetStateErrors(t *testing.T) {
	ps, grads := trainSetup()
	a, _ := NewAdam(ps, DefaultAdam(0.01))
	grads(2)
	a.Step()
	good := a.State()
	with := func(edit func(map[string]*tensor.Tensor)) map[string]*tensor.Tensor {
		st := map[string]*tensor.Tensor{}
		for k, v := range good {
			st[k] = v
		}
		edit(st)
		return st
	}
	cases := []struct {
		st   map[string]*tensor.Tensor
		want string
	}{
		{with(func(st map[string]*tensor.Tensor) { delete(st, "step") }), `"step"`},
		{with(func(st map[string]*tensor.Tensor) { st["exp_avg/nope"] = tensor.New(1) }), "unexpected entries exp_avg/nope"},
		{with(func(st map[string]*tensor.Tensor) { st["junk"] = tensor.New(1) }), "unexpected entries junk"},
		{with(func(st map[string]*tensor.Tensor) { delete(st, "exp_avg_sq/w") }), `parameter "w" needs all of`},
		{with(func(st map[string]*tensor.Tensor) { st["exp_avg/w"] = tensor.New(4, 3) }), `parameter "w": moment has shape [4 3], parameter has [3 4]`},
		{with(func(st map[string]*tensor.Tensor) { st["step/b"] = tensor.FromSlice([]float32{0, 1.5}, 2) }), "not two integers"},
	}
	before := a.State()["exp_avg/w"].Clone()
	for _, c := range cases {
		err := a.SetState(c.st)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	if a.StepCount() != 1 || a.State()["exp_avg/w"].Data[0] != before.Data[0] {
		t.Fatal("failed SetState changed the optimiser")
	}
}

func TestCountTensor(t *testing.T) {
	for _, n := range []int{0, 1, countHalf - 1, countHalf, 1<<40 + 12345} {
		got, err := countFrom(countTensor(n))
		if err != nil || got != n {
			t.Errorf("count %d round-trips to %d, %v", n, got, err)
		}
	}
}

func keys(m map[string]*tensor.Tensor) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestAdamSplitMatchesWhole checks that a parameter large enough for its
// update to be split over the cores steps to the bytes that the same
// values get as parameters too small to be split, with and without decay.
func TestAdamSplitMatchesWhole(t *testing.T) {
	const n, parts = 1 << 14, 16
	rng := nn.NewRNG(9)
	x, g := tensor.New(n), tensor.New(n)
	nn.Normal(x, 1, rng)
	nn.Normal(g, 1, rng)
	for _, decoupled := range []bool{false, true} {
		whole := nn.NewParam("whole", x.Clone(), false)
		var small []*nn.Param
		for i := range parts {
			vals := tensor.FromSlice(append([]float32(nil), x.Data[i*n/parts:(i+1)*n/parts]...), n/parts)
			small = append(small, nn.NewParam("part"+strconv.Itoa(i), vals, false))
		}
		cfg := DefaultAdam(1e-2)
		cfg.WeightDecay = 0.1
		newOpt := NewAdam
		if decoupled {
			newOpt = NewAdamW
		}
		a, err := newOpt([]*nn.Param{whole}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := newOpt(small, cfg)
		if err != nil {
			t.Fatal(err)
		}
		whole.Grad = g.Clone()
		for i, p := range small {
			p.Grad = tensor.FromSlice(append([]float32(nil), g.Data[i*n/parts:(i+1)*n/parts]...), n/parts)
		}
		for range 3 {
			a.Step()
			b.Step()
		}
		for i, p := range small {
			for j, v := range p.Value.Data {
				if w := whole.Value.Data[i*n/parts+j]; math.Float32bits(v) != math.Float32bits(w) {
					t.Fatalf("decoupled %v: value %d is %v whole, %v in parts", decoupled, i*n/parts+j, w, v)
				}
			}
		}
	}
}
