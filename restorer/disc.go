package restorer

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"facereward/nn"
	"facereward/tensor"
)

// DiscConfig sizes the patch discriminator of stage 2's adversarial term.
type DiscConfig struct {
	// Widths are the channels of the stride-2 levels: the logits come out
	// at ImageSize/2^len(Widths), one per overlapping patch.
	Widths []int `json:"widths"`
	// PowerIters is the number of power iterations that estimate each
	// weight's spectral norm, from a fixed start every step (stateless, so
	// a resumed run continues exactly).
	PowerIters int `json:"power_iters"`
	// HighPass, when > 0, shows the discriminator only the detail bands of
	// a face: the face minus its à-trous wavelet lowpass of this many
	// levels (scaled by HighPassGain). A discriminator that sees the whole
	// face can be fooled by colour and contrast, which the restorer shifts
	// in a few steps; one that sees only the fine bands must be fooled by
	// texture.
	HighPass     int     `json:"high_pass,omitempty"`
	HighPassGain float64 `json:"high_pass_gain,omitempty"`
}

// DefaultDisc is Real-ESRGAN's idea at CPU scale: three spectral-norm
// stride-2 levels (64, 128, 256) and a 3×3 head, 16×16 logits per 128×128
// face (patches of about 30 pixels: an eye, a mouth corner, a lock of
// hair), 0.3 GFLOP per face forward.
func DefaultDisc() DiscConfig { return DiscConfig{Widths: []int{64, 128, 256}, PowerIters: 8} }

// Bounds of a discriminator config, checked before anything is allocated:
// at most MaxDiscLevels stride-2 levels (a 1024-pixel face halves to one
// pixel in 10), MaxDiscPowerIters power iterations and MaxDiscHighPass
// wavelet levels, every width at most MaxWidth, and MaxParams in all.
const (
	MaxDiscLevels     = 10
	MaxDiscPowerIters = 100
	MaxDiscHighPass   = 10
	MaxDiscGain       = 1e6
)

// Validate checks the config, naming the field as its JSON does.
func (c DiscConfig) Validate() error {
	fail := func(err error) error { return fmt.Errorf("restorer: discriminator: %w", err) }
	if err := checkRange("len(widths)", len(c.Widths), 1, MaxDiscLevels); err != nil {
		return fail(err)
	}
	if err := checkRange("power_iters", c.PowerIters, 1, MaxDiscPowerIters); err != nil {
		return fail(err)
	}
	if err := checkRange("high_pass", c.HighPass, 0, MaxDiscHighPass); err != nil {
		return fail(err)
	}
	if c.HighPass > 0 && !(c.HighPassGain > 0 && c.HighPassGain <= MaxDiscGain) {
		return fail(fmt.Errorf("high_pass_gain = %v, want in (0, %g] with high_pass on", c.HighPassGain, MaxDiscGain))
	}
	params, in := 0, 3
	for i, w := range c.Widths {
		if err := checkRange(fmt.Sprintf("widths[%d]", i), w, 1, MaxWidth); err != nil {
			return fail(err)
		}
		params += 9*in*w + w
		in = w
	}
	if params += 9*in + 1; params > MaxParams {
		return fail(fmt.Errorf("%d parameters, want at most %d", params, MaxParams))
	}
	return nil
}

// Discriminator scores a face patch by patch: positive logits for what
// looks like a real face, negative for a restoration. Spectral norm on
// every weight bounds its Lipschitz constant, which is what keeps a
// hinge-loss GAN from diverging at the small batches of a CPU.
type Discriminator struct {
	Config DiscConfig
	Convs  []*nn.Conv2d // 3×3, stride 2
	Head   *nn.Conv2d   // 3×3 to one logit

	flops flops
}

// NewDiscriminator builds a discriminator for size×size faces with seeded
// weights; parameter names start with "disc.".
func NewDiscriminator(c DiscConfig, size int, rng *rand.Rand) (*Discriminator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if size%(1<<len(c.Widths)) != 0 {
		return nil, fmt.Errorf("restorer: discriminator of %d levels on %d×%d faces (want a multiple of %d)", len(c.Widths), size, size, 1<<len(c.Widths))
	}
	d := &Discriminator{Config: c}
	cin, s := 3, size
	for i, w := range c.Widths {
		s /= 2
		d.Convs = append(d.Convs, nn.NewConv2d("disc.conv"+strconv.Itoa(i), cin, w, 3, 2, 1, rng))
		d.flops.conv(s, s, cin, w, 3)
		cin = w
	}
	d.Head = nn.NewConv2d("disc.head", cin, 1, 3, 1, 1, rng)
	d.flops.conv(s, s, cin, 1, 3)
	return d, nil
}

// Params lists the discriminator's parameters.
func (d *Discriminator) Params() []*nn.Param {
	ms := make([]nn.Module, 0, len(d.Convs)+1)
	for _, c := range d.Convs {
		ms = append(ms, c)
	}
	return nn.Collect(append(ms, d.Head)...)
}

// FLOPs is the cost of one forward pass of one face.
func (d *Discriminator) FLOPs() float64 { return float64(d.flops) }

// Forward returns the patch logits [N,S',S',1] of faces x [N,S,S,3] in
// [-1,1].
func (d *Discriminator) Forward(g *nn.Graph, x *nn.Var) *nn.Var {
	conv := func(c *nn.Conv2d, x *nn.Var) *nn.Var {
		return g.Conv2D(x, g.SpectralNorm(c.W.Var, d.Config.PowerIters), c.B.Var, c.Stride, c.Pad)
	}
	if d.Config.HighPass > 0 {
		x = g.Scale(g.Sub(x, g.WaveletLowpass(x, d.Config.HighPass)), float32(d.Config.HighPassGain))
	}
	for _, c := range d.Convs {
		x = g.LeakyReLU(conv(c, x), 0.2)
	}
	return conv(d.Head, x)
}

// HingeD is the discriminator's hinge loss: mean(relu(1 − D(real))) +
// mean(relu(1 + D(fake))), the fake faces weighted by w (see HingeG).
func HingeD(g *nn.Graph, real, fake *nn.Var, w []float32) *nn.Var {
	return g.Add(g.Mean(g.ReLU(g.AddScalar(g.Scale(real, -1), 1))), weightedMean(g, g.ReLU(g.AddScalar(fake, 1)), w))
}

// HingeG is the generator's side of the hinge GAN: −mean(D(fake)), each
// face's logits weighted by w (nil: all 1; a face of weight 0 is left out
// of the mean).
func HingeG(g *nn.Graph, fake *nn.Var, w []float32) *nn.Var {
	return g.Scale(weightedMean(g, fake, w), -1)
}

// weightedMean is Σ_i w_i·Σ x_i / (Σ_i w_i · per-face size) over the batch
// x [N,…], the plain mean when w is nil.
func weightedMean(g *nn.Graph, x *nn.Var, w []float32) *nn.Var {
	if w == nil {
		return g.Mean(x)
	}
	s := x.Shape()
	if len(w) != s[0] {
		panic(fmt.Sprintf("restorer: %d weights for a batch of %d", len(w), s[0]))
	}
	shape := make([]int, len(s))
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = s[0]
	var total float64
	for _, v := range w {
		total += float64(v)
	}
	per := x.Value.Len() / s[0]
	return g.Scale(g.Sum(g.Mul(x, nn.Constant(tensor.FromSlice(w, shape...)))), float32(1/(total*float64(per))))
}
