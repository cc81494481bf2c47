package benchnet

import (
	"facereward/nn"
	"facereward/optim"
	"facereward/tensor"
)

// Net is a benchmark network with its inputs and optimiser, ready to time.
type Net interface {
	// TrainStep runs forward, backward and one optimiser step.
	TrainStep()
	// Forward runs the forward pass alone without recording gradients.
	Forward()
	// FLOPs is the rough floating-point work of one training step and of one
	// forward pass (multiply-adds count 2), for throughput figures.
	FLOPs() (train, forward float64)
}

// A is conv3×3 3→64, SiLU, conv3×3 64→64, SiLU, conv3×3 64→3 on a batch of
// 8 images of 64×64, MSE against a target, Adam (lr 1e-3).
type A struct {
	c1, c2, c3 *nn.Conv2d
	x, target  *nn.Var
	opt        optim.Optimizer
	g          *nn.Graph
}

// NewA builds net A with seeded weights and data.
func NewA(seed uint64) *A {
	rng := nn.NewRNG(seed)
	n := &A{
		c1: nn.NewConv2d("c1", 3, 64, 3, 1, 1, rng),
		c2: nn.NewConv2d("c2", 64, 64, 3, 1, 1, rng),
		c3: nn.NewConv2d("c3", 64, 3, 3, 1, 1, rng),
		g:  nn.NewGraph(),
	}
	x, y := tensor.New(8, 64, 64, 3), tensor.New(8, 64, 64, 3)
	nn.Normal(x, 1, rng)
	nn.Normal(y, 1, rng)
	n.x, n.target = nn.Constant(x), nn.Constant(y)
	opt, err := optim.NewAdam(n.Params(), optim.DefaultAdam(1e-3))
	if err != nil {
		panic(err)
	}
	n.opt = opt
	return n
}

// Params lists the three convolutions' parameters.
func (n *A) Params() []*nn.Param { return nn.Collect(n.c1, n.c2, n.c3) }

func (n *A) forward(g *nn.Graph) *nn.Var {
	h := g.SiLU(n.c1.Forward(g, n.x))
	h = g.SiLU(n.c2.Forward(g, h))
	return g.MSELoss(n.c3.Forward(g, h), n.target)
}

// TrainStep runs one Adam step.
func (n *A) TrainStep() { trainStep(n.g, n.Params(), n.opt, n.forward) }

// Forward runs the network without gradients.
func (n *A) Forward() { forwardOnly(n.g, n.forward) }

// FLOPs counts the three convolutions (backward ≈ 2× forward, minus the
// first layer's unneeded input gradient, ignored here).
func (n *A) FLOPs() (float64, float64) {
	m := 8.0 * 64 * 64
	f := 2 * m * (27*64 + 576*64 + 576*3)
	return 3 * f, f
}

// Loss computes the current loss without gradients.
func (n *A) Loss() float32 { return lossOf(n.g, n.forward) }

func lossOf(g *nn.Graph, f func(*nn.Graph) *nn.Var) float32 {
	g.NoGrad = true
	defer func() { g.NoGrad = false; g.Reset() }()
	return f(g).Value.Data[0]
}

func trainStep(g *nn.Graph, ps []*nn.Param, opt optim.Optimizer, f func(*nn.Graph) *nn.Var) {
	loss := f(g)
	g.Backward(loss)
	opt.Step()
	nn.ZeroGrad(ps)
	g.Reset()
}

func forwardOnly(g *nn.Graph, f func(*nn.Graph) *nn.Var) {
	g.NoGrad = true
	f(g)
	g.NoGrad = false
	g.Reset()
}
