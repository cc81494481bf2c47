package restorer

import (
	"math/rand/v2"
	"strconv"

	"facereward/nn"
)

// Stage1 is the regression restorer: pixel-unshuffle (so the body runs at
// a fraction of the resolution), a head convolution, residual blocks
// (conv–SiLU–conv plus identity), a tail convolution and pixel-shuffle
// back; the result is added to the input, so the net learns a correction
// of the degraded image. Images are in [-1,1].
type Stage1 struct {
	Config Stage1Config
	Head   *nn.Conv2d
	Body   []*Stage1Block
	Tail   *nn.Conv2d

	flops flops
}

// Stage1Block is conv–SiLU–conv plus the identity.
type Stage1Block struct{ Conv1, Conv2 *nn.Conv2d }

// Params lists the block's parameters.
func (b *Stage1Block) Params() []*nn.Param { return nn.Collect(b.Conv1, b.Conv2) }

// NewStage1 builds a stage-1 net with seeded weights; parameter names
// start with "stage1.".
func NewStage1(c Stage1Config, rng *rand.Rand) (*Stage1, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r, w := c.Unshuffle, c.Width
	cin, s := 3*r*r, c.ImageSize/r
	n := &Stage1{Config: c, Head: nn.NewConv2d("stage1.head", cin, w, 3, 1, 1, rng)}
	n.flops.conv(s, s, cin, w, 3)
	for i := range c.Blocks {
		name := "stage1.body." + strconv.Itoa(i)
		n.Body = append(n.Body, &Stage1Block{
			Conv1: nn.NewConv2d(name+".conv1", w, w, 3, 1, 1, rng),
			Conv2: nn.NewConv2d(name+".conv2", w, w, 3, 1, 1, rng),
		})
		n.flops.conv(s, s, w, w, 3)
		n.flops.conv(s, s, w, w, 3)
	}
	n.Tail = nn.NewConv2d("stage1.tail", w, cin, 3, 1, 1, rng)
	n.flops.conv(s, s, w, cin, 3)
	// A small tail keeps the untrained output near the input (a random
	// correction of full size would start far from any face) while still
	// passing gradient to the body, which a zero tail would block at first.
	for i := range n.Tail.W.Value.Data {
		n.Tail.W.Value.Data[i] *= 0.1
	}
	clear(n.Tail.B.Value.Data)
	return n, nil
}

// Params lists the net's parameters.
func (n *Stage1) Params() []*nn.Param {
	ms := []nn.Module{n.Head}
	for _, b := range n.Body {
		ms = append(ms, b)
	}
	return nn.Collect(append(ms, n.Tail)...)
}

// FLOPs is the forward cost for one image.
func (n *Stage1) FLOPs() float64 { return float64(n.flops) }

// Forward restores lq [N,S,S,3] to a smooth estimate of the same shape.
func (n *Stage1) Forward(g *nn.Graph, lq *nn.Var) *nn.Var {
	checkInput("Stage1", lq, nil, n.Config.ImageSize)
	r := n.Config.Unshuffle
	h := lq
	if r > 1 {
		h = g.PixelUnshuffle(h, r)
	}
	h = n.Head.Forward(g, h)
	for _, b := range n.Body {
		h = g.AddTo(b.Conv2.Forward(g, g.SiLU(b.Conv1.Forward(g, h))), h)
	}
	h = n.Tail.Forward(g, h)
	if r > 1 {
		h = g.PixelShuffle(h, r)
	}
	return g.Add(lq, h)
}
