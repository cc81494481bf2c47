package photo

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/dataset"
	"facereward/imageio"
	"facereward/restorer"
	"facereward/restorer/restorertest"
	"facereward/tensor"
)

// tinyRestorer is an untrained 16×16 restorer: the pipeline, not the
// quality, is under test here.
func tinyRestorer(t *testing.T) *Restorer {
	t.Helper()
	s, err := restorer.NewSampler(restorertest.Model(t, 1, 0), restorer.SampleOptions{Steps: 2, Strength: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &Restorer{Sampler: s}
}

// writeCrop writes a smooth h×w test image to dir/name.
func writeCrop(t *testing.T, dir, name string, h, w int) dataset.File {
	t.Helper()
	img := tensor.New(h, w, 3)
	for i := range img.Data {
		img.Data[i] = float32(i%97) / 96
	}
	path := filepath.Join(dir, name)
	if err := imageio.WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
	return dataset.File{Path: path, Rel: name}
}

// Crops are restored at their own size, each with noise from the seed and
// its own name: restored alone or after another, a crop gives the same
// bytes. An unreadable input is reported and skipped.
func TestRestoreAllAligned(t *testing.T) {
	r, in := tinyRestorer(t), t.TempDir()
	a, b := writeCrop(t, in, "a.png", 20, 24), writeCrop(t, in, "b.png", 16, 16)
	broken := dataset.File{Path: filepath.Join(in, "broken.png"), Rel: "sub/broken.png"}
	if err := os.WriteFile(broken.Path, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	both, alone := t.TempDir(), t.TempDir()
	var log bytes.Buffer
	o := Options{Aligned: true, Seed: 7, Out: both, Stage1: filepath.Join(both, "stage1")}
	if done, skipped := r.RestoreAll([]dataset.File{a, broken, b}, o, &log); done != 2 || skipped != 1 {
		t.Fatalf("%d restored, %d skipped", done, skipped)
	}
	if !strings.Contains(log.String(), "restore: skipping "+broken.Path) {
		t.Errorf("log %q", log.String())
	}
	o.Out, o.Stage1 = alone, ""
	if done, _ := r.RestoreAll([]dataset.File{b}, o, &bytes.Buffer{}); done != 1 {
		t.Fatal("b not restored alone")
	}
	x, err := os.ReadFile(filepath.Join(both, "b.png"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(filepath.Join(alone, "b.png"))
	if err != nil || !bytes.Equal(x, y) {
		t.Errorf("b restored after a differs from b restored alone (%v)", err)
	}
	for _, p := range []string{filepath.Join(both, "a.png"), filepath.Join(both, "stage1", "a.png")} {
		img, err := imageio.Read(p)
		if err != nil || !tensor.SameShape(img.Shape, []int{20, 24, 3}) {
			t.Errorf("%s: %v, want a 20×24 image", p, err)
		}
	}
}
