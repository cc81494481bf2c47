package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/imageio"
	"facereward/tensor"
)

// Set flags override the stage's defaults, unset ones keep them, and the
// run folder records the result.
func TestTrainRestorerFlags(t *testing.T) {
	data := t.TempDir()
	for i, id := range []int{1001, 1002, 1003, 1004, 4800} {
		img := tensor.New(32, 32, 3)
		for j := range img.Data {
			img.Data[j] = float32((j*(i+3))%97) / 96
		}
		if err := imageio.WritePNG(filepath.Join(data, fmt.Sprintf("%05d.png", id)), img); err != nil {
			t.Fatal(err)
		}
	}
	run := filepath.Join(t.TempDir(), "run")
	stdout, _, err := runCLI("train", "restorer", "--stage", "1", "--data", data, "--run", run,
		"--steps", "2", "--batch", "2", "--eval-every", "0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "at step 2; EMA weights in") {
		t.Errorf("stdout %q", stdout)
	}
	b, err := os.ReadFile(filepath.Join(run, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg["steps"] != 2.0 || cfg["batch"] != 2.0 || cfg["lr"] != 2e-4 || cfg["preset"] != "diffbir" {
		t.Errorf("config %v", cfg)
	}
	if _, err := os.Stat(filepath.Join(run, "model.safetensors")); err != nil {
		t.Error("no model.safetensors at the end")
	}
	if _, _, err := runCLI("train", "restorer", "--stage", "3", "--data", data, "--run", t.TempDir()+"/x"); err == nil {
		t.Error("stage 3 accepted")
	}
}
