package train

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/restorer"
	"facereward/restorer/restorertest"
	"facereward/train/traintest"
)

func tinyOptions(data string, steps int) Stage1Options {
	o := DefaultStage1Options(data)
	o.Net = restorer.Stage1Config{ImageSize: 16, Unshuffle: 2, Width: 8, Blocks: 1}
	o.Steps, o.Batch, o.Warmup = steps, 4, 2
	o.EvalEvery, o.EvalFaces, o.SaveEvery = 3, 2, 3
	return o
}

// Training 6 steps in one go and 3 + 3 with --resume give the same bytes;
// the run folder holds its config, log, checkpoints and sample grids.
func TestStage1ResumeIsExact(t *testing.T) {
	data := restorertest.Faces(t)
	straight, split := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if err := Stage1(context.Background(), straight, tinyOptions(data, 6), false, io.Discard); err != nil {
		t.Fatal(err)
	}
	// The first half runs with Steps 6 too (the config must match to
	// resume) and is interrupted before step 4, as by Ctrl-C.
	opt := tinyOptions(data, 6)
	var out bytes.Buffer
	if err := Stage1(traintest.StopAfter(4), split, opt, false, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(split, "checkpoints", "step-00000003.safetensors")); err != nil {
		t.Fatalf("interrupted run left no step-3 checkpoint: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(split, "checkpoints", "step-00000006.safetensors")); err == nil {
		t.Fatal("the interrupted run did not stop")
	}
	// A kill -9 during a checkpoint write leaves its temporary file; the
	// resume removes it and says so.
	stale := filepath.Join(split, "checkpoints", ".step-00000004.safetensors.tmp-99")
	if err := os.WriteFile(stale, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := Stage1(context.Background(), split, opt, true, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil || !strings.Contains(out.String(), "removed 1 temporary file(s)") {
		t.Errorf("stale temporary file: stat %v, output\n%s", err, out.String())
	}
	a := traintest.Params(t, filepath.Join(straight, "checkpoints", "step-00000006.safetensors"))
	b := traintest.Params(t, filepath.Join(split, "checkpoints", "step-00000006.safetensors"))
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d vs %d tensors", len(a), len(b))
	}
	if name, differ := traintest.FirstDiff(a, b); differ {
		t.Fatalf("%s differs between a straight run and an interrupted, resumed one", name)
	}
	for _, p := range []string{"config.json", "log.jsonl", "samples/step-00000006.png"} {
		if _, err := os.Stat(filepath.Join(split, p)); err != nil {
			t.Errorf("run folder lacks %s", p)
		}
	}
	if err := Stage1(context.Background(), split, tinyOptions(data, 7), true, io.Discard); err == nil {
		t.Error("resumed with different settings")
	}
}

// Until stops a run early with its EMA weights exported and the schedule
// untouched: carrying on past it gives the straight run's bytes.
func TestStage1Until(t *testing.T) {
	data := restorertest.Faces(t)
	straight, early := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if err := Stage1(context.Background(), straight, tinyOptions(data, 4), false, io.Discard); err != nil {
		t.Fatal(err)
	}
	opt := tinyOptions(data, 4)
	opt.Until = 2
	if err := Stage1(context.Background(), early, opt, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(early, "checkpoints", "step-00000002.safetensors")); err != nil {
		t.Fatalf("no checkpoint at the until step: %v", err)
	}
	if _, err := os.Stat(filepath.Join(early, "checkpoints", "step-00000003.safetensors")); err == nil {
		t.Fatal("the run went past until")
	}
	atTwo := traintest.Params(t, filepath.Join(early, "model.safetensors"))
	// Asking again for the same stop only re-exports.
	if err := Stage1(context.Background(), early, opt, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	opt.Until = 0
	if err := Stage1(context.Background(), early, opt, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	a, b := traintest.Params(t, filepath.Join(straight, "model.safetensors")), traintest.Params(t, filepath.Join(early, "model.safetensors"))
	if name, differ := traintest.FirstDiff(a, b); differ {
		t.Fatalf("%s differs between a straight run and one stopped at until and resumed", name)
	}
	if _, moved := traintest.FirstDiff(a, atTwo); !moved {
		t.Fatal("the weights exported at until are those of the finished run")
	}
}
