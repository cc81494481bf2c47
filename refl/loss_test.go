package refl

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"facereward/diffusion"
	"facereward/nn"
	"facereward/restorer"
	"facereward/restorer/restorertest"
	"facereward/reward"
	"facereward/tensor"
)

// tinySetup is a 16×16 restorer whose control branch and UNet output
// layer are randomised (zero-initialised, they would cut every gradient to
// the branch), the branch's frozen copy, a tiny FRM and fixed inputs at two
// mid timesteps (at ReFL's late ones x0_hat hardly depends on the network,
// and the float32 loss would not resolve the gradient).
type tinySetup struct {
	m            *restorer.Model
	frozen       *restorer.Control
	frm          *reward.FRM
	sched        *diffusion.Schedule
	xt, cond, hq *tensor.Tensor
	t            []int
}

func newTiny(t *testing.T) *tinySetup {
	t.Helper()
	m := restorertest.Model(t, 1, 0)
	frozen := nn.FrozenCopy(m.Control)
	rng := nn.NewRNG(2)
	perturb := func(ps []*nn.Param, std float64) {
		for _, p := range ps {
			for i := range p.Value.Data {
				p.Value.Data[i] += float32(std * rng.NormFloat64())
			}
		}
	}
	perturb(m.Control.Params(), 0.05)
	perturb(m.UNet.Out.Params(), 0.5)
	frm, err := reward.New(reward.Config{ImageSize: 16, Widths: []int{4, 6, 8}}, nn.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := diffusion.NewSchedule(diffusion.Cosine, diffusion.DefaultT)
	if err != nil {
		t.Fatal(err)
	}
	img := func(seed uint64) *tensor.Tensor {
		x := tensor.New(2, 16, 16, 3)
		nn.Uniform(x, 1, nn.NewRNG(seed))
		return x
	}
	return &tinySetup{m: m, frozen: frozen, frm: frm, sched: sched, xt: img(4), cond: img(5), hq: img(6), t: []int{500, 300}}
}

// loss runs the ReFL step's forward pass with gradients: the control
// branch and the UNet at x_t, x0_hat from the v prediction, the loss.
func (s *tinySetup) loss(g *nn.Graph, w Weights) Terms {
	xt, cond := nn.Constant(s.xt), nn.Constant(s.cond)
	pred, res := s.m.Predict(g, xt, s.t, cond)
	frozen := s.frozen.Forward(g, xt, s.t, cond)
	x0 := s.sched.X0FromPredVar(g, diffusion.PredictV, xt, pred, s.t)
	return Loss(g, w, x0, nn.Constant(s.hq), res, frozen, s.frm)
}

// The gradient of the whole ReFL loss with respect to control-branch
// weights agrees with finite differences, end to end through the reward
// model, the wavelet bands, the x0 prediction and the UNet: each term alone
// (so that a large one cannot hide an error in a small one's path), then
// all together.
func TestLossGradient(t *testing.T) {
	for name, w := range map[string]Weights{
		"reg": {Reg: 1}, "struct": {Struct: 1}, "reward": {Reward: 1}, "pixel": {Pixel: 1},
		"all": {Reg: 1, Struct: 1, Reward: 1, Pixel: 1},
	} {
		t.Run(name, func(t *testing.T) { checkLossGradient(t, w) })
	}
}

func checkLossGradient(t *testing.T, w Weights) {
	s := newTiny(t)
	g := nn.NewGraph()
	terms := s.loss(g, w)
	if terms.Total.Value.Data[0] == 0 {
		t.Fatal("the loss is 0: nothing to check")
	}
	g.Backward(terms.Total)
	eval := func() float64 {
		h := nn.NewGraph()
		h.NoGrad = true
		return float64(s.loss(h, w).Total.Value.Data[0])
	}
	// Each tensor moves along its gradient, scaled so that its largest
	// entry moves by one step: then the change of the float32 loss is
	// Σg²/max|g| per step, more than any single entry gives. The four
	// tensors with the largest such change are checked.
	type probe struct {
		p    *nn.Param
		dir  []float32
		want float64
	}
	var probes []probe
	for _, p := range s.m.Control.Params() {
		if p.Grad == nil {
			t.Fatalf("%s has no gradient", p.Name)
		}
		var top float64
		for _, v := range p.Grad.Data {
			top = max(top, math.Abs(float64(v)))
		}
		if top == 0 {
			continue
		}
		pr := probe{p: p, dir: make([]float32, len(p.Grad.Data))}
		for i, v := range p.Grad.Data {
			pr.dir[i] = float32(float64(v) / top)
			pr.want += float64(v) * float64(pr.dir[i])
		}
		probes = append(probes, pr)
	}
	slices.SortFunc(probes, func(a, b probe) int { return cmp.Compare(b.want, a.want) })
	if len(probes) < 4 {
		t.Fatalf("only %d control tensors have a gradient", len(probes))
	}
	for _, pr := range probes[:4] {
		orig := append([]float32(nil), pr.p.Value.Data...)
		const eps = 1e-3
		at := func(step float32) float64 {
			for i := range orig {
				pr.p.Value.Data[i] = orig[i] + step*pr.dir[i]
			}
			return eval()
		}
		got := (at(eps) - at(-eps)) / (2 * eps)
		copy(pr.p.Value.Data, orig)
		if math.Abs(got-pr.want) > 0.01*pr.want {
			t.Errorf("%s along its gradient: analytic %.6g, finite differences %.6g", pr.p.Name, pr.want, got)
		}
	}
}

// The frozen copy gets no gradient, L_reg is zero for an untouched copy,
// and the weights scale their terms.
func TestLossTerms(t *testing.T) {
	s := newTiny(t)
	s.frozen = nn.FrozenCopy(s.m.Control) // the same weights as the trained branch
	g := nn.NewGraph()
	w := PaperWeights()
	terms := s.loss(g, w)
	if r := terms.Reg.Value.Data[0]; r != 0 {
		t.Errorf("L_reg of an identical copy = %g, want 0", r)
	}
	want := w.Struct*float64(terms.Struct.Value.Data[0]) + w.Reward*float64(terms.Reward.Value.Data[0]) + w.Pixel*float64(terms.Pixel.Value.Data[0])
	if got := float64(terms.Total.Value.Data[0]); math.Abs(got-want) > 1e-6*math.Abs(want) {
		t.Errorf("total %g, want the weighted sum %g", got, want)
	}
	g.Backward(terms.Total)
	for _, p := range s.frozen.Params() {
		if p.Grad != nil {
			t.Fatalf("the frozen copy's %s has a gradient", p.Name)
		}
	}
}

// The reward term by hand: mean(1 − σ(r)), and its gradient −σ(r)(1 −
// σ(r))/N per score, which vanishes for a score far past the FRM's range.
func TestRewardTerm(t *testing.T) {
	g := nn.NewGraph()
	r := nn.Input(tensor.FromSlice([]float32{0, 100, -2}, 3, 1))
	term := RewardTerm(g, r)
	sig := 1 / (1 + math.Exp(2))
	if got, want := float64(term.Value.Data[0]), (0.5+0+(1-sig))/3; math.Abs(got-want) > 1e-6 {
		t.Errorf("RewardTerm(0, 100, -2) = %g, want %g", got, want)
	}
	g.Backward(term)
	for i, want := range []float64{-0.25 / 3, 0, -sig * (1 - sig) / 3} {
		if got := float64(r.Grad.Data[i]); math.Abs(got-want) > 1e-6 {
			t.Errorf("d term / d r[%d] = %g, want %g", i, got, want)
		}
	}
}
