package train

import (
	"math/rand/v2"
	"testing"

	"facereward/nn"
	"facereward/restorer"
	"facereward/restorer/restorertest"
	"facereward/tensor"
	"facereward/train/traintest"
)

// The discriminator step trains each critic (its weights move, and on a
// fixed pair of batches its hinge loss falls), and only on the faces whose
// estimates were made at t >= AdvMinT·T.
func TestDiscStepLearns(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(o *DetailOptions)
		key  string
	}{
		{"whole face", func(o *DetailOptions) { o.Adv, o.Disc = 0.1, restorer.DiscConfig{Widths: []int{8, 16}, PowerIters: 8} }, KeyDiscLoss},
		{"components", func(o *DetailOptions) {
			o.Comp, o.CompDisc = 0.1, restorer.DiscConfig{Widths: []int{8, 16}, PowerIters: 8}
		}, KeyCompDiscLoss},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultStage2Options("").Detail
			o.DiscSteps, o.DiscLR = 1, 1e-3
			c.set(&o)
			d, _, err := newDetail(o, 32, 1, nn.NewGraph())
			if err != nil {
				t.Fatal(err)
			}
			cr := d.critics[0]
			rng := nn.NewRNG(4)
			real, fake := tensor.New(4, 32, 32, 3), tensor.New(4, 32, 32, 3)
			nn.Normal(real, 0.5, rng) // rough "detail"
			for i := range fake.Data {
				fake.Data[i] = real.Data[i] * 0.2 // the same faces, smoothed away
			}
			before := cr.disc.Params()[0].Value.Clone()
			g := nn.NewGraph()
			loss := func() float32 {
				lg := nn.NewGraph()
				lg.NoGrad = true
				l, _, _ := cr.hinge(lg, real, fake, nil)
				return l.Value.Data[0]
			}
			first := loss()
			for range 30 {
				d.generator(g, nn.Constant(fake), []int{999, 999, 999, 999}, real)
				g.Reset()
				fields := map[string]any{}
				d.discStep(real, fields)
				if _, ok := fields[c.key]; !ok {
					t.Fatalf("no discriminator step: fields %v", fields)
				}
			}
			if after := cr.disc.Params()[0].Value; tensor.SameShape(after.Shape, before.Shape) && after.Data[0] == before.Data[0] && after.Data[1] == before.Data[1] {
				t.Fatal("the discriminator's weights did not move")
			}
			if last := loss(); !(last < first-0.2) {
				t.Errorf("hinge loss %v after 30 steps, %v before: the discriminator does not learn", last, first)
			}
			// Estimates from low-noise steps only: no discriminator step at all.
			d.generator(g, nn.Constant(fake), []int{10, 20, 30, 40}, real)
			g.Reset()
			fields := map[string]any{}
			d.discStep(real, fields)
			if _, ok := fields[c.key]; ok {
				t.Error("a discriminator step on estimates below AdvMinT")
			}
		})
	}
}

// The stage-2 step with every detail term, the discriminator's step
// included, gives the same gradients byte for byte whether Backward frees
// values as it goes (the steppers' graphs do) or keeps them all.
func TestStage2StepFreeValues(t *testing.T) {
	o := DefaultStage2Options("")
	o.Detail.Adv, o.Detail.ID, o.Detail.Feat, o.Detail.AdvMinT = 0.1, 0.1, 0.05, 0
	o.Detail.Disc = restorer.DiscConfig{Widths: []int{8, 16}, PowerIters: 2}
	o.Detail.Comp, o.Detail.CompDisc = 0.1, o.Detail.Disc
	traintest.SameGrads(t, func(free bool) []*nn.Param {
		m := restorertest.Model(t, 3, 0.1)
		st, _, err := NewStage2Stepper(m, o)
		if err != nil {
			t.Fatal(err)
		}
		st.g.FreeValues = free
		s := m.Config.UNet.ImageSize
		rng := rand.New(rand.NewPCG(5, 6))
		lq, hq := tensor.New(2, s, s, 3), tensor.New(2, s, s, 3)
		for i := range lq.Data {
			lq.Data[i], hq.Data[i] = rng.Float32(), rng.Float32()
		}
		for range 2 { // the second step on the first's pool, after a discriminator step
			var fields map[string]any
			if _, fields, err = st.Grad(lq, hq, rng); err != nil {
				t.Fatal(err)
			}
			st.Disc(fields)
		}
		return m.Params()
	})
}
