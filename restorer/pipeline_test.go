package restorer

import (
	"math"
	"math/rand/v2"

	"facereward/diffusion"
	"facereward/nn"
	"facereward/safetensors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A model directory round-trips, and restoring with it is deterministic
// per seed, keeps shapes and stays in [0, 1].
func TestModelDirAndSampler(t *testing.T) {
	m := newTiny(t, 16, 3)
	dir := filepath.Join(t.TempDir(), "model")
	if err := SaveDir(dir, m, "cosine", safetensors.F32); err != nil {
		t.Fatal(err)
	}
	back, dc, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if dc.Schedule != "cosine" {
		t.Fatalf("schedule %q", dc.Schedule)
	}
	s, err := NewSampler(back, dc.Schedule, 4)
	if err != nil {
		t.Fatal(err)
	}
	lq := randImage(rand.New(rand.NewPCG(1, 2)), 2, 16)
	for i := range lq.Data {
		lq.Data[i] = 0.5 + 0.5*lq.Data[i]/(1+abs(lq.Data[i]))
	}
	st1, a, err := s.Restore(lq, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := s.Restore(lq, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	_, c, err := s.Restore(lq, rand.New(rand.NewPCG(10, 9)))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Data) != len(lq.Data) || len(st1.Data) != len(lq.Data) {
		t.Fatalf("shapes %v %v", a.Shape, st1.Shape)
	}
	same, differ := true, false
	for i := range a.Data {
		if a.Data[i] < 0 || a.Data[i] > 1 {
			t.Fatalf("value %g outside [0,1]", a.Data[i])
		}
		same = same && a.Data[i] == b.Data[i]
		differ = differ || a.Data[i] != c.Data[i]
	}
	if !same || !differ {
		t.Errorf("same seed identical: %v; other seed differs: %v", same, differ)
	}
	// A missing weight file names itself.
	os.Remove(filepath.Join(dir, "unet.safetensors"))
	if _, _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "unet.safetensors") {
		t.Errorf("missing file: %v", err)
	}
}

// Guidance 1 pulls every clean-image estimate all the way to the stage-1
// estimate, so the restoration is that estimate; partial guidance lands
// in between; a value outside [0, 1] is an error.
func TestGuidance(t *testing.T) {
	m := newTiny(t, 16, 3)
	perturbZeros(m, rand.New(rand.NewPCG(4, 4)))
	m.Config.UNet.Prediction = "v"
	s, err := NewSampler(m, "cosine", 5)
	if err != nil {
		t.Fatal(err)
	}
	lq := randImage(rand.New(rand.NewPCG(1, 2)), 2, 16)
	for i := range lq.Data {
		lq.Data[i] = 0.5 + 0.5*lq.Data[i]/(1+abs(lq.Data[i]))
	}
	dist := func(g float64) float64 {
		s.Guidance = g
		est, out, err := s.Restore(lq, rand.New(rand.NewPCG(9, 9)))
		if err != nil {
			t.Fatal(err)
		}
		d := 0.0
		for i := range out.Data {
			d = max(d, float64(abs(out.Data[i]-est.Data[i])))
		}
		return d
	}
	free, half, full := dist(0), dist(0.5), dist(1)
	if full > 1e-4 {
		t.Errorf("guidance 1: restoration %g from the stage-1 estimate", full)
	}
	if !(free > 0.05 && half < free) {
		t.Errorf("distance to the stage-1 estimate: guidance 0 %g, 0.5 %g", free, half)
	}
	s.Guidance = 1.5
	if _, _, err := s.Restore(lq, rand.New(rand.NewPCG(9, 9))); err == nil {
		t.Error("guidance 1.5 accepted")
	}
}

func abs(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// ReFL's image is the user's image: descending to the last step and
// predicting x0_hat there on the tape, guided by GuideVar, gives what
// Restore returns (before its clamp to [0,1]) from the same noise.
func TestDescendThenGuideIsRestore(t *testing.T) {
	m := newTiny(t, 16, 3)
	s, err := NewSampler(m, "cosine", 6)
	if err != nil {
		t.Fatal(err)
	}
	s.Strength, s.Guidance, s.DDIM.Eta = 0.5, 0.45, 0.7
	lq := randImage(rand.New(rand.NewPCG(1, 2)), 2, 16)
	cond := s.Condition(lq)
	want, err := s.Descend(cond, rand.New(rand.NewPCG(3, 3)), 0)
	if err != nil {
		t.Fatal(err)
	}
	last := s.DDIM.Steps - 1
	xt, err := s.Descend(cond, rand.New(rand.NewPCG(3, 3)), last)
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph()
	ts := []int{s.DDIM.Timesteps()[last], s.DDIM.Timesteps()[last]}
	xv, cv := nn.Constant(xt), nn.Constant(cond)
	pred, _ := m.Predict(g, xv, ts, cv)
	x0 := s.GuideVar(g, s.DDIM.Schedule.X0FromPredVar(g, diffusion.Prediction(m.Config.UNet.Prediction), xv, pred, ts), cv)
	var worst float64
	for i, v := range x0.Value.Data {
		worst = max(worst, math.Abs(float64(v-want.Data[i])))
	}
	if worst > 1e-5 {
		t.Errorf("x0_hat at the last step differs from the sampler's output by up to %g", worst)
	}
	if _, err := s.Descend(cond, rand.New(rand.NewPCG(3, 3)), 1); err == nil || !strings.Contains(err.Error(), "before the start step") {
		t.Errorf("stopping before the start: %v", err)
	}
}
