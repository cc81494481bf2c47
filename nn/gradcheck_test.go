package nn

import (
	"math"
	"testing"

	"facereward/tensor"
)

func randTensor(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	Normal(t, 1, NewRNG(seed))
	return t
}

// checkGrads compares the analytic gradients of L = Σ out⊙w (w fixed random)
// with central finite differences, for every input. Inputs are float32, so
// the loss is accumulated in float64 and the step is large enough that
// rounding stays well below the tolerance.
func checkGrads(t *testing.T, name string, f func(g *Graph, in []*Var) *Var, inputs ...*tensor.Tensor) {
	t.Helper()
	const eps = 1e-2
	vars := make([]*Var, len(inputs))
	for i, x := range inputs {
		vars[i] = Input(x)
	}
	g := NewGraph()
	out := f(g, vars)
	w := randTensor(99, out.Shape()...)
	loss := g.Sum(g.Mul(out, Constant(w)))
	g.Backward(loss)
	g.Reset()

	eval := func() float64 {
		h := NewGraph()
		h.NoGrad = true
		o := f(h, vars)
		var s float64
		for i, v := range o.Value.Data {
			s += float64(v) * float64(w.Data[i])
		}
		return s
	}
	for i, v := range vars {
		var num, diff, ref float64
		worst := 0.0
		for j := range v.Value.Data {
			orig := v.Value.Data[j]
			v.Value.Data[j] = orig + eps
			lp := eval()
			v.Value.Data[j] = orig - eps
			lm := eval()
			v.Value.Data[j] = orig
			n := (lp - lm) / (2 * eps)
			a := float64(v.Grad.Data[j])
			diff += (a - n) * (a - n)
			ref += n * n
			num++
			worst = max(worst, math.Abs(a-n)/(1+math.Abs(n)))
		}
		rel := math.Sqrt(diff / max(ref, 1e-12))
		if rel > 1e-2 || worst > 2e-2 {
			t.Errorf("%s: input %d %s: gradient differs from finite differences: relative L2 error %.2e, worst element %.2e (of %v values)",
				name, i, tensor.ShapeString(v.Shape()), rel, worst, num)
		}
		if ref == 0 {
			t.Errorf("%s: input %d: finite-difference gradient is all zero; the check proves nothing", name, i)
		}
	}
}

func TestGradElementwise(t *testing.T) {
	bin := map[string]func(g *Graph, a, b *Var) *Var{
		"Add": (*Graph).Add, "Sub": (*Graph).Sub, "Mul": (*Graph).Mul, "Div": (*Graph).Div,
	}
	shapes := []struct {
		name string
		a, b []int
	}{
		{"same", []int{2, 3, 4, 5}, []int{2, 3, 4, 5}},
		{"channels", []int{2, 3, 4, 5}, []int{5}},
		{"batch-channels", []int{2, 3, 4, 5}, []int{2, 1, 1, 5}},
		{"per-sample", []int{2, 3, 4, 5}, []int{2, 1, 1, 1}},
		{"both-sides", []int{1, 3, 1, 5}, []int{2, 1, 4, 1}},
	}
	for name, op := range bin {
		for _, s := range shapes {
			b := randTensor(2, s.b...)
			if name == "Div" {
				for i := range b.Data { // keep the divisor away from zero
					b.Data[i] = 1.5 + float32(math.Abs(float64(b.Data[i])))
				}
			}
			checkGrads(t, name+"/"+s.name, func(g *Graph, in []*Var) *Var { return op(g, in[0], in[1]) },
				randTensor(1, s.a...), b)
		}
	}
	un := map[string]func(g *Graph, x *Var) *Var{
		"Sigmoid": (*Graph).Sigmoid, "Tanh": (*Graph).Tanh, "SiLU": (*Graph).SiLU, "GELU": (*Graph).GELU,
		"Softmax": (*Graph).Softmax, "Softplus": (*Graph).Softplus,
		"Scale":     func(g *Graph, x *Var) *Var { return g.Scale(x, -0.7) },
		"AddScalar": func(g *Graph, x *Var) *Var { return g.Mul(g.AddScalar(x, 0.3), x) },
	}
	for name, op := range un {
		checkGrads(t, name, func(g *Graph, in []*Var) *Var { return op(g, in[0]) }, randTensor(3, 2, 3, 7))
	}
}

func TestGradMatMulConv(t *testing.T) {
	checkGrads(t, "MatMul/batched", func(g *Graph, in []*Var) *Var { return g.MatMul(in[0], in[1]) },
		randTensor(1, 2, 3, 4), randTensor(2, 2, 4, 5))
	checkGrads(t, "MatMul/shared", func(g *Graph, in []*Var) *Var { return g.MatMul(in[0], in[1]) },
		randTensor(1, 2, 3, 4), randTensor(2, 4, 5))
	checkGrads(t, "Linear", func(g *Graph, in []*Var) *Var { return g.Linear(in[0], in[1], in[2]) },
		randTensor(1, 3, 4), randTensor(2, 4, 6), randTensor(3, 6))
	for _, c := range []struct {
		name                   string
		h, w, cin, k, cout, st int
		pad                    int
	}{
		{"3x3s1", 5, 6, 3, 3, 4, 1, 1},
		{"3x3s2", 7, 6, 3, 3, 4, 2, 1},
		{"1x1", 4, 5, 3, 1, 4, 1, 0},
		{"4x4s2", 8, 8, 2, 4, 3, 2, 1},
		{"3x3s1nopad", 5, 5, 2, 3, 2, 1, 0},
		{"3x3s1pad2", 4, 5, 2, 3, 2, 1, 2},
		{"5x5s1", 6, 6, 2, 5, 3, 1, 2},
		{"1x1pad1", 3, 4, 2, 1, 3, 1, 1},    // flipped backward padding −1 crops
		{"3x3s1big", 12, 24, 3, 3, 4, 1, 1}, // several im2col chunks
		{"3x3s1wide", 6, 7, 3, 3, 20, 1, 1}, // Cout ≥ 16: untransposed products
		{"3x3s2wide", 6, 7, 17, 3, 18, 2, 1},
	} {
		checkGrads(t, "Conv2D/"+c.name, func(g *Graph, in []*Var) *Var { return g.Conv2D(in[0], in[1], in[2], c.st, c.pad) },
			randTensor(1, 2, c.h, c.w, c.cin), randTensor(2, c.k, c.k, c.cin, c.cout), randTensor(3, c.cout))
	}
}

func TestGradNormAttention(t *testing.T) {
	checkGrads(t, "GroupNorm", func(g *Graph, in []*Var) *Var { return g.GroupNorm(in[0], in[1], in[2], 3, 1e-5) },
		randTensor(1, 2, 3, 4, 6), randTensor(2, 6), randTensor(3, 6))
	checkGrads(t, "LayerNorm", func(g *Graph, in []*Var) *Var { return g.LayerNorm(in[0], in[1], in[2], 1e-5) },
		randTensor(1, 3, 4, 6), randTensor(2, 6), randTensor(3, 6))
	for _, heads := range []int{1, 2} {
		checkGrads(t, "Attention", func(g *Graph, in []*Var) *Var { return g.Attention(in[0], in[1], in[2], heads) },
			randTensor(1, 2, 5, 4), randTensor(2, 2, 5, 4), randTensor(3, 2, 5, 4))
	}
}

func TestGradShapeOps(t *testing.T) {
	one := func(name string, f func(g *Graph, x *Var) *Var, shape ...int) {
		checkGrads(t, name, func(g *Graph, in []*Var) *Var { return f(g, in[0]) }, randTensor(4, shape...))
	}
	one("Reshape", func(g *Graph, x *Var) *Var { return g.Reshape(x, 6, -1) }, 2, 3, 4)
	one("Slice", func(g *Graph, x *Var) *Var { return g.Slice(x, 1, 4) }, 2, 3, 5)
	one("Upsample2x", (*Graph).Upsample2x, 2, 3, 2, 3)
	one("AvgPool2", (*Graph).AvgPool2, 2, 4, 6, 3)
	one("PixelShuffle", func(g *Graph, x *Var) *Var { return g.PixelShuffle(x, 2) }, 1, 2, 3, 8)
	one("PixelUnshuffle", func(g *Graph, x *Var) *Var { return g.PixelUnshuffle(x, 2) }, 1, 4, 6, 2)
	one("Sum", (*Graph).Sum, 2, 3)
	one("Mean", (*Graph).Mean, 2, 3)
	one("MeanHW", (*Graph).MeanHW, 2, 3, 4, 5)
	checkGrads(t, "Concat", func(g *Graph, in []*Var) *Var { return g.Concat(in[0], in[1], in[2]) },
		randTensor(1, 2, 3, 2), randTensor(2, 2, 3, 4), randTensor(3, 2, 3, 1))
	checkGrads(t, "MSELoss", func(g *Graph, in []*Var) *Var { return g.MSELoss(in[0], in[1]) },
		randTensor(1, 2, 3, 4), randTensor(2, 2, 3, 4))
	checkGrads(t, "L1Loss", func(g *Graph, in []*Var) *Var { return g.L1Loss(in[0], in[1]) },
		randTensor(1, 2, 3, 4), randTensor(2, 2, 3, 4))
}
