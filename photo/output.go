package photo

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"facereward/dataset"
)

// The folders of a whole-photo run, as GFPGAN's and CodeFormer's inference
// scripts lay them out.
const (
	DirImages   = "restored_imgs"  // the restored photos
	DirFaces    = "restored_faces" // each face restored, at the model's size
	DirCropped  = "cropped_faces"  // each face's aligned crop, as the model saw it
	DirCompared = "cmp"            // cropped | restored, side by side
)

// Extensions --ext accepts: "auto" keeps the input's format where we can
// write it (PNG, JPEG; WebP becomes PNG).
var Extensions = []string{"auto", "png", "jpg"}

// target is where one input's results go: Stem is its output name without
// extension, relative to the run's folder for it (slash-separated), Ext the
// image format's extension.
type target struct {
	Stem, Ext string
}

// planOutputs names every input's output before any work, refusing what
// would lose a file: an output folder that is a file, that is an input
// folder or lies inside one (a rerun would read the results back as
// inputs), or an output that would replace an input. Inputs whose outputs
// would share a name (face.jpg and face.png) get the input's extension in
// their stem (face_jpg, face_png); notes says so.
func planOutputs(paths []string, inputs []dataset.File, o Options) (ts []target, notes []string, err error) {
	if st, err := os.Stat(o.Out); err == nil && !st.IsDir() {
		return nil, nil, fmt.Errorf("restore: --out %s is a file, not a folder", o.Out)
	}
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return nil, nil, fmt.Errorf("restore: --out %s: %w", o.Out, err)
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			continue
		}
		in, err := filepath.Abs(p)
		if err != nil {
			return nil, nil, fmt.Errorf("restore: %s: %w", p, err)
		}
		if within(out, in) {
			return nil, nil, fmt.Errorf("restore: --out %s is inside the input folder %s: its results would be read back as inputs next time, or replace them (choose a folder outside it)", o.Out, p)
		}
	}
	ts = make([]target, len(inputs))
	byStem := map[string][]int{}
	for i, in := range inputs {
		ext := path.Ext(in.Rel)
		ts[i] = target{Stem: strings.TrimSuffix(in.Rel, ext), Ext: outExt(o.Ext, ext)}
		byStem[ts[i].Stem] = append(byStem[ts[i].Stem], i)
	}
	for stem, is := range byStem {
		if len(is) < 2 {
			continue
		}
		var names []string
		for _, i := range is {
			ts[i].Stem = stem + "_" + strings.ToLower(strings.TrimPrefix(path.Ext(inputs[i].Rel), "."))
			names = append(names, inputs[i].Path)
		}
		notes = append(notes, fmt.Sprintf("%s would share the output name %s; their outputs are named after their extensions (%s_…)", strings.Join(names, " and "), stem, stem))
	}
	inputSet := map[string]bool{}
	for _, in := range inputs {
		if a, err := filepath.Abs(in.Path); err == nil {
			inputSet[a] = true
		}
	}
	for i := range ts {
		for _, p := range o.outputPaths(ts[i]) {
			if a, err := filepath.Abs(p); err == nil && inputSet[a] {
				return nil, nil, fmt.Errorf("restore: the output %s would replace the input %s (choose another --out or --suffix)", p, inputs[i].Path)
			}
		}
	}
	return ts, notes, nil
}

// within reports whether the absolute path p is dir or inside it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// outExt is the output extension of an input with extension in under
// --ext ext.
func outExt(ext, in string) string {
	if ext != "auto" && ext != "" {
		return ext
	}
	switch strings.ToLower(in) {
	case ".jpg", ".jpeg":
		return "jpg"
	}
	return "png"
}

// imagePath is where the restored image of t goes: flat under Out for
// aligned crops (so that eval pairs them with their inputs by name),
// under restored_imgs/ for photos.
func (o Options) imagePath(t target) string {
	name := filepath.FromSlash(t.Stem+o.suffix()) + "." + t.Ext
	if o.Aligned {
		return filepath.Join(o.Out, name)
	}
	return filepath.Join(o.Out, DirImages, name)
}

// facePaths are where face i of a photo t goes: its restoration, its
// aligned crop and the two side by side (PNG, as the peers write them).
func (o Options) facePaths(t target, i int) (restored, cropped, compared string) {
	stem := filepath.FromSlash(fmt.Sprintf("%s_%02d", t.Stem, i))
	return filepath.Join(o.Out, DirFaces, stem+o.suffix()+".png"),
		filepath.Join(o.Out, DirCropped, stem+".png"),
		filepath.Join(o.Out, DirCompared, stem+".png")
}

// outputPaths lists the files t may write that could collide with inputs
// (faces are numbered and cannot be told in advance; their folders are
// the run's own).
func (o Options) outputPaths(t target) []string { return []string{o.imagePath(t)} }

func (o Options) suffix() string {
	if o.Suffix == "" {
		return ""
	}
	return "_" + o.Suffix
}
