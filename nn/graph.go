package nn

import (
	"fmt"

	"facereward/tensor"
)

// Graph records the operations of one step so that Backward can replay them
// in reverse. It also owns the buffers of the step's intermediate values and
// hands them back out on the next step, so a training loop of thousands of
// steps allocates its working memory once.
//
// The usual step is: build the forward pass with g's operations, call
// g.Backward(loss), let the optimiser step, then g.Reset().
type Graph struct {
	// NoGrad makes every operation compute its value only: nothing is
	// recorded and no gradient buffers are kept (sampling, frozen scoring).
	NoGrad bool

	tape  []step
	inter []*Var // intermediate values, whose buffers go back to the pool

	free map[int][][]float32 // released buffers by length
	used [][]float32         // buffers handed out this step; nil once released early
}

// step is one recorded operation: its output and the function that sends
// the output's gradient on to its inputs.
type step struct {
	out      *Var
	backward func()
}

// NewGraph returns an empty graph that records gradients.
func NewGraph() *Graph { return &Graph{free: map[int][][]float32{}} }

// buf returns a buffer of n float32s from the pool; zeroed when zero is set.
func (g *Graph) buf(n int, zero bool) []float32 {
	b, _ := g.slot(n, zero)
	return b
}

// slot is buf that also returns the buffer's index in g.used, for a
// buffer that may go back to the pool before Reset.
func (g *Graph) slot(n int, zero bool) ([]float32, int) {
	var b []float32
	if l := g.free[n]; len(l) > 0 {
		b = l[len(l)-1]
		g.free[n] = l[:len(l)-1]
		if zero {
			clear(b)
		}
	} else {
		b = make([]float32, n)
	}
	g.used = append(g.used, b)
	return b, len(g.used) - 1
}

// Scratch returns a zeroed temporary buffer that lives until Reset.
func (g *Graph) Scratch(n int) []float32 { return g.buf(n, true) }

// newVar makes an operation's output; nil inputs (an absent bias) are ignored. The value buffer is not zeroed: every
// operation writes all of its output.
func (g *Graph) newVar(shape []int, inputs ...*Var) *Var {
	need := false
	if !g.NoGrad {
		for _, in := range inputs {
			if in != nil && in.NeedGrad {
				need = true
				break
			}
		}
	}
	v := &Var{
		Value:    &tensor.Tensor{Shape: append([]int(nil), shape...), Data: g.buf(tensor.Numel(shape), false)},
		NeedGrad: need,
		pooled:   true,
	}
	g.inter = append(g.inter, v)
	return v
}

// record appends a backward function for an output that needs a gradient.
func (g *Graph) record(out *Var, backward func()) {
	if out.NeedGrad {
		g.tape = append(g.tape, step{out, backward})
	}
}

// grad returns v's gradient buffer, creating a zero one on first use.
// Intermediate values take theirs from the pool; parameters and inputs own
// theirs, so gradients accumulate across steps until ZeroGrad.
func (g *Graph) grad(v *Var) []float32 {
	if v.Grad == nil {
		if v.pooled {
			var b []float32
			b, v.gradSlot = g.slot(v.Value.Len(), true)
			v.Grad = &tensor.Tensor{Shape: v.Value.Shape, Data: b}
		} else {
			v.Grad = tensor.New(v.Value.Shape...)
		}
	}
	return v.Grad.Data
}

// Backward computes the gradient of the scalar loss with respect to every
// value that needs one, accumulating into parameters' and inputs' gradients.
func (g *Graph) Backward(loss *Var) {
	if loss.Value.Len() != 1 {
		panic(fmt.Sprintf("nn.Backward: loss must be a scalar, has shape %s", tensor.ShapeString(loss.Shape())))
	}
	if !loss.NeedGrad {
		panic("nn.Backward: loss does not depend on anything that needs a gradient (graph in NoGrad mode, or all parameters frozen?)")
	}
	g.grad(loss)[0] = 1
	for i := len(g.tape) - 1; i >= 0; i-- {
		s := g.tape[i]
		s.backward()
		// The tape runs in reverse order of creation, so every op that
		// reads s.out has already added its share to s.out's gradient,
		// and s.backward has passed it on: nothing reads it again. Its
		// buffer goes back to the pool at once, where the next gradient
		// of its length takes it, so the gradients alive at any time are
		// a frontier of the graph, not all of it (an intermediate value's
		// gradient is not kept after Backward; parameters' and inputs'
		// are).
		if v := s.out; v.pooled && v.Grad != nil {
			n := len(v.Grad.Data)
			g.free[n] = append(g.free[n], g.used[v.gradSlot])
			g.used[v.gradSlot] = nil
			v.Grad = nil
		}
	}
	g.tape = g.tape[:0]
}

// Reset forgets the recorded step and returns its buffers to the pool. Values
// produced by the graph must not be used afterwards; copy what must survive.
func (g *Graph) Reset() {
	for _, v := range g.inter {
		v.Value, v.Grad = nil, nil
	}
	g.inter = g.inter[:0]
	g.tape = g.tape[:0]
	for _, b := range g.used {
		if b != nil {
			g.free[len(b)] = append(g.free[len(b)], b)
		}
	}
	g.used = g.used[:0]
}

// shapeErr panics with a message naming the operation and both shapes.
func shapeErr(op string, a, b []int, why string) {
	panic(fmt.Sprintf("nn.%s: shapes %s and %s: %s", op, tensor.ShapeString(a), tensor.ShapeString(b), why))
}
