package reward

import (
	"testing"

	"facereward/nn"
	"facereward/optim"
)

// BenchmarkUpdate is the work of refl.Updater.Step on the default FRM at
// bench refl's batch of 4: two forward passes, the BT loss, backward,
// clipping and AdamW.
func BenchmarkUpdate(b *testing.B) {
	m, err := New(DefaultConfig(), nn.NewRNG(1))
	if err != nil {
		b.Fatal(err)
	}
	s := m.Config.ImageSize
	hq, x0 := uniformImages(2, 4, s), uniformImages(3, 4, s)
	ps := m.Params()
	opt, err := optim.NewAdamW(ps, optim.DefaultAdam(2e-6))
	if err != nil {
		b.Fatal(err)
	}
	g := nn.NewGraph()
	g.FreeValues = true
	for b.Loop() {
		bt := BTLoss(g, m.Forward(g, nn.Constant(hq)), m.Forward(g, nn.Constant(x0)))
		g.Backward(g.Scale(bt, 0.1))
		g.Reset()
		optim.ClipGradNorm(ps, 1)
		opt.Step()
		nn.ZeroGrad(ps)
	}
}
