package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"facereward/checkpoint"
	"facereward/faces"
	"facereward/nn"
	"facereward/optim"
	"facereward/restorer"
	"facereward/tensor"
)

// critic is one discriminator of stage 2's adversarial term: its weights
// and optimiser, the views of a face it judges (the whole face, or the
// crops of its eyes and mouth), the term's weight and its log keys.
type critic struct {
	w     float64
	disc  *restorer.Discriminator
	opt   *optim.Adam
	views func(g *nn.Graph, x *nn.Var) []*nn.Var
	keys  criticKeys
}

// criticKeys name a critic's generator term and its own step's hinge loss
// and mean logits on the ground truth and on x0_hat, in the log.
type criticKeys struct{ adv, loss, real, fake string }

// newCritic builds a critic of weight w whose discriminator, of config c,
// judges views of side×side pixels, seeded from its own stream, with an
// Adam at lr; the checkpoint carries both under part and part+"_optim".
func newCritic(w float64, c restorer.DiscConfig, side int, views func(*nn.Graph, *nn.Var) []*nn.Var, keys criticKeys,
	lr float64, seed, stream uint64, part string, parts map[string]optim.Stateful) (*critic, error) {
	disc, err := restorer.NewDiscriminator(c, side, rand.New(rand.NewPCG(seed, stream)))
	if err != nil {
		return nil, err
	}
	cfg := optim.DefaultAdam(lr)
	cfg.Beta2 = 0.99
	opt, err := optim.NewAdamW(disc.Params(), cfg)
	if err != nil {
		return nil, err
	}
	// Frozen but for its own step: the generator pass needs only its input
	// gradient.
	nn.Freeze(disc)
	parts[part] = checkpoint.ParamsPart(disc.Params())
	parts[part+"_optim"] = opt
	return &critic{w: w, disc: disc, opt: opt, views: views, keys: keys}, nil
}

// generator is the critic's hinge generator term on x: −mean D over its
// views, each face weighted by w.
func (c *critic) generator(g *nn.Graph, x *nn.Var, w []float32) *nn.Var {
	vs := c.views(g, x)
	terms := make([]*nn.Var, len(vs))
	for i, v := range vs {
		terms[i] = restorer.HingeG(g, c.disc.Forward(g, v), w)
	}
	return average(g, terms)
}

// hinge is the critic's hinge loss on real against fake (the fakes
// weighted by w), averaged over its views, with its mean logits on each.
func (c *critic) hinge(g *nn.Graph, real, fake *tensor.Tensor, w []float32) (loss *nn.Var, dReal, dFake float64) {
	rv, fv := c.views(g, nn.Constant(real)), c.views(g, nn.Constant(fake))
	losses := make([]*nn.Var, len(rv))
	for i := range rv {
		r, f := c.disc.Forward(g, rv[i]), c.disc.Forward(g, fv[i])
		losses[i] = restorer.HingeD(g, r, f, w)
		dReal += meanOf(r.Value.Data, nil) / float64(len(rv))
		dFake += meanOf(f.Value.Data, w) / float64(len(rv))
	}
	return average(g, losses), dReal, dFake
}

// average is the mean of the scalars xs; one is returned as it is, so a
// critic of one view computes what a lone discriminator would, bit for bit.
func average(g *nn.Graph, xs []*nn.Var) *nn.Var {
	sum := xs[0]
	for _, x := range xs[1:] {
		sum = g.Add(sum, x)
	}
	if len(xs) == 1 {
		return sum
	}
	return g.Scale(sum, 1/float32(len(xs)))
}

// step takes one update of the critic on real against fake on g, and adds
// its log fields when log is set.
func (c *critic) step(g *nn.Graph, real, fake *tensor.Tensor, w []float32, fields map[string]any, log bool) {
	ps := c.disc.Params()
	nn.Unfreeze(c.disc)
	defer nn.Freeze(c.disc)
	loss, dReal, dFake := c.hinge(g, real, fake, w)
	if log {
		fields[c.keys.loss] = loss.Value.Data[0]
		fields[c.keys.real] = dReal
		fields[c.keys.fake] = dFake
	}
	g.Backward(loss)
	g.Reset()
	optim.ClipGradNorm(ps, 1)
	c.opt.Step()
	nn.ZeroGrad(ps)
}

// wholeFace is the view of the whole-face critic.
func wholeFace(_ *nn.Graph, x *nn.Var) []*nn.Var { return []*nn.Var{x} }

// Box is a square window of an aligned face: its top-left pixel and side.
type Box struct{ Y, X, Side int }

// ComponentBoxes are the windows of the component critic on a size×size
// FFHQ-aligned face: squares of a quarter of its side centred on the
// template's eyes and on its mouth (the midpoint of the mouth corners).
// They lie where GFPGAN's facial-component discriminators look, at fixed
// places, since every training face is aligned to the template (flips keep
// the eyes' pair of windows, which are symmetric about the centre). side
// is a multiple of 2^levels, as the critic's discriminator needs.
func ComponentBoxes(size, levels int) ([]Box, error) {
	unit := 1 << levels
	side := size / 4 / unit * unit
	if side < unit {
		return nil, fmt.Errorf("component critic: %d×%d faces give windows under %d pixels, the %d levels' minimum", size, size, unit, levels)
	}
	t := faces.Template(size)
	centres := [][2]float32{
		{t[0][0], t[0][1]}, {t[1][0], t[1][1]},
		{(t[3][0] + t[4][0]) / 2, (t[3][1] + t[4][1]) / 2},
	}
	boxes := make([]Box, len(centres))
	for i, c := range centres {
		at := func(v float32) int {
			return min(max(int(math.Round(float64(v)-float64(side)/2)), 0), size-side)
		}
		boxes[i] = Box{Y: at(c[1]), X: at(c[0]), Side: side}
	}
	return boxes, nil
}

// componentViews returns the component critic's views: the crops of
// boxes.
func componentViews(boxes []Box) func(g *nn.Graph, x *nn.Var) []*nn.Var {
	return func(g *nn.Graph, x *nn.Var) []*nn.Var {
		vs := make([]*nn.Var, len(boxes))
		for i, b := range boxes {
			vs[i] = g.Crop(x, b.Y, b.X, b.Side, b.Side)
		}
		return vs
	}
}
