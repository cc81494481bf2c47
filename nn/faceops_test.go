package nn

import (
	"math"
	"runtime"
	"testing"

	"facereward/tensor"
)

// spreadTensor holds a shuffled ramp with steps of 0.1, so that no two
// values are within the finite-difference step of each other: max pooling
// and ReLU have kinks where the numeric gradient would be meaningless.
func spreadTensor(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	rng := NewRNG(seed)
	for i, j := range rng.Perm(t.Len()) {
		t.Data[i] = 0.1*float32(j) - 0.05*float32(t.Len()) + 0.05
	}
	return t
}

func TestSamePadding(t *testing.T) {
	cases := []struct {
		h, k, s int
		want    [2]int
	}{
		{112, 3, 2, [2]int{0, 1}}, // even input, stride 2: the extra row goes at the bottom
		{112, 3, 1, [2]int{1, 1}},
		{7, 3, 2, [2]int{1, 1}},
		{150, 7, 2, [2]int{2, 3}},
		{4, 1, 1, [2]int{0, 0}},
	}
	for _, c := range cases {
		p := SamePadding(c.h, c.h, c.k, c.k, c.s)
		if p.Top != c.want[0] || p.Bottom != c.want[1] || p.Left != c.want[0] || p.Right != c.want[1] {
			t.Errorf("SamePadding(%d, k=%d, s=%d) = %+v, want top/left %d bottom/right %d", c.h, c.k, c.s, p, c.want[0], c.want[1])
		}
	}
}

func TestGradFaceOps(t *testing.T) {
	asym := Pad2D{Top: 0, Bottom: 1, Left: 2, Right: 1}
	checkGrads(t, "ZeroPad", func(g *Graph, in []*Var) *Var { return g.ZeroPad(in[0], asym) }, randTensor(1, 2, 3, 4, 3))
	checkGrads(t, "ReLU", func(g *Graph, in []*Var) *Var { return g.ReLU(in[0]) }, spreadTensor(2, 2, 3, 3, 2))
	checkGrads(t, "LeakyReLU", func(g *Graph, in []*Var) *Var { return g.LeakyReLU(in[0], 0.2) }, spreadTensor(3, 2, 3, 3, 2))
	// On an intermediate value with a second reader, LeakyReLU's backward
	// sets the gradient when it is the first to reach the value and adds
	// into it when it is not.
	checkGrads(t, "LeakyReLU/sets", func(g *Graph, in []*Var) *Var {
		h := g.Scale(in[0], 1.5)
		other := g.Scale(h, 0.5)
		return g.Add(g.LeakyReLU(h, 0.2), other)
	}, spreadTensor(3, 2, 3, 3, 2))
	checkGrads(t, "LeakyReLU/adds", func(g *Graph, in []*Var) *Var {
		h := g.Scale(in[0], 1.5)
		return g.Add(g.LeakyReLU(h, 0.2), g.Scale(h, 0.5))
	}, spreadTensor(3, 2, 3, 3, 2))
	for _, s := range []int{1, 2} {
		for _, x := range []*tensor.Tensor{randTensor(4, 2, 6, 5, 3), randTensor(5, 1, 7, 7, 4)} {
			p := SamePadding(x.Shape[1], x.Shape[2], 3, 3, s)
			checkGrads(t, "DepthwiseConv2D", func(g *Graph, in []*Var) *Var {
				return g.DepthwiseConv2D(in[0], in[1], in[2], s, p)
			}, x, randTensor(6, 3, 3, x.Shape[3]), randTensor(7, x.Shape[3]))
		}
	}
	checkGrads(t, "DepthwiseConv2D/nobias", func(g *Graph, in []*Var) *Var {
		return g.DepthwiseConv2D(in[0], in[1], nil, 2, asym)
	}, randTensor(8, 1, 5, 6, 2), randTensor(9, 3, 2, 2))
	checkGrads(t, "MaxPool2D/valid", func(g *Graph, in []*Var) *Var { return g.MaxPool2D(in[0], 3, 2, Pad2D{}) }, spreadTensor(10, 2, 7, 8, 3))
	checkGrads(t, "MaxPool2D/same", func(g *Graph, in []*Var) *Var {
		return g.MaxPool2D(in[0], 3, 2, SamePadding(6, 6, 3, 3, 2))
	}, spreadTensor(11, 1, 6, 6, 2))
	checkGrads(t, "AvgPool2D/valid", func(g *Graph, in []*Var) *Var { return g.AvgPool2D(in[0], 2, 2, Pad2D{}) }, randTensor(12, 2, 5, 5, 3))
	checkGrads(t, "AvgPool2D/same", func(g *Graph, in []*Var) *Var {
		return g.AvgPool2D(in[0], 3, 2, SamePadding(6, 5, 3, 3, 2))
	}, randTensor(13, 1, 6, 5, 2))
}

// TestFaceOpsValues checks the forward passes against direct definitions on
// small cases, so a gradient test of a wrong forward cannot pass.
func TestFaceOpsValues(t *testing.T) {
	g := NewGraph()
	g.NoGrad = true
	// 1×3×3×1 input 1..9; kernel of ones, stride 2, TF 'same' (pad 1 each
	// side at 3 → 2): windows are the four corners' 2×2 neighbourhoods.
	x := Constant(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 3, 3, 1))
	ones := Constant(tensor.FromSlice([]float32{1, 1, 1, 1, 1, 1, 1, 1, 1}, 3, 3, 1))
	dw := g.DepthwiseConv2D(x, ones, nil, 2, SamePadding(3, 3, 3, 3, 2))
	wantEq(t, "DepthwiseConv2D", dw.Value.Data, []float32{12, 16, 24, 28})
	mp := g.MaxPool2D(x, 2, 2, SamePadding(3, 3, 2, 2, 2))
	wantEq(t, "MaxPool2D", mp.Value.Data, []float32{5, 6, 8, 9})
	ap := g.AvgPool2D(x, 2, 2, SamePadding(3, 3, 2, 2, 2))
	wantEq(t, "AvgPool2D", ap.Value.Data, []float32{3, 4.5, 7.5, 9})
	zp := g.ZeroPad(Constant(tensor.FromSlice([]float32{1, 2}, 1, 1, 2, 1)), Pad2D{Top: 1, Right: 1})
	wantEq(t, "ZeroPad", zp.Value.Data, []float32{0, 0, 0, 1, 2, 0})
	r := g.LeakyReLU(Constant(tensor.FromSlice([]float32{-2, 0, 3}, 3)), 0.5)
	wantEq(t, "LeakyReLU", r.Value.Data, []float32{-1, 0, 3})
}

func wantEq(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Errorf("%s: got %v, want %v", name, got, want)
			return
		}
	}
}

// TestFaceOpsParallel runs the ops on inputs large enough to be split over
// goroutines and compares values and gradients with a single-threaded run,
// which the small finite-difference cases above never leave.
func TestFaceOpsParallel(t *testing.T) {
	x := randTensor(20, 2, 24, 22, 32)
	w := randTensor(21, 3, 3, 32)
	bias := randTensor(22, 32)
	run := func(procs, stride int) [][]float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		vs := []*Var{Input(x.Clone()), Input(w.Clone()), Input(bias.Clone())}
		g := NewGraph()
		y := g.DepthwiseConv2D(vs[0], vs[1], vs[2], stride, SamePadding(24, 22, 3, 3, stride))
		y = g.ReLU(g.ZeroPad(y, Pad2D{Top: 1, Right: 2}))
		y = g.Add(g.MaxPool2D(y, 3, 2, Pad2D{}), g.AvgPool2D(y, 3, 2, Pad2D{}))
		g.Backward(g.Sum(g.Mul(y, Constant(randTensor(23, y.Shape()...)))))
		return [][]float32{append([]float32(nil), y.Value.Data...), vs[0].Grad.Data, vs[1].Grad.Data, vs[2].Grad.Data}
	}
	for _, stride := range []int{1, 2} {
		serial, par := run(1, stride), run(4, stride)
		for i := range serial {
			for j := range serial[i] {
				if d := math.Abs(float64(serial[i][j] - par[i][j])); d > 1e-4*(1+math.Abs(float64(serial[i][j]))) {
					t.Fatalf("stride %d: result %d, element %d: %g single-threaded, %g in parallel", stride, i, j, serial[i][j], par[i][j])
				}
			}
		}
	}
}
