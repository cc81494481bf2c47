package refl

import (
	"context"
	"math"
	"testing"

	"facereward/safetensors"
	"facereward/tensor"
)

// params reads a safetensors file's tensors by name.
func params(t *testing.T, path string) map[string]*tensor.Tensor {
	t.Helper()
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return f.Tensors
}

// f32bytes is d's bytes, so that weights compare exactly (NaN included).
func f32bytes(d []float32) []byte {
	b := make([]byte, 0, 4*len(d))
	for _, v := range d {
		u := math.Float32bits(v)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}

// stopAfter is a context that reports cancellation from its n-th Err call
// on: the training loop checks once per step, so this interrupts it at a
// known step.
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
