package restoreapi

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"facereward/photo"
)

// astronaut is the one-face photo of the end-to-end tests (256×256).
const astronaut = "../../testdata/faces/astronaut_256.png"

// photoEngine loads the real photo pipeline with the built-in weights
// once for the package's tests: it takes seconds.
var photoEngine = sync.OnceValues(func() (*PhotoEngine, error) {
	return NewPhotoEngine(photo.DefaultOptions(), DefaultConfig().MaxFaces)
})

// The whole way with the built-in weights: the astronaut photo in, JSON
// out with the photo upscaled ×2 and its one face restored or kept with a
// report whose scores are the gate's; a photo of no face, or of more
// faces than the limit, is a 422 from the real detector; the metrics
// count the face.
func TestRestoreEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("restores a photo with the real model (seconds)")
	}
	e, err := photoEngine()
	if err != nil {
		t.Fatal(err)
	}
	_, srv := serve(t, DefaultConfig(), e)
	in, err := os.ReadFile(astronaut)
	if err != nil {
		t.Fatal(err)
	}
	r := postForm(t, srv.URL+"/api/restore?format=json", in, "steps", "10")
	if r.Status != http.StatusOK {
		t.Fatalf("the astronaut: %s", r)
	}
	var resp Response
	if err := json.Unmarshal(r.Body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Width != 512 || resp.Height != 512 || len(resp.Faces) != 1 {
		t.Fatalf("the astronaut: %d×%d with %d faces, want 512×512 with 1", resp.Width, resp.Height, len(resp.Faces))
	}
	if w, h := dataURLSize(t, resp.Image); w != 512 || h != 512 {
		t.Errorf("the image is %d×%d", w, h)
	}
	f := resp.Faces[0]
	t.Logf("face: %+v", f.Face)
	// The gate scored it: a face descriptor cosine of a face with itself
	// restored is near 1, and a kept face says why.
	if f.Score < 0.5 || f.Identity < 0.5 || f.Identity > 1 || f.RewardBefore == 0 || f.RewardAfter == 0 || !f.Scored || f.Restored == (f.Reason != "") {
		t.Errorf("the face's report: %+v", f.Face)
	}
	for _, u := range []string{f.Crop, f.Restoration} {
		if w, h := dataURLSize(t, u); w != 128 || h != 128 {
			t.Errorf("a face image is %d×%d, want 128×128", w, h)
		}
	}
	outcome := map[bool]string{true: "restored", false: "kept"}[f.Restored]
	if line := metricLine(t, srv.URL, `facereward_faces_total{outcome="`+outcome+`"}`); !strings.HasSuffix(line, " 1") {
		t.Errorf("metrics: %q, want 1 face %s", line, outcome)
	}

	// The real detector counts the faces before any restore: one is too
	// many for an engine that takes none.
	_, strict := serve(t, DefaultConfig(), &PhotoEngine{r: e.r, maxFaces: 0})
	if r := post(t, strict.URL+"/api/restore", in); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Error(), "too many faces: 1 found") {
		t.Errorf("more faces than the limit: %s", r)
	}

	// A flat grey photo has no face: the detector says so, and so does the 422.
	r = post(t, srv.URL+"/api/restore", photoPNG(t, 96, 96))
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Error(), "no face found") {
		t.Errorf("a photo of no face: %s", r)
	}
}
