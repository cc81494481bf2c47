package benchnet

import (
	"math/rand/v2"

	"facereward/nn"
	"facereward/optim"
	"facereward/tensor"
)

// ResBlock is the UNet's residual block: GroupNorm–SiLU–conv, plus a
// projection of the timestep embedding added over space, GroupNorm–SiLU–conv,
// plus the identity.
type ResBlock struct {
	Norm1, Norm2 *nn.Norm
	Conv1, Conv2 *nn.Conv2d
	Emb          *nn.Linear
}

// NewResBlock makes a block on c channels with a tdim-wide time embedding.
func NewResBlock(name string, c, tdim, groups int, rng *rand.Rand) *ResBlock {
	return &ResBlock{
		Norm1: nn.NewGroupNorm(name+".norm1", groups, c),
		Conv1: nn.NewConv2d(name+".conv1", c, c, 3, 1, 1, rng),
		Emb:   nn.NewLinear(name+".emb", tdim, c, rng),
		Norm2: nn.NewGroupNorm(name+".norm2", groups, c),
		Conv2: nn.NewConv2d(name+".conv2", c, c, 3, 1, 1, rng),
	}
}

// Params lists the block's parameters.
func (b *ResBlock) Params() []*nn.Param { return nn.Collect(b.Norm1, b.Conv1, b.Emb, b.Norm2, b.Conv2) }

// Forward applies the block to x [N,H,W,C] with the SiLU of the embedding,
// semb [N,tdim] (computed once for all blocks).
func (b *ResBlock) Forward(g *nn.Graph, x, semb *nn.Var) *nn.Var {
	n, c := x.Shape()[0], x.Shape()[3]
	h := b.Conv1.Forward(g, g.SiLU(b.Norm1.Forward(g, x)))
	h = g.Add(h, g.Reshape(b.Emb.Forward(g, semb), n, 1, 1, c))
	h = b.Conv2.Forward(g, g.SiLU(b.Norm2.Forward(g, h)))
	return g.Add(x, h)
}

// AttnBlock is single-head self-attention over an image's pixels with a
// GroupNorm in front and a residual around it. q, k and v come from one 1×1
// convolution to 3C channels (one product instead of three).
type AttnBlock struct {
	Norm      *nn.Norm
	QKV, Proj *nn.Conv2d
}

// NewAttnBlock makes an attention block on c channels.
func NewAttnBlock(name string, c, groups int, rng *rand.Rand) *AttnBlock {
	return &AttnBlock{
		Norm: nn.NewGroupNorm(name+".norm", groups, c),
		QKV:  nn.NewConv2d(name+".qkv", c, 3*c, 1, 1, 0, rng),
		Proj: nn.NewConv2d(name+".proj", c, c, 1, 1, 0, rng),
	}
}

// Params lists the block's parameters.
func (a *AttnBlock) Params() []*nn.Param { return nn.Collect(a.Norm, a.QKV, a.Proj) }

// Forward applies the block to x [N,H,W,C].
func (a *AttnBlock) Forward(g *nn.Graph, x *nn.Var) *nn.Var {
	s := x.Shape()
	n, h, w, c := s[0], s[1], s[2], s[3]
	qkv := g.Reshape(a.QKV.Forward(g, a.Norm.Forward(g, x)), n, h*w, 3*c)
	o := g.Attention(g.Slice(qkv, 0, c), g.Slice(qkv, c, 2*c), g.Slice(qkv, 2*c, 3*c), 1)
	return g.Add(x, a.Proj.Forward(g, g.Reshape(o, n, h, w, c)))
}

// B is two residual blocks on x [4,64,64,64] conditioned on temb [4,256],
// and an attention block on y [4,16,16,128], trained together with
// loss = mean(out_x²) + mean(out_y²) and AdamW (lr 1e-4, weight decay 0.01).
type B struct {
	r1, r2  *ResBlock
	attn    *AttnBlock
	x, y, t *nn.Var
	opt     optim.Optimizer
	g       *nn.Graph
}

// NewB builds net B with seeded weights and data.
func NewB(seed uint64) *B {
	rng := nn.NewRNG(seed)
	n := &B{
		r1:   NewResBlock("res1", 64, 256, 32, rng),
		r2:   NewResBlock("res2", 64, 256, 32, rng),
		attn: NewAttnBlock("attn", 128, 32, rng),
		g:    nn.NewGraph(),
	}
	x, y, t := tensor.New(4, 64, 64, 64), tensor.New(4, 16, 16, 128), tensor.New(4, 256)
	nn.Normal(x, 1, rng)
	nn.Normal(y, 1, rng)
	nn.Normal(t, 1, rng)
	n.x, n.y, n.t = nn.Constant(x), nn.Constant(y), nn.Constant(t)
	cfg := optim.DefaultAdam(1e-4)
	cfg.WeightDecay = 0.01
	opt, err := optim.NewAdamW(n.Params(), cfg)
	if err != nil {
		panic(err)
	}
	n.opt = opt
	return n
}

// Params lists every parameter.
func (n *B) Params() []*nn.Param { return nn.Collect(n.r1, n.r2, n.attn) }

func (n *B) forward(g *nn.Graph) *nn.Var {
	semb := g.SiLU(n.t)
	ox := n.r2.Forward(g, n.r1.Forward(g, n.x, semb), semb)
	oy := n.attn.Forward(g, n.y)
	return g.Add(g.Mean(g.Mul(ox, ox)), g.Mean(g.Mul(oy, oy)))
}

// TrainStep runs one AdamW step.
func (n *B) TrainStep() { trainStep(n.g, n.Params(), n.opt, n.forward) }

// Forward runs the network without gradients.
func (n *B) Forward() { forwardOnly(n.g, n.forward) }

// Loss computes the current loss without gradients.
func (n *B) Loss() float32 { return lossOf(n.g, n.forward) }

// FLOPs counts the convolutions and attention products.
func (n *B) FLOPs() (float64, float64) {
	conv := 2 * 4.0 * 64 * 64 * 576 * 64
	l := 256.0
	attn := 2*4*l*128*(3*128+128) + 2*2*4*l*l*128
	f := 4*conv + attn
	return 3 * f, f
}
