package facenet

import (
	"fmt"

	"facereward/nn"
	"facereward/tensor"
)

// DescriptorSize is the recognition net's input side.
const DescriptorSize = 150

// recognitionDiv is what the recognition net's input is divided by after
// the mean is subtracted. face-api.js@0.22.2 divides by 256 and
// @vladmandic/face-api@1.7.15 by 255 (descriptors differ by at most 3e-4).
// We follow face-api.js@0.22.2, because that is the pure-JS reference the
// parity fixtures are made with (tools/faceapi/golden.js).
const recognitionDiv = 256

// Recognition is face-api's FaceRecognitionNet, a ResNet-34-like net from
// dlib: a 7×7/2 convolution and 3×3/2 max pool, residual stages of 32, 64,
// 128 and 256 channels, global average pooling and a 256→128 linear map.
// The descriptor is not normalised; face-api compares descriptors by
// Euclidean distance (0.6 is its usual same-person threshold).
type Recognition struct {
	stem   convLayer
	stages []resLayer
	fc     *nn.Var // [256, 128], no bias
}

// convLayer is a convolution followed by face-api's scale layer
// (y·weights + biases per channel); the scale is folded into the
// convolution's weights and bias at load, which changes only rounding.
type convLayer struct {
	w, b *nn.Var
}

// resLayer is face-api's residual (down == false) or residualDown block.
type resLayer struct {
	conv1, conv2 convLayer
	down         bool
}

var recognitionLayout = []struct {
	name     string
	cin, out int
	down     bool
}{
	{"conv32_1", 32, 32, false}, {"conv32_2", 32, 32, false}, {"conv32_3", 32, 32, false},
	{"conv64_down", 32, 64, true}, {"conv64_1", 64, 64, false}, {"conv64_2", 64, 64, false}, {"conv64_3", 64, 64, false},
	{"conv128_down", 64, 128, true}, {"conv128_1", 128, 128, false}, {"conv128_2", 128, 128, false},
	{"conv256_down", 128, 256, true}, {"conv256_1", 256, 256, false}, {"conv256_2", 256, 256, false},
	{"conv256_down_out", 256, 256, true},
}

func newRecognition(data []byte) (*Recognition, error) {
	ws, err := openWeights("recognition.safetensors", data, recognitionSHA256)
	if err != nil {
		return nil, err
	}
	m := &Recognition{stem: loadConvLayer(ws, "conv32_down", 7, 3, 32)}
	for _, l := range recognitionLayout {
		m.stages = append(m.stages, resLayer{
			conv1: loadConvLayer(ws, l.name+"/conv1", 3, l.cin, l.out),
			conv2: loadConvLayer(ws, l.name+"/conv2", 3, l.out, l.out),
			down:  l.down,
		})
	}
	m.fc = nn.Constant(ws.get("fc", 256, 128))
	if ws.err != nil {
		return nil, ws.err
	}
	return m, nil
}

// loadConvLayer reads prefix/conv/{filters,bias} and prefix/scale/{weights,
// biases} and folds them: (x∗w + b)·s + t = x∗(w·s) + (b·s + t).
func loadConvLayer(ws *weightSet, prefix string, k, cin, cout int) convLayer {
	w := ws.get(prefix+"/conv/filters", k, k, cin, cout)
	b := ws.get(prefix+"/conv/bias", cout)
	s := ws.get(prefix+"/scale/weights", cout)
	t := ws.get(prefix+"/scale/biases", cout)
	if ws.err != nil {
		return convLayer{}
	}
	fw, fb := w.Clone(), tensor.New(cout)
	for i := range fw.Data {
		fw.Data[i] *= s.Data[i%cout]
	}
	for c := range cout {
		fb.Data[c] = b.Data[c]*s.Data[c] + t.Data[c]
	}
	return convLayer{nn.Constant(fw), nn.Constant(fb)}
}

// forward applies the layer at stride 1 with TF 'same' padding (1 for 3×3)
// or, when down, at stride 2 with 'valid' padding, as face-api's convLayer.
func (c convLayer) forward(g *nn.Graph, x *nn.Var, down bool) *nn.Var {
	if down {
		return g.Conv2D(x, c.w, c.b, 2, 0)
	}
	return g.Conv2D(x, c.w, c.b, 1, c.w.Shape()[0]/2)
}

func (r *resLayer) forward(g *nn.Graph, x *nn.Var) *nn.Var {
	y := r.conv2.forward(g, g.ReLU(r.conv1.forward(g, x, r.down)), false)
	if !r.down {
		return g.ReLU(g.AddTo(y, x)) // y, a convolution's output, read by nothing else
	}
	// The shortcut is a 2×2 average pool. Where the strided 'valid'
	// convolution comes out one pixel smaller than the pool (8 → 3 against
	// 4), face-api appends a zero row and column to the residual branch;
	// where channels double, it appends zero channels to the shortcut.
	sc := g.AvgPool2D(x, 2, 2, nn.Pad2D{})
	ys, ss := y.Shape(), sc.Shape()
	if ys[1] != ss[1] || ys[2] != ss[2] {
		y = g.ZeroPad(y, nn.Pad2D{Bottom: ss[1] - ys[1], Right: ss[2] - ys[2]})
	}
	if ys[3] != ss[3] {
		zs := []int{ss[0], ss[1], ss[2], ys[3] - ss[3]}
		zero := nn.Constant(tensor.FromSlice(g.Scratch(tensor.Numel(zs)), zs...))
		sc = g.Concat(sc, zero)
	}
	return g.ReLU(g.Add(sc, y))
}

// Forward runs the net on normalised input [N,150,150,3] and returns the
// descriptors [N,128].
func (m *Recognition) Forward(g *nn.Graph, x *nn.Var) *nn.Var {
	x = g.ReLU(m.stem.forward(g, x, true))
	x = g.MaxPool2D(x, 3, 2, nn.Pad2D{})
	for i := range m.stages {
		x = m.stages[i].forward(g, x)
	}
	return g.MatMul(g.MeanHW(x), m.fc)
}

// Descriptor returns the 128-d descriptor of one 150×150 face
// ([150,150,3] in [0,1]).
func (m *Recognition) Descriptor(img *tensor.Tensor) [128]float32 {
	if len(img.Shape) == 4 && img.Shape[0] != 1 {
		panic(fmt.Sprintf("facenet.Descriptor: batch of %d images; use DescriptorBatch", img.Shape[0]))
	}
	return m.DescriptorBatch(img)[0]
}

// DescriptorBatch is Descriptor for a batch [N,150,150,3].
func (m *Recognition) DescriptorBatch(imgs *tensor.Tensor) [][128]float32 {
	x := normalize("DescriptorBatch", imgs, DescriptorSize, recognitionDiv)
	g := graphs.Get().(*nn.Graph)
	defer func() { g.Reset(); graphs.Put(g) }()
	out := m.Forward(g, nn.Constant(x)).Value.Data
	res := make([][128]float32, x.Shape[0])
	for i := range res {
		copy(res[i][:], out[i*128:])
	}
	return res
}

// DescriptorCrop returns the descriptor of a face crop of any size
// ([H,W,3] in [0,1]), padded and resized by Prepare as face-api does.
func (m *Recognition) DescriptorCrop(crop *tensor.Tensor) [128]float32 {
	in, _ := Prepare(crop, DescriptorSize)
	return m.Descriptor(in)
}
