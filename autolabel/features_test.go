package autolabel

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"facereward/evaluate"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/prefs"
	"facereward/tensor"
)

// A metric missing on either side gives a zero difference and is named;
// the others are left minus right.
func TestDiffNeutralisesMissingMetrics(t *testing.T) {
	nan := math.NaN()
	x, missing := diff(Vector{30, 0.75, 0.5, nan, 20}, Vector{28, 0.5, 0.75, 1.5, 25})
	want := Vector{2, 0.25, -0.25, 0, -5}
	if x != want || !slices.Equal(missing, []string{"LMD"}) {
		t.Errorf("diff = %v, missing %v; want %v, [LMD]", x, missing, want)
	}
}

// put stores img and returns its ref.
func put(t *testing.T, s prefs.Store, img *tensor.Tensor) prefs.Ref {
	t.Helper()
	var b bytes.Buffer
	if err := imageio.EncodePNG(&b, img); err != nil {
		t.Fatal(err)
	}
	r, err := s.Put(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// blur is img 3×3 box-blurred.
func blur(img *tensor.Tensor) *tensor.Tensor {
	return imgproc.Filter2D(img, slices.Repeat([]float32{1.0 / 9}, 9), 3, 3)
}

// On a real face: the ground truth against a blurred copy differs the way
// blur does (better PSNR, SSIM, IDS, LMD for the ground truth, whose
// full-reference scores are the perfect ones); swapping the candidates
// negates the vector and reuses the cached metrics; a missing image is an
// error that names it.
func TestFeaturesOnARealFace(t *testing.T) {
	gt, err := imageio.Read("../examples/gt/collins.png")
	if err != nil {
		t.Fatal(err)
	}
	s, err := evaluate.NewScorer()
	if err != nil {
		t.Fatal(err)
	}
	store := prefs.Store{Dir: t.TempDir()}
	g, b := put(t, store, gt), put(t, store, blur(gt))
	p := prefs.Pair{ID: "p", Face: "collins", LQ: b, GT: g,
		Left:  prefs.Candidate{Image: g, Provenance: prefs.Provenance{Method: "gt"}},
		Right: prefs.Candidate{Image: b, Provenance: prefs.Provenance{Method: "lq"}}}
	f := NewFeatures(s, store)
	x, missing, err := f.Pair(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("missing %v", missing)
	}
	if !(x[PSNR] > 15 && x[PSNR] < PSNRCap-20 && x[SSIM] > 0.01 && x[IDS] > 0 && x[LMD] < 0) {
		t.Errorf("ground truth minus blurred: %v", x)
	}
	if gtm := f.cache[[2]prefs.Ref{g, g}]; gtm[PSNR] != PSNRCap || gtm[SSIM] != 1 || gtm[IDS] != 1 || gtm[LMD] != 0 {
		t.Errorf("ground truth's metrics %v", gtm)
	}
	q := p
	q.ID, q.Left, q.Right = "q", p.Right, p.Left
	y, _, err := f.Pair(q)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if y[i] != -x[i] {
			t.Fatalf("swapped pair %v, want −%v", y, x)
		}
	}
	if len(f.cache) != 2 {
		t.Errorf("%d cached candidates, want 2", len(f.cache))
	}

	ghost := p
	ghost.Right.Image = ref(99)
	if _, _, err := f.Pair(ghost); err == nil || !strings.Contains(err.Error(), string(ref(99))) {
		t.Errorf("missing image: %v", err)
	}
	ghost.GT = ""
	if _, _, err := f.Pair(ghost); !errors.Is(err, ErrNoGT) {
		t.Errorf("no ground truth: %v", err)
	}
}
