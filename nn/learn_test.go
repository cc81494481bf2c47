package nn_test

import (
	"math"
	"runtime"
	"testing"

	"facereward/nn"
	"facereward/optim"
	"facereward/tensor"
)

// A small residual conv net learns to denoise smooth 8×8 patterns: the loss
// must fall at least tenfold, from a fixed seed.
func TestSmallNetLearnsToDenoise(t *testing.T) {
	rng := nn.NewRNG(7)
	c1 := nn.NewConv2d("c1", 1, 16, 3, 1, 1, rng)
	norm := nn.NewGroupNorm("n", 4, 16)
	c2 := nn.NewConv2d("c2", 16, 16, 3, 1, 1, rng)
	c3 := nn.NewConv2d("c3", 16, 1, 3, 1, 1, rng)
	ps := nn.Collect(c1, norm, c2, c3)
	opt, err := optim.NewAdam(ps, optim.DefaultAdam(3e-3))
	if err != nil {
		t.Fatal(err)
	}
	const n, s = 16, 8
	clean, noisy := tensor.New(n, s, s, 1), tensor.New(n, s, s, 1)
	for b := 0; b < n; b++ {
		fx, fy, ph := 0.3+0.1*float64(b%4), 0.2+0.1*float64(b/4), float64(b)
		for y := 0; y < s; y++ {
			for x := 0; x < s; x++ {
				i := (b*s+y)*s + x
				clean.Data[i] = float32(math.Sin(fx*float64(x)+ph) * math.Cos(fy*float64(y)))
				noisy.Data[i] = clean.Data[i] + float32(0.3*rng.NormFloat64())
			}
		}
	}
	x, target := nn.Constant(noisy), nn.Constant(clean)
	g := nn.NewGraph()
	var first, last float32
	for step := 0; step < 400; step++ {
		h := g.SiLU(norm.Forward(g, c1.Forward(g, x)))
		h = g.SiLU(c2.Forward(g, h))
		out := g.Add(x, c3.Forward(g, h)) // predict the correction
		loss := g.MSELoss(out, target)
		if step == 0 {
			first = loss.Value.Data[0]
		}
		last = loss.Value.Data[0]
		g.Backward(loss)
		opt.Step()
		nn.ZeroGrad(ps)
		g.Reset()
	}
	if !(last*10 <= first) {
		t.Fatalf("loss fell from %.4f to %.4f, less than tenfold", first, last)
	}
	t.Logf("loss %.4f → %.4f", first, last)
}

// Memory stays flat over many training steps: after warm-up, the live heap
// does not grow with the step count.
func TestTrainingMemoryIsFlat(t *testing.T) {
	rng := nn.NewRNG(3)
	conv := nn.NewConv2d("c", 3, 16, 3, 1, 1, rng)
	norm := nn.NewGroupNorm("n", 4, 16)
	out := nn.NewConv2d("o", 16, 3, 3, 2, 1, rng)
	ps := nn.Collect(conv, norm, out)
	opt, err := optim.NewAdamW(ps, optim.DefaultAdam(1e-3))
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(2, 16, 16, 3)
	nn.Normal(x, 1, rng)
	g := nn.NewGraph()
	step := func() {
		h := g.SiLU(norm.Forward(g, conv.Forward(g, nn.Constant(x))))
		o := out.Forward(g, h)
		g.Backward(g.Mean(g.Mul(o, o)))
		opt.Step()
		nn.ZeroGrad(ps)
		g.Reset()
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for range 20 {
		step()
	}
	before := heap()
	for range 1000 {
		step()
	}
	after := heap()
	if after > before+256<<10 {
		t.Fatalf("live heap grew from %d to %d bytes over 1000 steps", before, after)
	}
	t.Logf("live heap %d → %d bytes over 1000 steps", before, after)
}

// Two runs of the same training give the same bytes, with the parallel
// reductions (convolution weight gradients, GroupNorm gain and bias) split
// over several groups.
func TestTrainingIsDeterministic(t *testing.T) {
	run := func() []float32 {
		rng := nn.NewRNG(11)
		conv := nn.NewConv2d("c", 8, 32, 3, 1, 1, rng)
		norm := nn.NewGroupNorm("n", 8, 32)
		out := nn.NewConv2d("o", 32, 8, 3, 1, 1, rng)
		ps := nn.Collect(conv, norm, out)
		opt, err := optim.NewAdam(ps, optim.DefaultAdam(1e-3))
		if err != nil {
			t.Fatal(err)
		}
		x := tensor.New(4, 32, 32, 8)
		nn.Normal(x, 1, rng)
		g := nn.NewGraph()
		for range 5 {
			h := g.SiLU(norm.Forward(g, conv.Forward(g, nn.Constant(x))))
			o := out.Forward(g, h)
			g.Backward(g.Mean(g.Mul(o, o)))
			opt.Step()
			nn.ZeroGrad(ps)
			g.Reset()
		}
		var all []float32
		for _, p := range ps {
			all = append(all, p.Value.Data...)
		}
		return all
	}
	a := run()
	for range 3 {
		b := run()
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("value %d differs between identical runs: %g vs %g", i, a[i], b[i])
			}
		}
	}
}
