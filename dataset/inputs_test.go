package dataset

import (
	"path/filepath"
	"testing"
)

// A file keeps its base name, a folder gives its images by their path
// below it, in the order the arguments came; a missing path is an error.
func TestInputs(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	face(t, filepath.Join(dir, "b", "04801.png"), 4801, 8, 8)
	face(t, filepath.Join(dir, "04800.png"), 4800, 8, 8)
	single := filepath.Join(other, "x", "01001.png")
	face(t, single, 1001, 8, 8)
	files, err := Inputs([]string{single, dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Path: single, Rel: "01001.png", ID: 1001},
		{Path: filepath.Join(dir, "04800.png"), Rel: "04800.png", ID: 4800},
		{Path: filepath.Join(dir, "b", "04801.png"), Rel: "b/04801.png", ID: 4801},
	}
	if len(files) != len(want) {
		t.Fatalf("files %+v", files)
	}
	for i := range want {
		if files[i] != want[i] {
			t.Errorf("file %d: %+v, want %+v", i, files[i], want[i])
		}
	}
	if _, err := Inputs([]string{filepath.Join(other, "missing.png")}); err == nil {
		t.Error("a missing file was accepted")
	}
}
