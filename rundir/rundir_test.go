package rundir

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type cfg struct {
	LR    float64 `json:"lr"`
	Steps int     `json:"steps"`
}

func TestOpenFreshAndResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r, err := Open(dir, cfg{1e-4, 100}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Log(1, map[string]any{"loss": 0.5}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := Open(dir, cfg{1e-4, 100}, false); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("a fresh run over an old one: %v", err)
	}
	if _, err := Open(dir, cfg{2e-4, 100}, true); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("resume with other settings: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none"), cfg{}, true); err == nil || !strings.Contains(err.Error(), "nothing to resume") {
		t.Errorf("resume of nothing: %v", err)
	}
	r, err = Open(dir, cfg{1e-4, 100}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Log(2, map[string]any{"loss": 0.4}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	f, err := os.Open(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []float64
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, l["step"].(float64))
	}
	if len(steps) != 2 || steps[0] != 1 || steps[1] != 2 {
		t.Fatalf("log steps %v, want [1 2] (resume appends)", steps)
	}
}

func TestLatestAndPrune(t *testing.T) {
	r, err := Open(filepath.Join(t.TempDir(), "run"), cfg{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, _, ok := r.Latest(); ok {
		t.Fatal("a new run has a checkpoint")
	}
	for _, s := range []int{100, 20, 300} {
		if err := os.WriteFile(r.CheckpointPath(s), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A temporary file of an interrupted write is not a checkpoint.
	os.WriteFile(filepath.Join(r.Dir, "checkpoints", ".step-00000400.safetensors.tmp-1"), []byte("x"), 0o644)
	if p, s, ok := r.Latest(); !ok || s != 300 || p != r.CheckpointPath(300) {
		t.Fatalf("latest %q %d %v", p, s, ok)
	}
	if err := r.Prune(1, r.CheckpointPath(20)); err != nil {
		t.Fatal(err)
	}
	for s, want := range map[int]bool{20: true, 100: false, 300: true} {
		if _, err := os.Stat(r.CheckpointPath(s)); (err == nil) != want {
			t.Errorf("checkpoint %d exists=%v, want %v", s, err == nil, want)
		}
	}
}

func TestInterruptCancels(t *testing.T) {
	ctx, cancel := Interruptible(context.Background())
	defer cancel()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGINT did not cancel the context")
	}
}

// A killed run leaves atomicfile's temporary files; reopening the run
// removes those in the folder and checkpoints/, counts them, and leaves
// every other file alone.
func TestOpenRemovesStaleTemps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r, err := Open(dir, cfg{1e-4, 100}, false)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if r.RemovedTemps != 0 {
		t.Errorf("fresh run removed %d files", r.RemovedTemps)
	}
	stale := []string{
		filepath.Join(dir, "checkpoints", ".step-00000100.safetensors.tmp-123456789"),
		filepath.Join(dir, ".config.json.tmp-42"),
	}
	kept := []string{
		filepath.Join(dir, "checkpoints", "step-00000050.safetensors"),
		filepath.Join(dir, "checkpoints", "notes.tmp"),
		filepath.Join(dir, ".step.tmp-abc"),
		filepath.Join(dir, "samples", ".step-00000100.png.tmp-7"), // not a folder Open cleans
	}
	for _, p := range append(append([]string{}, stale...), kept...) {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err = Open(dir, cfg{1e-4, 100}, true)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if r.RemovedTemps != len(stale) {
		t.Errorf("removed %d stale files, want %d", r.RemovedTemps, len(stale))
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s: still there (%v)", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: removed (%v)", p, err)
		}
	}
}
