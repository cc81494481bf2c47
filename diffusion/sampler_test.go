package diffusion

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"facereward/nn"
	"facereward/tensor"
)

func rawBytes(t *tensor.Tensor) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, t.Data)
	return b.Bytes()
}

// ReFL's early stop returns exactly the state the full run had before step
// m, with its timesteps, for either of the last two steps or any other.
func TestDDIMStopAt(t *testing.T) {
	s := DefaultSchedule()
	m := gaussOracle(s, PredictV, 0.1, 0.6)
	d := DDIM{Schedule: s, Steps: 20, Eta: 0.7}
	ts := d.Timesteps()
	g := nn.NewGraph()
	for _, stop := range []int{1, 7, 18, 19} {
		seen := map[int][]byte{}
		rng := rand.New(rand.NewPCG(9, 9))
		xT := Normal(rng, 2, 6, 6, 3)
		full, err := d.Sample(g, m, xT, nil, rng, SampleOptions{OnStep: func(step, ti int, xt *tensor.Tensor) {
			if ti != ts[step] {
				t.Fatalf("callback: step %d at t %d, want %d", step, ti, ts[step])
			}
			seen[step] = rawBytes(xt)
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != d.Steps {
			t.Fatalf("callback ran %d times for %d steps", len(seen), d.Steps)
		}
		rng = rand.New(rand.NewPCG(9, 9))
		xT = Normal(rng, 2, 6, 6, 3)
		early, err := d.Sample(g, m, xT, nil, rng, SampleOptions{StopAt: stop})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rawBytes(early.X), seen[stop]) {
			t.Errorf("stop at %d: x_t differs from the full run's", stop)
		}
		wantPrev := -1
		if stop+1 < d.Steps {
			wantPrev = ts[stop+1]
		}
		if early.Step != stop || early.T != ts[stop] || early.TPrev != wantPrev {
			t.Errorf("stop at %d: step %d t %d tPrev %d, want %d %d %d", stop, early.Step, early.T, early.TPrev, stop, ts[stop], wantPrev)
		}
		// The rest of the run from there, with the rng where it was, ends
		// where the full run ended.
		rest, err := d.Sample(g, m, early.X, nil, rng, SampleOptions{StartStep: stop})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rawBytes(rest.X), rawBytes(full.X)) {
			t.Errorf("stop at %d then resume: result differs from the full run", stop)
		}
		// Step by hand at the stop point gives the full run's next state.
		if stop < d.Steps-1 {
			pred := m.Net(g, nn.Constant(early.X), []int{early.T, early.T}, nil)
			// A fresh rng replays x_T and the noise of steps before stop.
			r2 := rand.New(rand.NewPCG(9, 9))
			for range stop + 1 {
				Normal(r2, 2, 6, 6, 3)
			}
			next := s.Step(PredictV, early.X, pred.Value, early.T, early.TPrev, d.Eta, Normal(r2, early.X.Shape...))
			if diff := maxDiff(next, tensor.FromSlice(bytesToF32(seen[stop+1]), 2, 6, 6, 3)); diff > 1e-6 {
				t.Errorf("Step at %d differs from the sampler's by %g", stop, diff)
			}
		}
	}
}

func bytesToF32(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	binary.Read(bytes.NewReader(b), binary.LittleEndian, out)
	return out
}

// StartFrom at strength 1 is the pure-noise start plus
// sqrt(ᾱ_{T-1})·x0 + (sqrt(1-ᾱ_{T-1})-1)·ε, from the same draws, and the
// samples from the two starts end together; other strengths noise x0 to the
// timestep of the step they return.
func TestDDIMStartFrom(t *testing.T) {
	s := DefaultSchedule()
	m := gaussOracle(s, PredictV, 0.1, 0.6)
	d := DDIM{Schedule: s, Steps: 50, Eta: 1}
	g := nn.NewGraph()
	x0 := randTensor(rand.New(rand.NewPCG(1, 1)), -1, 1, 2, 8, 8, 3)

	rng := rand.New(rand.NewPCG(11, 0))
	xt, step, err := d.StartFrom(x0, 1, rng)
	if err != nil {
		t.Fatal(err)
	}
	rngPure := rand.New(rand.NewPCG(11, 0))
	pure := Normal(rngPure, x0.Shape...)
	if step != 0 {
		t.Fatalf("strength 1 starts at step %d", step)
	}
	a, b := s.SqrtAlphaBar(999), s.SqrtOneMinusAlphaBar(999)
	for i, v := range xt.Data {
		if want := float64(pure.Data[i]) + a*float64(x0.Data[i]) + (b-1)*float64(pure.Data[i]); math.Abs(float64(v)-want) > 1e-6 {
			t.Fatalf("strength 1: x_t[%d] = %g, want %g", i, v, want)
		}
	}
	fromX0, err := d.Sample(g, m, xt, nil, rng, SampleOptions{StartStep: step})
	if err != nil {
		t.Fatal(err)
	}
	fromNoise, err := d.Sample(g, m, pure, nil, rngPure, SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := maxDiff(fromX0.X, fromNoise.X); diff > 1e-3 {
		t.Errorf("strength 1 and pure noise end %g apart", diff)
	}

	// Strength 0.4 of 50 steps runs the last 20, from Timesteps()[30].
	rng = rand.New(rand.NewPCG(12, 0))
	xt, step, err = d.StartFrom(x0, 0.4, rng)
	if err != nil {
		t.Fatal(err)
	}
	if step != 30 {
		t.Fatalf("strength 0.4 starts at step %d, want 30", step)
	}
	eps := Normal(rand.New(rand.NewPCG(12, 0)), x0.Shape...)
	tt := d.Timesteps()[30]
	if diff := maxDiff(xt, s.Noise(x0, eps, []int{tt, tt})); diff != 0 {
		t.Errorf("strength 0.4: x_t is not x0 noised to t=%d (off by %g)", tt, diff)
	}
	calls := 0
	if _, err := d.Sample(g, m, xt, nil, rng, SampleOptions{StartStep: step, OnStep: func(int, int, *tensor.Tensor) { calls++ }}); err != nil {
		t.Fatal(err)
	}
	if calls != 20 {
		t.Errorf("strength 0.4 ran %d steps, want 20", calls)
	}

	// Strength 0 is a no-op that draws nothing.
	rng = rand.New(rand.NewPCG(13, 0))
	xt, step, err = d.StartFrom(x0, 0, rng)
	if err != nil || step != 50 || maxDiff(xt, x0) != 0 {
		t.Fatalf("strength 0: step %d, err %v, changed x0: %v", step, err, maxDiff(xt, x0) != 0)
	}
	res, err := d.Sample(g, m, xt, nil, rng, SampleOptions{StartStep: step})
	if err != nil || maxDiff(res.X, x0) != 0 {
		t.Errorf("sampling from step 50 changed x0 (err %v)", err)
	}
	if rng.Uint64() != rand.New(rand.NewPCG(13, 0)).Uint64() {
		t.Error("strength 0 drew from the rng")
	}
	for _, bad := range []float64{-0.1, 1.1, math.NaN()} {
		if _, _, err := d.StartFrom(x0, bad, rng); err == nil {
			t.Errorf("strength %g accepted", bad)
		}
	}
}

func TestDDIMDeterminism(t *testing.T) {
	s := DefaultSchedule()
	m := gaussOracle(s, PredictEps, 0, 0.5)
	d := DDIM{Schedule: s, Steps: 10, Eta: 1}
	run := func(seed uint64) []byte {
		rng := rand.New(rand.NewPCG(seed, 1))
		res, err := d.Sample(nn.NewGraph(), m, Normal(rng, 1, 8, 8, 3), nil, rng, SampleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return rawBytes(res.X)
	}
	if !bytes.Equal(run(1), run(1)) {
		t.Error("same seed, different bytes")
	}
	if bytes.Equal(run(1), run(2)) {
		t.Error("different seeds, same bytes")
	}
}

func TestStepVar(t *testing.T) {
	s := DefaultSchedule()
	rng := rand.New(rand.NewPCG(14, 0))
	for _, p := range []Prediction{PredictEps, PredictV} {
		for _, c := range [][2]int{{979, 959}, {19, -1}} {
			xt := randTensor(rng, -1, 1, 2, 3, 3, 2)
			pred := randTensor(rng, -1, 1, xt.Shape...)
			noise := Normal(rng, xt.Shape...)
			want := s.Step(p, xt, pred, c[0], c[1], 0.6, noise)
			g := nn.NewGraph()
			xv, pv := nn.Input(xt.Clone()), nn.Input(pred.Clone())
			out := s.StepVar(g, p, xv, pv, c[0], c[1], 0.6, noise)
			if diff := maxDiff(out.Value, want); diff > 1e-5 {
				t.Errorf("%s %v: StepVar differs from Step by %g", p, c, diff)
			}
			g.Backward(g.Sum(out))
			// Step is affine: its slopes are Step(1 at one place) - Step(0).
			zero := s.Step(p, tensor.New(xt.Shape...), tensor.New(xt.Shape...), c[0], c[1], 0.6, noise)
			unit := tensor.New(xt.Shape...)
			unit.Data[0] = 1
			dx := float64(s.Step(p, unit, tensor.New(xt.Shape...), c[0], c[1], 0.6, noise).Data[0] - zero.Data[0])
			dp := float64(s.Step(p, tensor.New(xt.Shape...), unit, c[0], c[1], 0.6, noise).Data[0] - zero.Data[0])
			if math.Abs(float64(xv.Grad.Data[0])-dx) > 1e-5*max(1, math.Abs(dx)) || math.Abs(float64(pv.Grad.Data[0])-dp) > 1e-5*max(1, math.Abs(dp)) {
				t.Errorf("%s %v: gradients %g %g, slopes %g %g", p, c, xv.Grad.Data[0], pv.Grad.Data[0], dx, dp)
			}
		}
	}
}

// pooledModel is a stand-in network built from graph operations, so its
// buffers come from g's pool like a real one's.
func pooledModel(g *nn.Graph, xt *nn.Var, _ []int, cond *nn.Var) *nn.Var {
	h := g.Tanh(g.Scale(xt, 0.5))
	return g.Add(g.Mul(h, cond), g.Scale(xt, 0.1))
}

// A 50-step run reuses the same buffers at every step: after one warm-up
// run, the bytes a run allocates do not grow with its number of steps by
// anything like a buffer per step.
func TestDDIMMemoryFlat(t *testing.T) {
	s := DefaultSchedule()
	shape := []int{2, 32, 32, 3}
	bufBytes := uint64(tensor.Numel(shape) * 4)
	cond := nn.Constant(randTensor(rand.New(rand.NewPCG(15, 0)), -1, 1, shape...))
	m := Denoiser{Net: pooledModel, Pred: PredictV}
	g := nn.NewGraph()
	allocated := func(steps int) uint64 {
		rng := rand.New(rand.NewPCG(16, 0))
		xT := Normal(rng, shape...)
		d := DDIM{Schedule: s, Steps: steps, Eta: 1}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := d.Sample(g, m, xT, cond, rng, SampleOptions{}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	allocated(50) // warm the pool
	short, long := allocated(10), allocated(50)
	perStep := float64(long-min(short, long)) / 40
	t.Logf("10 steps %d B, 50 steps %d B: %.0f B per extra step; one buffer is %d B", short, long, perStep, bufBytes)
	if perStep > float64(bufBytes)/4 {
		t.Errorf("each step allocates %.0f B, a buffer is %d B: the pool is not reused", perStep, bufBytes)
	}
	if g.NoGrad {
		t.Error("Sample left the graph in NoGrad mode")
	}
}

func TestDDIMErrors(t *testing.T) {
	s := DefaultSchedule()
	shape := []int{1, 4, 4, 3}
	xT := tensor.New(shape...)
	rng := rand.New(rand.NewPCG(17, 0))
	m := Denoiser{Net: pooledModel, Pred: PredictEps}
	cond := nn.Constant(tensor.New(shape...))
	g := nn.NewGraph()
	for name, c := range map[string]struct {
		d    DDIM
		m    Denoiser
		opts SampleOptions
	}{
		"no schedule": {DDIM{Steps: 10}, m, SampleOptions{}},
		"zero steps":  {DDIM{Schedule: s}, m, SampleOptions{}},
		"too many":    {DDIM{Schedule: s, Steps: 1001}, m, SampleOptions{}},
		"eta":         {DDIM{Schedule: s, Steps: 10, Eta: -1}, m, SampleOptions{}},
		"prediction":  {DDIM{Schedule: s, Steps: 10}, Denoiser{Net: pooledModel, Pred: "x0"}, SampleOptions{}},
		"start":       {DDIM{Schedule: s, Steps: 10}, m, SampleOptions{StartStep: 5, StopAt: 3}},
		"shape": {DDIM{Schedule: s, Steps: 10}, Denoiser{Pred: PredictEps, Net: func(g *nn.Graph, xt *nn.Var, _ []int, _ *nn.Var) *nn.Var {
			return g.AvgPool2(xt)
		}}, SampleOptions{}},
	} {
		if _, err := c.d.Sample(g, c.m, xT, cond, rng, c.opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A condition computed in the same graph is freed by the sampler's
	// Reset: refused rather than read after free.
	inter := g.Scale(nn.Input(tensor.New(shape...)), 1)
	if _, err := (DDIM{Schedule: s, Steps: 3}).Sample(g, m, xT, inter, rng, SampleOptions{}); err == nil {
		t.Error("intermediate condition accepted")
	}
}
