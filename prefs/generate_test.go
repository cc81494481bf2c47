package prefs_test

import (
	"bytes"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/imageio"
	"facereward/prefs"
	"facereward/restorer/restorertest"
)

// copyFaces writes the committed real faces with these ids into dir.
func copyFaces(t *testing.T, dir string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		img, err := imageio.Read(filepath.Join("..", "testdata", "cvref", "degrade_jpeg_src_"+id+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := imageio.WritePNG(filepath.Join(dir, id+".png"), img); err != nil {
			t.Fatal(err)
		}
	}
}

// options are two faces of data, two stage-2 samples and the ground truth
// per face, with the tiny model, into out.
func options(data, model, out string) prefs.GenerateOptions {
	return prefs.GenerateOptions{Data: data, N: 2, Preset: "diffbir", Model: model, Samples: 2, GT: true, Seed: 1, Out: out}
}

// generate makes pairs from two faces with the tiny restorer and returns
// the output folder and the summary.
func generate(t *testing.T, data, model string) (string, string) {
	t.Helper()
	out := t.TempDir()
	var stdout bytes.Buffer
	if err := prefs.Generate(options(data, model, out), &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	return out, stdout.String()
}

// prefs generate stores K = stage1 + 2 stage-2 + lq + gt candidates per face
// and every pair of them, with provenance and the ground truth; a rerun
// skips the faces already there; the same seed gives the same images.
func TestGenerate(t *testing.T) {
	// An untrained tiny restorer: the pipeline, not the quality, is under test.
	model, data := restorertest.Dir(t, restorertest.Model(t, 1, 0)), t.TempDir()
	copyFaces(t, data, "04801", "04850")
	out, stdout := generate(t, data, model)
	if !strings.Contains(stdout, "20 pairs from 2 faces") {
		t.Errorf("summary %q", stdout)
	}
	db, err := prefs.Open(filepath.Join(out, "prefs.db"))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := db.Pairs()
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 20 {
		t.Fatalf("%d pairs, want 2 faces × C(5,2) = 20", len(ps))
	}
	methods := map[string]int{}
	store := prefs.Store{Dir: filepath.Join(out, "images")}
	for _, p := range ps {
		for _, c := range []prefs.Candidate{p.Left, p.Right} {
			methods[c.Provenance.Method]++
			if _, err := store.Path(c.Image); err != nil {
				t.Fatal(err)
			}
			if c.Provenance.Method == "stage2" && (c.Provenance.Steps == 0 || c.Provenance.Seed == 0) {
				t.Errorf("pair %s: stage-2 candidate without its sampler settings: %+v", p.ID, c.Provenance)
			}
			if c.Provenance.Method == "gt" && c.Image != p.GT {
				t.Errorf("pair %s: the gt candidate is not the pair's ground truth", p.ID)
			}
		}
		if p.GT == "" || !strings.HasPrefix(p.ID, "s1/"+p.Face+"/") {
			t.Errorf("pair %+v: want a ground truth and an id s1/<face>/…", p)
		}
	}
	// Each candidate is in 4 of a face's 10 pairs: stage2 has two per face.
	if want := map[string]int{"stage1": 8, "stage2": 16, "lq": 8, "gt": 8}; !maps.Equal(methods, want) {
		t.Errorf("candidates by method %v, want %v", methods, want)
	}
	left := 0
	for _, p := range ps {
		if p.Left.Provenance.Method == "gt" {
			left++
		}
	}
	if left == 0 || left == 8 {
		t.Errorf("the ground truth is on the left in %d of its 8 pairs: the order is not shuffled", left)
	}

	var rerun bytes.Buffer
	err = prefs.Generate(options(data, model, out), &rerun, io.Discard)
	if err != nil || !strings.Contains(rerun.String(), "0 pairs from 0 faces") || !strings.Contains(rerun.String(), "2 faces were already there") {
		t.Errorf("rerun: %q, %v", rerun.String(), err)
	}

	again, _ := generate(t, data, model)
	for _, dir := range []string{"images"} {
		a, b := listFiles(t, filepath.Join(out, dir)), listFiles(t, filepath.Join(again, dir))
		if strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("the same seed stored other images:\n%v\n%v", a, b)
		}
	}
}

// listFiles lists the files under dir by relative path.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
