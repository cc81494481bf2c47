package restorer

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"facereward/nn"
	"facereward/tensor"
)

// flops accumulates the multiply-adds (×2) of one forward pass of one image
// while a network is built, so that each network can report its own cost
// without a second description of its architecture that could drift.
type flops float64

// conv counts a k×k convolution producing an h×w×cout map from cin channels.
func (f *flops) conv(h, w, cin, cout, k int) {
	*f += flops(2 * float64(h*w) * float64(k*k*cin) * float64(cout))
}

// attn counts the two L×L×C products of self-attention over L positions.
func (f *flops) attn(l, c int) { *f += flops(4 * float64(l) * float64(l) * float64(c)) }

// ResBlock is the guided-diffusion residual block: GroupNorm–SiLU–conv, plus
// a projection of the timestep embedding added over space, GroupNorm–SiLU–
// conv, plus the input (through a 1×1 convolution when widths differ).
type ResBlock struct {
	Norm1, Norm2 *nn.Norm
	Conv1, Conv2 *nn.Conv2d
	Emb          *nn.Linear
	Skip         *nn.Conv2d // nil when cin == cout
}

func newResBlock(name string, cin, cout, tdim, groups, res int, f *flops, rng *rand.Rand) *ResBlock {
	b := &ResBlock{
		Norm1: nn.NewGroupNorm(name+".norm1", groups, cin),
		Conv1: nn.NewConv2d(name+".conv1", cin, cout, 3, 1, 1, rng),
		Emb:   nn.NewLinear(name+".emb", tdim, cout, rng),
		Norm2: nn.NewGroupNorm(name+".norm2", groups, cout),
		Conv2: nn.NewConv2d(name+".conv2", cout, cout, 3, 1, 1, rng),
	}
	f.conv(res, res, cin, cout, 3)
	f.conv(res, res, cout, cout, 3)
	if cin != cout {
		b.Skip = nn.NewConv2d(name+".skip", cin, cout, 1, 1, 0, rng)
		f.conv(res, res, cin, cout, 1)
	}
	return b
}

// Params lists the block's parameters.
func (b *ResBlock) Params() []*nn.Param {
	ms := []nn.Module{b.Norm1, b.Conv1, b.Emb, b.Norm2, b.Conv2}
	if b.Skip != nil {
		ms = append(ms, b.Skip)
	}
	return nn.Collect(ms...)
}

// Forward applies the block to x [N,H,W,Cin] with semb = SiLU(embedding)
// [N,tdim], computed once for all blocks.
func (b *ResBlock) Forward(g *nn.Graph, x, semb *nn.Var) *nn.Var {
	n := x.Shape()[0]
	cout := b.Conv1.W.Shape()[3]
	// The sums go into the convolutions' outputs (AddTo): nothing else
	// reads those.
	h := b.Conv1.Forward(g, g.SiLU(b.Norm1.Forward(g, x)))
	h = g.AddTo(h, g.Reshape(b.Emb.Forward(g, semb), n, 1, 1, cout))
	h = b.Conv2.Forward(g, g.SiLU(b.Norm2.Forward(g, h)))
	if b.Skip != nil {
		x = b.Skip.Forward(g, x)
	}
	return g.AddTo(h, x)
}

// AttnBlock is multi-head self-attention over an image's pixels with a
// GroupNorm in front and a residual around it; q, k and v come from one
// 1×1 convolution to 3C channels (one product instead of three).
type AttnBlock struct {
	Norm      *nn.Norm
	QKV, Proj *nn.Conv2d
	Heads     int
}

func newAttnBlock(name string, c, heads, groups, res int, f *flops, rng *rand.Rand) *AttnBlock {
	f.conv(res, res, c, 4*c, 1)
	f.attn(res*res, c)
	return &AttnBlock{
		Norm:  nn.NewGroupNorm(name+".norm", groups, c),
		QKV:   nn.NewConv2d(name+".qkv", c, 3*c, 1, 1, 0, rng),
		Proj:  nn.NewConv2d(name+".proj", c, c, 1, 1, 0, rng),
		Heads: heads,
	}
}

// Params lists the block's parameters.
func (a *AttnBlock) Params() []*nn.Param { return nn.Collect(a.Norm, a.QKV, a.Proj) }

// Forward applies the block to x [N,H,W,C].
func (a *AttnBlock) Forward(g *nn.Graph, x *nn.Var) *nn.Var {
	s := x.Shape()
	n, h, w, c := s[0], s[1], s[2], s[3]
	qkv := g.Reshape(a.QKV.Forward(g, a.Norm.Forward(g, x)), n, h*w, 3*c)
	o := g.Attention(g.Slice(qkv, 0, c), g.Slice(qkv, c, 2*c), g.Slice(qkv, 2*c, 3*c), a.Heads)
	return g.AddTo(a.Proj.Forward(g, g.Reshape(o, n, h, w, c)), x)
}

// TimeMLP maps timesteps to the embedding the residual blocks read:
// sinusoidal features → Linear → SiLU → Linear.
type TimeMLP struct {
	Lin1, Lin2 *nn.Linear
	Freqs      int // width of the sinusoidal features
}

func newTimeMLP(name string, freqs, dim int, rng *rand.Rand) *TimeMLP {
	return &TimeMLP{Lin1: nn.NewLinear(name+".lin1", freqs, dim, rng), Lin2: nn.NewLinear(name+".lin2", dim, dim, rng), Freqs: freqs}
}

// Params lists the MLP's parameters.
func (m *TimeMLP) Params() []*nn.Param { return nn.Collect(m.Lin1, m.Lin2) }

// Forward returns SiLU(embedding(t)) [N,dim]: every consumer applies SiLU
// first, so it is done once here.
func (m *TimeMLP) Forward(g *nn.Graph, t []int) *nn.Var {
	tf := make([]float32, len(t))
	for i, v := range t {
		tf[i] = float32(v)
	}
	e := nn.Constant(nn.TimestepEmbedding(tf, m.Freqs))
	return g.SiLU(m.Lin2.Forward(g, g.SiLU(m.Lin1.Forward(g, e))))
}

// Level is one resolution of the encoder or decoder: residual blocks, each
// optionally followed by attention, then a resampling convolution (nil at
// the bottom of the encoder and at the top of the decoder).
type Level struct {
	Res      []*ResBlock
	Attn     []*AttnBlock // nil entries where the level has no attention
	Resample *nn.Conv2d
}

// Params lists the level's parameters.
func (l *Level) Params() []*nn.Param {
	var ms []nn.Module
	for i, r := range l.Res {
		ms = append(ms, r)
		if l.Attn[i] != nil {
			ms = append(ms, l.Attn[i])
		}
	}
	if l.Resample != nil {
		ms = append(ms, l.Resample)
	}
	return nn.Collect(ms...)
}

// block applies residual block i and its attention, if any.
func (l *Level) block(g *nn.Graph, i int, h, semb *nn.Var) *nn.Var {
	h = l.Res[i].Forward(g, h, semb)
	if l.Attn[i] != nil {
		h = l.Attn[i].Forward(g, h)
	}
	return h
}

// Middle is the bottleneck: residual block, attention, residual block.
type Middle struct {
	Res1 *ResBlock
	Attn *AttnBlock
	Res2 *ResBlock
}

// Params lists the middle's parameters.
func (m *Middle) Params() []*nn.Param { return nn.Collect(m.Res1, m.Attn, m.Res2) }

func (m *Middle) forward(g *nn.Graph, h, semb *nn.Var) *nn.Var {
	return m.Res2.Forward(g, m.Attn.Forward(g, m.Res1.Forward(g, h, semb)), semb)
}

// Encoder is the part the UNet and its control branch share in structure:
// time MLP, input convolution, down levels and middle. Its skips, in the
// order they are made, are: the input convolution's output, then for each
// level the output of every block and (except at the bottom) of the
// downsampling convolution. The decoder consumes them in reverse.
type Encoder struct {
	Time *TimeMLP
	In   *nn.Conv2d
	Down []*Level
	Mid  *Middle
}

func newEncoder(prefix string, c UNetConfig, f *flops, rng *rand.Rand) *Encoder {
	e := &Encoder{
		Time: newTimeMLP(prefix+"time", c.Widths[0], c.TimeDim, rng),
		In:   nn.NewConv2d(prefix+"in", 3*c.factor()*c.factor(), c.Widths[0], 3, 1, 1, rng),
	}
	res := c.inner()
	f.conv(res, res, 3*c.factor()*c.factor(), c.Widths[0], 3)
	ch := c.Widths[0]
	for li, w := range c.Widths {
		name := prefix + "down." + strconv.Itoa(li)
		l := &Level{}
		for bi := 0; bi < c.BlocksPerLevel; bi++ {
			l.Res = append(l.Res, newResBlock(name+".res."+strconv.Itoa(bi), ch, w, c.TimeDim, c.Groups, res, f, rng))
			ch = w
			var a *AttnBlock
			if c.attnAt(res) {
				a = newAttnBlock(name+".attn."+strconv.Itoa(bi), w, c.Heads, c.Groups, res, f, rng)
			}
			l.Attn = append(l.Attn, a)
		}
		if li < len(c.Widths)-1 {
			l.Resample = nn.NewConv2d(name+".downsample", ch, ch, 3, 2, 1, rng)
			res /= 2
			f.conv(res, res, ch, ch, 3)
		}
		e.Down = append(e.Down, l)
	}
	e.Mid = &Middle{
		Res1: newResBlock(prefix+"mid.res1", ch, ch, c.TimeDim, c.Groups, res, f, rng),
		Attn: newAttnBlock(prefix+"mid.attn", ch, c.Heads, c.Groups, res, f, rng),
		Res2: newResBlock(prefix+"mid.res2", ch, ch, c.TimeDim, c.Groups, res, f, rng),
	}
	return e
}

// Params lists the encoder's parameters, in the same order for the UNet
// and the control branch (NewControlFromUNet copies by position).
func (e *Encoder) Params() []*nn.Param {
	ms := []nn.Module{e.Time, e.In}
	for _, l := range e.Down {
		ms = append(ms, l)
	}
	return nn.Collect(append(ms, e.Mid)...)
}

// skipWidths lists the channels of each skip, in the order they are made.
func skipWidths(c UNetConfig) []int {
	ws := []int{c.Widths[0]}
	for li, w := range c.Widths {
		for range c.BlocksPerLevel {
			ws = append(ws, w)
		}
		if li < len(c.Widths)-1 {
			ws = append(ws, w)
		}
	}
	return ws
}

// skipSizes lists the spatial size of each skip, in the same order.
func skipSizes(c UNetConfig) []int {
	res := c.inner()
	ss := []int{res}
	for li := range c.Widths {
		for range c.BlocksPerLevel {
			ss = append(ss, res)
		}
		if li < len(c.Widths)-1 {
			res /= 2
			ss = append(ss, res)
		}
	}
	return ss
}

// unshuffle folds x [N,S,S,3] into the first level's input.
func unshuffle(g *nn.Graph, c UNetConfig, x *nn.Var) *nn.Var {
	if c.factor() == 1 {
		return x
	}
	return g.PixelUnshuffle(x, c.factor())
}

// forward runs the encoder on the first feature map h0 (the input
// convolution's output, to which the control branch adds its hint) and
// returns the skips and the middle's output.
func (e *Encoder) forward(g *nn.Graph, h0, semb *nn.Var) (skips []*nn.Var, mid *nn.Var) {
	h := h0
	skips = append(skips, h)
	for _, l := range e.Down {
		for i := range l.Res {
			h = l.block(g, i, h, semb)
			skips = append(skips, h)
		}
		if l.Resample != nil {
			h = l.Resample.Forward(g, h)
			skips = append(skips, h)
		}
	}
	return skips, e.Mid.forward(g, h, semb)
}

// copyValues copies src's parameter values into dst, which must have the
// same structure (parameters in the same order with the same shapes).
func copyValues(dst, src []*nn.Param) error {
	if len(dst) != len(src) {
		return fmt.Errorf("restorer: copying %d parameters into %d", len(src), len(dst))
	}
	for i, p := range dst {
		if !tensor.SameShape(p.Shape(), src[i].Shape()) {
			return fmt.Errorf("restorer: parameter %s %s cannot take %s %s", p.Name, tensor.ShapeString(p.Shape()), src[i].Name, tensor.ShapeString(src[i].Shape()))
		}
		copy(p.Value.Data, src[i].Value.Data)
	}
	return nil
}
