package models_test

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"facereward/diffusion"
	"facereward/imageio"
	"facereward/models"
	"facereward/nn"
	"facereward/restorer"
	"facereward/reward"
	"facereward/tensor"
)

// The built-in weights load into the architecture their config names,
// every tensor present with its shape (LoadFS checks both), and are not
// the untrained initialisation: the zero-initialised output layer has
// learnt something.
func TestDefaultLoads(t *testing.T) {
	m, err := restorer.LoadFS(models.Default(), "built-in")
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.Schedule != diffusion.Cosine || m.Schedule == nil {
		t.Errorf("β schedule %q, want cosine", m.Config.Schedule)
	}
	nonzero := 0
	for _, v := range m.UNet.Out.W.Value.Data {
		if v != 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Error("the UNet's output layer is still zero: untrained weights")
	}
	if _, err := fs.Stat(models.Default(), "config.json"); err != nil {
		t.Error(err)
	}
}

// The built-in Face Reward Model loads and prefers each example face to
// its degraded copy (examples/: the ground truth over the LQ), as it does
// on 99.5% of the dev-val pairs of that kind (README).
func TestRewardLoads(t *testing.T) {
	m, err := reward.LoadFS(models.Reward(), models.RewardFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"collins.png", "hopper.png"} {
		var scores [2]float64
		for i, dir := range []string{"gt", "lq"} {
			img, err := imageio.Read(filepath.Join("..", "examples", dir, name))
			if err != nil {
				t.Fatal(err)
			}
			s := m.Config.ImageSize
			if img.Shape[0] != s || img.Shape[1] != s {
				t.Fatalf("examples/%s/%s is %v, the FRM reads %d×%d", dir, name, img.Shape, s, s)
			}
			scores[i] = m.Score(tensor.FromSlice(img.Data, 1, s, s, 3), 1)[0]
		}
		if !(scores[0] > scores[1]) {
			t.Errorf("%s: the built-in FRM scores the ground truth %.3f, the degraded copy %.3f", name, scores[0], scores[1])
		}
	}
}

// The built-in restorers load by name: the ReFL-tuned default and the base
// it was tuned from share stage 1 and the UNet and differ in the control
// branch, which is all ReFL trains; an unknown name is refused.
func TestLoadBuiltins(t *testing.T) {
	def, err := restorer.Load("")
	if err != nil || def.Name != "builtin:refl" {
		t.Fatalf("default: %v", err)
	}
	base, err := restorer.Load("builtin:base")
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b []*nn.Param) bool {
		for i := range a {
			for j := range a[i].Value.Data {
				if a[i].Value.Data[j] != b[i].Value.Data[j] {
					return false
				}
			}
		}
		return true
	}
	if !same(def.Stage1.Params(), base.Stage1.Params()) || !same(def.UNet.Params(), base.UNet.Params()) {
		t.Error("the built-in restorers differ outside the control branch")
	}
	if same(def.Control.Params(), base.Control.Params()) {
		t.Error("the default restorer's control branch is the base's: the ReFL-tuned weights are not built in")
	}
	if _, err := restorer.Load("builtin:sharp"); err == nil || !strings.Contains(err.Error(), "builtin:base") {
		t.Errorf("unknown built-in: %v", err)
	}
	if _, err := restorer.Load(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "none") {
		t.Errorf("missing directory: %v", err)
	}
}
