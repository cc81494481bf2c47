package facenet

import (
	"fmt"

	"facereward/nn"
	"facereward/tensor"
)

// LandmarkSize is the landmark net's input side.
const LandmarkSize = 112

// Landmarks68 is face-api's FaceLandmark68Net: four dense blocks of
// depthwise-separable convolutions (32, 64, 128, 256 channels, each halving
// the resolution: 112 → 7), a 7×7 average pool and a fully connected layer
// to 68 (x, y) pairs relative to the input square.
type Landmarks68 struct {
	dense [4]denseBlock
	fcW   *nn.Var // [256, 136]
	fcB   *nn.Var // [136]
}

// denseBlock is face-api's denseBlock4: conv0 downsamples (a plain 3×3
// convolution in the first block, separable in the others) and every later
// convolution sees the sum of all earlier outputs of the block.
type denseBlock struct {
	conv0W, conv0B *nn.Var // first block only: [3,3,3,32], [32]
	sep            [4]sepConv
}

// sepConv is a depthwise-separable convolution with TF 'same' padding: a
// 3×3 depthwise kernel [3,3,C], then a 1×1 pointwise [1,1,C,Cout] with bias.
type sepConv struct {
	dw, pw, b *nn.Var
}

func newLandmarks68(data []byte) (*Landmarks68, error) {
	ws, err := openWeights("landmark68.safetensors", data, landmarkSHA256)
	if err != nil {
		return nil, err
	}
	m := &Landmarks68{}
	cin := 3
	for i, c := range []int{32, 64, 128, 256} {
		blk := &m.dense[i]
		for j := range 4 {
			prefix := fmt.Sprintf("dense%d/conv%d/", i, j)
			in := c
			if j == 0 {
				in = cin
			}
			if i == 0 && j == 0 {
				blk.conv0W = nn.Constant(ws.get(prefix+"filters", 3, 3, in, c))
				blk.conv0B = nn.Constant(ws.get(prefix+"bias", c))
				continue
			}
			blk.sep[j] = sepConv{
				dw: nn.Constant(ws.get(prefix+"depthwise_filter", 3, 3, in)),
				pw: nn.Constant(ws.get(prefix+"pointwise_filter", 1, 1, in, c)),
				b:  nn.Constant(ws.get(prefix+"bias", c)),
			}
		}
		cin = c
	}
	m.fcW = nn.Constant(ws.get("fc/weights", 256, 136))
	m.fcB = nn.Constant(ws.get("fc/bias", 136))
	if ws.err != nil {
		return nil, ws.err
	}
	return m, nil
}

func (s sepConv) forward(g *nn.Graph, x *nn.Var, stride int) *nn.Var {
	sh := x.Shape()
	y := g.DepthwiseConv2D(x, s.dw, nil, stride, nn.SamePadding(sh[1], sh[2], 3, 3, stride))
	return g.Conv2D(y, s.pw, s.b, 1, 0)
}

func (b *denseBlock) forward(g *nn.Graph, x *nn.Var) *nn.Var {
	var out1 *nn.Var
	if b.conv0W != nil {
		sh := x.Shape()
		xp := g.ZeroPad(x, nn.SamePadding(sh[1], sh[2], 3, 3, 2))
		out1 = g.ReLU(g.Conv2D(xp, b.conv0W, b.conv0B, 2, 0))
	} else {
		out1 = g.ReLU(b.sep[0].forward(g, x, 2))
	}
	out2 := b.sep[1].forward(g, out1, 1)
	out3 := b.sep[2].forward(g, g.ReLU(g.Add(out1, out2)), 1)
	out4 := b.sep[3].forward(g, g.ReLU(g.Add(out1, g.Add(out2, out3))), 1)
	return g.ReLU(g.Add(out1, g.Add(out2, g.Add(out3, out4))))
}

// Forward runs the net on normalised input [N,112,112,3] and returns the
// raw output [N,136]: x0, y0, x1, … as fractions of the input side.
func (m *Landmarks68) Forward(g *nn.Graph, x *nn.Var) *nn.Var {
	for i := range m.dense {
		x = m.dense[i].forward(g, x)
	}
	x = g.AvgPool2D(x, 7, 2, nn.Pad2D{})
	return g.Linear(g.Reshape(x, x.Shape()[0], 256), m.fcW, m.fcB)
}

// Predict returns the 68 landmarks of one 112×112 face ([112,112,3] in
// [0,1]) in pixels of that input.
func (m *Landmarks68) Predict(img *tensor.Tensor) [68][2]float32 {
	if len(img.Shape) == 4 && img.Shape[0] != 1 {
		panic(fmt.Sprintf("facenet.Predict: batch of %d images; use PredictBatch", img.Shape[0]))
	}
	return m.PredictBatch(img)[0]
}

// PredictBatch is Predict for a batch [N,112,112,3].
func (m *Landmarks68) PredictBatch(imgs *tensor.Tensor) [][68][2]float32 {
	x := normalize("PredictBatch", imgs, LandmarkSize, 255)
	g := graphs.Get().(*nn.Graph)
	defer func() { g.Reset(); graphs.Put(g) }()
	out := m.Forward(g, nn.Constant(x)).Value.Data
	res := make([][68][2]float32, x.Shape[0])
	for i := range res {
		for p := range 68 {
			res[i][p][0] = out[i*136+2*p] * LandmarkSize
			res[i][p][1] = out[i*136+2*p+1] * LandmarkSize
		}
	}
	return res
}

// PredictCrop returns the landmarks of a face crop of any size ([H,W,3] in
// [0,1]) in pixels of the crop: the crop goes through Prepare, as face-api
// treats a tensor input, and the points are mapped back.
func (m *Landmarks68) PredictCrop(crop *tensor.Tensor) [68][2]float32 {
	in, fr := Prepare(crop, LandmarkSize)
	pts := m.Predict(in)
	for i := range pts {
		pts[i] = fr.ToCrop(pts[i])
	}
	return pts
}
