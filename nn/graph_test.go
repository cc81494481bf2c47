package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"facereward/tensor"
)

func TestNoGradRecordsNothing(t *testing.T) {
	conv := NewConv2d("c", 3, 4, 3, 1, 1, NewRNG(1))
	g := NewGraph()
	g.NoGrad = true
	y := g.SiLU(conv.Forward(g, Input(randTensor(1, 1, 4, 4, 3))))
	if y.NeedGrad || len(g.tape) != 0 {
		t.Fatalf("no-gradient graph recorded %d backward steps (NeedGrad %v)", len(g.tape), y.NeedGrad)
	}
}

func TestFrozenParamsPassGradientToInput(t *testing.T) {
	conv := NewConv2d("c", 2, 3, 3, 1, 1, NewRNG(1))
	Freeze(conv)
	x := Input(randTensor(2, 1, 4, 4, 2))
	g := NewGraph()
	g.Backward(g.Mean(conv.Forward(g, x)))
	if conv.W.Grad != nil || conv.B.Grad != nil {
		t.Error("a frozen parameter received a gradient")
	}
	if x.Grad == nil || allZero(x.Grad.Data) {
		t.Error("the input received no gradient through the frozen layer")
	}
}

func allZero(d []float32) bool {
	for _, v := range d {
		if v != 0 {
			return false
		}
	}
	return true
}

// A training loop must not grow: after the first step every buffer comes
// from the pool.
func TestBuffersReusedAcrossSteps(t *testing.T) {
	conv := NewConv2d("c", 3, 8, 3, 1, 1, NewRNG(1))
	norm := NewGroupNorm("n", 2, 8)
	x := Constant(randTensor(1, 2, 8, 8, 3))
	g := NewGraph()
	step := func() {
		h := norm.Forward(g, conv.Forward(g, x))
		g.Backward(g.Mean(g.Mul(h, h)))
		g.Reset()
	}
	step()
	pooled := 0
	for _, l := range g.free {
		pooled += len(l)
	}
	for range 5 {
		step()
	}
	after := 0
	for _, l := range g.free {
		after += len(l)
	}
	if after != pooled {
		t.Errorf("pool held %d buffers after one step and %d after six: steps are allocating", pooled, after)
	}
	if allocs := testing.AllocsPerRun(3, step); allocs > 200 {
		t.Errorf("%.0f allocations per step; buffers are not being reused", allocs)
	}
}

func TestShapeErrorsNameOpAndShapes(t *testing.T) {
	cases := []struct {
		name string
		f    func(g *Graph)
		want []string
	}{
		{"Add", func(g *Graph) { g.Add(Constant(tensor.New(2, 3)), Constant(tensor.New(4))) }, []string{"nn.Add", "[2 3]", "[4]"}},
		{"MatMul", func(g *Graph) { g.MatMul(Constant(tensor.New(2, 3)), Constant(tensor.New(4, 5))) }, []string{"nn.MatMul", "[2 3]", "[4 5]"}},
		{"Conv2D", func(g *Graph) {
			g.Conv2D(Constant(tensor.New(1, 4, 4, 3)), Constant(tensor.New(3, 3, 2, 5)), nil, 1, 1)
		}, []string{"nn.Conv2D", "[1 4 4 3]", "[3 3 2 5]"}},
		{"L1Loss", func(g *Graph) { g.L1Loss(Constant(tensor.New(2)), Constant(tensor.New(3))) }, []string{"nn.L1Loss", "[2]", "[3]"}},
	}
	for _, c := range cases {
		msg := func() (msg string) {
			defer func() { msg, _ = recover().(string) }()
			c.f(NewGraph())
			return ""
		}()
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q does not mention %q", c.name, msg, w)
			}
		}
	}
}

type tinyNet struct {
	In   *Conv2d
	Norm *Norm
	Out  *Conv2d
	Last *Conv2d // shares In: the copy must share it too
}

func (n *tinyNet) Params() []*Param { return Collect(n.In, n.Norm, n.Out) }

func TestFrozenCopyIsExactAndIndependent(t *testing.T) {
	rng := NewRNG(3)
	net := &tinyNet{In: NewConv2d("in", 2, 4, 3, 1, 1, rng), Norm: NewGroupNorm("norm", 2, 4), Out: NewConv2d("out", 4, 2, 1, 1, 0, rng)}
	net.Last = net.In
	cp := FrozenCopy(net)
	if cp.In == net.In || cp.In.W == net.In.W || cp.In.W.Value == net.In.W.Value {
		t.Fatal("copy shares parameter storage with the original")
	}
	if cp.Last != cp.In {
		t.Error("shared sub-module was duplicated in the copy")
	}
	for i, p := range net.Params() {
		q := cp.Params()[i]
		if p.Name != q.Name || !tensor.SameShape(p.Shape(), q.Shape()) || !q.Frozen() || p.Frozen() {
			t.Fatalf("param %d: %s %v frozen=%v vs copy %s %v frozen=%v", i, p.Name, p.Shape(), p.Frozen(), q.Name, q.Shape(), q.Frozen())
		}
		for j := range p.Value.Data {
			if p.Value.Data[j] != q.Value.Data[j] {
				t.Fatalf("%s[%d] differs in the copy", p.Name, j)
			}
		}
	}
	net.In.W.Value.Data[0] += 1
	if cp.In.W.Value.Data[0] == net.In.W.Value.Data[0] {
		t.Error("changing the original changed the copy")
	}
}

func TestCollectRejectsDuplicateNames(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"a.weight"`) {
			t.Errorf("want a panic naming the duplicate, got %v", r)
		}
	}()
	Collect(NewConv2d("a", 1, 1, 1, 1, 0, NewRNG(1)), NewConv2d("a", 1, 1, 1, 1, 0, NewRNG(1)))
}

// Statistics are gathered about a shift, so a mean far larger than the
// spread (activations around 1000 ± 0.01) still normalises accurately.
func TestGroupNormLargeMean(t *testing.T) {
	x := randTensor(5, 2, 16, 16, 8)
	for i := range x.Data {
		x.Data[i] = 1000 + 0.01*x.Data[i]
	}
	gamma, beta := tensor.New(8), tensor.New(8)
	for i := range gamma.Data {
		gamma.Data[i] = 1
	}
	g := NewGraph()
	out := g.GroupNorm(Constant(x), Constant(gamma), Constant(beta), 2, 1e-5)
	for n := 0; n < 2; n++ {
		for gr := 0; gr < 2; gr++ {
			var vals []float64
			for p := 0; p < 256; p++ {
				for ch := gr * 4; ch < gr*4+4; ch++ {
					vals = append(vals, float64(x.Data[(n*256+p)*8+ch]))
				}
			}
			var m, v float64
			for _, a := range vals {
				m += a
			}
			m /= float64(len(vals))
			for _, a := range vals {
				v += (a - m) * (a - m)
			}
			r := 1 / math.Sqrt(v/float64(len(vals))+1e-5)
			k := 0
			for p := 0; p < 256; p++ {
				for ch := gr * 4; ch < gr*4+4; ch++ {
					want := (vals[k] - m) * r
					got := float64(out.Value.Data[(n*256+p)*8+ch])
					// x itself carries float32 rounding of 1000 (6e-5), which
					// is 6e-3 of the spread; that bounds any implementation.
					if math.Abs(got-want) > 2e-2 {
						t.Fatalf("sample %d group %d value %d: %g, float64 reference %g", n, gr, k, got, want)
					}
					k++
				}
			}
		}
	}
}

// hiddenParam keeps a parameter where Clone cannot reach it.
type hiddenParam struct {
	Conv  *Conv2d
	inner []*Param
	flops float64 // plain unexported values are fine
}

func (h *hiddenParam) Params() []*Param { return append(h.Conv.Params(), h.inner...) }

// Clone refuses a module whose unexported field can hold a parameter (the
// copy would share it), naming the field; plain unexported fields pass.
func TestCloneRefusesUnexportedParams(t *testing.T) {
	rng := NewRNG(1)
	conv := NewConv2d("c", 2, 2, 3, 1, 1, rng)
	ok := &struct {
		Conv  *Conv2d
		flops float64
	}{Conv: conv, flops: 3}
	if c := Clone(ok); c.Conv == conv || c.flops != 3 {
		t.Error("exported module not copied, or plain field lost")
	}
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "inner") {
			t.Errorf("hidden parameter: recovered %v, want a panic naming the field", r)
		}
	}()
	Clone(&hiddenParam{Conv: conv, inner: conv.Params()})
}

// A request takes a free buffer of its own class, else the smallest free
// one up to twice its size, and never a larger one.
func TestPoolTakesTheSmallestFitUpToTwice(t *testing.T) {
	g := NewGraph()
	big, _ := g.slot(1000, false)
	mid, _ := g.slot(700, false)
	huge, _ := g.slot(4000, false)
	g.Reset() // all three free
	same := func(a, b []float32) bool { return &a[:1][0] == &b[:1][0] }
	if b, _ := g.slot(600, true); !same(b, mid) || len(b) != 600 {
		t.Errorf("600 floats: want the free 700-float buffer")
	}
	for i := range 600 {
		if mid[i] != 0 {
			t.Fatal("a buffer asked for zeroed is not")
		}
	}
	if b, _ := g.slot(900, false); !same(b, big) {
		t.Errorf("900 floats: want the free 1000-float buffer")
	}
	if b, _ := g.slot(1500, false); same(b, huge) || cap(b) != sizeClass(1500) {
		t.Errorf("1500 floats: took a buffer of %d (want a new one of class %d)", cap(b), sizeClass(1500))
	}
	g.Reset()
	if b, _ := g.slot(800, false); !same(b, big) {
		t.Errorf("800 floats: want the 1000-float buffer back from Reset, not the 1500 or 4000 one")
	}
}
