package photo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/dataset"
)

func TestPlanOutputs(t *testing.T) {
	in := t.TempDir()
	files := []dataset.File{writeCrop(t, in, "face.jpg", 4, 4), writeCrop(t, in, "face.png", 4, 4), writeCrop(t, in, "other.png", 4, 4)}
	o := DefaultOptions()
	o.Out = t.TempDir()
	ts, notes, err := planOutputs([]string{in}, files, o)
	if err != nil {
		t.Fatal(err)
	}
	// face.jpg and face.png would both write face.*: each is renamed.
	if got := []string{o.imagePath(ts[0]), o.imagePath(ts[1]), o.imagePath(ts[2])}; got[0] != filepath.Join(o.Out, DirImages, "face_jpg.jpg") ||
		got[1] != filepath.Join(o.Out, DirImages, "face_png.png") || got[2] != filepath.Join(o.Out, DirImages, "other.png") {
		t.Errorf("outputs %v", got)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "face.jpg") || !strings.Contains(notes[0], "face.png") {
		t.Errorf("notes %q", notes)
	}
	o.Ext, o.Suffix = "png", "v2"
	ts, _, _ = planOutputs([]string{in}, files[2:], o)
	if got := o.imagePath(ts[0]); got != filepath.Join(o.Out, DirImages, "other_v2.png") {
		t.Errorf("--ext png --suffix v2: %s", got)
	}
	if r, c, _ := o.facePaths(ts[0], 3); r != filepath.Join(o.Out, DirFaces, "other_03_v2.png") || c != filepath.Join(o.Out, DirCropped, "other_03.png") {
		t.Errorf("face paths %s %s", r, c)
	}

	for _, c := range []struct {
		name, out, want string
		aligned         bool
	}{
		{"out is the input folder", in, "inside the input folder", false},
		{"out inside the input folder", filepath.Join(in, "results"), "inside the input folder", false},
		{"out is a file", files[0].Path, "is a file", false},
	} {
		o := DefaultOptions()
		o.Out, o.Aligned = c.out, c.aligned
		if _, _, err := planOutputs([]string{in}, files, o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
	// A file input in the output folder that its output would replace.
	o = DefaultOptions()
	o.Out, o.Aligned, o.Ext = in, true, "auto"
	if _, _, err := planOutputs([]string{files[2].Path}, files[2:], o); err == nil || !strings.Contains(err.Error(), "would replace the input") {
		t.Errorf("output replacing its input: %v", err)
	}
	if _, err := os.Stat(files[2].Path); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) { o.Sampler.Guidance = 3 }, "guidance"},
		{func(o *Options) { o.Sampler.Steps = 0 }, "steps"},
		{func(o *Options) { o.Upscale = 0 }, "--upscale"},
		{func(o *Options) { o.Detector = "haar" }, "--detector"},
		{func(o *Options) { o.MinScore = 1 }, "--min-score"},
		{func(o *Options) { o.Ext = "gif" }, "--ext"},
		{func(o *Options) { o.MinIdentity = 2 }, "--min-identity"},
		{func(o *Options) { o.Suffix = "a/b" }, "--suffix"},
		{func(o *Options) { o.Stage1 = "x" }, "--save-stage1"},
	} {
		o := DefaultOptions()
		o.Out = "x"
		c.edit(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want an error about %s", err, c.want)
		}
	}
}
