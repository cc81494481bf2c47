package reward

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strconv"

	"facereward/nn"
	"facereward/tensor"
)

// Config sizes the FRM.
type Config struct {
	ImageSize int `json:"image_size"`
	// Widths are the channels of the full-resolution stem (Widths[0]) and
	// of each stride-2 level after it: len(Widths)-1 halvings.
	Widths []int `json:"widths"`
}

// DefaultConfig reads 128×128 faces: a stem at full resolution (grain and
// blur live in the finest scale, so the first convolution must see every
// pixel), then four halvings to 8×8: 0.44 GFLOP per face forward, 0.59 M parameters.
func DefaultConfig() Config { return Config{ImageSize: 128, Widths: []int{32, 32, 64, 128, 128}} }

// Bounds on a Config. A config is read from a model file's metadata and
// the network is allocated from it before any weight is read, so an
// unchecked width of 100000 is a 360 GB allocation that kills the process.
// They are far above the default (widths ≤ 128 at 128×128) and far below
// what would exhaust memory.
const (
	// MaxImageSize: faces are scored at 128×128; 1024 is 8× that.
	MaxImageSize = 1024
	// MaxWidth bounds every width: a 3×3 convolution of 4096 channels is
	// already 151 M parameters.
	MaxWidth = 4096
	// MaxParams bounds the parameters counted from the config, so that
	// many moderate widths cannot add up to an exhausted memory: 200 M
	// float32 are 800 MB, against 0.59 M for the default FRM.
	MaxParams = 200_000_000
)

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if err := c.check(); err != nil {
		return fmt.Errorf("reward: %w", err)
	}
	return nil
}

// check is Validate without the package prefix, for errors that already
// name the file the config came from.
func (c Config) check() error {
	if len(c.Widths) < 2 {
		return errors.New("config needs at least two widths (a stem and one level)")
	}
	if c.ImageSize < 1 || c.ImageSize > MaxImageSize {
		return fmt.Errorf("image_size = %d, want 1..%d", c.ImageSize, MaxImageSize)
	}
	// Each width after the stem halves the image, so more levels than the
	// image has bits cannot fit (and would overflow the shift below).
	if len(c.Widths)-1 > bits.Len(uint(c.ImageSize)) {
		return fmt.Errorf("%d widths, too many halvings for image size %d", len(c.Widths), c.ImageSize)
	}
	div := 1 << (len(c.Widths) - 1)
	if c.ImageSize%div != 0 {
		return fmt.Errorf("image size %d is not a positive multiple of %d (%d halvings)", c.ImageSize, div, len(c.Widths)-1)
	}
	for i, w := range c.Widths {
		if w < 1 || w > MaxWidth {
			return fmt.Errorf("widths[%d] = %d, want 1..%d", i, w, MaxWidth)
		}
	}
	if n := c.numParams(); n > MaxParams {
		return fmt.Errorf("%d parameters, want at most %d", n, MaxParams)
	}
	return nil
}

// numParams counts what New allocates, without allocating it; it mirrors
// New and TestNumParams keeps the two in step. Only call it on widths
// already range-checked.
func (c Config) numParams() int64 {
	conv := func(cin, cout int) int64 { return int64(9*cin*cout + cout) }
	w := c.Widths
	n := conv(3, w[0])
	for i := 1; i < len(w); i++ {
		n += conv(w[i-1], w[i]) + conv(w[i], w[i])
	}
	return n + int64(w[len(w)-1]+1)
}

// FRM scores faces: higher is better.
type FRM struct {
	Config Config
	Stem   *nn.Conv2d
	Levels []*Level
	Head   *nn.Linear
}

// Level halves the resolution (stride-2 conv) and mixes at the new one.
type Level struct{ Down, Conv *nn.Conv2d }

// Params lists the level's parameters.
func (l *Level) Params() []*nn.Param { return nn.Collect(l.Down, l.Conv) }

// slope is the leaky ReLU's negative slope: a plain ReLU would zero the
// input gradient wherever a unit is off, and ReFL needs that gradient.
const slope = 0.2

// New builds an FRM with seeded weights; parameter names start with "frm.".
func New(c Config, rng *rand.Rand) (*FRM, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m := &FRM{Config: c, Stem: nn.NewConv2d("frm.stem", 3, c.Widths[0], 3, 1, 1, rng)}
	for i := 1; i < len(c.Widths); i++ {
		name := "frm.level." + strconv.Itoa(i-1)
		m.Levels = append(m.Levels, &Level{
			Down: nn.NewConv2d(name+".down", c.Widths[i-1], c.Widths[i], 3, 2, 1, rng),
			Conv: nn.NewConv2d(name+".conv", c.Widths[i], c.Widths[i], 3, 1, 1, rng),
		})
	}
	m.Head = nn.NewLinear("frm.head", c.Widths[len(c.Widths)-1], 1, rng)
	return m, nil
}

// Params lists the FRM's parameters.
func (m *FRM) Params() []*nn.Param {
	ms := []nn.Module{m.Stem}
	for _, l := range m.Levels {
		ms = append(ms, l)
	}
	return nn.Collect(append(ms, m.Head)...)
}

// FLOPs is the forward cost of one face (multiply-adds count two).
func (m *FRM) FLOPs() float64 {
	s, w := float64(m.Config.ImageSize), m.Config.Widths
	f := 2 * s * s * 27 * float64(w[0])
	for i := 1; i < len(w); i++ {
		s /= 2
		f += 2 * s * s * 9 * float64(w[i-1]*w[i])
		f += 2 * s * s * 9 * float64(w[i]*w[i])
	}
	return f
}

// Forward scores faces x [N,S,S,3] with values in [0,1] and returns [N,1].
func (m *FRM) Forward(g *nn.Graph, x *nn.Var) *nn.Var {
	s := x.Shape()
	if len(s) != 4 || s[1] != m.Config.ImageSize || s[2] != m.Config.ImageSize || s[3] != 3 {
		panic(fmt.Sprintf("reward: FRM input is %s, want [N,%d,%d,3]", tensor.ShapeString(s), m.Config.ImageSize, m.Config.ImageSize))
	}
	h := g.AddScalar(g.Scale(x, 2), -1) // [0,1] → [-1,1], the restorer's range
	h = g.LeakyReLU(m.Stem.Forward(g, h), slope)
	for _, l := range m.Levels {
		h = g.LeakyReLU(l.Down.Forward(g, h), slope)
		h = g.LeakyReLU(l.Conv.Forward(g, h), slope)
	}
	return m.Head.Forward(g, g.MeanHW(h))
}

// Score returns the score of each face in x [N,S,S,3] (values in [0,1]),
// without gradients, in batches of at most batch faces.
func (m *FRM) Score(x *tensor.Tensor, batch int) []float64 {
	n, per := x.Shape[0], x.Len()/max(x.Shape[0], 1)
	scores := make([]float64, 0, n)
	g := nn.NewGraph()
	g.NoGrad = true
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		b := tensor.FromSlice(x.Data[lo*per:hi*per], hi-lo, x.Shape[1], x.Shape[2], x.Shape[3])
		for _, v := range m.Forward(g, nn.Constant(b)).Value.Data {
			scores = append(scores, float64(v))
		}
		g.Reset()
	}
	return scores
}
