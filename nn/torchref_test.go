package nn

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"facereward/safetensors"
	"facereward/tensor"
)

// The fixtures come from tools/torchref/gen_fixtures.py (PyTorch 1.13).
// Agreement is measured relative to each tensor's scale: every element must
// be within 1e-4·max(max|reference|, 0.1) of PyTorch's value. The floor is
// for gradients that are zero in exact arithmetic (the key bias of attention,
// which softmax ignores), where both sides hold only rounding noise.
const torchTol = 1e-4

func loadFixture(t *testing.T, name string) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read(filepath.Join("..", "testdata", "torchref", name+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func metaInt(t *testing.T, f *safetensors.File, key string) int {
	t.Helper()
	v, err := strconv.Atoi(f.Meta[key])
	if err != nil {
		t.Fatalf("fixture metadata %q: %v", key, err)
	}
	return v
}

func assertClose(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no value computed", what)
		return
	}
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape, want.Shape)
		return
	}
	scale := 0.0
	for _, v := range want.Data {
		scale = max(scale, math.Abs(float64(v)))
	}
	worst, at := 0.0, 0
	for i, v := range want.Data {
		if d := math.Abs(float64(got.Data[i] - v)); d > worst {
			worst, at = d, i
		}
	}
	scale = max(scale, 0.1)
	if worst > torchTol*scale {
		t.Errorf("%s: element %d is %g, PyTorch %g (difference %.2e, tolerance %.2e)",
			what, at, got.Data[at], want.Data[at], worst, torchTol*scale)
	}
}

// torchCase runs f on the fixture's named inputs, compares the output with
// `out`, back-propagates `gout` and compares every input's gradient with
// `grad.<name>`.
func torchCase(t *testing.T, file string, inputs []string, f func(g *Graph, in map[string]*Var, fx *safetensors.File) *Var) {
	t.Run(file, func(t *testing.T) {
		fx := loadFixture(t, file)
		torchCaseOn(t, fx, "", inputs, f)
	})
}

func torchCaseOn(t *testing.T, fx *safetensors.File, prefix string, inputs []string, f func(g *Graph, in map[string]*Var, fx *safetensors.File) *Var) {
	t.Helper()
	vars := map[string]*Var{}
	for _, n := range inputs {
		x, ok := fx.Tensors[n]
		if !ok {
			t.Fatalf("fixture has no tensor %q", n)
		}
		vars[n] = Input(x.Clone())
	}
	g := NewGraph()
	out := f(g, vars, fx)
	assertClose(t, prefix+"out", out.Value, fx.Tensors[prefix+"out"])
	gout := fx.Tensors[prefix+"gout"]
	if gout == nil {
		gout = fx.Tensors["gout"]
	}
	g.Backward(g.Sum(g.Mul(out, Constant(gout))))
	for _, n := range inputs {
		want, ok := fx.Tensors[prefix+"grad."+n]
		if !ok {
			continue
		}
		assertClose(t, prefix+"grad."+n, vars[n].Grad, want)
	}
	g.Reset()
}

func TestTorchConv(t *testing.T) {
	for _, file := range []string{"conv_s1", "conv_s2", "conv_1x1", "conv_s2_k4"} {
		torchCase(t, file, []string{"x", "w", "b"}, func(g *Graph, in map[string]*Var, fx *safetensors.File) *Var {
			return g.Conv2D(in["x"], in["w"], in["b"], metaInt(t, fx, "stride"), metaInt(t, fx, "padding"))
		})
	}
}

func TestTorchNorms(t *testing.T) {
	torchCase(t, "groupnorm", []string{"x", "weight", "bias"}, func(g *Graph, in map[string]*Var, fx *safetensors.File) *Var {
		return g.GroupNorm(in["x"], in["weight"], in["bias"], metaInt(t, fx, "groups"), 1e-5)
	})
	torchCase(t, "layernorm", []string{"x", "weight", "bias"}, func(g *Graph, in map[string]*Var, fx *safetensors.File) *Var {
		return g.LayerNorm(in["x"], in["weight"], in["bias"], 1e-5)
	})
}

func TestTorchAttention(t *testing.T) {
	for _, file := range []string{"sdpa", "sdpa_heads"} {
		torchCase(t, file, []string{"q", "k", "v"}, func(g *Graph, in map[string]*Var, fx *safetensors.File) *Var {
			return g.Attention(in["q"], in["k"], in["v"], metaInt(t, fx, "heads"))
		})
	}
	names := []string{"y", "norm.weight", "norm.bias"}
	for _, p := range []string{"q", "k", "v", "proj"} {
		names = append(names, p+".weight", p+".bias")
	}
	torchCase(t, "attnblock", names, func(g *Graph, in map[string]*Var, fx *safetensors.File) *Var {
		y := in["y"]
		n, h, w, c := nhwc("attnblock", y)
		hn := g.GroupNorm(y, in["norm.weight"], in["norm.bias"], metaInt(t, fx, "groups"), 1e-5)
		conv := func(p string, x *Var) *Var { return g.Conv2D(x, in[p+".weight"], in[p+".bias"], 1, 0) }
		flat := func(x *Var) *Var { return g.Reshape(x, n, h*w, c) }
		o := g.Attention(flat(conv("q", hn)), flat(conv("k", hn)), flat(conv("v", hn)), 1)
		return g.Add(y, conv("proj", g.Reshape(o, n, h, w, c)))
	})
}

func TestTorchResBlock(t *testing.T) {
	names := []string{"x", "temb", "emb.weight", "emb.bias"}
	for _, p := range []string{"norm1", "norm2", "conv1", "conv2"} {
		names = append(names, p+".weight", p+".bias")
	}
	torchCase(t, "resblock", names, func(g *Graph, in map[string]*Var, fx *safetensors.File) *Var {
		x := in["x"]
		n, _, _, c := nhwc("resblock", x)
		groups := metaInt(t, fx, "groups")
		h := g.GroupNorm(x, in["norm1.weight"], in["norm1.bias"], groups, 1e-5)
		h = g.Conv2D(g.SiLU(h), in["conv1.weight"], in["conv1.bias"], 1, 1)
		e := g.Linear(g.SiLU(in["temb"]), in["emb.weight"], in["emb.bias"])
		h = g.Add(h, g.Reshape(e, n, 1, 1, c))
		h = g.GroupNorm(h, in["norm2.weight"], in["norm2.bias"], groups, 1e-5)
		h = g.Conv2D(g.SiLU(h), in["conv2.weight"], in["conv2.bias"], 1, 1)
		return g.Add(x, h)
	})
}

func TestTorchOps(t *testing.T) {
	fx := loadFixture(t, "ops")
	for name, op := range map[string]func(g *Graph, x *Var) *Var{
		"silu": (*Graph).SiLU, "gelu": (*Graph).GELU, "sigmoid": (*Graph).Sigmoid,
		"tanh": (*Graph).Tanh, "softmax": (*Graph).Softmax,
	} {
		t.Run(name, func(t *testing.T) {
			torchCaseOn(t, fx, name+".", []string{"x"}, func(g *Graph, in map[string]*Var, _ *safetensors.File) *Var {
				return op(g, in["x"])
			})
		})
	}
	spatial := []struct {
		name, input string
		op          func(g *Graph, x *Var) *Var
	}{
		{"pixel_shuffle", "x_ps", func(g *Graph, x *Var) *Var { return g.PixelShuffle(x, 2) }},
		{"pixel_unshuffle", "x_pu", func(g *Graph, x *Var) *Var { return g.PixelUnshuffle(x, 2) }},
		{"upsample_nearest", "x_ps", (*Graph).Upsample2x},
		{"avg_pool_even", "x_pu", (*Graph).AvgPool2},
	}
	for _, s := range spatial {
		t.Run(s.name, func(t *testing.T) {
			torchCaseOn(t, fx, s.name+".", []string{s.input}, func(g *Graph, in map[string]*Var, _ *safetensors.File) *Var {
				return s.op(g, in[s.input])
			})
		})
	}
}

func TestTorchTimestepEmbedding(t *testing.T) {
	fx := loadFixture(t, "timestep_embedding")
	emb := TimestepEmbedding(fx.Tensors["t"].Data, metaInt(t, fx, "dim"))
	// Arguments up to 999 rad carry float32 rounding of ~1e-5 in both
	// implementations, so this comparison uses an absolute 2e-5.
	want := fx.Tensors["emb"]
	for i, v := range want.Data {
		if d := math.Abs(float64(emb.Data[i] - v)); d > 2e-5 {
			t.Fatalf("embedding element %d: %g, PyTorch %g", i, emb.Data[i], v)
		}
	}
}
