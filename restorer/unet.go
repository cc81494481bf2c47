package restorer

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"facereward/nn"
	"facereward/tensor"
)

// UNet is the denoiser ε_θ(x_t, t) (or v_θ): the unconditional face prior.
// As in DiffBIR it never sees the condition itself; the control branch's
// residuals steer it.
type UNet struct {
	Config  UNetConfig
	Enc     *Encoder
	Up      []*Level // Up[i] works at the resolution of encoder level i
	OutNorm *nn.Norm
	Out     *nn.Conv2d

	flops flops
}

// NewUNet builds a UNet with seeded weights; parameter names start with
// "unet.".
func NewUNet(c UNetConfig, rng *rand.Rand) (*UNet, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	u := &UNet{Config: c}
	u.Enc = newEncoder("unet.", c, &u.flops, rng)
	skips := skipWidths(c)
	ch := c.Widths[len(c.Widths)-1]
	res := c.bottom()
	u.Up = make([]*Level, len(c.Widths))
	for li := len(c.Widths) - 1; li >= 0; li-- {
		name := "unet.up." + strconv.Itoa(li)
		w := c.Widths[li]
		l := &Level{}
		// One block more than the encoder's level: the extra one takes the
		// skip of the downsampling convolution (or the input convolution).
		for bi := 0; bi <= c.BlocksPerLevel; bi++ {
			sw := skips[len(skips)-1]
			skips = skips[:len(skips)-1]
			l.Res = append(l.Res, newResBlock(name+".res."+strconv.Itoa(bi), ch+sw, w, c.TimeDim, c.Groups, res, &u.flops, rng))
			ch = w
			var a *AttnBlock
			if c.attnAt(res) {
				a = newAttnBlock(name+".attn."+strconv.Itoa(bi), w, c.Heads, c.Groups, res, &u.flops, rng)
			}
			l.Attn = append(l.Attn, a)
		}
		if li > 0 {
			res *= 2
			l.Resample = nn.NewConv2d(name+".upsample", ch, ch, 3, 1, 1, rng)
			u.flops.conv(res, res, ch, ch, 3)
		}
		u.Up[li] = l
	}
	u.OutNorm = nn.NewGroupNorm("unet.out.norm", c.Groups, ch)
	// Zero output: the untrained UNet predicts 0, a harmless start for
	// both ε and v targets, and the usual guided-diffusion choice.
	cout := 3 * c.factor() * c.factor()
	u.Out = nn.NewConv2d("unet.out.conv", ch, cout, 3, 1, 1, rng)
	u.Out.ZeroInit()
	u.flops.conv(res, res, ch, cout, 3)
	return u, nil
}

// Params lists the UNet's parameters.
func (u *UNet) Params() []*nn.Param {
	ms := []nn.Module{u.Enc}
	for li := len(u.Up) - 1; li >= 0; li-- {
		ms = append(ms, u.Up[li])
	}
	return nn.Collect(append(ms, u.OutNorm, u.Out)...)
}

// NumResiduals is how many control residuals Forward takes: one per skip
// connection, in the order the encoder makes them, then one for the middle.
func (u *UNet) NumResiduals() int { return len(skipWidths(u.Config)) + 1 }

// FLOPs is the forward cost for one image (convolutions and attention
// products; a training step costs about three times as much).
func (u *UNet) FLOPs() float64 { return float64(u.flops) }

// Forward predicts ε (or v) for x_t [N,S,S,3] at timesteps t (len N). res
// holds the control residuals (NumResiduals of them, in the order of
// Control.Forward) or is nil for the unconditional prior; each is added to
// its skip as the decoder consumes it and the last to the middle's output,
// exactly as ControlNet wires them.
func (u *UNet) Forward(g *nn.Graph, xt *nn.Var, t []int, res []*nn.Var) *nn.Var {
	checkInput("UNet", xt, t, u.Config.ImageSize)
	if res != nil && len(res) != u.NumResiduals() {
		panic(fmt.Sprintf("restorer.UNet: %d control residuals, want %d", len(res), u.NumResiduals()))
	}
	semb := u.Enc.Time.Forward(g, t)
	skips, h := u.Enc.forward(g, u.Enc.In.Forward(g, unshuffle(g, u.Config, xt)), semb)
	if res != nil {
		h = g.Add(h, res[len(res)-1])
	}
	for li := len(u.Up) - 1; li >= 0; li-- {
		l := u.Up[li]
		for i := range l.Res {
			k := len(skips) - 1
			s := skips[k]
			skips = skips[:k]
			if res != nil {
				s = g.Add(s, res[k])
			}
			h = l.block(g, i, g.Concat(h, s), semb)
		}
		if l.Resample != nil {
			h = l.Resample.Forward(g, g.Upsample2x(h))
		}
	}
	out := u.Out.Forward(g, g.SiLU(u.OutNorm.Forward(g, h)))
	if f := u.Config.factor(); f > 1 {
		out = g.PixelShuffle(out, f)
	}
	return out
}

// checkInput panics on an input of the wrong shape: a programming error in
// the caller, reported with the shapes involved.
func checkInput(who string, x *nn.Var, t []int, size int) {
	s := x.Shape()
	if len(s) != 4 || s[1] != size || s[2] != size || s[3] != 3 {
		panic(fmt.Sprintf("restorer.%s: input %s, want [N,%d,%d,3]", who, tensor.ShapeString(s), size, size))
	}
	if t != nil && len(t) != s[0] {
		panic(fmt.Sprintf("restorer.%s: %d timesteps for a batch of %d", who, len(t), s[0]))
	}
}
