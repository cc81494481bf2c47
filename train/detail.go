package train

import (
	"fmt"
	"slices"

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
	// Comp is λ of a second critic's hinge term, on the windows of the
	// eyes and the mouth (ComponentBoxes), as GFPGAN's facial-component
	// discriminators: where a blurred face loses most, and where a
	// whole-face critic's verdict is a few of its patches among many. Its
	// discriminator has CompDisc's config and trains beside the first,
	// with the same learning rate, steps and AdvMinT. 0: none.
	Comp     float64             `json:"comp,omitempty"`
	CompDisc restorer.DiscConfig `json:"comp_disc,omitzero"`
}

// On reports whether any detail term is weighted.
func (o DetailOptions) On() bool { return o.Adv > 0 || o.Comp > 0 || o.ID > 0 || o.Feat > 0 }

// Validate checks the weights and, with an adversarial term on, its
// discriminator.
func (o DetailOptions) Validate() error {
	if !(o.Adv >= 0 && o.Comp >= 0 && o.ID >= 0 && o.Feat >= 0) || !(o.AdvMinT >= 0 && o.AdvMinT < 1) {
		return fmt.Errorf("detail weights adv %v, comp %v, id %v, feat %v (want >= 0), adv_min_t %v (want in [0, 1))", o.Adv, o.Comp, o.ID, o.Feat, o.AdvMinT)
	}
	if o.Adv > 0 || o.Comp > 0 {
		if !(o.DiscLR > 0) || o.DiscSteps < 1 {
			return fmt.Errorf("discriminator learning rate %v (want > 0), steps %d (want >= 1)", o.DiscLR, o.DiscSteps)
		}
	}
	if o.Adv > 0 {
		if err := o.Disc.Validate(); err != nil {
			return err
		}
	}
	if o.Comp > 0 {
		if err := o.CompDisc.Validate(); err != nil {
			return fmt.Errorf("component critic: %w", err)
		}
	}
	return nil
}

// detail is a stage-2 run's detail terms: the critics, each with its own
// optimiser, and the face loss.
type detail struct {
	opt DetailOptions
	// critics: the whole face's (with Adv > 0), then the components' (with
	// Comp > 0).
	critics []*critic
	face    facenet.FaceLoss
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
	// Each critic has its own stream, so that the restorer's initial
	// weights do not depend on whether there is one.
	if o.Adv > 0 {
		keys := criticKeys{KeyAdv, KeyDiscLoss, KeyDiscReal, KeyDiscFake}
		c, err := newCritic(o.Adv, o.Disc, size, wholeFace, keys, o.DiscLR, seed, 0xd15c, "disc", parts)
		if err != nil {
			return nil, nil, err
		}
		d.critics = append(d.critics, c)
	}
	if o.Comp > 0 {
		boxes, err := ComponentBoxes(size, len(o.CompDisc.Widths))
		if err != nil {
			return nil, nil, err
		}
		keys := criticKeys{KeyAdvComp, KeyCompDiscLoss, KeyCompDiscReal, KeyCompDiscFake}
		c, err := newCritic(o.Comp, o.CompDisc, boxes[0].Side, componentViews(boxes), keys, o.DiscLR, seed, 0xc0de, "comp_disc", parts)
		if err != nil {
			return nil, nil, err
		}
		d.critics = append(d.critics, c)
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
	if n > 0 {
		for _, c := range d.critics {
			add(c.keys.adv, c.w, c.generator(g, x0hat, d.fakeW))
		}
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

// discStep takes the critics' updates, the ground truth hq as real and
// the last generator pass's x0_hat as fake, and adds each one's first log
// fields.
func (d *detail) discStep(hq *tensor.Tensor, fields map[string]any) {
	if len(d.critics) == 0 || !slices.Contains(d.fakeW, 1) {
		return
	}
	for _, c := range d.critics {
		for i := range d.opt.DiscSteps {
			c.step(d.dg, hq, d.fake, d.fakeW, fields, i == 0)
		}
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
