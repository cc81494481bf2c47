package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/imageio"
	"facereward/restorer/restorertest"
	"facereward/tensor"
)

// tinyModel saves an untrained 16×16 restorer: the pipeline, not the
// quality, is under test here.
func tinyModel(t *testing.T) string {
	t.Helper()
	return restorertest.Dir(t, restorertest.Model(t, 1, 0))
}

func TestRestoreAlignedAndPhotos(t *testing.T) {
	model := tinyModel(t)
	in, out := t.TempDir(), t.TempDir()
	copyFaces(t, in, 1, "04801", "04850")
	est := t.TempDir()
	stdout, _, err := runCLI("restore", in, "--aligned", "--model", model, "--out", out, "--steps", "3", "--save-stage1", est, "--eta", "0.5")
	if err != nil {
		t.Fatal(err)
	}
	if img, err := imageio.Read(filepath.Join(est, "04850.png")); err != nil || !tensor.SameShape(img.Shape, []int{128, 128, 3}) {
		t.Fatalf("stage-1 estimate: %v %v", err, img)
	}
	if !strings.Contains(stdout, "2 images written") {
		t.Errorf("summary %q", stdout)
	}
	img, err := imageio.Read(filepath.Join(out, "04801.png"))
	if err != nil || !tensor.SameShape(img.Shape, []int{128, 128, 3}) {
		t.Fatalf("aligned output: %v %v", err, img)
	}

	// A whole photo: detected, aligned, restored and pasted back, twice
	// its size; a blank image has no face: it fails, with the reason, and
	// the run's exit status says so once the other photo is written.
	photos := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "faces", "grace_hopper_512x512.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(photos, "hopper.jpg"), b, 0o644)
	blank := tensor.New(64, 64, 3)
	imageio.WritePNG(filepath.Join(photos, "blank.png"), blank)
	out2 := t.TempDir()
	stdout, _, err = runCLI("restore", photos, "--model", model, "--out", out2, "--steps", "2", "--no-gate")
	if err == nil || !strings.Contains(err.Error(), "1 of 2 inputs failed") {
		t.Errorf("a photo without a face: %v", err)
	}
	if !strings.Contains(stdout, "1 image written") || !strings.Contains(stdout, "1 failed") || !strings.Contains(stdout, "hopper.jpg: 1 face, 1 restored") {
		t.Errorf("stdout %q", stdout)
	}
	res, err := imageio.Read(filepath.Join(out2, "restored_imgs", "hopper.jpg"))
	if err != nil || !tensor.SameShape(res.Shape, []int{1024, 1024, 3}) {
		t.Fatalf("photo output: %v", err)
	}
	for _, p := range []string{"restored_faces/hopper_00.png", "cropped_faces/hopper_00.png", "cmp/hopper_00.png", "report.json"} {
		if _, err := os.Stat(filepath.Join(out2, filepath.FromSlash(p))); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
	rep, err := os.ReadFile(filepath.Join(out2, "report.json"))
	// --no-gate: nothing scored the face, and the report says so.
	if err != nil || !strings.Contains(string(rep), `"restored": true`) || !strings.Contains(string(rep), `"scored": false`) || !strings.Contains(string(rep), "no face found") {
		t.Errorf("report.json %s (%v)", rep, err)
	}
	// The reward model's gate needs faces of its size.
	_, _, err = runCLI("restore", photos, "--model", model, "--out", t.TempDir(), "--steps", "2")
	if err == nil || !strings.Contains(err.Error(), "--no-gate") {
		t.Errorf("gate with a 16×16 model: %v", err)
	}
}

// Without --model the built-in weights restore a face; --save-stage1
// needs aligned inputs.
func TestRestoreBuiltIn(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	copyFaces(t, in, 1, "04801")
	if _, _, err := runCLI("restore", in, "--aligned", "--out", out, "--steps", "2"); err != nil {
		t.Fatal(err)
	}
	img, err := imageio.Read(filepath.Join(out, "04801.png"))
	if err != nil || !tensor.SameShape(img.Shape, []int{128, 128, 3}) {
		t.Fatalf("output: %v %v", err, img)
	}
	_, _, err = runCLI("restore", in, "--out", out, "--save-stage1", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "--aligned") {
		t.Fatalf("--save-stage1 without --aligned: %v", err)
	}
}

// --reward-strength 0 restores as the base model, 1 as the default, and
// 0.5 differs from both; a model directory needs --reward-base.
func TestRestoreRewardStrength(t *testing.T) {
	in := t.TempDir()
	copyFaces(t, in, 1, "04801")
	read := func(args ...string) *tensor.Tensor {
		t.Helper()
		out := t.TempDir()
		if _, _, err := runCLI(append([]string{"restore", in, "--aligned", "--out", out, "--steps", "2"}, args...)...); err != nil {
			t.Fatal(err)
		}
		img, err := imageio.Read(filepath.Join(out, "04801.png"))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	same := func(a, b *tensor.Tensor) bool {
		for i := range a.Data {
			if a.Data[i] != b.Data[i] {
				return false
			}
		}
		return true
	}
	base, tuned := read("--model", "builtin:base"), read()
	zero, one, half := read("--reward-strength", "0"), read("--reward-strength", "1"), read("--reward-strength", "0.5")
	if !same(zero, base) {
		t.Error("--reward-strength 0 is not the base model's restoration")
	}
	if !same(one, tuned) {
		t.Error("--reward-strength 1 is not the default restoration")
	}
	if same(half, base) || same(half, tuned) {
		t.Error("--reward-strength 0.5 equals one of its ends")
	}
	_, _, err := runCLI("restore", in, "--aligned", "--out", t.TempDir(), "--model", tinyModel(t), "--reward-strength", "0.5")
	if err == nil || !strings.Contains(err.Error(), "--reward-base") {
		t.Errorf("a model directory without --reward-base: %v", err)
	}
}
