package facenet

import (
	"math"

	"facereward/nn"
	"facereward/tensor"
)

// FeatureTaps are the recognition net's stages whose outputs the feature
// term compares: the last 32-channel block (35×35 at the net's 150×150
// input) and the last 64-channel block (17×17). Early blocks carry edges
// and texture at the scale of eyes and teeth, where a pixel loss rewards
// blur; the descriptor alone says nothing about texture.
var FeatureTaps = []int{2, 6}

// ForwardTaps is Forward that also returns the outputs of the stages in
// taps (indices into the residual stages, ascending).
func (m *Recognition) ForwardTaps(g *nn.Graph, x *nn.Var, taps []int) (desc *nn.Var, feats []*nn.Var) {
	x = g.ReLU(m.stem.forward(g, x, true))
	x = g.MaxPool2D(x, 3, 2, nn.Pad2D{})
	next := 0
	for i := range m.stages {
		x = m.stages[i].forward(g, x)
		if next < len(taps) && taps[next] == i {
			feats = append(feats, x)
			next++
		}
	}
	return g.MatMul(g.MeanHW(x), m.fc), feats
}

// FaceLoss holds the recognition net as a training loss on aligned faces:
// the identity term (squared distance between the descriptors of the
// restoration and the ground truth, the quantity face-api thresholds at
// 0.6 and IDS measures through its cosine) and the feature term (L1
// between early activations, a stand-in for LPIPS, for which no
// pretrained net exists here). Both see the faces as the IDS metric does:
// AlignedFaceBox cut out and resized to 150×150 as face-api resizes.
type FaceLoss struct {
	Rec *Recognition
}

// Terms returns the identity and feature terms of pred against ref, both
// [N,S,S,3] aligned faces in [0,1]; ref is data (no gradient reaches it).
// Both must join the loss that is backpropagated (a zero weight will do).
func (l FaceLoss) Terms(g *nn.Graph, pred, ref *nn.Var) (id, feat *nn.Var) {
	// The reference's pass first, without gradients, its buffers handed
	// on to the prediction's pass.
	var dr *tensor.Tensor
	var fr []*tensor.Tensor
	g.NoGradPass(func() {
		d, f := l.Rec.ForwardTaps(g, l.input(g, ref), FeatureTaps)
		dr = d.Value.Clone()
		for _, v := range f {
			fr = append(fr, v.Value.Clone())
		}
	})
	dp, fp := l.Rec.ForwardTaps(g, l.input(g, pred), FeatureTaps)
	// The identity term is a sum over the 128 descriptor values (mean per
	// face), so that its weight reads as "per unit of squared distance".
	id = g.Scale(g.MSELoss(dp, nn.Constant(dr)), 128)
	for i := range fp {
		t := g.L1Loss(fp[i], nn.Constant(fr[i]))
		if feat == nil {
			feat = t
		} else {
			feat = g.Add(feat, t)
		}
	}
	return id, feat
}

// input cuts the face box out of x [N,S,S,3] in [0,1], resizes it to the
// net's side and normalises it as face-api does.
func (l FaceLoss) input(g *nn.Graph, x *nn.Var) *nn.Var {
	n := float64(x.Shape()[1])
	side := int(math.Round(AlignedFaceBox[2] * n))
	x0, y0 := int(math.Round(AlignedFaceBox[0]*n)), int(math.Round(AlignedFaceBox[1]*n))
	crop := g.Crop(x, y0, x0, side, side)
	if side != DescriptorSize {
		crop = g.ResizeBilinear(crop, DescriptorSize, DescriptorSize)
	}
	mean := tensor.New(1, 1, 1, 3)
	for c := range 3 {
		mean.Data[c] = meanRGB[c] / recognitionDiv
	}
	return g.Sub(g.Scale(crop, 255.0/recognitionDiv), nn.Constant(mean))
}
