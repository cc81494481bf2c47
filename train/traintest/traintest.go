package traintest

import (
	"bytes"
	"context"
	"maps"
	"math"
	"slices"
	"testing"

	"facereward/nn"
	"facereward/safetensors"
	"facereward/tensor"
)

// StopAfter returns a context that reports cancellation from its n-th Err
// call on. A training loop checks once per step, so a run under it is
// interrupted, as by Ctrl-C, before step n.
func StopAfter(n int) context.Context {
	return &stopAfter{Context: context.Background(), n: n}
}

type stopAfter struct {
	context.Context
	n, calls int
}

func (c *stopAfter) Err() error {
	c.calls++
	if c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

// Params reads a safetensors file's tensors by name.
func Params(t testing.TB, path string) map[string]*tensor.Tensor {
	t.Helper()
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return f.Tensors
}

// F32Bytes is d's bytes (little-endian), so that weights compare exactly,
// NaN included.
func F32Bytes(d []float32) []byte {
	b := make([]byte, 0, 4*len(d))
	for _, v := range d {
		u := math.Float32bits(v)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}

// FirstDiff returns the first name, in sorted order, of a tensor of a whose
// bytes differ from b's tensor of that name, or one b lacks; differ is
// false when every tensor of a is in b with the same bytes.
func FirstDiff(a, b map[string]*tensor.Tensor) (name string, differ bool) {
	for _, name := range slices.Sorted(maps.Keys(a)) {
		tb, ok := b[name]
		if !ok || !bytes.Equal(F32Bytes(a[name].Data), F32Bytes(tb.Data)) {
			return name, true
		}
	}
	return "", false
}

// SameGrads runs step with and without nn.Graph.FreeValues (step returns
// the parameters it trained) and fails t unless both leave the same
// gradients, byte for byte, on at least one parameter.
func SameGrads(t testing.TB, step func(free bool) []*nn.Param) {
	t.Helper()
	grads := func(free bool) (g [][]float32) {
		for _, p := range step(free) {
			if p.Grad != nil {
				g = append(g, p.Grad.Data)
			}
		}
		return g
	}
	keep, free := grads(false), grads(true)
	if len(keep) == 0 || len(keep) != len(free) {
		t.Fatalf("%d gradients kept, %d with FreeValues", len(keep), len(free))
	}
	for i := range keep {
		if !bytes.Equal(F32Bytes(keep[i]), F32Bytes(free[i])) {
			t.Errorf("parameter %d: gradient differs with FreeValues", i)
		}
	}
}
