package restorer

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"facereward/nn"
)

// The sampler keeps work from one step to the next (the graph's Winograd
// kernels, the control branch's hint embedding): these tests check that
// what it keeps is exactly what it would recompute, and that nothing
// outlives a call.

// TestRestoreSeesWeightChanges restores, changes the weights as a training
// step would, and restores again: the second restoration must be that of a
// fresh model holding the new weights, so nothing the sampler keeps from
// one call to the next (the graph's cached kernel transforms) may outlive
// the call. The widths take the Winograd path, where the caching is
// (winogradConfig).
func TestRestoreSeesWeightChanges(t *testing.T) {
	c, rng := winogradConfig(), rand.New(rand.NewPCG(6, 6))
	m := winogradModel(t, c, 5, rng)
	o := SampleOptions{Steps: 4, Strength: 0.5, Guidance: 0.3, Eta: 0.5}
	s, err := NewSampler(m, o)
	if err != nil {
		t.Fatal(err)
	}
	lq := randImage(rng, 2, 16)
	restore := func(s *Sampler) []byte {
		_, out, err := s.Restore(lq, rand.New(rand.NewPCG(7, 7)))
		if err != nil {
			t.Fatal(err)
		}
		return rawBytes(out)
	}
	before := restore(s)
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] *= 1.01
		}
	}
	after := restore(s)
	if bytes.Equal(before, after) {
		t.Fatal("changing every weight by 1% left the restoration unchanged")
	}
	fresh, err := NewModel(c, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range fresh.Params() {
		copy(p.Value.Data, m.Params()[i].Value.Data)
	}
	s2, err := NewSampler(fresh, o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, restore(s2)) {
		t.Error("after a weight change, the sampler restores differently from a fresh model holding the new weights")
	}
}

// TestSampleIsPredictLoop checks the sampler's steps, which reuse the
// control branch's hint embedding and the graph's Winograd kernels from
// one step to the next, against steps that each run Model.Predict on a
// fresh graph: the bytes must be the same. The widths take the Winograd
// path (winogradConfig); eta and guidance are 0, so a step is Predict and
// Schedule.Step.
func TestSampleIsPredictLoop(t *testing.T) {
	c, rng := winogradConfig(), rand.New(rand.NewPCG(9, 9))
	m := winogradModel(t, c, 8, rng)
	s, err := NewSampler(m, SampleOptions{Steps: 6})
	if err != nil {
		t.Fatal(err)
	}
	x, cond := randImage(rng, 2, 16), randImage(rng, 2, 16)
	want := x.Clone()
	const from, to = 1, 4
	if err := s.Sample(x, cond, from, to, nil); err != nil {
		t.Fatal(err)
	}
	d, p := s.DDIM(), c.UNet.Prediction
	for i := from; i < to; i++ {
		step, prev := d.Timestep(i), d.Timestep(i+1)
		g := nn.NewGraph()
		g.NoGrad = true
		pred, _ := m.Predict(g, nn.Constant(want), []int{step, step}, nn.Constant(cond))
		d.Schedule.Step(p, want.Data, want.Data, pred.Value.Data, nil, step, prev, 0)
	}
	if !bytes.Equal(rawBytes(x), rawBytes(want)) {
		t.Error("the sampler's steps differ from steps of Model.Predict on fresh graphs")
	}
}

// winogradConfig is tinyConfig(16) with UNet widths of 128, from which
// every GEMM kernel's convolutions take the Winograd path (nn's threshold
// is 128 channels with the SSE2 kernel, 48 with the others): where the
// sampler's kernel cache is.
func winogradConfig() Config {
	c := tinyConfig(16)
	c.UNet.Widths = []int{128, 128}
	return c
}

// winogradModel is a model of c with seed, its zero-initialised layers
// perturbed by rng so that every branch shapes the output.
func winogradModel(t *testing.T, c Config, seed uint64, rng *rand.Rand) *Model {
	t.Helper()
	m, err := NewModel(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	perturbZeros(m, rng)
	return m
}
