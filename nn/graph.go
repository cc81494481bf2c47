package nn

import (
	"fmt"
	"math/bits"

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
	// FreeValues makes Backward return each recorded operation's value to
	// the pool once its backward function has run (see Backward): a
	// training step's peak memory then follows the values the backward
	// pass still needs, as PyTorch's does, not the whole forward pass.
	FreeValues bool

	tape  []step
	inter []*Var // intermediate values, whose buffers go back to the pool

	kernels winogradKernels // transformed convolution weights kept across passes; nil unless CacheKernels

	free map[int][][]float32 // released buffers by capacity (a size class)
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
	c := sizeClass(n)
	fc := g.fit(c)
	if l := g.free[fc]; len(l) > 0 {
		b = l[len(l)-1][:n]
		g.free[fc] = l[:len(l)-1]
		if zero {
			// Gradient buffers are zeroed as they are first used, between
			// the parallel kernels of a backward pass; the FRM's stem
			// gradient alone is 17 MB at batch 8.
			tensor.Parallel(n, n, func(lo, hi int) { clear(b[lo:hi]) })
		}
	} else {
		b = make([]float32, n, c)
	}
	g.used = append(g.used, b)
	return b, len(g.used) - 1
}

// fit is the class a request of class c takes its buffer from: c, or
// else the smallest class up to 2c that has a free buffer (c when none
// has). A backward pass asks for gradients while the values it frees are
// of other lengths: with exact classes alone, such a request took a new
// buffer while larger free ones sat idle, and the pool grew past the
// step's live values.
func (g *Graph) fit(c int) int {
	if len(g.free[c]) > 0 || c <= 16 {
		return c
	}
	for k := nextClass(c); k <= 2*c; k = nextClass(k) {
		if len(g.free[k]) > 0 {
			return k
		}
	}
	return c
}

// nextClass is the size class after class c.
func nextClass(c int) int { return sizeClass(c + 1) }

// sizeClass is the capacity the pool gives a buffer of n floats: n with
// all but its four leading bits rounded up (at most 1/8 more). A buffer
// released by one operation then serves any request of its class, not
// only one of its exact length: a step's passes use many lengths a few
// percent apart (channel counts, concatenations), and exact lengths left
// a fifth of the pool idle in a stage-2 step.
func sizeClass(n int) int {
	if n <= 16 {
		return n
	}
	shift := bits.Len(uint(n)) - 4
	return (n + 1<<shift - 1) >> shift << shift
}

// put returns b to the pool.
func (g *Graph) put(b []float32) {
	g.free[cap(b)] = append(g.free[cap(b)], b)
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
	data, slot := g.slot(tensor.Numel(shape), false)
	v := &Var{
		Value:     &tensor.Tensor{Shape: append([]int(nil), shape...), Data: data},
		NeedGrad:  need,
		pooled:    true,
		valueSlot: slot + 1,
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

// gradToSet is grad for an operation that can write v's whole gradient
// rather than add into it: it reports whether the buffer is new, in which
// case it is not zeroed and the caller must set every value to what adding
// into zeros would give (0 + x, which turns a −0 into +0). That saves
// zeroing and re-reading the gradient of the first operation to reach v.
func (g *Graph) gradToSet(v *Var) ([]float32, bool) {
	if v.Grad != nil || !v.pooled {
		return g.grad(v), false
	}
	b, slot := g.slot(v.Value.Len(), false)
	v.Grad, v.gradSlot = &tensor.Tensor{Shape: v.Value.Shape, Data: b}, slot
	return b, true
}

// Backward computes the gradient of the scalar loss with respect to every
// value that needs one, accumulating into parameters' and inputs' gradients.
//
// As the tape unwinds, each recorded operation's gradient goes back to the
// pool once its backward function has run, so the gradients alive at any
// time are a frontier of the graph, not all of it (an intermediate value's
// gradient is not kept after Backward; parameters' and inputs' are). With
// g.FreeValues its value goes too, as PyTorch frees an operation's saved
// tensors when its backward has run: after Backward the values of
// recorded operations are gone (Value is nil), so the caller reads what
// it needs (the loss, an output to keep) before. The loss's value stays.
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
		// The tape runs in reverse order of creation: every operation that
		// reads s.out was recorded after it, so its backward function has
		// run, and s.backward was the last reader of s.out's value and
		// gradient. Ops that read s.out without being recorded (no input
		// needed a gradient) ran in the forward pass and keep no reference
		// for later. A view of s.out (Reshape) was recorded after it too.
		v := s.out
		if !v.pooled {
			continue
		}
		if v.Grad != nil {
			g.release(v.gradSlot)
			v.Grad = nil
		}
		if g.FreeValues && v.valueSlot > 0 && v != loss {
			g.release(v.valueSlot - 1)
			v.Value, v.valueSlot = nil, 0
		}
	}
	g.tape = g.tape[:0]
}

// release returns the buffer at slot of g.used to the pool before Reset,
// where the next request of its length takes it.
func (g *Graph) release(slot int) {
	g.put(g.used[slot])
	g.used[slot] = nil
}

// mark is a point in a graph's step, to return to with releaseSince.
type mark struct{ used, inter, tape int }

// mark returns the graph's current point.
func (g *Graph) mark() mark { return mark{len(g.used), len(g.inter), len(g.tape)} }

// releaseSince returns to the pool every buffer handed out since m: for a
// pass without gradients inside a step (a reference's features, a
// condition) whose results the caller has copied, so that the rest of the
// step reuses its buffers instead of holding both until Reset. Values made
// since m must not be used again (their Value is nil). It panics if an
// operation was recorded since m.
func (g *Graph) releaseSince(m mark) {
	if len(g.tape) != m.tape {
		panic("nn.NoGradPass: operations were recorded since the mark")
	}
	for _, v := range g.inter[m.inter:] {
		v.Value, v.Grad = nil, nil
	}
	g.inter = g.inter[:m.inter]
	for _, b := range g.used[m.used:] {
		if b != nil {
			g.put(b)
		}
	}
	g.used = g.used[:m.used]
}

// NoGradPass runs f as a pass without gradients inside the step (g.NoGrad
// set meanwhile) and then releases its buffers (releaseSince): f copies
// out what it keeps.
func (g *Graph) NoGradPass(f func()) {
	m, was := g.mark(), g.NoGrad
	g.NoGrad = true
	defer func() { g.NoGrad = was; g.releaseSince(m) }()
	f()
}

// CacheKernels makes g's convolutions transform each weight for the
// Winograd path once and keep the transform from pass to pass, instead of
// transforming it in every pass: for a loop of passes without gradients
// over fixed weights (a sampler's steps). The transforms live until g is
// dropped, so g must be scoped to a span in which no weight changes. The
// cache is used only with NoGrad set, and only for weights that are not
// g's own intermediate values; a convolution run with gradients recorded
// empties it, since an optimiser may step after such a pass.
func (g *Graph) CacheKernels() { g.kernels = winogradKernels{} }

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
			g.put(b)
		}
	}
	g.used = g.used[:0]
}

// shapeErr panics with a message naming the operation and both shapes.
func shapeErr(op string, a, b []int, why string) {
	panic(fmt.Sprintf("nn.%s: shapes %s and %s: %s", op, tensor.ShapeString(a), tensor.ShapeString(b), why))
}
