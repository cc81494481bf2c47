package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"facereward/imageio"
	"facereward/restorer"
	"facereward/tensor"
)

// `train refl` on the built-in restorer and FRM: the flags of the
// ablations reach the run's config, one step writes the tuned model
// directory and the dynamic FRM, and --report rebuilds the page.
func TestTrainReFLCommand(t *testing.T) {
	data := t.TempDir()
	for i, id := range []int{1001, 1002, 4800} {
		img := tensor.New(128, 128, 3)
		for j := range img.Data {
			img.Data[j] = float32((j/3*(i+3)+j%3*40)%251) / 250
		}
		if err := imageio.WritePNG(filepath.Join(data, fmt.Sprintf("%05d.png", id)), img); err != nil {
			t.Fatal(err)
		}
	}
	run := filepath.Join(t.TempDir(), "run")
	stdout, _, err := runCLI("train", "refl", "--data", data, "--run", run, "--steps", "1", "--batch", "1",
		"--sample-steps", "4", "--last-steps", "1", "--eval-every", "0", "--reg", "0", "--frm-every", "0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "tuned restorer in") {
		t.Errorf("stdout %q", stdout)
	}
	b, err := os.ReadFile(filepath.Join(run, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Weights  map[string]float64 `json:"weights"`
		FRMEvery int                `json:"frm_every"`
		LR       float64            `json:"lr"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Weights["reg"] != 0 || cfg.Weights["struct"] != 0.01 || cfg.Weights["reward"] != 0.002 || cfg.FRMEvery != 0 || cfg.LR != 5e-5 {
		t.Errorf("config %+v", cfg)
	}
	for _, f := range []string{"model/config.json", "model/control.safetensors", "frm.safetensors", "report.html"} {
		if _, err := os.Stat(filepath.Join(run, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if err := os.Remove(filepath.Join(run, "report.html")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI("train", "refl", "--report", run); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(run, "report.html")); err != nil {
		t.Error("--report wrote no report.html")
	}
	// pack --model rewrites the tuned model as float16, as the built-in
	// weights are stored; the base's float16 stage 1 comes through unchanged.
	packed := filepath.Join(t.TempDir(), "packed")
	if _, _, err := runCLI("pack", "--model", filepath.Join(run, "model"), "--out", packed, "--f16"); err != nil {
		t.Fatal(err)
	}
	a, err := restorer.Load(filepath.Join(run, "model"))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := restorer.Load(packed)
	if err != nil {
		t.Fatal(err)
	}
	base, err := restorer.Load("builtin:base")
	if err != nil {
		t.Fatal(err)
	}
	ap, bp, basep := a.Params(), b2.Params(), base.Params()
	for i := range ap {
		for j, v := range ap[i].Value.Data {
			if d := math.Abs(float64(v - bp[i].Value.Data[j])); d > 1e-3*math.Abs(float64(v))+1e-7 {
				t.Fatalf("%s[%d]: packed %g, tuned %g", ap[i].Name, j, bp[i].Value.Data[j], v)
			}
		}
		if strings.HasPrefix(ap[i].Name, "stage1.") && !slices.Equal(bp[i].Value.Data, basep[i].Value.Data) {
			t.Fatalf("packed %s differs from the base's", ap[i].Name)
		}
	}
	if _, _, err := runCLI("pack", "--model", packed, "--run", run, "--out", packed); err == nil {
		t.Error("pack took both --model and --run")
	}
	if _, _, err := runCLI("train", "refl", "--data", data); err == nil || !strings.Contains(err.Error(), "--run") {
		t.Errorf("no --run: %v", err)
	}
}
