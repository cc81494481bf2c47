// Package restorertest gives tests outside restorer a tiny restorer (16×16
// faces, every module type (two UNet levels, attention at 8×8), a few
// thousand parameters) and a tiny data folder to train it on, so pipelines
// and training loops run in milliseconds. The pipeline, not the quality,
// is under test with them.
package restorertest

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"facereward/diffusion"
	"facereward/imageio"
	"facereward/nn"
	"facereward/restorer"
	"facereward/safetensors"
	"facereward/tensor"
)

// Config is the tiny restorer: v-prediction on the cosine schedule.
func Config() restorer.Config {
	return restorer.Config{
		Stage1: restorer.Stage1Config{ImageSize: 16, Unshuffle: 2, Width: 8, Blocks: 1},
		UNet: restorer.UNetConfig{ImageSize: 16, Widths: []int{8, 16}, BlocksPerLevel: 1, AttnResolutions: []int{8},
			Heads: 1, Groups: 4, TimeDim: 16, HintWidth: 8, Prediction: diffusion.PredictV},
		Schedule: diffusion.Cosine,
	}
}

// Model builds the tiny restorer from seed. With perturb, the layers that
// start at zero (the UNet's output, the control branch's residual
// convolutions) get N(0, perturb²) noise, so every weight reaches the
// output and gradients are not trivially zero.
func Model(t testing.TB, seed uint64, perturb float64) *restorer.Model {
	t.Helper()
	m, err := restorer.NewModel(Config(), seed)
	if err != nil {
		t.Fatal(err)
	}
	if perturb > 0 {
		rng := nn.NewRNG(seed + 1)
		for _, p := range append(m.Control.Params(), m.UNet.Out.Params()...) {
			for i := range p.Value.Data {
				p.Value.Data[i] += float32(perturb * rng.NormFloat64())
			}
		}
	}
	return m
}

// Dir saves m as a model directory (F32) under t's temporary folder and
// returns its path.
func Dir(t testing.TB, m *restorer.Model) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	if err := restorer.SaveDir(dir, m, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Faces writes a data folder for the tiny restorer's training runs: 12
// train faces and 3 dev-val faces (smooth synthetic 32×32 images with
// FFHQ-style ids), and returns its path.
func Faces(t testing.TB) string {
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
