package refl

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"facereward/imageio"
	"facereward/restorer"
	"facereward/safetensors"
	"facereward/tensor"
)

// tinyConfig is a 16×16 restorer small enough for a test's training run.
var tinyConfig = restorer.Config{
	Stage1: restorer.Stage1Config{ImageSize: 16, Unshuffle: 2, Width: 8, Blocks: 1},
	UNet: restorer.UNetConfig{ImageSize: 16, Widths: []int{8, 16}, BlocksPerLevel: 1, AttnResolutions: []int{8},
		Heads: 1, Groups: 4, TimeDim: 16, HintWidth: 8, Prediction: "v"},
}

// tinyData writes 12 training faces and 3 dev-val faces (smooth synthetic
// 32×32 images with FFHQ-style ids).
func tinyData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ids := []int{1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 4800, 4801, 4802}
	for k, id := range ids {
		img := tensor.New(32, 32, 3)
		for y := range 32 {
			for x := range 32 {
				for c := range 3 {
					img.Data[(y*32+x)*3+c] = float32(0.5 + 0.4*math.Sin(float64(x*(k+1)+y*(c+2))/9))
				}
			}
		}
		if err := imageio.WritePNG(filepath.Join(dir, fmt.Sprintf("%05d.png", id)), img); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

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
