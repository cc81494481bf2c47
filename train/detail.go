package train

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"facereward/checkpoint"
	"facereward/diffusion"
	"facereward/facenet"
	"facereward/nn"
	"facereward/optim"
	"facereward/restorer"
	"facereward/tensor"
)

// DetailOptions are stage 2's terms on the clean-image estimate x0_hat,
// which the denoising loss alone trains towards the mean of the faces a
// noisy input could be: a blur. The adversarial term asks for what a
// real face has at the scale of a patch (lashes, teeth, strands); the
// identity and feature terms, through the face-recognition net, hold the
// person and the layout that the adversarial term alone would trade away.
// All weights 0 is plain diffusion training.
type DetailOptions struct {
	Adv  float64             `json:"adv"`  // λ of the hinge generator term −mean D(x0_hat)
	ID   float64             `json:"id"`   // λ of the squared descriptor distance to the GT's
	Feat float64             `json:"feat"` // λ of the L1 between early recognition-net activations
	Disc restorer.DiscConfig `json:"disc"`
	// DiscLR is the discriminator's Adam learning rate (constant), and
	// DiscSteps the updates it takes per restorer step, on that step's
	// batch: a spectral-norm critic learns slowly (its logits stay in the
	// hinge's linear range, as a WGAN critic's), and its steps cost a
	// twentieth of the restorer's.
	DiscLR    float64 `json:"disc_lr"`
	DiscSteps int     `json:"disc_steps"`
	// AdvMinT: the adversarial term, and the discriminator's fakes, use
	// only the estimates made at t ≥ AdvMinT·T. Below, x_t is so little
	// noised that x0_hat is the ground truth up to the noise, and a
	// discriminator fed those learns nothing: where the blur comes from is
	// the high-noise steps restore starts with.
	AdvMinT float64 `json:"adv_min_t"`
}

// On reports whether any detail term is weighted.
func (o DetailOptions) On() bool { return o.Adv > 0 || o.ID > 0 || o.Feat > 0 }

// Validate checks the weights and, with the adversarial term on, the
// discriminator.
func (o DetailOptions) Validate() error {
	if !(o.Adv >= 0 && o.ID >= 0 && o.Feat >= 0) || !(o.AdvMinT >= 0 && o.AdvMinT < 1) {
		return fmt.Errorf("detail weights adv %v, id %v, feat %v (want >= 0), adv_min_t %v (want in [0, 1))", o.Adv, o.ID, o.Feat, o.AdvMinT)
	}
	if o.Adv > 0 {
		if !(o.DiscLR > 0) || o.DiscSteps < 1 {
			return fmt.Errorf("discriminator learning rate %v (want > 0), steps %d (want >= 1)", o.DiscLR, o.DiscSteps)
		}
		return o.Disc.Validate()
	}
	return nil
}

// detail is a stage-2 run's detail terms: the discriminator with its own
// optimiser, and the face loss.
type detail struct {
	opt  DetailOptions
	disc *restorer.Discriminator // nil without the adversarial term
	dopt *optim.Adam
	face facenet.FaceLoss
	// dg is the stepper's graph, reset after the restorer's pass, so the
	// discriminator's steps reuse that pass's buffers rather than hold a
	// pool of their own beside them.
	dg *nn.Graph
	// fake is the last generator pass's x0_hat, which the discriminator
	// step then learns to tell from the ground truth, and fakeW its faces'
	// weights (1 at t ≥ AdvMinT·T, else 0).
	fake  *tensor.Tensor
	fakeW []float32
}

// newDetail builds the terms of o for size×size faces, with g the graph
// they run on, and returns the state a checkpoint must carry besides the
// restorer's weights.
func newDetail(o DetailOptions, size int, seed uint64, g *nn.Graph) (*detail, map[string]optim.Stateful, error) {
	if err := o.Validate(); err != nil {
		return nil, nil, fmt.Errorf("train stage 2: %w", err)
	}
	d := &detail{opt: o, dg: g}
	parts := map[string]optim.Stateful{}
	if o.ID > 0 || o.Feat > 0 {
		_, rec, err := facenet.Load()
		if err != nil {
			return nil, nil, err
		}
		d.face = facenet.FaceLoss{Rec: rec}
	}
	if o.Adv > 0 {
		var err error
		// Its own stream, so that the restorer's initial weights do not
		// depend on whether there is a discriminator.
		if d.disc, err = restorer.NewDiscriminator(o.Disc, size, rand.New(rand.NewPCG(seed, 0xd15c))); err != nil {
			return nil, nil, err
		}
		cfg := optim.DefaultAdam(o.DiscLR)
		cfg.Beta2 = 0.99
		if d.dopt, err = optim.NewAdamW(d.disc.Params(), cfg); err != nil {
			return nil, nil, err
		}
		// Frozen but for its own step: the generator pass needs only its
		// input gradient.
		nn.Freeze(d.disc)
		parts["disc"] = checkpoint.ParamsPart(d.disc.Params())
		parts["disc_optim"] = d.dopt
	}
	return d, parts, nil
}

// generator returns the weighted detail terms on x0hat, made at timesteps
// t, against hq (both in the restorer's [-1,1]; hq is data) and their
// unweighted values for the log, and keeps x0_hat for the discriminator
// step.
func (d *detail) generator(g *nn.Graph, x0hat *nn.Var, t []int, hq *tensor.Tensor) (*nn.Var, map[string]any) {
	d.fake = x0hat.Value.Clone()
	d.fakeW = make([]float32, len(t))
	n := 0
	for i, ti := range t {
		if float64(ti) >= d.opt.AdvMinT*diffusion.DefaultT {
			d.fakeW[i] = 1
			n++
		}
	}
	fields := map[string]any{}
	var total *nn.Var
	add := func(key string, w float64, v *nn.Var) {
		fields[key] = v.Value.Data[0]
		t := g.Scale(v, float32(w))
		if total == nil {
			total = t
		} else {
			total = g.Add(total, t)
		}
	}
	if d.disc != nil && n > 0 {
		add(KeyAdv, d.opt.Adv, restorer.HingeG(g, d.disc.Forward(g, x0hat), d.fakeW))
	}
	if d.face.Rec != nil {
		unit := func(v *nn.Var) *nn.Var { return g.Scale(g.AddScalar(v, 1), 0.5) }
		id, feat := d.face.Terms(g, unit(x0hat), unit(nn.Constant(hq)))
		// Both join the loss, a zero weight included: every op on the
		// tape must reach it.
		add(KeyID, d.opt.ID, id)
		add(KeyFeat, d.opt.Feat, feat)
	}
	return total, fields
}

// discStep takes the discriminator's updates, the ground truth hq as real
// and the last generator pass's x0_hat as fake, and adds the first one's
// log fields.
func (d *detail) discStep(hq *tensor.Tensor, fields map[string]any) {
	if d.disc == nil || !slices.Contains(d.fakeW, 1) {
		return
	}
	g := d.dg
	ps := d.disc.Params()
	nn.Unfreeze(d.disc)
	defer nn.Freeze(d.disc)
	for i := range d.opt.DiscSteps {
		real := d.disc.Forward(g, nn.Constant(hq))
		fake := d.disc.Forward(g, nn.Constant(d.fake))
		loss := restorer.HingeD(g, real, fake, d.fakeW)
		if i == 0 {
			fields[KeyDiscLoss] = loss.Value.Data[0]
			fields[KeyDiscReal] = meanOf(real.Value.Data, nil)
			fields[KeyDiscFake] = meanOf(fake.Value.Data, d.fakeW)
		}
		g.Backward(loss)
		g.Reset()
		optim.ClipGradNorm(ps, 1)
		d.dopt.Step()
		nn.ZeroGrad(ps)
	}
}

// meanOf is the mean of a batch's logits xs, each face weighted by w
// (nil: all 1).
func meanOf(xs []float32, w []float32) float64 {
	var s, n float64
	per := len(xs)
	if w != nil {
		per /= len(w)
	}
	for i, x := range xs {
		wi := 1.0
		if w != nil {
			wi = float64(w[i/per])
		}
		s += wi * float64(x)
		n += wi
	}
	return s / n
}
