package faces

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"facereward/facenet"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/tensor"
)

// Test photos and their licences are listed in testdata/faces/README.md.
const photos = "../testdata/faces/"

func readPhoto(t testing.TB, name string) *tensor.Tensor {
	t.Helper()
	img, err := imageio.Read(filepath.Join(photos, name))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// inside reports whether p lies in the face box.
func inside(f Face, p Point) bool {
	return p[0] >= f.X && p[0] <= f.X+f.Size && p[1] >= f.Y && p[1] <= f.Y+f.Size
}

// detectors are the two Options.Detector values, each test running on both.
var detectors = []string{DetectorSSD, DetectorPigo}

// detect runs DefaultOptions with the given detector and returns the faces,
// or ErrNoFace as the package-level Detect does.
func detect(det string, img *tensor.Tensor) ([]Face, error) {
	o := DefaultOptions()
	o.Detector = det
	r, err := o.Detect(img)
	if err != nil {
		return nil, err
	}
	if len(r.Faces) == 0 {
		return nil, noFace(r)
	}
	return r.Faces, nil
}

func TestDetectOneFace(t *testing.T) {
	for _, c := range []struct {
		name string
		// A point every correct box must contain (roughly the nose).
		nose Point
	}{
		{"astronaut_256.png", Point{112, 62}},
		{"grace_hopper_512x512.jpg", Point{265, 215}},
		{"pigo_sample.jpg", Point{160, 235}},
	} {
		for _, det := range detectors {
			t.Run(det+"/"+c.name, func(t *testing.T) {
				faces, err := detect(det, readPhoto(t, c.name))
				if err != nil {
					t.Fatal(err)
				}
				if len(faces) != 1 {
					t.Fatalf("found %d faces, want 1: %+v", len(faces), faces)
				}
				f := faces[0]
				t.Logf("box x=%.0f y=%.0f side=%.0f score=%.2f eyes=%v %v", f.X, f.Y, f.Size, f.Score, f.EyesFound, f.Eyes)
				if !inside(f, c.nose) {
					t.Fatalf("box %+v misses the nose at %v", f, c.nose)
				}
				if !f.EyesFound {
					t.Fatal("pupils not found")
				}
				// The five-point estimate has the face's layout: eyes above
				// the nose above the mouth, left to right.
				p := f.Points
				if !(p[0][0] < p[1][0] && p[3][0] < p[4][0] && p[0][1] < p[2][1] && p[2][1] < p[3][1]) {
					t.Fatalf("five points out of order: %v", p)
				}
			})
		}
	}
}

func TestDetectDefaultIsSSD(t *testing.T) {
	img := readPhoto(t, "grace_hopper_512x512.jpg")
	faces, err := Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	// The SSD's box is a rectangle; pigo's is the square itself.
	if f := faces[0]; f.Score > 1 || f.Box[2] == f.Box[3] {
		t.Fatalf("default detection %+v does not look like the SSD's", f)
	}
}

func TestDetectManyFacesSorted(t *testing.T) {
	// Four women side by side; all four faces are about 90 px.
	for _, det := range detectors {
		t.Run(det, func(t *testing.T) {
			faces, err := detect(det, readPhoto(t, "faceapi_sample6_640.jpg"))
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) != 4 {
				t.Fatalf("found %d faces, want 4: %+v", len(faces), faces)
			}
			for i, f := range faces {
				t.Logf("face %d: x=%.0f y=%.0f side=%.0f score=%.2f", i, f.X, f.Y, f.Size, f.Score)
				if i > 0 && f.Score > faces[i-1].Score {
					t.Fatalf("faces not sorted by score: %v after %v", f.Score, faces[i-1].Score)
				}
				for _, g := range faces[:i] {
					if math.Abs(float64(f.X-g.X)) < 50 {
						t.Fatalf("two boxes on one face: %+v and %+v", f, g)
					}
				}
			}
		})
	}
}

// TestDetectLabelled checks, on two labelled photos of testdata/detect,
// the faces the issue reports pigo missing: two heads tilted by 25–45°
// (sample1, where pigo also takes a round badge for a face) and a profile
// (sample2). The SSD must find every labelled face (box IoU ≥ 0.5) and
// nothing else; pigo's misses are logged.
func TestDetectLabelled(t *testing.T) {
	for _, file := range []string{"faceapi_sample1.jpg", "faceapi_sample2.jpg"} {
		labelled := labelledBoxes(t, file)
		img, err := imageio.Read(filepath.Join("../testdata/detect", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, det := range detectors {
			faces, err := detect(det, img)
			if err != nil {
				t.Fatal(err)
			}
			used := make([]bool, len(faces))
			found := 0
			for _, l := range labelled {
				for i, f := range faces {
					b := [4]float64{float64(f.Box[0]), float64(f.Box[1]), float64(f.Box[2]), float64(f.Box[3])}
					if !used[i] && rectIoU(b, l) >= 0.5 {
						used[i] = true
						found++
						break
					}
				}
			}
			extra := len(faces) - found
			t.Logf("%s %s: %d of %d faces found, %d other detections", file, det, found, len(labelled), extra)
			if det == DetectorSSD && (found != len(labelled) || extra != 0) {
				t.Errorf("%s: SSD found %d of %d faces and %d other boxes: %+v", file, found, len(labelled), extra, faces)
			}
		}
	}
}

func rectIoU(a, b [4]float64) float64 {
	w := math.Min(a[0]+a[2], b[0]+b[2]) - math.Max(a[0], b[0])
	h := math.Min(a[1]+a[3], b[1]+b[3]) - math.Max(a[1], b[1])
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h / (a[2]*a[3] + b[2]*b[3] - w*h)
}

// TestSSDFaceCalibration checks the SSD box → square mapping: the SSD's
// mean box on FFHQ-aligned faces must give pigo's mean square there, and a
// box twice as large a square twice as large about the same point.
func TestSSDFaceCalibration(t *testing.T) {
	for _, k := range []float64{1, 2} {
		w, h := 320.0*k, ssdSide512*ssdSide512/320*k
		cx, cy := ssdCentreX512*k, ssdCentreY512*k
		f := ssdFace(facenet.Detection{Raw: [4]float64{cx - w/2, cy - h/2, w, h}, Score: 0.9})
		gx, gy := float64(f.X+f.Size/2), float64(f.Y+f.Size/2)
		if math.Abs(gx-boxCentreX512*k) > 1e-3*k || math.Abs(gy-boxCentreY512*k) > 1e-3*k || math.Abs(float64(f.Size)-boxSide512*k) > 1e-3*k {
			t.Errorf("×%g: square centre (%.3f, %.3f) side %.3f, want (%.1f, %.1f) %.1f",
				k, gx, gy, f.Size, boxCentreX512*k, boxCentreY512*k, boxSide512*k)
		}
		if f.Box != [4]float32{float32(cx - w/2), float32(cy - h/2), float32(w), float32(h)} || f.Score != 0.9 {
			t.Errorf("×%g: box %v score %v not kept", k, f.Box, f.Score)
		}
	}
}

func TestDetectNoFace(t *testing.T) {
	noise := tensor.New(256, 256, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Data {
		noise.Data[i] = rng.Float32()
	}
	flat := tensor.New(200, 300, 3)
	for i := range flat.Data {
		flat.Data[i] = 0.5
	}
	for name, img := range map[string]*tensor.Tensor{"noise": noise, "flat": flat, "10x10": tensor.New(10, 10, 3)} {
		for _, det := range detectors {
			faces, err := detect(det, img)
			if !errors.Is(err, ErrNoFace) {
				t.Fatalf("%s %s: got %d faces, err %v; want ErrNoFace", det, name, len(faces), err)
			}
		}
	}
}

func TestDetectTinyFaceSkipped(t *testing.T) {
	// The astronaut at half size: her face is about 25 px, below MinFace.
	img := imgproc.Resize(readPhoto(t, "astronaut_256.png"), 128, 128, imgproc.Area)
	for _, det := range detectors {
		o := DefaultOptions()
		o.Detector = det
		r, err := o.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Faces) != 0 {
			t.Fatalf("%s: tiny face returned: %+v", det, r.Faces)
		}
		if len(r.Skipped) == 0 || !strings.Contains(r.Skipped[0].Reason, "below minimum") {
			t.Fatalf("%s: want the tiny face skipped with a reason, got %+v", det, r.Skipped)
		}
		t.Logf("%s skipped: %s", det, r.Skipped[0].Reason)
		_, err = detect(det, img)
		if !errors.Is(err, ErrNoFace) || !strings.Contains(err.Error(), "below minimum") {
			t.Fatalf("%s: Detect error %v should say why the face was skipped", det, err)
		}
	}
}

func TestDetectWeakFaceSkipped(t *testing.T) {
	// Asking the SSD for more confidence than the astronaut's face gets
	// (0.96) reports it as skipped, with its score.
	o := DefaultOptions()
	o.MinConfidence = 0.99
	r, err := o.Detect(readPhoto(t, "astronaut_256.png"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Faces) != 0 || len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0].Reason, "not above 0.99") {
		t.Fatalf("want one face skipped for its score, got %+v", r)
	}
	t.Logf("skipped: %s", r.Skipped[0].Reason)
}

func TestDetectFaceAtBorder(t *testing.T) {
	// Cut the photos so the face runs off each edge in turn; detection
	// may or may not find it, but align and paste back must not fail.
	img := readPhoto(t, "grace_hopper_512x512.jpg")
	for _, det := range detectors {
		full, err := detect(det, img)
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []struct {
			x0, y0, x1, y1 int
			found          bool // whether the detector must still find it
		}{
			{180, 0, 512, 512, true}, // 30 px of the 221 px box cut off on the left
			{0, 120, 512, 512, true}, // 38 px cut off at the top
			{250, 0, 512, 512, false}, {0, 0, 260, 512, false}, {0, 180, 512, 512, false},
			{0, 0, 512, 200, false}, {200, 150, 320, 280, false},
		} {
			part := cropRect(img, cut.x0, cut.y0, cut.x1, cut.y1)
			o := DefaultOptions()
			o.Detector = det
			r, err := o.Detect(part)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s cut %v: %d faces, %d skipped", det, cut, len(r.Faces), len(r.Skipped))
			if cut.found {
				if len(r.Faces) != 1 {
					t.Fatalf("%s cut %v: found %d faces, want the one cut by the border", det, cut, len(r.Faces))
				}
				f := r.Faces[0]
				if f.X >= 0 && f.Y >= 0 {
					t.Fatalf("%s cut %v: box %+v should reach over the photo edge", det, cut, f)
				}
				if !inside(f, Point{265 - float32(cut.x0), 215 - float32(cut.y0)}) {
					t.Fatalf("%s cut %v: box %+v misses the nose", det, cut, f)
				}
			}
			// The points the whole photo gave, moved into the cut: the face
			// now hangs over its edge, and its crop is padded.
			var moved [5]Point
			for i, p := range full[0].Points {
				moved[i] = Point{p[0] - float32(cut.x0), p[1] - float32(cut.y0)}
			}
			points := [][5]Point{moved}
			for _, f := range r.Faces {
				points = append(points, f.Points)
			}
			for _, pts := range points {
				crop, m, err := Align(part, pts, 128)
				if err != nil {
					t.Fatal(err)
				}
				out, err := PasteBack(part, crop, m)
				if err != nil {
					t.Fatal(err)
				}
				if !tensorEqualShape(out, part) {
					t.Fatalf("%s cut %v: pasted shape %v", det, cut, out.Shape)
				}
			}
		}
	}
}

func cropRect(img *tensor.Tensor, x0, y0, x1, y1 int) *tensor.Tensor {
	w := img.Shape[1]
	out := tensor.New(y1-y0, x1-x0, 3)
	for y := y0; y < y1; y++ {
		copy(out.Data[(y-y0)*(x1-x0)*3:(y-y0+1)*(x1-x0)*3], img.Data[(y*w+x0)*3:(y*w+x1)*3])
	}
	return out
}

func TestDetectBadInput(t *testing.T) {
	for _, det := range detectors {
		if _, err := detect(det, tensor.New(8, 8)); err == nil {
			t.Fatalf("%s: [8,8] image: want an error", det)
		}
		if _, err := detect(det, nil); err == nil {
			t.Fatalf("%s: nil image: want an error", det)
		}
	}
	img := tensor.New(64, 64, 3)
	o := DefaultOptions()
	o.Detector = "haar"
	if _, err := o.Detect(img); err == nil || !strings.Contains(err.Error(), "unknown detector") {
		t.Fatalf("unknown detector: error %v", err)
	}
	o = DefaultOptions()
	o.MinConfidence = 0
	if _, err := o.Detect(img); err == nil || !strings.Contains(err.Error(), "MinConfidence") {
		t.Fatalf("MinConfidence 0: error %v", err)
	}
	o = DefaultOptions()
	o.Detector = ""
	if _, err := o.Detect(img); err != nil {
		t.Fatalf("empty Detector (the default): %v", err)
	}
}

// TestFFHQRealign runs detection → five points → Align(128) on FFHQ-aligned
// crops, which should come back nearly as they were: pigo with its pupils
// and no network, and the SSD with the landmark net's points (RefinePoints,
// as the photo pipeline does; its box alone places the template loosely:
// median shift 2.7 px, scale 7%, angle 2.6°).
func TestFFHQRealign(t *testing.T) {
	dir := "../../shared/data/ffhq128"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("FFHQ crops not available (%v); this check needs /work/shared/data/ffhq128", err)
	}
	lm, _, err := facenet.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		detector string
		refine   bool
		// Bounds sit above several runs' results (puploc is randomised).
		mean, shift, scale, angle float64
	}{
		// Measured: mean diff 0.053, median shift 1.0 px, scale 3.7%, angle 1.1°.
		{DetectorPigo, false, 0.06, 1.5, 0.05, 1.5},
		// Measured: mean diff 0.062, median shift 1.6 px, scale 4.1%, angle 0.6°.
		{DetectorSSD, true, 0.07, 2.0, 0.055, 1.0},
	} {
		t.Run(c.detector, func(t *testing.T) {
			o := DefaultOptions()
			o.Detector = c.detector
			realign(t, dir, o, lm, c.refine, c.mean, c.shift, c.scale, c.angle)
		})
	}
}

func realign(t *testing.T, dir string, o Options, lm *facenet.Landmarks68, refine bool, maxMean, maxShift, maxScale, maxAngle float64) {
	var n, missed int
	var sumDiff, worst float64
	var cx, cy, side, bx, by, bs float64
	var shifts, scales, angles, diffs []float64
	var oneShift float64
	for id := 4800; id < 5000; id++ {
		img, err := imageio.Read(filepath.Join(dir, fmt.Sprintf("%05d.png", id)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		r, err := o.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Faces) == 0 {
			missed++
			continue
		}
		f := r.Faces[0]
		cx += float64(f.X+f.Size/2) * 4
		cy += float64(f.Y+f.Size/2) * 4
		side += float64(f.Size) * 4
		bx += float64(f.Box[0]+f.Box[2]/2) * 4
		by += float64(f.Box[1]+f.Box[3]/2) * 4
		bs += math.Sqrt(float64(f.Box[2]*f.Box[3])) * 4
		if refine {
			if err := RefinePoints(img, &f, lm); err != nil {
				t.Fatal(err)
			}
		}
		crop, m, err := Align(img, f.Points, 128)
		if err != nil {
			t.Fatal(err)
		}
		// The matrix should be near the identity: how far it moves the
		// crop centre, how much it scales and turns.
		c := m.Apply(Point{64, 64})
		shift := math.Hypot(float64(c[0])-64, float64(c[1])-64)
		scale := math.Abs(m.Scale() - 1)
		angle := math.Abs(math.Atan2(m[1][0], m[0][0])) * 180 / math.Pi
		shifts = append(shifts, shift)
		scales = append(scales, scale)
		angles = append(angles, angle)
		d := centralMeanAbs(crop, img)
		diffs = append(diffs, d)
		oneShift += centralMeanAbs(shiftRight(img), img) / 1
		sumDiff += d
		worst = math.Max(worst, d)
		n++
	}
	if n == 0 {
		t.Fatal("no face found in any dev-val crop")
	}
	mean := sumDiff / float64(n)
	nf := float64(n)
	t.Logf("%d crops realigned, %d without a face; central mean abs diff %.4f (worst %.4f), 0–1 scale",
		n, missed, mean, worst)
	t.Logf("square box at 512: centre (%.1f, %.1f), side %.1f; detector's box: centre (%.1f, %.1f), √(w·h) %.1f",
		cx/nf, cy/nf, side/nf, bx/nf, by/nf, bs/nf)
	oneShift /= nf
	t.Logf("median/90th percentile: centre shift %.2f/%.2f px, |scale-1| %.3f/%.3f, angle %.2f/%.2f°, diff %.4f/%.4f",
		pct(shifts, 50), pct(shifts, 90), pct(scales, 50), pct(scales, 90), pct(angles, 50), pct(angles, 90), pct(diffs, 50), pct(diffs, 90))
	// For scale: the same crops shifted by one pixel differ by this much.
	t.Logf("one-pixel shift of the crops would give a central mean abs diff of %.4f", oneShift)
	if missed > n/10 {
		t.Fatalf("%d of %d crops without a face", missed, n+missed)
	}
	if mean > maxMean || pct(shifts, 50) > maxShift || pct(scales, 50) > maxScale || pct(angles, 50) > maxAngle {
		t.Fatalf("realigned crops differ: mean %.4f, median shift %.2f px, scale %.3f, angle %.2f°",
			mean, pct(shifts, 50), pct(scales, 50), pct(angles, 50))
	}
}

// centralMeanAbs compares the central 64×64 of two 128 crops, where the face
// is and no border fill can enter.
func centralMeanAbs(a, b *tensor.Tensor) float64 {
	var s float64
	for y := 32; y < 96; y++ {
		for x := 32; x < 96; x++ {
			for c := range 3 {
				i := (y*128+x)*3 + c
				s += math.Abs(float64(a.Data[i] - b.Data[i]))
			}
		}
	}
	return s / (64 * 64 * 3)
}

func pct(v []float64, p int) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// shiftRight moves a 128 crop one pixel right, repeating the first column.
func shiftRight(img *tensor.Tensor) *tensor.Tensor {
	out := tensor.New(128, 128, 3)
	for y := range 128 {
		for x := range 128 {
			sx := max(0, x-1)
			copy(out.Data[(y*128+x)*3:(y*128+x)*3+3], img.Data[(y*128+sx)*3:(y*128+sx)*3+3])
		}
	}
	return out
}
