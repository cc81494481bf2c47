package nn

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// net is a forward pass through every kind of operation the networks use,
// views (Reshape) and values read by later backward functions (the
// residual x feeding two branches) included; it returns the loss.
func freeValuesNet(g *Graph, x, w48, w48b, wd, lin, gamma, beta *Var) *Var {
	h := g.Conv2D(x, w48, nil, 1, 1) // Winograd
	h = g.SiLU(g.GroupNorm(h, gamma, beta, 8, 1e-5))
	r := g.Conv2D(h, w48b, nil, 2, 1) // stride 2: col2im backward
	r = g.Upsample2x(g.LeakyReLU(r, 0.2))
	h = g.Add(h, g.Mul(r, g.Sigmoid(h))) // h read by two branches
	n, hh, ww, c := h.Shape()[0], h.Shape()[1], h.Shape()[2], h.Shape()[3]
	seq := g.Reshape(h, n, hh*ww, c)
	a := g.Attention(seq, g.Tanh(seq), g.GELU(seq), 4)
	h = g.Reshape(g.Add(a, seq), n, hh, ww, c)
	d := g.DepthwiseConv2D(g.ZeroPad(h, Pad2D{Top: 1, Bottom: 1, Left: 1, Right: 1}), wd, nil, 1, Pad2D{})
	d = g.MaxPool2D(g.Concat(g.Slice(d, 0, 24), g.Softplus(g.Slice(d, 24, 48))), 3, 1, Pad2D{Top: 1, Bottom: 1, Left: 1, Right: 1})
	d = g.Sub(g.WaveletLowpass(d, 2), g.AvgPool2D(d, 3, 1, Pad2D{Top: 1, Bottom: 1, Left: 1, Right: 1}))
	d = g.ResizeBilinear(g.Crop(d, 1, 1, hh-2, ww-2), hh, ww)
	p := g.Linear(g.MeanHW(g.Div(d, g.AddScalar(g.ReLU(h), 1))), lin, nil)
	sm := g.Softmax(p)
	return g.Add(g.Scale(g.Sum(g.Mul(sm, p)), 0.5), g.MSELoss(d, h))
}

// With FreeValues, Backward gives the same gradients byte for byte, the
// recorded operations' values are gone afterwards (the loss's stays), and
// the pool a step needs is smaller.
func TestFreeValues(t *testing.T) {
	run := func(free bool) (grads [][]float32, loss float32, pool int, g *Graph, h *Var) {
		in := []*Var{
			Input(randTensor(31, 2, 8, 8, 48)), Input(randTensor(32, 3, 3, 48, 48)), Input(randTensor(33, 3, 3, 48, 48)),
			Input(randTensor(34, 3, 3, 48)), Input(randTensor(35, 48, 10)), Input(randTensor(36, 48)), Input(randTensor(37, 48)),
		}
		g = NewGraph()
		g.FreeValues = free
		for step := range 2 { // the second step runs on the first's pool
			out := freeValuesNet(g, in[0], in[1], in[2], in[3], in[4], in[5], in[6])
			loss = out.Value.Data[0]
			h = g.inter[0]
			g.Backward(out)
			if step == 0 {
				if out.Value == nil || out.Value.Data[0] != loss {
					t.Errorf("free %v: the loss's value changed in Backward", free)
				}
				g.Reset()
				for _, v := range in {
					clear(v.Grad.Data)
				}
			}
		}
		for _, v := range in {
			grads = append(grads, v.Grad.Data)
		}
		for _, l := range g.free {
			for _, b := range l {
				pool += len(b)
			}
		}
		for _, b := range g.used {
			pool += len(b)
		}
		return grads, loss, pool, g, h
	}
	keep, lossKeep, poolKeep, _, hKeep := run(false)
	free, lossFree, poolFree, _, hFree := run(true)
	if lossKeep != lossFree {
		t.Errorf("loss %g with FreeValues, %g without", lossFree, lossKeep)
	}
	for i := range keep {
		if !bytes.Equal(raw(keep[i]), raw(free[i])) {
			t.Errorf("input %d: gradient differs with FreeValues", i)
		}
	}
	if hKeep.Value == nil || hFree.Value != nil {
		t.Errorf("first op's value after Backward: %v without FreeValues, %v with (want kept, then nil)", hKeep.Value != nil, hFree.Value != nil)
	}
	if poolFree >= poolKeep {
		t.Errorf("pool %d floats with FreeValues, %d without: want fewer", poolFree, poolKeep)
	}
	t.Logf("pool: %d floats with FreeValues, %d without", poolFree, poolKeep)
}

func raw(x []float32) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, x)
	return b.Bytes()
}

// A pass without gradients inside a step gives its buffers to the rest of
// the step: the same gradients as with the pass on a graph of its own,
// and a pool no larger than the step without it. A pass that records
// anything is refused.
func TestNoGradPass(t *testing.T) {
	x, w := Input(randTensor(41, 2, 6, 6, 8)), Input(randTensor(42, 3, 3, 8, 8))
	ref := randTensor(43, 2, 6, 6, 8)
	step := func(g *Graph, inside bool) (pool int) {
		var r *Var
		if inside {
			g.NoGradPass(func() { r = Constant(g.SiLU(g.Conv2D(Constant(ref), w, nil, 1, 1)).Value.Clone()) })
		} else {
			h := NewGraph()
			h.NoGrad = true
			r = Constant(h.SiLU(h.Conv2D(Constant(ref), w, nil, 1, 1)).Value.Clone())
		}
		g.Backward(g.MSELoss(g.SiLU(g.Conv2D(x, w, nil, 1, 1)), r))
		g.Reset()
		for _, l := range g.free {
			for _, b := range l {
				pool += len(b)
			}
		}
		return pool
	}
	var grads [2][]float32
	var pools [2]int
	for i, inside := range []bool{false, true} {
		g := NewGraph()
		pools[i] = step(g, inside)
		grads[i] = append([]float32(nil), w.Grad.Data...)
		x.Grad, w.Grad = nil, nil
	}
	if !bytes.Equal(raw(grads[0]), raw(grads[1])) {
		t.Error("the gradient differs with the reference's pass inside the step")
	}
	if pools[1] > pools[0] {
		t.Errorf("pool %d floats with the pass inside the step, %d without", pools[1], pools[0])
	}
	defer func() {
		if recover() == nil {
			t.Error("NoGradPass accepted a pass that recorded an operation")
		}
	}()
	g := NewGraph()
	g.NoGradPass(func() {
		g.NoGrad = false // a pass that records despite the flag
		g.SiLU(x)
	})
}

// AddTo gives Add's values and gradients byte for byte, over a full and a
// broadcast operand, and refuses an operand that is not a fresh Conv2D
// output.
func TestAddTo(t *testing.T) {
	for _, bshape := range [][]int{{2, 5, 5, 6}, {2, 1, 1, 6}} {
		run := func(inPlace bool) [][]float32 {
			x, w, b := Input(randTensor(51, 2, 5, 5, 4)), Input(randTensor(52, 3, 3, 4, 6)), Input(randTensor(53, bshape...))
			g := NewGraph()
			g.FreeValues = true
			c := g.Conv2D(x, w, nil, 1, 1)
			var s *Var
			if inPlace {
				s = g.AddTo(c, b)
			} else {
				s = g.Add(c, b)
			}
			val := append([]float32(nil), s.Value.Data...)
			g.Backward(g.Sum(g.Mul(g.SiLU(s), Constant(randTensor(54, 2, 5, 5, 6)))))
			return [][]float32{val, x.Grad.Data, w.Grad.Data, b.Grad.Data}
		}
		add, to := run(false), run(true)
		for i := range add {
			if !bytes.Equal(raw(add[i]), raw(to[i])) {
				t.Errorf("b %v: output %d (value, then x, w, b gradients) differs between Add and AddTo", bshape, i)
			}
		}
	}
	g := NewGraph()
	x := Input(randTensor(55, 1, 3, 3, 2))
	c := g.Conv2D(x, Input(randTensor(56, 1, 1, 2, 2)), nil, 1, 0)
	g.AddTo(c, x)
	for name, a := range map[string]*Var{"an input": x, "a summed conv output": c} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddTo accepted %s", name)
				}
			}()
			g.AddTo(a, x)
		}()
	}
}
