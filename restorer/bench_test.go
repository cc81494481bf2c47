package restorer

import (
	"testing"

	"facereward/nn"
)

// The benchmarks run the default configs at batch 8 and 128×128 and report
// GFLOP/s from the networks' own FLOP counts (a training step, forward and
// backward, is counted as three forwards).
const benchBatch = 8

func benchStep(b *testing.B, flops float64, step func()) {
	step() // the first call fills the graph's buffer pool
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkStage1(b *testing.B) {
	c := DefaultConfig()
	net, err := NewStage1(c.Stage1, nn.NewRNG(1))
	if err != nil {
		b.Fatal(err)
	}
	rng := nn.NewRNG(2)
	lq, hq := nn.Constant(randImage(rng, benchBatch, c.Stage1.ImageSize)), nn.Constant(randImage(rng, benchBatch, c.Stage1.ImageSize))
	f := net.FLOPs() * benchBatch
	g := nn.NewGraph()
	b.Logf("stage 1: %.2f GFLOP per image forward, %d parameters", net.FLOPs()/1e9, nn.NumParams(net.Params()))
	b.Run("forward", func(b *testing.B) {
		benchStep(b, f, func() {
			g.NoGrad = true
			net.Forward(g, lq)
			g.NoGrad = false
			g.Reset()
		})
	})
	b.Run("train", func(b *testing.B) {
		benchStep(b, 3*f, func() {
			g.Backward(g.L1Loss(net.Forward(g, lq), hq))
			g.Reset()
		})
	})
}

// BenchmarkUNetControl times the stage-2 pass: control branch plus UNet.
// "train" is ReFL's case, with the UNet frozen (its weight gradients are
// skipped, so the step costs somewhat less than three forwards).
func BenchmarkUNetControl(b *testing.B) {
	c := DefaultConfig()
	m, err := NewModel(c, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := nn.NewRNG(2)
	s := c.UNet.ImageSize
	xt, cond := nn.Constant(randImage(rng, benchBatch, s)), nn.Constant(randImage(rng, benchBatch, s))
	target := nn.Constant(randImage(rng, benchBatch, s))
	ts := make([]int, benchBatch)
	for i := range ts {
		ts[i] = 100 * i
	}
	per := m.UNet.FLOPs() + m.Control.FLOPs()
	f := per * benchBatch
	b.Logf("UNet %.2f + control %.2f GFLOP per image forward; %d + %d parameters",
		m.UNet.FLOPs()/1e9, m.Control.FLOPs()/1e9, nn.NumParams(m.UNet.Params()), nn.NumParams(m.Control.Params()))
	g := nn.NewGraph()
	b.Run("forward", func(b *testing.B) {
		benchStep(b, f, func() {
			g.NoGrad = true
			m.Predict(g, xt, ts, cond)
			g.NoGrad = false
			g.Reset()
		})
	})
	b.Run("train-control", func(b *testing.B) {
		m.FreezeUNet()
		defer nn.Unfreeze(m.UNet)
		benchStep(b, 3*f, func() {
			out, _ := m.Predict(g, xt, ts, cond)
			g.Backward(g.MSELoss(out, target))
			g.Reset()
		})
	})
	b.Run("train-unet", func(b *testing.B) {
		fu := m.UNet.FLOPs() * benchBatch
		benchStep(b, 3*fu, func() {
			g.Backward(g.MSELoss(m.UNet.Forward(g, xt, ts, nil), target))
			g.Reset()
		})
	})
}

// BenchmarkRestore times whole restorations of 128×128 faces with the
// default model: "face" is bench restorer's "restore one face" row (batch
// 1, 20 steps from pure noise), "batch8" the restore command's (a batch of
// 8, the default options: stage 1, then 10 of 20 steps).
func BenchmarkRestore(b *testing.B) {
	m, err := NewModel(DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := nn.NewRNG(2)
	for _, r := range []struct {
		name string
		n    int
		o    SampleOptions
	}{
		{"face", 1, SampleOptions{Steps: 20, Strength: 1}},
		{"batch8", benchBatch, DefaultSampleOptions()},
	} {
		lq := randImage(rng, r.n, m.Config.UNet.ImageSize)
		s, err := NewSampler(m, r.o)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.Restore(lq, nn.NewRNG(3)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
