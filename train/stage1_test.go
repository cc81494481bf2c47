package train

import (
	"bytes"
	"context"
	"encoding/json"
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

// --init starts stage 1 from a restorer's stage 1: at a learning rate too
// small to move the weights, the run's EMA weights are the init's, its
// config records the init's net, and a run without --init starts
// elsewhere. The run resumes like any other.
func TestStage1Init(t *testing.T) {
	data := restorertest.Faces(t)
	initDir := restorertest.Dir(t, restorertest.Model(t, 5, 0.05))
	m, err := restorer.Load(initDir)
	if err != nil {
		t.Fatal(err)
	}
	opts := func() Stage1Options {
		o := tinyOptions(data, 3)
		o.Init, o.LR, o.Net = initDir, 1e-12, restorer.Stage1Config{} // the init's config replaces Net
		return o
	}
	run := filepath.Join(t.TempDir(), "init")
	if err := Stage1(context.Background(), run, opts(), false, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := traintest.Params(t, filepath.Join(run, "model.safetensors"))
	for _, p := range m.Stage1.Params() {
		g, ok := got[p.Name]
		if !ok {
			t.Fatalf("model.safetensors has no %s", p.Name)
		}
		for i, v := range p.Value.Data {
			if d := g.Data[i] - v; d > 1e-6 || d < -1e-6 {
				t.Fatalf("%s[%d] = %g, the init's is %g", p.Name, i, g.Data[i], v)
			}
		}
	}
	var cfg Stage1Options
	if b, err := os.ReadFile(filepath.Join(run, "config.json")); err != nil || json.Unmarshal(b, &cfg) != nil {
		t.Fatalf("config.json: %v\n%s", err, b)
	}
	if cfg.Init != initDir || cfg.Net != m.Config.Stage1 {
		t.Errorf("config.json records init %q and net %+v, want %q and %+v", cfg.Init, cfg.Net, initDir, m.Config.Stage1)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	o := tinyOptions(data, 3)
	o.LR = 1e-12
	if err := Stage1(context.Background(), fresh, o, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, differ := traintest.FirstDiff(got, traintest.Params(t, filepath.Join(fresh, "model.safetensors"))); !differ {
		t.Error("a run without --init ended with the init's weights")
	}
	if err := Stage1(context.Background(), run, opts(), true, io.Discard); err != nil {
		t.Errorf("resuming a finished --init run: %v", err)
	}
	bad := opts()
	bad.Init = filepath.Join(t.TempDir(), "none")
	if err := Stage1(context.Background(), filepath.Join(t.TempDir(), "bad"), bad, false, io.Discard); err == nil {
		t.Error("an --init that does not exist was accepted")
	}
}
