package refl

import (
	"bytes"
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/nn"
	"facereward/restorer/restorertest"
	"facereward/rundir"
	"facereward/tensor"
	"facereward/train/traintest"
)

// tinyRun writes a 16×16 restorer model directory and a tiny FRM and
// returns ReFL options over tinyData that exercise every part of a step:
// accumulation, the dynamic update, dev-val passes and checkpoints.
func tinyRun(t *testing.T, steps int) Options {
	t.Helper()
	root := t.TempDir()
	// Zero-initialised output and residual layers would leave x0_hat
	// independent of the branch's other weights: perturbed.
	base := restorertest.Dir(t, restorertest.Model(t, 1, 0.05))
	frm := tinyFRM(t, 3)
	frmPath := filepath.Join(root, "frm.safetensors")
	if err := frm.Save(frmPath); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions(restorertest.Faces(t))
	o.Base, o.Reward = base, frmPath
	o.Steps, o.Batch, o.Accum, o.LR = steps, 2, 2, 1e-3
	o.SampleSteps, o.Strength, o.FRMEvery = 4, 1, 2
	o.Watch.Every, o.Watch.Faces, o.SaveEvery = 2, 2, 2
	return o
}

// A ReFL run trains the control branch only, moves it, keeps its frozen
// copy and the base's other networks as they were, updates the FRM, and an
// interrupted-and-resumed run ends with the same bytes as a straight one
// (restorer, dynamic FRM and log of passes).
func TestReFLTrainsAndResumesExactly(t *testing.T) {
	o := tinyRun(t, 4)
	root := t.TempDir()
	straight, split := filepath.Join(root, "a"), filepath.Join(root, "b")
	if err := Train(context.Background(), straight, o, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := Train(traintest.StopAfter(3), split, o, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(split, "model")); err == nil {
		t.Fatal("the interrupted run exported a final model")
	}
	if err := Train(context.Background(), split, o, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"model/control.safetensors", "model/unet.safetensors", "frm.safetensors", "best/control.safetensors"} {
		a, b := traintest.Params(t, filepath.Join(straight, f)), traintest.Params(t, filepath.Join(split, f))
		if name, differ := traintest.FirstDiff(a, b); differ {
			t.Fatalf("%s: %s differs between a straight and a resumed run", f, name)
		}
	}
	same := func(f string) bool {
		_, differ := traintest.FirstDiff(traintest.Params(t, filepath.Join(o.Base, f)), traintest.Params(t, filepath.Join(straight, "model", f)))
		return !differ
	}
	if !same("unet.safetensors") || !same("stage1.safetensors") {
		t.Error("ReFL changed the UNet or stage 1; only the control branch trains by default")
	}
	if same("control.safetensors") {
		t.Error("ReFL left the control branch as it was")
	}
	fa, fb := traintest.Params(t, o.Reward), traintest.Params(t, filepath.Join(straight, "frm.safetensors"))
	if _, moved := traintest.FirstDiff(fa, fb); !moved {
		t.Error("the dynamic update left the FRM as it was")
	}

	entries, err := rundir.ReadLog(straight)
	if err != nil {
		t.Fatal(err)
	}
	var passSteps []int
	var sawBT, sawTerms bool
	for _, e := range entries {
		if _, ok := passFromLog(e); ok {
			passSteps = append(passSteps, e.Step)
		}
		_, bt := e.Fields[KeyFRMBT]
		_, reg := e.Fields[KeyReg]
		sawBT, sawTerms = sawBT || bt, sawTerms || reg
	}
	if len(passSteps) != 3 || passSteps[0] != 0 || passSteps[2] != 4 {
		t.Errorf("dev-val passes at steps %v, want 0, 2, 4", passSteps)
	}
	if !sawBT || !sawTerms {
		t.Errorf("log lacks the dynamic update's loss (%v) or the loss terms (%v)", sawBT, sawTerms)
	}
	html, err := os.ReadFile(filepath.Join(straight, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "data:image/png;base64,", "Best checkpoint rule"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// A finished run asked again trains nothing and rewrites its results.
	if err := os.RemoveAll(filepath.Join(straight, "model")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Train(context.Background(), straight, o, true, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(straight, "model", "control.safetensors")); err != nil || !strings.Contains(out.String(), "already at step 4") {
		t.Errorf("rerunning a finished run: %v; output %q", err, out.String())
	}
}

// The static ablation leaves the FRM untouched; all weights train with
// --train-all; impossible settings are refused before anything is written.
func TestTrainOptions(t *testing.T) {
	o := tinyRun(t, 2)
	o.FRMEvery, o.TrainAll, o.Watch.Every = 0, true, 0
	dir := filepath.Join(t.TempDir(), "run")
	if err := Train(context.Background(), dir, o, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	fa, fb := traintest.Params(t, o.Reward), traintest.Params(t, filepath.Join(dir, "frm.safetensors"))
	if name, differ := traintest.FirstDiff(fa, fb); differ {
		t.Fatalf("a static-FRM run changed %s", name)
	}
	ua, ub := traintest.Params(t, filepath.Join(o.Base, "unet.safetensors")), traintest.Params(t, filepath.Join(dir, "model", "unet.safetensors"))
	if _, moved := traintest.FirstDiff(ua, ub); !moved {
		t.Error("--train-all left the UNet as it was")
	}
	for _, c := range []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) { o.LastSteps = 0 }, "--last-steps"},
		{func(o *Options) { o.Strength, o.LastSteps = 0.25, 2 }, "fewer than --last-steps"},
		{func(o *Options) { o.Accum = 0 }, "accum"},
		{func(o *Options) { o.Reward = filepath.Join(t.TempDir(), "missing.safetensors") }, "missing.safetensors"},
	} {
		bad := tinyRun(t, 2)
		c.edit(&bad)
		dir := filepath.Join(t.TempDir(), "bad")
		err := Train(context.Background(), dir, bad, false, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming %q, got %v", c.want, err)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("a refused run (%s) left %s behind", c.want, dir)
		}
	}
}

// The hacking flag and the best-checkpoint rule: reward up with PSNR or
// IDS down beyond tolerance is hacking and never the best; the best is
// the highest reward among faithful passes.
func TestWatchRules(t *testing.T) {
	o := DefaultWatchOptions()
	base := passScores{Step: 0, PSNR: 26, IDS: 0.95, Score: 0}
	w := &watch{opt: Options{Watch: o}}
	w.consider(base)
	for _, c := range []struct {
		p             passScores
		hacking, best bool
	}{
		{passScores{Step: 10, PSNR: 25.9, IDS: 0.949, Score: 1}, false, true},
		{passScores{Step: 20, PSNR: 25.6, IDS: 0.95, Score: 3}, true, false},  // PSNR −0.4 dB
		{passScores{Step: 30, PSNR: 26, IDS: 0.947, Score: 3}, true, false},   // IDS −0.003
		{passScores{Step: 40, PSNR: 26, IDS: 0.95, Score: 0.5}, false, false}, // faithful, lower reward
		{passScores{Step: 50, PSNR: 25.5, IDS: 0.9, Score: -1}, false, false}, // worse at everything: not hacking, not best
		{passScores{Step: 60, PSNR: 25.71, IDS: 0.9481, Score: 2}, false, true},
	} {
		if got := o.hacking(base, c.p); got != c.hacking {
			t.Errorf("step %d: hacking %v, want %v", c.p.Step, got, c.hacking)
		}
		if got := w.consider(c.p); got != c.best {
			t.Errorf("step %d: new best %v, want %v", c.p.Step, got, c.best)
		}
	}
	if w.best.Step != 60 {
		t.Errorf("best step %d, want 60", w.best.Step)
	}
}

// A run whose log flags hacking gets the alarm at the top of its report,
// the flagged row marked, and NaN-free curves for the scores it has.
func TestReportAlarm(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	run, err := rundir.Open(dir, DefaultOptions("data"), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []passScores{{Step: 0, PSNR: 26, IDS: 0.95, Score: 0, SSIM: 0.7, LMD: 2, BRISQUE: math.NaN()}, {Step: 50, PSNR: 25, IDS: 0.95, Score: 2, SSIM: 0.7, LMD: 2, BRISQUE: math.NaN()}} {
		f := p.fields()
		if p.Step > 0 {
			f[KeyHacking] = true
		}
		if err := run.Log(p.Step, f); err != nil {
			t.Fatal(err)
		}
	}
	run.Close()
	if err := WriteReport(dir); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	for _, want := range []string{"WARNING: reward hacking suspected", `class="hack"`, "hacking?", "no strip"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(s, "NaN") {
		t.Error("report shows NaN")
	}
}

// A ReFL step gives the same gradients byte for byte whether Backward
// frees values as it goes (the stepper's graph does) or keeps them all.
func TestStepFreeValues(t *testing.T) {
	o := tinyRun(t, 1)
	traintest.SameGrads(t, func(free bool) []*nn.Param {
		nets, err := LoadNets(o)
		if err != nil {
			t.Fatal(err)
		}
		st := NewStepper(nets, o)
		st.freeValues = free
		s := nets.Model.Config.UNet.ImageSize
		rng := rand.New(rand.NewPCG(7, 8))
		lq, hq := tensor.New(2, s, s, 3), tensor.New(2, s, s, 3)
		for i := range lq.Data {
			lq.Data[i], hq.Data[i] = rng.Float32(), rng.Float32()
		}
		for range 2 { // the second step on the first's pool
			if _, _, err := st.Step(lq, hq, 0.5, o.SampleSteps-1, rng); err != nil {
				t.Fatal(err)
			}
		}
		return nets.Model.Control.Params()
	})
}
