package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/imageio"
	"facereward/tensor"
)

// writeFaces makes n smooth synthetic 32×32 images named 04800.png… and one
// broken file.
func writeFaces(t *testing.T, dir string, n int) {
	t.Helper()
	for i := range n {
		img := tensor.New(32, 32, 3)
		for j := range img.Data {
			img.Data[j] = float32((j*7+i*13)%251) / 250
		}
		if err := imageio.WritePNG(filepath.Join(dir, "0480"+string(rune('0'+i))+".png"), img); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "04809.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDegradeCommandIsReproducible(t *testing.T) {
	in := t.TempDir()
	writeFaces(t, in, 3)
	run1, run2 := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for i, out := range []string{run1, run2} {
		workers := []string{"1", "2"}[i]
		stdout, _, err := runCLI("degrade", "--in", in, "--out", out, "--size", "32", "--seed", "3", "--workers", workers)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout, "3 pairs") || !strings.Contains(stdout, "1 unreadable") {
			t.Errorf("summary %q", stdout)
		}
	}
	for _, name := range []string{"lq/04800.png", "lq/04802.png", "gt/04801.png", "manifest.jsonl"} {
		a, err := os.ReadFile(filepath.Join(run1, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(run2, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed (1 and 2 workers)", name)
		}
	}
	f, err := os.Open(filepath.Join(run1, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []manifestLine
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var l manifestLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 || lines[0].File != "04800.png" || lines[0].Params.Config != "diffbir" || lines[0].Seed != 3 {
		t.Fatalf("manifest %+v", lines)
	}
}

func TestDegradeCommandErrors(t *testing.T) {
	if _, _, err := runCLI("degrade", "--out", t.TempDir()); err == nil || !strings.Contains(err.Error(), "--in") {
		t.Errorf("missing --in: %v", err)
	}
	if _, _, err := runCLI("degrade", "--in", t.TempDir(), "--out", t.TempDir(), "--preset", "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("bad preset: %v", err)
	}
	in := t.TempDir()
	writeFaces(t, in, 1)
	if _, _, err := runCLI("degrade", "--in", in, "--out", t.TempDir(), "--set", "no_such_key=1"); err == nil || !strings.Contains(err.Error(), "no_such_key") {
		t.Errorf("bad --set: %v", err)
	}
}
