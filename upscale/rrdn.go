package upscale

import (
	"fmt"

	"facereward/nn"
)

// beta scales every residual branch (ESRGAN's residual scaling;
// UpscalerJS's MultiplyBeta layer, a constant 0.2).
const beta = 0.2

// rrdn is idealo's Residual-in-Residual Dense Network (ESRGAN's generator,
// Wang et al. 2018, as image-super-resolution's models/rrdn.py builds it):
// a 3×3 convolution to G0 features, T residual-in-residual blocks of D
// dense blocks each, a 3×3 convolution added back to the first features,
// then a 3×3 convolution to 3·s² channels, depth-to-space and a last 3×3
// convolution to RGB. Every convolution is 3×3 and only the dense blocks'
// have a ReLU. Pixels are in [0, 1] in and out (UpscalerJS's inputRange and
// outputRange for this architecture).
type rrdn struct {
	scale  int
	pre    conv           // Pre_blocks_conv: 3 → G0
	blocks [][]denseBlock // [T][D]
	post   conv           // post_blocks_conv: G0 → G0
	shuf   conv           // PreShuffle: G0 → 3·s², channels in nn.PixelShuffle's order
	sr     conv           // SR: 3 → 3
}

// denseBlock is a residual dense block: each of its C convolutions (3×3, G
// channels, ReLU) sees the block's input and every earlier output
// concatenated, and a fusion convolution (local feature fusion, LFF) brings
// them back to G0 channels.
type denseBlock struct {
	convs []conv // F_t_d_c
	lff   conv   // LFF_t_d
}

func newRRDN(ws *weightSet, scale, c, d, t, g, g0 int) *rrdn {
	n := &rrdn{scale: scale, pre: newConv(ws, "Pre_blocks_conv", 3, 3, g0)}
	for i := 1; i <= t; i++ {
		var rrdb []denseBlock
		for j := 1; j <= d; j++ {
			var b denseBlock
			for k := 1; k <= c; k++ {
				b.convs = append(b.convs, newConv(ws, fmt.Sprintf("F_%d_%d_%d", i, j, k), 3, g0+(k-1)*g, g))
			}
			b.lff = newConv(ws, fmt.Sprintf("LFF_%d_%d", i, j), 3, g0+c*g, g0)
			rrdb = append(rrdb, b)
		}
		n.blocks = append(n.blocks, rrdb)
	}
	n.post = newConv(ws, "post_blocks_conv", 3, g0, g0)
	n.shuf = torchShuffleOrder(newConv(ws, "PreShuffle", 3, g0, 3*scale*scale), scale)
	n.sr = newConv(ws, "SR", 3, 3, 3)
	return n
}

// torchShuffleOrder permutes a convolution's output channels so that
// nn.PixelShuffle, which takes torch's order (channel c·s²+k goes to offset
// k = i·s+j of the s×s block), does what tf.depthToSpace does with the
// original ones (channel k·C+c goes to offset k).
func torchShuffleOrder(c conv, s int) conv {
	w, b := c.w.Value, c.b.Value
	cout := b.Len()
	co := cout / (s * s)
	pw, pb := w.Clone(), b.Clone()
	for k := range s * s {
		for ch := range co {
			to, from := ch*s*s+k, k*co+ch
			pb.Data[to] = b.Data[from]
			for r := range w.Len() / cout {
				pw.Data[r*cout+to] = w.Data[r*cout+from]
			}
		}
	}
	return conv{nn.Constant(pw), nn.Constant(pb), c.pad}
}

// forward maps x [1,H,W,3] to the raw output [1,H·s,W·s,3]. It resets g
// after every dense block, carrying only the values still needed, so the
// result is the only value of g left when it returns.
func (n *rrdn) forward(g *nn.Graph, x *nn.Var) *nn.Var {
	pre := keep(n.pre.forward(g, x))
	g.Reset()
	y := pre
	for _, rrdb := range n.blocks {
		z := y
		for _, b := range rrdb {
			z = keep(g.Add(z, g.Scale(b.forward(g, z), beta))) // LRL_t_d: local residual
			g.Reset()
		}
		y = keep(g.Add(y, g.Scale(z, beta))) // RRDB_t_out: residual in residual
		g.Reset()
	}
	y = g.Add(n.post.forward(g, y), pre) // GRL: global residual
	y = g.PixelShuffle(n.shuf.forward(g, y), n.scale)
	return n.sr.forward(g, y)
}

// forward returns the block's fused features before the residual sum:
// LFF(concat(x, F_1, F_2, …, F_C)).
func (b denseBlock) forward(g *nn.Graph, x *nn.Var) *nn.Var {
	cat := x
	for _, c := range b.convs {
		cat = g.Concat(cat, g.ReLU(c.forward(g, cat)))
	}
	return b.lff.forward(g, cat)
}
