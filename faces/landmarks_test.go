package faces

import (
	"math"
	"path/filepath"
	"testing"

	"facereward/facenet"
	"facereward/imageio"
)

// On a clear portrait the landmark net's five points agree with the rough
// pigo estimate to within a fraction of the face, and aligning with them
// puts the eyes where the FFHQ template has them.
func TestRefinePointsOnAPortrait(t *testing.T) {
	img, err := imageio.Read(filepath.Join("..", "testdata", "faces", "grace_hopper_512x512.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	found, err := Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	lm, _, err := facenet.Load()
	if err != nil {
		t.Fatal(err)
	}
	f := found[0]
	rough := f.Points
	if err := RefinePoints(img, &f, lm); err != nil {
		t.Fatal(err)
	}
	for i := range rough {
		d := math.Hypot(float64(f.Points[i][0]-rough[i][0]), float64(f.Points[i][1]-rough[i][1]))
		if d > 0.12*float64(f.Size) {
			t.Errorf("point %d moved %.1f px (box %v px): refined %v, rough %v", i, d, f.Size, f.Points[i], rough[i])
		}
	}
	again := found[0]
	if err := RefinePoints(img, &again, lm); err != nil {
		t.Fatal(err)
	}
	if again.Points != f.Points {
		t.Errorf("refined points differ between two runs: %v vs %v", again.Points, f.Points)
	}
	m, err := AlignMatrix(f.Points, 128)
	if err != nil {
		t.Fatal(err)
	}
	tpl := Template(128)
	for i := range 2 {
		p := m.Apply(f.Points[i])
		if d := math.Hypot(float64(p[0]-tpl[i][0]), float64(p[1]-tpl[i][1])); d > 4 {
			t.Errorf("eye %d lands %.1f px from the template at 128", i, d)
		}
	}
}
