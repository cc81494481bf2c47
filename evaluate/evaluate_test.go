package evaluate

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"facereward/imageio"
	"facereward/tensor"
)

func face(t *testing.T, id string) *tensor.Tensor {
	t.Helper()
	img, err := imageio.Read(filepath.Join("..", "testdata", "cvref", "degrade_jpeg_src_"+id+".png"))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// A lightly noised face keeps its identity and landmarks: every metric is
// computed, finite and in the range such a pair must give.
func TestPairOnARealFace(t *testing.T) {
	s, err := NewScorer()
	if err != nil {
		t.Fatal(err)
	}
	gt := face(t, "04801")
	pred := gt.Clone()
	for i := range pred.Data {
		pred.Data[i] = float32(math.Min(1, math.Max(0, float64(pred.Data[i])+0.02*math.Sin(float64(i)))))
	}
	r, err := s.Pair(pred, gt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %v", r.Problems)
	}
	checks := []struct {
		key    string
		lo, hi float64
	}{{PSNR, 30, 45}, {SSIM, 0.8, 1}, {PSNRY, 30, 50}, {IDS, 0.97, 1}, {Deg, 0, 15}, {LMD, 0, 1.5}, {LMDNorm, 0, 0.05}, {BRISQUE, 0, 100}, {NIQE, 0, 30}}
	for _, c := range checks {
		if v := r.Values[c.key]; !(v >= c.lo && v <= c.hi) {
			t.Errorf("%s = %v, want in [%v, %v]", c.key, v, c.lo, c.hi)
		}
	}
	// Another person is further away in identity.
	other, err := s.Pair(face(t, "04850"), gt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !(other.Values[Deg] > r.Values[Deg]+5) {
		t.Errorf("different person Deg %.2f vs same person %.2f", other.Values[Deg], r.Values[Deg])
	}
}

func TestNoGroundTruthMode(t *testing.T) {
	s, err := NewScorer()
	if err != nil {
		t.Fatal(err)
	}
	lq := face(t, "04999")
	r, err := s.Pair(lq, nil, lq)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(r.Values[PSNR]) || !math.IsNaN(r.Values[LMD]) {
		t.Errorf("full-reference metrics computed without ground truth: %v", r.Values)
	}
	if math.Abs(r.Values[IDS]-1) > 1e-5 || math.IsNaN(r.Values[BRISQUE]) {
		t.Errorf("identity against itself %v, BRISQUE %v", r.Values[IDS], r.Values[BRISQUE])
	}
}

func TestSizeMismatchIsAnError(t *testing.T) {
	s, err := NewScorer()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Pair(tensor.New(64, 64, 3), face(t, "04801"), nil)
	if err == nil || !strings.Contains(err.Error(), "[64 64 3]") {
		t.Fatalf("error %v", err)
	}
}

// A blank image has no face: LMD is refused with a reason, not computed.
func TestUnplacedFaceIsReported(t *testing.T) {
	s, err := NewScorer()
	if err != nil {
		t.Fatal(err)
	}
	blank := tensor.New(128, 128, 3)
	for i := range blank.Data {
		blank.Data[i] = 0.5
	}
	r, err := s.Pair(blank, face(t, "04801"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(r.Values[LMD]) || len(r.Problems) == 0 || !strings.Contains(strings.Join(r.Problems, ";"), "LMD") {
		t.Fatalf("LMD %v, problems %v", r.Values[LMD], r.Problems)
	}
}

// BenchmarkPair times the whole metric set on one 128×128 face (one
// goroutine; `facereward eval` runs one Scorer per core).
func BenchmarkPair(b *testing.B) {
	s, err := NewScorer()
	if err != nil {
		b.Fatal(err)
	}
	img, err := imageio.Read(filepath.Join("..", "testdata", "cvref", "degrade_jpeg_src_04801.png"))
	if err != nil {
		b.Fatal(err)
	}
	pred := img.Clone()
	for i := range pred.Data {
		pred.Data[i] *= 0.9
	}
	for b.Loop() {
		if _, err := s.Pair(pred, img, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "faces/s")
}
