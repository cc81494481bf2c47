package facenet

import (
	"fmt"
	"math"

	"facereward/nn"
	"facereward/tensor"
)

// SSDSize is the face detector's input side: face-api pads every photo to a
// square and resizes it to 512×512.
const SSDSize = 512

// ssdAnchors is the number of prior boxes: 3 per cell of conv11's 32×32
// grid, 6 per cell of the 16×16, 8×8, 4×4, 2×2 and 1×1 grids.
const ssdAnchors = 32*32*3 + (16*16+8*8+4*4+2*2+1)*6

// SSD is face-api's SsdMobilenetv1 face detector: a MobileNet v1 backbone
// (a 3×3/2 convolution, then 13 depthwise-separable layers, 1024 channels at
// 16×16 for a 512 input), SSD's extra feature layers down to 1×1, and six
// box predictors that give, for every prior box, four box offsets and
// three class logits (face-api scores the second one).
type SSD struct {
	conv0   ssdConv     // 3×3/2, 3 → 32
	pairs   [13]ssdPair // MobilenetV1/Conv2d_1 … Conv2d_13
	extra   [8]ssdConv  // Prediction/Conv2d_0 … Conv2d_7
	heads   [6]ssdHead  // Prediction/BoxPredictor_0 … BoxPredictor_5
	anchors []float32   // [ssdAnchors×4]: ymin, xmin, ymax, xmax as fractions of the input
}

// ssdConv is face-api's pointwiseConvLayer: a convolution (1×1, or 3×3 for
// the first and the strided extra layers) with TF 'same' padding, plus
// the batch-norm offset the export left as a bias, clipped to [0, 6].
type ssdConv struct {
	w, b   *nn.Var // [k,k,Cin,Cout], [Cout]
	stride int
}

// ssdPair is one MobileNet layer: a 3×3 depthwise convolution with batch
// norm and ReLU6, then a 1×1 ssdConv. The batch norm is folded into the
// depthwise kernel and a bias at load, which changes only rounding.
type ssdPair struct {
	dw, dwB *nn.Var // [3,3,C], [C]
	stride  int
	pw      ssdConv
}

// ssdHead is one box predictor: two plain 1×1 convolutions (no clipping),
// A·4 box offsets and A·3 class logits per cell for A prior boxes.
type ssdHead struct {
	box, boxB, cls, clsB *nn.Var
}

// bnEpsilon is the variance epsilon face-api passes to tf.batchNorm (0.001
// rounded to float32).
const bnEpsilon = 0.0010000000474974513

// ssdChannels are the output channels of MobileNet's conv0 … conv13.
var ssdChannels = [14]int{32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024}

// ssdExtra are the extra layers' kernel, output channels and stride.
var ssdExtra = [8]struct{ k, out, stride int }{
	{1, 256, 1}, {3, 512, 2}, {1, 128, 1}, {3, 256, 2},
	{1, 128, 1}, {3, 256, 2}, {1, 64, 1}, {3, 128, 2},
}

// ssdHeadIn are the box predictors' input channels and prior boxes per cell;
// they read conv11, conv13 and extra layers 1, 3, 5, 7.
var ssdHeadIn = [6]struct{ c, anchors int }{{512, 3}, {1024, 6}, {512, 6}, {256, 6}, {256, 6}, {128, 6}}

func newSSD(data []byte) (*SSD, error) {
	ws, err := openWeights("ssd_mobilenetv1.safetensors", data, ssdSHA256)
	if err != nil {
		return nil, err
	}
	conv := func(prefix string, k, cin, cout, stride int) ssdConv {
		return ssdConv{
			w:      nn.Constant(ws.get(prefix+"/weights", k, k, cin, cout)),
			b:      nn.Constant(ws.get(prefix+"/convolution_bn_offset", cout)),
			stride: stride,
		}
	}
	m := &SSD{conv0: conv("MobilenetV1/Conv2d_0_pointwise", 3, 3, 32, 2)}
	for i := range m.pairs {
		layer, cin, cout := i+1, ssdChannels[i], ssdChannels[i+1]
		dw := fmt.Sprintf("MobilenetV1/Conv2d_%d_depthwise/", layer)
		w, b := foldBatchNorm(ws.get(dw+"depthwise_weights", 3, 3, cin),
			ws.get(dw+"BatchNorm/gamma", cin), ws.get(dw+"BatchNorm/beta", cin),
			ws.get(dw+"BatchNorm/moving_mean", cin), ws.get(dw+"BatchNorm/moving_variance", cin))
		// face-api's getStridesForLayerIdx: layers 2, 4, 6 and 12 halve the grid.
		stride := 1
		if layer == 2 || layer == 4 || layer == 6 || layer == 12 {
			stride = 2
		}
		m.pairs[i] = ssdPair{
			dw: w, dwB: b, stride: stride,
			pw: conv(fmt.Sprintf("MobilenetV1/Conv2d_%d_pointwise", layer), 1, cin, cout, 1),
		}
	}
	cin := 1024
	for i, e := range ssdExtra {
		m.extra[i] = conv(fmt.Sprintf("Prediction/Conv2d_%d_pointwise", i), e.k, cin, e.out, e.stride)
		cin = e.out
	}
	for i, h := range ssdHeadIn {
		p := fmt.Sprintf("Prediction/BoxPredictor_%d/", i)
		m.heads[i] = ssdHead{
			box:  nn.Constant(ws.get(p+"BoxEncodingPredictor/weights", 1, 1, h.c, 4*h.anchors)),
			boxB: nn.Constant(ws.get(p+"BoxEncodingPredictor/biases", 4*h.anchors)),
			cls:  nn.Constant(ws.get(p+"ClassPredictor/weights", 1, 1, h.c, 3*h.anchors)),
			clsB: nn.Constant(ws.get(p+"ClassPredictor/biases", 3*h.anchors)),
		}
	}
	if a := ws.get("Output/extra_dim", 1, ssdAnchors, 4); a != nil {
		m.anchors = a.Data
	}
	if ws.err != nil {
		return nil, ws.err
	}
	return m, nil
}

// foldBatchNorm turns depthwise kernel w [3,3,C] followed by
// (x − mean)·gamma/√(var+ε) + beta into one kernel and bias.
func foldBatchNorm(w, gamma, beta, mean, variance *tensor.Tensor) (*nn.Var, *nn.Var) {
	if w == nil || gamma == nil || beta == nil || mean == nil || variance == nil {
		return nil, nil // the weightSet has recorded which one is missing
	}
	c := len(gamma.Data)
	fw, fb := tensor.New(w.Shape...), tensor.New(c)
	for ch := range c {
		s := float64(gamma.Data[ch]) / math.Sqrt(float64(variance.Data[ch])+bnEpsilon)
		fb.Data[ch] = float32(float64(beta.Data[ch]) - float64(mean.Data[ch])*s)
		for tap := range 9 {
			fw.Data[tap*c+ch] = float32(float64(w.Data[tap*c+ch]) * s)
		}
	}
	return nn.Constant(fw), nn.Constant(fb)
}

// relu6 clips x to [0, 6] in place. The detector only runs inference
// (graphs with NoGrad), so no gradient needs the unclipped values.
func relu6(g *nn.Graph, x *nn.Var) *nn.Var {
	if !g.NoGrad {
		panic("facenet.SSD: inference only; use a graph with NoGrad")
	}
	d := x.Value.Data
	tensor.Parallel(len(d), len(d), func(lo, hi int) {
		for i, v := range d[lo:hi] {
			d[lo+i] = min(max(v, 0), 6)
		}
	})
	return x
}

// samePad pads x for a k×k window at stride s as TF's 'same' does: the odd
// pixel goes after (for even inputs at stride 2: none before, one after).
func samePad(g *nn.Graph, x *nn.Var, k, stride int) *nn.Var {
	if k == 1 {
		return x
	}
	sh := x.Shape()
	return g.ZeroPad(x, nn.SamePadding(sh[1], sh[2], k, k, stride))
}

func (c ssdConv) forward(g *nn.Graph, x *nn.Var) *nn.Var {
	k := c.w.Shape()[0]
	return relu6(g, g.Conv2D(samePad(g, x, k, c.stride), c.w, c.b, c.stride, 0))
}

func (p ssdPair) forward(g *nn.Graph, x *nn.Var) *nn.Var {
	sh := x.Shape()
	y := g.DepthwiseConv2D(x, p.dw, p.dwB, p.stride, nn.SamePadding(sh[1], sh[2], 3, 3, p.stride))
	return p.pw.forward(g, relu6(g, y))
}

// Forward runs the net on normalised input [N,512,512,3] (values in
// [−1, 1]) and returns the six predictors' outputs in order, box offsets
// [N,H,W,4A] and class logits [N,H,W,3A] each; cell by cell, prior by
// prior, they line up with the prior boxes.
func (m *SSD) Forward(g *nn.Graph, x *nn.Var) (boxes, classes [6]*nn.Var) {
	x = m.conv0.forward(g, x)
	var conv11 *nn.Var
	for i := range m.pairs {
		x = m.pairs[i].forward(g, x)
		if i+1 == 11 {
			conv11 = x
		}
	}
	// The predictors read conv11 (32×32), conv13 (16×16) and the extra
	// layers 1, 3, 5, 7 (8×8 down to 1×1).
	feats := [6]*nn.Var{conv11, x}
	for i := range m.extra {
		x = m.extra[i].forward(g, x)
		if i%2 == 1 {
			feats[2+i/2] = x
		}
	}
	for i, h := range m.heads {
		boxes[i] = g.Conv2D(feats[i], h.box, h.boxB, 1, 0)
		classes[i] = g.Conv2D(feats[i], h.cls, h.clsB, 1, 0)
	}
	return boxes, classes
}
