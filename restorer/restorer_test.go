package restorer

import (
	"cmp"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"facereward/nn"
	"facereward/tensor"
)

// tinyConfig is the smallest config that still has every module type:
// two levels, a width change (skip convolutions), attention at 8×8.
func tinyConfig(size int) Config {
	return Config{
		Stage1: Stage1Config{ImageSize: size, Unshuffle: 2, Width: 8, Blocks: 4},
		UNet: UNetConfig{
			ImageSize: size, Widths: []int{8, 16}, BlocksPerLevel: 1,
			AttnResolutions: []int{8}, Heads: 2, Groups: 4, TimeDim: 16, HintWidth: 8,
			Prediction: "eps",
		},
	}
}

func newTiny(t *testing.T, size int, seed uint64) *Model {
	t.Helper()
	m, err := NewModel(tinyConfig(size), seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randImage(rng *rand.Rand, n, s int) *tensor.Tensor {
	x := tensor.New(n, s, s, 3)
	nn.Normal(x, 0.5, rng)
	return x
}

// perturbZeros gives the zero-initialised layers random values, so that
// the control branch actually influences the output and every parameter
// has a gradient worth checking.
func perturbZeros(m *Model, rng *rand.Rand) {
	zs := []*nn.Conv2d{m.UNet.Out, m.Control.Hint[2], m.Control.ZeroMid}
	zs = append(zs, m.Control.Zero...)
	for _, z := range zs {
		nn.Normal(z.W.Value, 0.1, rng)
		nn.Normal(z.B.Value, 0.1, rng)
	}
}

func TestShapes(t *testing.T) {
	for _, size := range []int{16, 32} {
		m := newTiny(t, size, 1)
		rng := nn.NewRNG(2)
		g := nn.NewGraph()
		g.NoGrad = true
		lq := nn.Constant(randImage(rng, 2, size))
		want := []int{2, size, size, 3}
		s1 := m.Stage1.Forward(g, lq)
		if !slices.Equal(s1.Shape(), want) {
			t.Errorf("size %d: stage1 output %v, want %v", size, s1.Shape(), want)
		}
		xt := nn.Constant(randImage(rng, 2, size))
		pred, res := m.Predict(g, xt, []int{3, 999}, s1)
		if !slices.Equal(pred.Shape(), want) {
			t.Errorf("size %d: UNet output %v, want %v", size, pred.Shape(), want)
		}
		shapes := m.Config.UNet.ResidualShapes()
		if len(res) != m.UNet.NumResiduals() || len(res) != len(shapes) {
			t.Fatalf("size %d: %d residuals, want %d", size, len(res), len(shapes))
		}
		for i, r := range res {
			if w := []int{2, shapes[i][0], shapes[i][1], shapes[i][2]}; !slices.Equal(r.Shape(), w) {
				t.Errorf("size %d: residual %d is %v, want %v", size, i, r.Shape(), w)
			}
		}
		// Written out for the tiny config: input conv, level-0 block,
		// downsample, level-1 block, middle.
		h := size / 2
		want3 := [][3]int{{size, size, 8}, {size, size, 8}, {h, h, 8}, {h, h, 16}, {h, h, 16}}
		if !slices.Equal(shapes, want3) {
			t.Errorf("size %d: residual shapes %v, want %v", size, shapes, want3)
		}
	}
}

// An unshuffled UNet runs at half the size inside and still maps
// [N,S,S,3] to [N,S,S,3].
func TestUnshuffledShapes(t *testing.T) {
	c := tinyConfig(32)
	c.UNet.Unshuffle = 2
	m, err := NewModel(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := nn.NewRNG(2)
	g := nn.NewGraph()
	g.NoGrad = true
	xt, cond := nn.Constant(randImage(rng, 2, 32)), nn.Constant(randImage(rng, 2, 32))
	pred, res := m.Predict(g, xt, []int{3, 999}, cond)
	if want := []int{2, 32, 32, 3}; !slices.Equal(pred.Shape(), want) {
		t.Errorf("UNet output %v, want %v", pred.Shape(), want)
	}
	want3 := [][3]int{{16, 16, 8}, {16, 16, 8}, {8, 8, 8}, {8, 8, 16}, {8, 8, 16}}
	if shapes := c.UNet.ResidualShapes(); !slices.Equal(shapes, want3) {
		t.Errorf("residual shapes %v, want %v", shapes, want3)
	}
	for i, r := range res {
		if w := []int{2, want3[i][0], want3[i][1], want3[i][2]}; !slices.Equal(r.Shape(), w) {
			t.Errorf("residual %d is %v, want %v", i, r.Shape(), w)
		}
	}
	if got := m.UNet.Enc.In.W.Shape(); got[2] != 12 {
		t.Errorf("input convolution reads %d channels, want 12", got[2])
	}
}

// At initialisation the control branch must leave the UNet unchanged: its
// residuals are exactly zero, so adding them changes no bit.
func TestZeroControlIsIdentity(t *testing.T) {
	m := newTiny(t, 16, 3)
	// A non-zero output layer, so that the comparison is not 0 == 0.
	nn.Normal(m.UNet.Out.W.Value, 0.1, nn.NewRNG(9))
	rng := nn.NewRNG(4)
	g := nn.NewGraph()
	g.NoGrad = true
	xt, cond := nn.Constant(randImage(rng, 2, 16)), nn.Constant(randImage(rng, 2, 16))
	ts := []int{10, 500}
	with, _ := m.Predict(g, xt, ts, cond)
	without := m.UNet.Forward(g, xt, ts, nil)
	if !slices.Equal(with.Value.Data, without.Value.Data) {
		t.Fatal("zero-initialised control changed the UNet's output")
	}
	if tensor.VecMax(without.Value.Data) == 0 {
		t.Fatal("UNet output is all zero: the test compares nothing")
	}
	// And once the zero layers move, the control must matter.
	perturbZeros(m, rng)
	with, _ = m.Predict(g, xt, ts, cond)
	without = m.UNet.Forward(g, xt, ts, nil)
	if slices.Equal(with.Value.Data, without.Value.Data) {
		t.Fatal("a trained control branch does not change the UNet's output")
	}
}

// weightedSum is the test loss Σ out·w, computed in float64 for the finite
// differences and in the graph for the analytic gradient.
func weightedSum(out, w []float32) float64 {
	s := 0.0
	for i, v := range out {
		s += float64(v) * float64(w[i])
	}
	return s
}

// fdCheck compares the gradient of Σ forward(g)·w with central finite
// differences at the perParam entries of largest gradient among 16 random
// ones of each parameter. The forward pass is float32, whose rounding puts
// noise of about 2e-5 on the loss: a step of 1e-3 gives numeric gradients
// off by 1e-2 absolute, so the step is large and extrapolated instead (the
// worst relative error is then about 3e-3 with h = 3e-2).
func fdCheck(t *testing.T, ps []*nn.Param, forward func(g *nn.Graph) *nn.Var, perParam int, h float32, rng *rand.Rand) {
	t.Helper()
	g := nn.NewGraph()
	out := forward(g)
	w := tensor.New(out.Shape()...)
	nn.Normal(w, 1, rng)
	nn.ZeroGrad(ps)
	g.Backward(g.Sum(g.Mul(out, nn.Constant(w))))
	g.Reset()
	eval := func() float64 {
		g.NoGrad = true
		defer func() { g.NoGrad = false; g.Reset() }()
		return weightedSum(forward(g).Value.Data, w.Data)
	}
	checked, worst := 0, 0.0
	for _, p := range ps {
		if p.Grad == nil {
			t.Errorf("%s: no gradient", p.Name)
			continue
		}
		cand := make([]int, 16)
		for j := range cand {
			cand[j] = rng.IntN(p.Value.Len())
		}
		slices.SortFunc(cand, func(a, b int) int {
			return cmp.Compare(math.Abs(float64(p.Grad.Data[b])), math.Abs(float64(p.Grad.Data[a])))
		})
		for _, i := range cand[:perParam] {
			orig := p.Value.Data[i]
			diff := func(h float32) float64 {
				p.Value.Data[i] = orig + h
				up := eval()
				p.Value.Data[i] = orig - h
				down := eval()
				p.Value.Data[i] = orig
				return (up - down) / float64(2*h)
			}
			// Richardson extrapolation cancels the h² term of the central
			// difference, so h can be large enough to drown float32 noise.
			num := (4*diff(h) - diff(2*h)) / 3
			ana := float64(p.Grad.Data[i])
			// The floor keeps float32 noise on near-zero gradients (the
			// attention's key bias has none at all) from counting as
			// relative error.
			rel := math.Abs(num-ana) / max(math.Abs(num), math.Abs(ana), 5e-2)
			worst = max(worst, rel)
			if rel > 1e-2 {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g (relative error %.3g)", p.Name, i, ana, num, rel)
			}
			checked++
		}
	}
	t.Logf("checked %d entries of %d parameters, worst relative error %.3g", checked, len(ps), worst)
}

func TestGradientsFiniteDifference(t *testing.T) {
	m := newTiny(t, 16, 5)
	rng := nn.NewRNG(6)
	perturbZeros(m, rng)
	xt, cond := nn.Constant(randImage(rng, 2, 16)), nn.Constant(randImage(rng, 2, 16))
	ts := []int{7, 640}
	t.Run("unet+control", func(t *testing.T) {
		ps := nn.Collect(m.UNet, m.Control)
		fdCheck(t, ps, func(g *nn.Graph) *nn.Var {
			out, _ := m.Predict(g, xt, ts, cond)
			return out
		}, 2, 3e-2, rng)
	})
	t.Run("stage1", func(t *testing.T) {
		fdCheck(t, m.Stage1.Params(), func(g *nn.Graph) *nn.Var { return m.Stage1.Forward(g, cond) }, 3, 3e-2, rng)
	})
	t.Run("unshuffled unet+control", func(t *testing.T) {
		// At 16×16 the unshuffled levels run at 8 and 4, attention at 8.
		c := tinyConfig(16)
		c.UNet.Unshuffle = 2
		mu, err := NewModel(c, 7)
		if err != nil {
			t.Fatal(err)
		}
		perturbZeros(mu, rng)
		fdCheck(t, nn.Collect(mu.UNet, mu.Control), func(g *nn.Graph) *nn.Var {
			out, _ := mu.Predict(g, xt, ts, cond)
			return out
		}, 2, 3e-2, rng)
	})
}

// With the UNet frozen, ReFL's gradient must reach every control
// parameter through the UNet while leaving the UNet's own untouched.
func TestFrozenUNetOnlyControlLearns(t *testing.T) {
	m := newTiny(t, 16, 7)
	rng := nn.NewRNG(8)
	perturbZeros(m, rng)
	m.FreezeUNet()
	g := nn.NewGraph()
	xt, cond := nn.Constant(randImage(rng, 2, 16)), nn.Constant(randImage(rng, 2, 16))
	out, _ := m.Predict(g, xt, []int{1, 2}, cond)
	g.Backward(g.Mean(g.Mul(out, out)))
	for _, p := range m.UNet.Params() {
		if !p.Frozen() || p.Grad != nil {
			t.Errorf("frozen %s got a gradient", p.Name)
		}
	}
	for _, p := range m.Control.Params() {
		if p.Frozen() || p.Grad == nil || tensor.VecMax(absCopy(p.Grad.Data)) == 0 {
			t.Errorf("control %s got no gradient", p.Name)
		}
	}
}

func absCopy(x []float32) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(math.Abs(float64(v)))
	}
	return y
}

func TestParamNames(t *testing.T) {
	m := newTiny(t, 16, 1)
	ps := m.Params() // nn.Collect panics on a duplicate name
	names := map[string]bool{}
	for _, p := range ps {
		names[p.Name] = true
	}
	for _, want := range []string{
		"stage1.head.weight", "stage1.body.3.conv1.weight", "stage1.tail.bias",
		"unet.time.lin1.weight", "unet.in.weight", "unet.down.0.res.0.norm1.weight",
		"unet.down.0.downsample.weight", "unet.down.1.res.0.skip.weight", "unet.down.1.attn.0.qkv.weight",
		"unet.mid.res1.emb.weight", "unet.mid.attn.proj.bias", "unet.up.1.res.1.skip.weight",
		"unet.up.1.attn.1.norm.bias", "unet.up.1.upsample.weight", "unet.up.0.res.1.conv2.weight",
		"unet.out.norm.weight", "unet.out.conv.weight",
		"control.time.lin2.bias", "control.in.weight", "control.down.1.attn.0.proj.weight",
		"control.mid.res2.conv1.weight", "control.hint.2.weight", "control.zero.0.weight",
		"control.zero.3.bias", "control.zero.mid.weight",
	} {
		if !names[want] {
			t.Errorf("no parameter %q", want)
		}
	}
	if names["control.zero.4.weight"] {
		t.Error("one zero convolution too many")
	}
	// A second build has the same names in the same order.
	again := newTiny(t, 16, 2).Params()
	if len(again) != len(ps) {
		t.Fatalf("%d parameters, then %d", len(ps), len(again))
	}
	for i := range ps {
		if ps[i].Name != again[i].Name {
			t.Fatalf("parameter %d is %q, then %q", i, ps[i].Name, again[i].Name)
		}
	}
	if len(ps) != 226 {
		t.Errorf("%d parameters, want 226", len(ps))
	}
}

func TestControlCopiesEncoder(t *testing.T) {
	m := newTiny(t, 16, 11)
	up, kp := m.UNet.Enc.Params(), m.Control.Enc.Params()
	if len(up) != len(kp) || len(up) == 0 {
		t.Fatalf("encoders have %d and %d parameters", len(up), len(kp))
	}
	for i := range up {
		if up[i].Name != "unet."+kp[i].Name[len("control."):] {
			t.Errorf("parameter %d: %s paired with %s", i, up[i].Name, kp[i].Name)
		}
		if !slices.Equal(up[i].Value.Data, kp[i].Value.Data) {
			t.Errorf("%s differs from %s", kp[i].Name, up[i].Name)
		}
		if &up[i].Value.Data[0] == &kp[i].Value.Data[0] {
			t.Errorf("%s shares storage with %s", kp[i].Name, up[i].Name)
		}
	}
	// A fresh control branch is not a copy, so the check above can fail.
	k, err := NewControl(m.Config.UNet, nn.NewRNG(12))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(k.Enc.In.W.Value.Data, m.UNet.Enc.In.W.Value.Data) {
		t.Error("NewControl's encoder equals the UNet's")
	}
}

func TestFrozenCopyResiduals(t *testing.T) {
	m := newTiny(t, 16, 13)
	rng := nn.NewRNG(14)
	perturbZeros(m, rng)
	frozen := nn.FrozenCopy(m.Control)
	g := nn.NewGraph()
	xt, cond := nn.Constant(randImage(rng, 2, 16)), nn.Constant(randImage(rng, 2, 16))
	ts := []int{5, 50}
	a := m.Control.Forward(g, xt, ts, cond)
	b := frozen.Forward(g, xt, ts, cond)
	for i := range a {
		if !slices.Equal(a[i].Value.Data, b[i].Value.Data) {
			t.Errorf("residual %d differs in the frozen copy", i)
		}
		if b[i].NeedGrad {
			t.Errorf("frozen residual %d needs a gradient", i)
		}
	}
	for _, p := range frozen.Params() {
		if !p.Frozen() {
			t.Errorf("%s is not frozen", p.Name)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := newTiny(t, 16, 15)
	rng := nn.NewRNG(16)
	perturbZeros(m, rng)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := m.Save(path, map[string]string{"note": "test"}); err != nil {
		t.Fatal(err)
	}
	m2 := newTiny(t, 16, 99)
	meta, err := m2.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["note"] != "test" {
		t.Errorf("metadata %v", meta)
	}
	g := nn.NewGraph()
	g.NoGrad = true
	lq, xt := nn.Constant(randImage(rng, 2, 16)), nn.Constant(randImage(rng, 2, 16))
	run := func(m *Model) ([]float32, []float32) {
		s1 := m.Stage1.Forward(g, lq)
		pred, _ := m.Predict(g, xt, []int{3, 4}, s1)
		return slices.Clone(s1.Value.Data), slices.Clone(pred.Value.Data)
	}
	s1a, pa := run(m)
	s1b, pb := run(m2)
	if !slices.Equal(s1a, s1b) || !slices.Equal(pa, pb) {
		t.Fatal("reloaded model gives different outputs")
	}
	// Loading into a differently shaped model must fail, not half-load.
	c := tinyConfig(16)
	c.UNet.Widths = []int{8, 24}
	m3, err := NewModel(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m3.Load(path); err == nil {
		t.Error("loading into a model with other widths succeeded")
	}
}

func TestConfigJSON(t *testing.T) {
	c := DefaultConfig()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	// The schedule is stored beside the networks' JSON (a model
	// directory's config.json; TestModelDirAndSampler), not in it.
	if back.Schedule != "" {
		t.Errorf("schedule %q in the networks' JSON", back.Schedule)
	}
	back.Schedule = c.Schedule
	if !reflect.DeepEqual(c, back) {
		t.Errorf("JSON round trip changed the config:\n%+v\n%+v", c, back)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	bad := []func(*Config){
		func(c *Config) { c.UNet.ImageSize = 24 },
		func(c *Config) { c.UNet.Widths = nil },
		func(c *Config) { c.UNet.Widths = []int{8, 10} },
		func(c *Config) { c.UNet.Heads = 3 },
		func(c *Config) { c.UNet.Prediction = "x0" },
		func(c *Config) { c.Stage1.Unshuffle = 3 },
		func(c *Config) { c.Stage1.ImageSize = 32 },
	}
	for i, f := range bad {
		c := tinyConfig(16)
		f(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: invalid config accepted", i)
		}
	}
}
