package train

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/nn"
	"facereward/restorer"
	"facereward/restorer/restorertest"
	"facereward/tensor"
	"facereward/train/traintest"
)

func tinyStage2(data string, steps int) Stage2Options {
	o := DefaultStage2Options(data)
	c := restorertest.Config()
	o.Net, o.Stage1Net = c.UNet, c.Stage1
	o.Mode, o.Steps, o.Batch, o.Warmup = ModeUNet, steps, 4, 2
	o.EvalEvery, o.EvalFaces, o.SaveEvery, o.SampleSteps = 2, 2, 2, 3
	return o
}

// The UNet's prior trains and resumes exactly; then the control branch
// trains on top of it with the stage-1 condition, the UNet frozen, and its
// dev-val pass scores real restorations.
func TestStage2UNetThenControl(t *testing.T) {
	data := restorertest.Faces(t)
	root := t.TempDir()
	s1 := filepath.Join(root, "s1")
	if err := Stage1(context.Background(), s1, tinyOptions(data, 2), false, io.Discard); err != nil {
		t.Fatal(err)
	}

	straight, split := filepath.Join(root, "u1"), filepath.Join(root, "u2")
	if err := Stage2(context.Background(), straight, tinyStage2(data, 4), false, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := Stage2(traintest.StopAfter(3), split, tinyStage2(data, 4), false, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(split, "model.safetensors")); err == nil {
		t.Fatal("the interrupted run exported final weights")
	}
	if err := Stage2(context.Background(), split, tinyStage2(data, 4), true, io.Discard); err != nil {
		t.Fatal(err)
	}
	a, b := traintest.Params(t, filepath.Join(straight, "model.safetensors")), traintest.Params(t, filepath.Join(split, "model.safetensors"))
	if name, differ := traintest.FirstDiff(a, b); differ {
		t.Fatalf("%s differs between a straight and a resumed UNet run", name)
	}

	c := tinyStage2(data, 2)
	c.Mode, c.Stage1, c.UNet = ModeControl, filepath.Join(s1, "model.safetensors"), filepath.Join(straight, "model.safetensors")
	ctl := filepath.Join(root, "c")
	if err := Stage2(context.Background(), ctl, c, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	m := traintest.Params(t, filepath.Join(ctl, "model.safetensors"))
	for name := range m {
		if !strings.HasPrefix(name, "control.") {
			t.Fatalf("control run saved %s: only the control branch trains", name)
		}
	}
	log, err := os.ReadFile(filepath.Join(ctl, "log.jsonl"))
	if err != nil || !strings.Contains(string(log), "dev_psnr") {
		t.Fatalf("control run logged no dev-val scores (%v)", err)
	}

	// Pack assembles the control run's model: its stage 1, the UNet it
	// started from, its own control branch; a UNet-only run has no branch.
	pm, err := Pack(ctl, "")
	if err != nil {
		t.Fatal(err)
	}
	if pm.Config.Schedule != c.Schedule || pm.Schedule.Kind != c.Schedule {
		t.Errorf("packed schedule %q (%q), want %q", pm.Config.Schedule, pm.Schedule.Kind, c.Schedule)
	}
	want := map[string][]float32{}
	for name, tt := range a {
		want[name] = tt.Data
	}
	for name, tt := range m {
		want[name] = tt.Data
	}
	for name, tt := range traintest.Params(t, filepath.Join(s1, "model.safetensors")) {
		want[name] = tt.Data
	}
	for _, p := range pm.Params() {
		w, ok := want[p.Name]
		if !ok || !bytes.Equal(traintest.F32Bytes(w), traintest.F32Bytes(p.Value.Data)) {
			t.Fatalf("packed %s is not the trained tensor (found: %v)", p.Name, ok)
		}
	}
	if _, err := Pack(straight, ""); err == nil || !strings.Contains(err.Error(), "no control branch") {
		t.Errorf("packing a UNet-only run: %v", err)
	}

	c.UNet = ""
	if err := Stage2(context.Background(), filepath.Join(root, "c2"), c, false, io.Discard); err == nil || !strings.Contains(err.Error(), "--unet") {
		t.Errorf("control mode without a UNet: %v", err)
	}
}

// A joint run started from a whole restorer with every detail term on (the
// discriminator, its optimiser and the face terms) resumes exactly, logs
// its terms, and packs to the init model's stage 1 with the trained UNet
// and control branch.
func TestStage2DetailResumes(t *testing.T) {
	data := restorertest.Faces(t)
	root := t.TempDir()
	initDir := restorertest.Dir(t, restorertest.Model(t, 5, 0.05))
	opts := func() Stage2Options {
		o := tinyStage2(data, 4)
		o.Mode, o.Init, o.TMax = ModeJoint, initDir, 0.5
		o.Detail.Adv, o.Detail.ID, o.Detail.Feat, o.Detail.DiscSteps = 0.1, 0.1, 0.1, 2
		o.Detail.Comp, o.Detail.CompDisc = 0.1, restorer.DiscConfig{Widths: []int{8, 16}, PowerIters: 2}
		return o
	}
	straight, split := filepath.Join(root, "a"), filepath.Join(root, "b")
	if err := Stage2(context.Background(), straight, opts(), false, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := Stage2(traintest.StopAfter(3), split, opts(), false, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := Stage2(context.Background(), split, opts(), true, io.Discard); err != nil {
		t.Fatal(err)
	}
	a, b := traintest.Params(t, filepath.Join(straight, "model.safetensors")), traintest.Params(t, filepath.Join(split, "model.safetensors"))
	if name, differ := traintest.FirstDiff(a, b); differ {
		t.Fatalf("%s differs between a straight and a resumed detail run", name)
	}
	log, err := os.ReadFile(filepath.Join(straight, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{KeyDiffusion, KeyAdv, KeyID, KeyFeat, KeyDiscLoss, KeyDiscReal, KeyAdvComp, KeyCompDiscLoss, KeyCompDiscFake, KeyDevPSNR} {
		if !strings.Contains(string(log), `"`+key+`"`) {
			t.Errorf("log has no %s", key)
		}
	}
	m, err := Pack(straight, "")
	if err != nil {
		t.Fatal(err)
	}
	// The last checkpoint's EMA weights are the finished run's.
	mc, err := Pack(split, filepath.Join(split, "checkpoints", "step-00000004.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if name, differ := traintest.FirstDiff(tensorsOf(m.Params()), tensorsOf(mc.Params())); differ {
		t.Errorf("%s differs between the run's model and its last checkpoint's EMA weights", name)
	}
	ref := restorertest.Model(t, 5, 0.05)
	if name, differ := traintest.FirstDiff(tensorsOf(m.Stage1.Params()), tensorsOf(ref.Stage1.Params())); differ {
		t.Errorf("packed stage 1 %s is not the init model's", name)
	}
	if _, differ := traintest.FirstDiff(tensorsOf(m.Control.Params()), tensorsOf(ref.Control.Params())); !differ {
		t.Error("the control branch did not train")
	}
	o := opts()
	o.Stage1 = "x.safetensors"
	if err := Stage2(context.Background(), filepath.Join(root, "c"), o, false, io.Discard); err == nil || !strings.Contains(err.Error(), "--init") {
		t.Errorf("--init with --stage1: %v", err)
	}
}

func tensorsOf(ps []*nn.Param) map[string]*tensor.Tensor {
	m := map[string]*tensor.Tensor{}
	for _, p := range ps {
		m[p.Name] = p.Value
	}
	return m
}
