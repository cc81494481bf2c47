package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"facereward/imageio"
	"facereward/tensor"
)

// fixtureDir holds the golden values and input PNGs that
// tools/metricsref/gen_metrics.py writes.
const fixtureDir = "../testdata/metricsref"

type fixture struct {
	Pairs []struct {
		GT, Img string
		Crop    int
		PSNRRGB float64 `json:"psnr_rgb"`
		SSIMRGB float64 `json:"ssim_rgb"`
		PSNRY   float64 `json:"psnr_y"`
		SSIMY   float64 `json:"ssim_y"`
	}
	BRISQUE map[string]float64 `json:"brisque"`
	FID     struct {
		AB     float64   `json:"a_b"`
		BA     float64   `json:"b_a"`
		AA     float64   `json:"a_a"`
		AFirst []float64 `json:"a_first8"`
		BFirst []float64 `json:"b_first8"`
	} `json:"fid"`
}

func loadFixture(t testing.TB) fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func readImage(t testing.TB, name string) *tensor.Tensor {
	t.Helper()
	img, err := imageio.Read(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
