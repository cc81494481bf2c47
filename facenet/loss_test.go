package facenet

import (
	"math"
	"testing"

	"facereward/imageio"
	"facereward/nn"
	"facereward/tensor"
)

func readFace(t *testing.T, path string) *tensor.Tensor {
	t.Helper()
	img, err := imageio.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// The face loss sees a face as the IDS metric does: its descriptor on the
// graph equals DescriptorCrop of AlignedCrop, the two terms vanish for a
// face against itself, and both grow for a degraded face.
func TestFaceLossMatchesMetric(t *testing.T) {
	_, rec := nets(t)
	gt := readFace(t, "../examples/gt/collins.png")
	lq := readFace(t, "../examples/lq/collins.png")
	l := FaceLoss{Rec: rec}
	g := nn.NewGraph()
	batch := tensor.Stack([]*tensor.Tensor{gt, lq})
	desc, _ := rec.ForwardTaps(g, l.input(g, nn.Constant(batch)), FeatureTaps)
	for i, img := range []*tensor.Tensor{gt, lq} {
		crop, _, _ := AlignedCrop(img)
		want := rec.DescriptorCrop(crop)
		for j := range want {
			if d := math.Abs(float64(desc.Value.Data[i*128+j] - want[j])); d > 1e-4 {
				t.Fatalf("face %d descriptor[%d]: graph %v, metric %v", i, j, desc.Value.Data[i*128+j], want[j])
			}
		}
	}
	id, feat := l.Terms(g, nn.Constant(tensor.Stack([]*tensor.Tensor{gt})), nn.Constant(tensor.Stack([]*tensor.Tensor{gt})))
	if id.Value.Data[0] != 0 || feat.Value.Data[0] != 0 {
		t.Errorf("a face against itself: id %v, feat %v, want 0", id.Value.Data[0], feat.Value.Data[0])
	}
	id, feat = l.Terms(g, nn.Constant(tensor.Stack([]*tensor.Tensor{lq})), nn.Constant(tensor.Stack([]*tensor.Tensor{gt})))
	if !(id.Value.Data[0] > 0.001 && feat.Value.Data[0] > 0.001) {
		t.Errorf("the degraded face against its GT: id %v, feat %v, want both clearly > 0", id.Value.Data[0], feat.Value.Data[0])
	}
}

// The terms' gradient with respect to the restoration matches central
// differences along unit directions (the gradient's own and random ones;
// single pixels sit too close to the ReLU, max-pool and L1 kinks for
// float32 differences), and is zero outside the face box.
func TestFaceLossGradient(t *testing.T) {
	_, rec := nets(t)
	gt := readFace(t, "../examples/gt/collins.png")
	lq := readFace(t, "../examples/lq/collins.png")
	l := FaceLoss{Rec: rec}
	ref := nn.Constant(tensor.Stack([]*tensor.Tensor{gt}))
	x := tensor.Stack([]*tensor.Tensor{lq})
	for _, term := range []string{"id", "feat"} {
		total := func(g *nn.Graph, v *nn.Var) *nn.Var {
			id, feat := l.Terms(g, v, ref)
			// Both terms must reach the loss: the tape's backward pass
			// expects every recorded op to.
			if term == "id" {
				return g.Add(id, g.Scale(feat, 0))
			}
			return g.Add(feat, g.Scale(id, 0))
		}
		g := nn.NewGraph()
		in := nn.Input(x)
		g.Backward(total(g, in))
		grad := in.Grad.Clone()
		if v := grad.Data[(5*128+5)*3]; v != 0 {
			t.Errorf("%s: pixel outside the face box has gradient %v", term, v)
		}
		rng := nn.NewRNG(3)
		for k := range 4 {
			// A unit direction, so that the step's size is h.
			dir := tensor.New(x.Shape...)
			var norm float64
			for i := range dir.Data {
				// The first direction is the gradient's own, where the
				// derivative is largest against float32 noise.
				if k == 0 {
					dir.Data[i] = grad.Data[i]
				} else {
					dir.Data[i] = float32(rng.NormFloat64())
				}
				norm += float64(dir.Data[i]) * float64(dir.Data[i])
			}
			var want float64
			for i := range dir.Data {
				dir.Data[i] /= float32(math.Sqrt(norm))
				want += float64(dir.Data[i]) * float64(grad.Data[i])
			}
			at := func(s float32) float64 {
				y := x.Clone()
				for i := range y.Data {
					y.Data[i] += s * dir.Data[i]
				}
				g := nn.NewGraph()
				g.NoGrad = true
				return float64(total(g, nn.Constant(y)).Value.Data[0])
			}
			const h = 3e-3
			num := (at(h) - at(-h)) / (2 * h)
			if math.Abs(want-num) > 0.05*math.Abs(num)+4e-4 {
				t.Errorf("%s direction %d: gradient·d %.6g, central difference %.6g", term, k, want, num)
			}
		}
	}
}
