package photo

import (
	"bytes"
	"io"
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

// plan is planOutputs for inputs that no folder argument holds.
func plan(t *testing.T, in []dataset.File, o Options) []target {
	t.Helper()
	ts, _, err := planOutputs(nil, in, o)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

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
// its own name: restored alone, after another, or one at a time rather
// than in one batch, a crop gives the same bytes. An unreadable input is
// reported and skipped, and the rest of its batch restored.
func TestRestoreAllAligned(t *testing.T) {
	r, in := tinyRestorer(t), t.TempDir()
	a, b := writeCrop(t, in, "a.png", 20, 24), writeCrop(t, in, "b.png", 16, 16)
	broken := dataset.File{Path: filepath.Join(in, "broken.png"), Rel: "sub/broken.png"}
	if err := os.WriteFile(broken.Path, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	both, alone := t.TempDir(), t.TempDir()
	var log bytes.Buffer
	o := DefaultOptions()
	o.Aligned, o.Seed, o.Out, o.Stage1 = true, 7, both, filepath.Join(both, "stage1")
	all := []dataset.File{a, broken, b}
	rep := r.RestoreAll(all, plan(t, all, o), o, io.Discard, &log)
	if rep.Failed != 1 || len(rep.Inputs) != 3 {
		t.Fatalf("%d of %d failed", rep.Failed, len(rep.Inputs))
	}
	if !strings.Contains(log.String(), "restore: "+broken.Path) || rep.Inputs[1].Error == "" {
		t.Errorf("log %q, report %+v", log.String(), rep.Inputs[1])
	}
	o.Out, o.Stage1 = alone, ""
	if rep := r.RestoreAll([]dataset.File{b}, plan(t, []dataset.File{b}, o), o, io.Discard, io.Discard); rep.Failed != 0 {
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
	single := t.TempDir()
	o.Out, o.Batch = single, 1
	if rep := r.RestoreAll(all, plan(t, all, o), o, io.Discard, io.Discard); rep.Failed != 1 {
		t.Fatalf("one at a time: %d failed, want 1", rep.Failed)
	}
	for _, name := range []string{"a.png", "b.png"} {
		x, err := os.ReadFile(filepath.Join(both, name))
		if err != nil {
			t.Fatal(err)
		}
		if y, err := os.ReadFile(filepath.Join(single, name)); err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s restored in a batch of 3 differs from it restored one at a time (%v)", name, err)
		}
	}
	for _, p := range []string{filepath.Join(both, "a.png"), filepath.Join(both, "stage1", "a.png")} {
		img, err := imageio.Read(p)
		if err != nil || !tensor.SameShape(img.Shape, []int{20, 24, 3}) {
			t.Errorf("%s: %v, want a 20×24 image", p, err)
		}
	}
}
