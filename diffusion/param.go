package diffusion

import (
	"fmt"

	"facereward/nn"
	"facereward/tensor"
)

// Prediction is what the network outputs given x_t and t.
type Prediction string

const (
	// PredictEps is the noise ε (DDPM).
	PredictEps Prediction = "eps"
	// PredictV is v = sqrt(ᾱ)·ε - sqrt(1-ᾱ)·x0 (Salimans & Ho 2022).
	PredictV Prediction = "v"
)

// DefaultPrediction is v. With ε-prediction the clean image is
// x0 = (x_t - sqrt(1-ᾱ)·ε)/sqrt(ᾱ), which near t = T-1 divides the network's
// error by sqrt(ᾱ) (5e-5 at the cosine schedule's end): the first DDIM steps
// of a short sampler, and ReFL's x0_hat at any high-noise step, are then
// dominated by that error. From v, x0 = sqrt(ᾱ)·x_t - sqrt(1-ᾱ)·v is a
// bounded combination at every t. The v loss is also the x0 error weighted
// by SNR+1 where the ε loss weights it by SNR, so the high-noise timesteps,
// whose ε weight vanishes, still teach the network about x0. ReFL only
// differentiates x0_hat at the last two steps, where both are well behaved,
// so the choice is about training and sampling quality. (The reference
// DiffBIR, on SD 2.1-base, predicts ε; X0FromPred serves both.)
const DefaultPrediction = PredictV

// Validate reports whether p is a known parameterisation.
func (p Prediction) Validate() error {
	if p != PredictEps && p != PredictV {
		return fmt.Errorf("diffusion: unknown prediction %q (want %q or %q)", p, PredictEps, PredictV)
	}
	return nil
}

// The conversions below all take per-sample timesteps t (len N for an
// [N,...] batch), so a batch may mix noise levels. Each is a per-sample
// linear combination of two tensors whose coefficients one coefFn gives;
// lincomb evaluates it on tensors, lincombVar on the tape.

// coefs returns sqrt(ᾱ_t) and sqrt(1-ᾱ_t) per sample.
func (s *Schedule) coefs(t []int) (a, b []float64) {
	a, b = make([]float64, len(t)), make([]float64, len(t))
	for i, ti := range t {
		s.checkT(ti)
		a[i], b[i] = s.SqrtAlphaBar(ti), s.SqrtOneMinusAlphaBar(ti)
	}
	return a, b
}

// coefFn maps one sample's (sqrt ᾱ, sqrt(1-ᾱ)) to the weights of p and q.
type coefFn func(a, b float64) (cp, cq float64)

var (
	noiseCoef   coefFn = func(a, b float64) (float64, float64) { return a, b }          // x0, ε → x_t
	vCoef       coefFn = func(a, b float64) (float64, float64) { return a, -b }         // ε, x0 → v
	x0FromEps   coefFn = func(a, b float64) (float64, float64) { return 1 / a, -b / a } // x_t, ε → x0
	epsFromX0   coefFn = func(a, b float64) (float64, float64) { return 1 / b, -a / b } // x_t, x0 → ε
	x0FromVCoef coefFn = func(a, b float64) (float64, float64) { return a, -b }         // x_t, v → x0
	vFromX0Coef coefFn = func(a, b float64) (float64, float64) { return a / b, -1 / b } // x_t, x0 → v
)

// lincomb returns cp[n]·p + cq[n]·q for each sample n, in float64 so the
// near-cancelling terms of ε-prediction at high noise lose nothing more.
func (s *Schedule) lincomb(op string, p, q *tensor.Tensor, t []int, f coefFn) *tensor.Tensor {
	return s.lincombInto(op, tensor.New(p.Shape...), p, q, t, f)
}

// lincombInto is lincomb writing into out, which must have p's shape.
func (s *Schedule) lincombInto(op string, out, p, q *tensor.Tensor, t []int, f coefFn) *tensor.Tensor {
	checkBatch(op, p.Shape, q.Shape, t)
	checkBatch(op, p.Shape, out.Shape, t)
	a, b := s.coefs(t)
	per := p.Len() / len(t)
	for n := range t {
		cp, cq := f(a[n], b[n])
		lo, hi := n*per, (n+1)*per
		pd, qd, od := p.Data[lo:hi], q.Data[lo:hi], out.Data[lo:hi]
		for i := range od {
			od[i] = float32(cp*float64(pd[i]) + cq*float64(qd[i]))
		}
	}
	return out
}

// lincombVar is lincomb as graph operations: coefficients are [N,1,...,1]
// constants that broadcast over each sample.
func (s *Schedule) lincombVar(g *nn.Graph, op string, p, q *nn.Var, t []int, f coefFn) *nn.Var {
	checkBatch(op, p.Shape(), q.Shape(), t)
	a, b := s.coefs(t)
	shape := make([]int, len(p.Shape()))
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = len(t)
	cp := tensor.FromSlice(g.Scratch(len(t)), shape...)
	cq := tensor.FromSlice(g.Scratch(len(t)), shape...)
	for n := range t {
		x, y := f(a[n], b[n])
		cp.Data[n], cq.Data[n] = float32(x), float32(y)
	}
	return g.Add(g.Mul(p, nn.Constant(cp)), g.Mul(q, nn.Constant(cq)))
}

// checkBatch panics unless p and q have one shape whose batch is len(t).
func checkBatch(op string, p, q []int, t []int) {
	if !tensor.SameShape(p, q) || len(p) == 0 || p[0] != len(t) {
		panic(fmt.Sprintf("diffusion.%s: shapes %s and %s with %d timesteps: want equal shapes with batch = len(t)",
			op, tensor.ShapeString(p), tensor.ShapeString(q), len(t)))
	}
}

// Noise is q(x_t | x0): sqrt(ᾱ_t)·x0 + sqrt(1-ᾱ_t)·ε.
func (s *Schedule) Noise(x0, eps *tensor.Tensor, t []int) *tensor.Tensor {
	return s.lincomb("Noise", x0, eps, t, noiseCoef)
}

// X0FromPred turns a network output of kind p into the clean-image estimate.
func (s *Schedule) X0FromPred(p Prediction, xt, pred *tensor.Tensor, t []int) *tensor.Tensor {
	if p == PredictV {
		return s.lincomb("X0FromPred", xt, pred, t, x0FromVCoef)
	}
	return s.lincomb("X0FromPred", xt, pred, t, x0FromEps)
}

// PredFromX0 is the network output of kind p that X0FromPred maps back to
// x0 at x_t: what the network would have said had it predicted x0. t must
// be >= 0.
func (s *Schedule) PredFromX0(p Prediction, xt, x0 *tensor.Tensor, t []int) *tensor.Tensor {
	if p == PredictV {
		return s.lincomb("PredFromX0", xt, x0, t, vFromX0Coef)
	}
	return s.lincomb("PredFromX0", xt, x0, t, epsFromX0)
}

// X0FromPredVar is X0FromPred on graph values, so a gradient flows through
// it (ReFL's x0_hat). It is the one conversion with a graph twin: the
// sampler's tensor form computes in float64 (the ε form cancels nearly equal
// terms at high noise) and its bytes are what restore writes, while the
// graph form is built from float32 broadcasts the tape can differentiate.
func (s *Schedule) X0FromPredVar(g *nn.Graph, p Prediction, xt, pred *nn.Var, t []int) *nn.Var {
	if p == PredictV {
		return s.lincombVar(g, "X0FromPredVar", xt, pred, t, x0FromVCoef)
	}
	return s.lincombVar(g, "X0FromPredVar", xt, pred, t, x0FromEps)
}
