package diffusion

import (
	"facereward/nn"
	"facereward/tensor"
)

// Named tensor and graph forms of every coefficient pair, for the tests
// only: the package exports just the conversions its callers use (Noise,
// X0FromPred, PredFromX0, X0FromPredVar), but each coefFn is checked here in
// both evaluations and through round trips.

var epsFromVCoef coefFn = func(a, b float64) (float64, float64) { return b, a } // x_t, v → ε

func (s *Schedule) V(x0, eps *tensor.Tensor, t []int) *tensor.Tensor {
	return s.lincomb("V", eps, x0, t, vCoef)
}
func (s *Schedule) X0FromEps(xt, eps *tensor.Tensor, t []int) *tensor.Tensor {
	return s.lincomb("X0FromEps", xt, eps, t, x0FromEps)
}
func (s *Schedule) EpsFromX0(xt, x0 *tensor.Tensor, t []int) *tensor.Tensor {
	return s.lincomb("EpsFromX0", xt, x0, t, epsFromX0)
}
func (s *Schedule) X0FromV(xt, v *tensor.Tensor, t []int) *tensor.Tensor {
	return s.lincomb("X0FromV", xt, v, t, x0FromVCoef)
}
func (s *Schedule) EpsFromV(xt, v *tensor.Tensor, t []int) *tensor.Tensor {
	return s.lincomb("EpsFromV", xt, v, t, epsFromVCoef)
}
func (s *Schedule) NoiseVar(g *nn.Graph, x0, eps *nn.Var, t []int) *nn.Var {
	return s.lincombVar(g, "NoiseVar", x0, eps, t, noiseCoef)
}
func (s *Schedule) VVar(g *nn.Graph, x0, eps *nn.Var, t []int) *nn.Var {
	return s.lincombVar(g, "VVar", eps, x0, t, vCoef)
}
func (s *Schedule) X0FromEpsVar(g *nn.Graph, xt, eps *nn.Var, t []int) *nn.Var {
	return s.lincombVar(g, "X0FromEpsVar", xt, eps, t, x0FromEps)
}
func (s *Schedule) EpsFromX0Var(g *nn.Graph, xt, x0 *nn.Var, t []int) *nn.Var {
	return s.lincombVar(g, "EpsFromX0Var", xt, x0, t, epsFromX0)
}
func (s *Schedule) X0FromVVar(g *nn.Graph, xt, v *nn.Var, t []int) *nn.Var {
	return s.lincombVar(g, "X0FromVVar", xt, v, t, x0FromVCoef)
}
func (s *Schedule) EpsFromVVar(g *nn.Graph, xt, v *nn.Var, t []int) *nn.Var {
	return s.lincombVar(g, "EpsFromVVar", xt, v, t, epsFromVCoef)
}
