// Package restorertest gives tests outside restorer a tiny restorer: 16×16
// faces, every module type (two UNet levels, attention at 8×8), a few
// thousand parameters, so pipelines and training loops run in milliseconds.
// The pipeline, not the quality, is under test with it.
package restorertest

import (
	"path/filepath"
	"testing"

	"facereward/diffusion"
	"facereward/nn"
	"facereward/restorer"
	"facereward/safetensors"
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
