package diffusion

import (
	"math"
	"math/rand/v2"
	"testing"

	"facereward/nn"
	"facereward/tensor"
)

func randTensor(rng *rand.Rand, lo, hi float64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return t
}

func maxDiff(a, b *tensor.Tensor) float64 {
	if !tensor.SameShape(a.Shape, b.Shape) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a.Data {
		m = max(m, math.Abs(float64(a.Data[i])-float64(b.Data[i])))
	}
	return m
}

// Round trips through the intermediate quantity, over a batch that mixes
// timesteps from both ends of the schedules.
func TestConversionRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := []int{0, 1, 500, 998, 999, -1}
	// ε ↔ x0 round trips are ill-conditioned where sqrt(ᾱ) is tiny (their
	// float32 rounding is multiplied by 1/sqrt(ᾱ)); checked to 1e-5 up to
	// t = 750 here and against that bound at every t below.
	mid := []int{0, 1, 250, 500, 750}
	for _, kind := range []BetaSchedule{Linear, Cosine} {
		s := mustSchedule(t, kind)
		x0 := randTensor(rng, -1, 1, len(mid), 4, 4, 3)
		eps := Normal(rng, x0.Shape...)
		xt := s.Noise(x0, eps, mid)
		if d := maxDiff(s.X0FromEps(xt, s.EpsFromX0(xt, x0, mid), mid), x0); d > 1e-5 {
			t.Errorf("%s: X0FromEps(EpsFromX0(x0)) off by %g", kind, d)
		}
		if d := maxDiff(s.EpsFromX0(xt, s.X0FromEps(xt, eps, mid), mid), eps); d > 1e-5 {
			t.Errorf("%s: EpsFromX0(X0FromEps(ε)) off by %g", kind, d)
		}

		// From x_t = Noise(x0, ε), v gives back both x0 and ε at every t,
		// the noisiest and the clean one included.
		x0 = randTensor(rng, -1, 1, len(all), 4, 4, 3)
		eps = Normal(rng, x0.Shape...)
		xt = s.Noise(x0, eps, all)
		v := s.V(x0, eps, all)
		if d := maxDiff(s.X0FromV(xt, v, all), x0); d > 1e-5 {
			t.Errorf("%s: X0FromV(x_t, V(x0, ε)) off by %g", kind, d)
		}
		if d := maxDiff(s.EpsFromV(xt, v, all), eps); d > 1e-5 {
			t.Errorf("%s: EpsFromV(x_t, V(x0, ε)) off by %g", kind, d)
		}
		if d := maxDiff(s.X0FromPred(PredictV, xt, v, all), x0); d > 1e-5 {
			t.Errorf("%s: X0FromPred(v) off by %g", kind, d)
		}
		// PredFromX0 inverts X0FromPred: it gives back v, and the ε that
		// made x_t (t >= 0 only; ill-conditioned like ε ↔ x0, so on mid).
		x0m := randTensor(rng, -1, 1, len(mid), 4, 4, 3)
		em := Normal(rng, x0m.Shape...)
		xtm := s.Noise(x0m, em, mid)
		if d := maxDiff(s.PredFromX0(PredictV, xtm, x0m, mid), s.V(x0m, em, mid)); d > 1e-4 {
			t.Errorf("%s: PredFromX0(v) off by %g", kind, d)
		}
		if d := maxDiff(s.PredFromX0(PredictEps, xtm, x0m, mid), em); d > 1e-4 {
			t.Errorf("%s: PredFromX0(ε) off by %g", kind, d)
		}
		// From ε the error is amplified by 1/sqrt(ᾱ): check against that.
		for n, ti := range all[:5] {
			one := []int{ti}
			per := x0.Len() / len(all)
			x0n := tensor.FromSlice(x0.Data[n*per:(n+1)*per], 1, 4, 4, 3)
			en := tensor.FromSlice(eps.Data[n*per:(n+1)*per], 1, 4, 4, 3)
			tol := 1e-6 / s.SqrtAlphaBar(ti)
			if d := maxDiff(s.X0FromPred(PredictEps, s.Noise(x0n, en, one), en, one), x0n); d > tol {
				t.Errorf("%s t=%d: X0FromEps(Noise(x0, ε), ε) off by %g > %g", kind, ti, d, tol)
			}
		}
		// Noise itself against its definition.
		a, b := s.SqrtAlphaBar(500), s.SqrtOneMinusAlphaBar(500)
		if got, want := float64(xt.Data[2*48+5]), a*float64(x0.Data[2*48+5])+b*float64(eps.Data[2*48+5]); math.Abs(got-want) > 1e-6 {
			t.Errorf("%s: Noise = %g, want %g", kind, got, want)
		}
	}
}

type conversion struct {
	name string
	ten  func(s *Schedule, p, q *tensor.Tensor, t []int) *tensor.Tensor
	vr   func(s *Schedule, g *nn.Graph, p, q *nn.Var, t []int) *nn.Var
}

var conversions = []conversion{
	{"Noise", (*Schedule).Noise, (*Schedule).NoiseVar},
	{"V", (*Schedule).V, (*Schedule).VVar},
	{"X0FromEps", (*Schedule).X0FromEps, (*Schedule).X0FromEpsVar},
	{"EpsFromX0", (*Schedule).EpsFromX0, (*Schedule).EpsFromX0Var},
	{"X0FromV", (*Schedule).X0FromV, (*Schedule).X0FromVVar},
	{"EpsFromV", (*Schedule).EpsFromV, (*Schedule).EpsFromVVar},
	{"X0FromPred(eps)",
		func(s *Schedule, p, q *tensor.Tensor, t []int) *tensor.Tensor {
			return s.X0FromPred(PredictEps, p, q, t)
		},
		func(s *Schedule, g *nn.Graph, p, q *nn.Var, t []int) *nn.Var {
			return s.X0FromPredVar(g, PredictEps, p, q, t)
		}},
	{"X0FromPred(v)",
		func(s *Schedule, p, q *tensor.Tensor, t []int) *tensor.Tensor { return s.X0FromPred(PredictV, p, q, t) },
		func(s *Schedule, g *nn.Graph, p, q *nn.Var, t []int) *nn.Var {
			return s.X0FromPredVar(g, PredictV, p, q, t)
		}},
}

// The graph forms compute the tensor forms' values, and their gradients
// match central finite differences of a random linear functional.
func TestConversionVars(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := mustSchedule(t, Linear)
	ts := []int{0, 300, 700}
	for _, c := range conversions {
		t.Run(c.name, func(t *testing.T) {
			p := randTensor(rng, -1, 1, len(ts), 3, 2, 2)
			q := randTensor(rng, -1, 1, p.Shape...)
			w := randTensor(rng, -1, 1, p.Shape...)
			want := c.ten(s, p, q, ts)

			g := nn.NewGraph()
			pv, qv := nn.Input(p.Clone()), nn.Input(q.Clone())
			out := c.vr(s, g, pv, qv, ts)
			if d := maxDiff(out.Value, want); d > 1e-6*max(1, maxAbs(want)) {
				t.Fatalf("graph form differs from tensor form by %g", d)
			}
			g.Backward(g.Sum(g.Mul(out, nn.Constant(w))))
			// f is the functional in float64 through the tensor form.
			f := func(p, q *tensor.Tensor) float64 {
				o := c.ten(s, p, q, ts)
				sum := 0.0
				for i, v := range o.Data {
					sum += float64(v) * float64(w.Data[i])
				}
				return sum
			}
			for which, in := range []*nn.Var{pv, qv} {
				for i := range in.Value.Data {
					probe := [2]*tensor.Tensor{p.Clone(), q.Clone()}
					const h = 1e-2
					probe[which].Data[i] += h
					up := f(probe[0], probe[1])
					probe[which].Data[i] -= 2 * h
					down := f(probe[0], probe[1])
					fd := (up - down) / (2 * h)
					got := float64(in.Grad.Data[i])
					if math.Abs(got-fd) > 1e-3*max(1, math.Abs(fd)) {
						t.Fatalf("input %d element %d: gradient %g, finite difference %g", which, i, got, fd)
					}
				}
			}
		})
	}
}

func maxAbs(t *tensor.Tensor) float64 {
	m := 0.0
	for _, v := range t.Data {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

func TestConversionShapePanics(t *testing.T) {
	s := mustSchedule(t, Linear)
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"batch", func() { s.Noise(tensor.New(2, 2), tensor.New(2, 2), []int{1}) }},
		{"shape", func() { s.Noise(tensor.New(2, 2), tensor.New(2, 3), []int{1, 2}) }},
		{"timestep", func() { s.Noise(tensor.New(1, 2), tensor.New(1, 2), []int{1000}) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.fn()
		}()
	}
	if err := Prediction("x0").Validate(); err == nil {
		t.Error("unknown prediction validated")
	}
}
