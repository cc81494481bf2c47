package restorer

import (
	"math/rand/v2"
	"strconv"

	"facereward/nn"
)

// Control is the ControlNet branch: a copy of the UNet's encoder and
// middle that also reads the condition (the stage-1 estimate) through a
// small hint encoder, and emits one residual per UNet skip and one for the
// middle through zero-initialised 1×1 convolutions. At initialisation it
// therefore leaves the UNet's output unchanged, and training starts from
// the prior.
type Control struct {
	Config UNetConfig
	Enc    *Encoder
	// Hint embeds the (unshuffled) condition; its last convolution
	// is zero-initialised (ControlNet's input_hint_block), so at first the
	// branch sees x_t only, as the UNet's encoder does.
	Hint    [3]*nn.Conv2d
	Zero    []*nn.Conv2d // one per skip, in Residuals order
	ZeroMid *nn.Conv2d

	flops flops
}

// NewControl builds a control branch with seeded weights; parameter names
// start with "control.". Use NewControlFromUNet for the ControlNet
// initialisation.
func NewControl(c UNetConfig, rng *rand.Rand) (*Control, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	k := &Control{Config: c}
	k.Enc = newEncoder("control.", c, &k.flops, rng)
	s, hw, w0, cin := c.inner(), c.HintWidth, c.Widths[0], 3*c.factor()*c.factor()
	k.Hint[0] = nn.NewConv2d("control.hint.0", cin, hw, 3, 1, 1, rng)
	k.Hint[1] = nn.NewConv2d("control.hint.1", hw, hw, 3, 1, 1, rng)
	k.Hint[2] = nn.NewConv2d("control.hint.2", hw, w0, 3, 1, 1, rng)
	k.Hint[2].ZeroInit()
	k.flops.conv(s, s, cin, hw, 3)
	k.flops.conv(s, s, hw, hw, 3)
	k.flops.conv(s, s, hw, w0, 3)
	sizes := skipSizes(c)
	for i, w := range skipWidths(c) {
		z := nn.NewConv2d("control.zero."+strconv.Itoa(i), w, w, 1, 1, 0, rng)
		z.ZeroInit()
		k.Zero = append(k.Zero, z)
		k.flops.conv(sizes[i], sizes[i], w, w, 1)
	}
	wm := c.Widths[len(c.Widths)-1]
	k.ZeroMid = nn.NewConv2d("control.zero.mid", wm, wm, 1, 1, 0, rng)
	k.ZeroMid.ZeroInit()
	rm := c.bottom()
	k.flops.conv(rm, rm, wm, wm, 1)
	return k, nil
}

// NewControlFromUNet builds a control branch whose encoder (time MLP,
// input convolution, down levels, middle) starts as an exact copy of u's,
// as ControlNet is initialised; the hint encoder is random with a zero last
// layer and the residual convolutions are zero.
func NewControlFromUNet(u *UNet, rng *rand.Rand) (*Control, error) {
	k, err := NewControl(u.Config, rng)
	if err != nil {
		return nil, err
	}
	if err := copyValues(k.Enc.Params(), u.Enc.Params()); err != nil {
		return nil, err
	}
	return k, nil
}

// Params lists the branch's parameters.
func (k *Control) Params() []*nn.Param {
	ms := []nn.Module{k.Enc, k.Hint[0], k.Hint[1], k.Hint[2]}
	for _, z := range k.Zero {
		ms = append(ms, z)
	}
	return nn.Collect(append(ms, k.ZeroMid)...)
}

// ResidualShapes lists the [H, W, C] of each control residual in Residuals
// order (see Control.Forward): the skips, then the middle.
func (c UNetConfig) ResidualShapes() [][3]int {
	ws, ss := skipWidths(c), skipSizes(c)
	out := make([][3]int, 0, len(ws)+1)
	for i, w := range ws {
		out = append(out, [3]int{ss[i], ss[i], w})
	}
	rm := c.bottom()
	return append(out, [3]int{rm, rm, c.Widths[len(c.Widths)-1]})
}

// FLOPs is the forward cost for one image.
func (k *Control) FLOPs() float64 { return float64(k.flops) }

// Forward returns the residuals for x_t [N,S,S,3] at timesteps t under the
// condition cond [N,S,S,3]. Residuals order: element i < len-1 goes to the
// UNet's i-th skip in the order the encoder makes them (the input
// convolution's output; then per level, each block's output and the
// downsampling convolution's output), the last one to the middle. This is
// the order UNet.Forward takes, and the one ReFL's L_reg sums over.
func (k *Control) Forward(g *nn.Graph, xt *nn.Var, t []int, cond *nn.Var) []*nn.Var {
	return k.ForwardEmbedded(g, xt, t, k.EmbedHint(g, cond))
}

// EmbedHint runs the hint encoder on the condition cond [N,S,S,3]. The
// embedding depends on cond alone, so a sampler makes it once for all its
// steps and passes it to ForwardEmbedded.
func (k *Control) EmbedHint(g *nn.Graph, cond *nn.Var) *nn.Var {
	checkInput("Control (condition)", cond, nil, k.Config.ImageSize)
	hint := g.SiLU(k.Hint[0].Forward(g, unshuffle(g, k.Config, cond)))
	return k.Hint[2].Forward(g, g.SiLU(k.Hint[1].Forward(g, hint)))
}

// ForwardEmbedded is Forward with the condition already embedded by
// EmbedHint.
func (k *Control) ForwardEmbedded(g *nn.Graph, xt *nn.Var, t []int, hint *nn.Var) []*nn.Var {
	checkInput("Control", xt, t, k.Config.ImageSize)
	semb := k.Enc.Time.Forward(g, t)
	h0 := g.AddTo(k.Enc.In.Forward(g, unshuffle(g, k.Config, xt)), hint)
	skips, mid := k.Enc.forward(g, h0, semb)
	out := make([]*nn.Var, 0, len(skips)+1)
	for i, s := range skips {
		out = append(out, k.Zero[i].Forward(g, s))
	}
	return append(out, k.ZeroMid.Forward(g, mid))
}
