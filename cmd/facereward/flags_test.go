package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every command refuses a number flag set to NaN or ±Inf, naming it, and
// a training run refuses counts that would divide by zero or export an
// untrained model; all before any work (no run folder is made).
func TestFlagsRefusedBeforeWork(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	data := filepath.Join(dir, "data") // never read: the flags fail first
	train := []string{"train", "restorer", "--stage", "1", "--data", data, "--run", runDir}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"restore", "x.png", "--out", filepath.Join(dir, "o"), "--guidance", "NaN"}, "--guidance NaN: want a finite number"},
		{[]string{"restore", "x.png", "--out", filepath.Join(dir, "o"), "--eta", "+Inf"}, "--eta +Inf: want a finite number"},
		{append(train, "--lr", "NaN"), "--lr NaN: want a finite number"},
		{append(train, "--steps", "0"), "train stage 1: --steps 0, want ≥ 1"},
		{append(train, "--steps", "-1"), "--steps -1, want ≥ 1"},
		{append(train, "--save-every", "0"), "--save-every 0, want ≥ 1"},
		{append(train, "--save-every", "-1"), "--save-every -1, want ≥ 1"},
		{append(train, "--eval-faces", "-1"), "--eval-faces -1, want ≥ 0"},
		{append(train, "--ema", "1"), "--ema 1, want a finite number in [0, 1)"},
		{[]string{"train", "restorer", "--stage", "2", "--data", data, "--run", runDir, "--init", "builtin:base", "--save-every", "0"}, "train stage 2: --save-every 0"},
		{[]string{"train", "refl", "--data", data, "--run", runDir, "--steps", "0"}, "train refl: --steps 0"},
	} {
		err := run(c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error saying %q", c.args, err, c.want)
		}
		if _, err := os.Stat(runDir); err == nil {
			t.Fatalf("%q made the run folder before refusing", c.args)
		}
	}
}
