package nn

import (
	"math"
	"testing"

	"facereward/safetensors"
	"facereward/tensor"
)

// TestSpectralTorch compares σ with torch.linalg.svdvals, and the output
// and gradient with torch's differentiation of w/σ at the exact singular
// vectors (tools/torchref/spectral.py).
func TestSpectralTorch(t *testing.T) {
	fx := loadFixture(t, "spectral")
	for _, name := range []string{"conv_small", "conv_wide", "linear"} {
		t.Run(name, func(t *testing.T) {
			want := float64(fx.Tensors[name+".sigma"].Data[0])
			sigma, _, _ := SpectralSigma(fx.Tensors[name], 50)
			if d := math.Abs(sigma-want) / want; d > 1e-4 {
				t.Errorf("σ after 50 iterations is %.7g, svdvals %.7g (relative difference %.1e; σ₂/σ₁ = %s)",
					sigma, want, d, fx.Meta[name+".gap"])
			}
			// The gradient depends on the singular vectors, whose error
			// shrinks as (σ₂/σ₁)^(2·iters); σ's is the square of theirs.
			// With ratios of 0.97 and 0.94, 50 iterations put σ within
			// 2e-5 but the gradients only within 4e-4 of their scale.
			torchCaseOn(t, fx, name+".", []string{name}, func(g *Graph, in map[string]*Var, _ *safetensors.File) *Var {
				return g.SpectralNorm(in[name], 1000)
			})
		})
	}
}

func TestSpectralNormGrad(t *testing.T) {
	// A clear gap (σ₁ ≈ 3, the rest near 1) makes 50 iterations
	// converge far below float32 rounding.
	w := randTensor(5, 6, 4)
	for i := range w.Data {
		w.Data[i] *= 0.3
	}
	for r := range 6 {
		w.Data[r*4+1] += float32(3 / math.Sqrt(6))
	}
	checkGrads(t, "SpectralNorm", func(g *Graph, in []*Var) *Var { return g.SpectralNorm(in[0], 50) }, w)
	checkGrads(t, "SpectralNorm/conv", func(g *Graph, in []*Var) *Var {
		return g.SpectralNorm(in[0], 50)
	}, gapped(randTensor(6, 2, 2, 3, 5), 2))
}

// gapped adds to w a rank-one term that dominates its spectrum by a factor.
func gapped(w *tensor.Tensor, factor float32) *tensor.Tensor {
	sigma, u, v := SpectralSigma(w, 200)
	cols := len(v)
	for r, ur := range u {
		for c, vc := range v {
			w.Data[r*cols+c] += factor * float32(sigma*ur*vc)
		}
	}
	return w
}

// TestSpectralSigma checks the vectors' invariants on a diagonal matrix,
// whose singular values are known, and that the result is a pure function
// of its input.
func TestSpectralSigma(t *testing.T) {
	w := tensor.New(5, 3)
	w.Data[0*3+0], w.Data[1*3+1], w.Data[2*3+2] = 1, -4, 2
	sigma, u, v := SpectralSigma(w, 60)
	if math.Abs(sigma-4) > 1e-9 {
		t.Errorf("σ = %g, want 4", sigma)
	}
	if math.Abs(math.Abs(u[1])-1) > 1e-9 || math.Abs(math.Abs(v[1])-1) > 1e-9 || u[1]*v[1] > 0 {
		t.Errorf("u = %v, v = %v; want ∓e₁ and ±e₁", u, v)
	}
	w2 := randTensor(8, 3, 3, 4, 6)
	s1, _, _ := SpectralSigma(w2, 7)
	SpectralSigma(w, 3)
	if s2, _, _ := SpectralSigma(w2, 7); s1 != s2 {
		t.Errorf("σ changed between calls: %v then %v", s1, s2)
	}
	out := NewGraph().SpectralNorm(Constant(w), 60).Value.Data
	if math.Abs(float64(out[1*3+1])+1) > 1e-6 || math.Abs(float64(out[0])-0.25) > 1e-6 {
		t.Errorf("w/σ = %v", out)
	}
}
