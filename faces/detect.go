package faces

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	pigo "github.com/esimov/pigo/core"

	"facereward/facenet"
	"facereward/tensor"
)

//go:embed pigo/facefinder
var facefinderCascade []byte

//go:embed pigo/puploc
var puplocCascade []byte

// ErrNoFace is returned (wrapped) when a photo holds no usable face; the
// caller decides whether that is a failure or just something to report.
var ErrNoFace = errors.New("no face found")

// Point is an (x, y) position in pixels.
type Point = [2]float32

// Face is one detection in photo coordinates.
type Face struct {
	// X, Y is the top-left corner and Size the side of a square box in
	// pigo's convention, which spans roughly brows to chin: pigo's own box,
	// or for the SSD the square that puts the FFHQ template where pigo's
	// box would (ssdFace). For a face cut by the photo edge the box
	// reaches past it (X or Y negative, or beyond the far side).
	X, Y, Size float32
	// Box is the detector's own box, x, y, w, h: pigo's square (the same as
	// X, Y, Size), or the SSD's rectangle (hairline to chin, not clipped to
	// the photo).
	Box [4]float32
	// Score is pigo's summed cascade output (below ~20 detections are often
	// false), or the SSD's face probability in (0, 1).
	Score float32
	// Eyes holds the pupils found by puploc, image-left first; EyesFound says
	// whether both were located inside the box.
	Eyes      [2]Point
	EyesFound bool
	// Points is a first five-point estimate in facexlib's order (image-left
	// eye, image-right eye, nose tip, image-left and image-right mouth corner):
	// the FFHQ template fitted to the box, with puploc's pupils as the eyes
	// when found. The 68-point landmark net gives better points
	// (FivePoints); this one needs no network.
	Points [5]Point
}

// Skipped is a detection that was left out, with the reason why. Only its
// box and score are set: no pupils or points are computed for it.
type Skipped struct {
	Face
	Reason string
}

// The detectors Options.Detector names.
const (
	// DetectorSSD is face-api's SSD MobileNet v1 (facenet.SSD): on the
	// labelled photos of testdata/detect it finds more faces than pigo,
	// turned and tilted ones too, with fewer false ones (tools/detecteval).
	DetectorSSD = "ssd"
	// DetectorPigo is pigo's cascade: no network, faster on small photos
	// and slower on large ones (its scan grows with the photo; the SSD
	// sees 512×512, plus tiles in a large photo when Options.Tile is
	// set), but frontal and upright faces only.
	DetectorPigo = "pigo"
)

// Options tunes Detect. The zero value is not useful; start from
// DefaultOptions.
type Options struct {
	// Detector is DetectorSSD or DetectorPigo; empty means DetectorSSD.
	Detector string
	// MinFace is the smallest face side (pixels, Face.Size) returned;
	// smaller detections go to Skipped, since a restorer cannot do much
	// with them.
	MinFace int
	// MinConfidence is the SSD's score threshold (face-api's default 0.5).
	// SSD boxes scoring above half of it but not above it go to Skipped, so
	// that a photo without a face can say how near one came.
	MinConfidence float32
	// Pupils runs puploc inside each face box.
	Pupils bool
	// Tile makes the SSD also read overlapping tiles of a photo whose
	// long side exceeds the tile side, max(512, MinFace·512/24) px (more
	// in photos over about 6 tile sides; tile.go). Above that, the pass
	// over the whole photo, which the SSD sees at 512 px, would shrink a
	// face of MinFace below 24 px, where the SSD begins to miss faces.
	// Each tile costs about one more pass (16 more for a 2560-px photo
	// at MinFace 40). Smaller photos are read once either way; false
	// reads every photo once. pigo ignores it.
	Tile bool

	// The rest tune pigo only.

	// ScanMin is the smallest window scanned, as a fraction of the shorter
	// image side, but never below 20 px (pigo's cascade is trained at ~24).
	// It is smaller than MinFace so that tiny faces are seen and reported.
	ScanMin float64
	// Shift is the window step as a fraction of its size; Scale the growth
	// factor between window sizes (pigo's README uses 0.1 and 1.1).
	Shift, Scale float64
	// IoU is the overlap above which raw windows merge into one detection.
	IoU float64
	// MinScore drops weak detections (pigo warns that < ~20 is often false).
	MinScore float32
	// Pad extends the photo by this fraction of its shorter side on every
	// edge (repeating the edge pixels) so that a face cut by the border can
	// still fill a detection window; pigo only tries windows wholly inside
	// the image. At 0.1 a face with 15% of its box off the photo is still
	// found; the scan costs about 1.4× more.
	Pad float64
}

// DefaultOptions returns the settings the tests were measured with.
// MinFace is 40 px, the size under which testdata/detect calls a face
// small: at 48 px, the limit before the SSD, a face of 50 px (the
// astronaut at 256×256) flipped between detectors, whose sizes for one
// face differ by about 10%.
func DefaultOptions() Options {
	return Options{
		Detector: DetectorSSD, MinFace: 40, MinConfidence: 0.5, Pupils: true, Tile: true,
		ScanMin: 0.04, Shift: 0.05, Scale: 1.1, IoU: 0.2, MinScore: 20, Pad: 0.1,
	}
}

// Result lists the faces found, largest-score first, and those skipped.
type Result struct {
	Faces   []Face
	Skipped []Skipped
}

var (
	cascadeOnce sync.Once
	finder      *pigo.Pigo
	puploc      *pigo.PuplocCascade
	cascadeErr  error
)

// cascades unpacks the embedded cascades once; they are read-only afterwards,
// so concurrent Detect calls can share them.
func cascades() (*pigo.Pigo, *pigo.PuplocCascade, error) {
	cascadeOnce.Do(func() {
		finder, cascadeErr = pigo.NewPigo().Unpack(facefinderCascade)
		if cascadeErr != nil {
			cascadeErr = fmt.Errorf("faces: unpack facefinder cascade: %w", cascadeErr)
			return
		}
		puploc, cascadeErr = pigo.NewPuplocCascade().UnpackCascade(puplocCascade)
		if cascadeErr != nil {
			cascadeErr = fmt.Errorf("faces: unpack puploc cascade: %w", cascadeErr)
		}
	})
	return finder, puploc, cascadeErr
}

// Detect finds the faces of img [H,W,3] with DefaultOptions. It returns
// ErrNoFace (wrapped, with the count of skipped detections) when none is usable.
func Detect(img *tensor.Tensor) ([]Face, error) {
	r, err := DefaultOptions().Detect(img)
	if err != nil {
		return nil, err
	}
	if len(r.Faces) == 0 {
		return nil, noFace(r)
	}
	return r.Faces, nil
}

// scan runs the cascade one window size per task, in parallel: pigo's
// RunCascade is serial, and each size is independent. The sizes follow
// RunCascade's own progression, so the windows are exactly the ones a single
// call from minSize to maxSize would visit.
func scan(ff *pigo.Pigo, params pigo.ImageParams, minSize, maxSize int, shift, scale float64) []pigo.Detection {
	var sizes []int
	for s := minSize; s <= maxSize; s = int(float64(s) + math.Max(2, float64(s)*scale-float64(s))) {
		sizes = append(sizes, s)
	}
	found := make([][]pigo.Detection, len(sizes))
	tensor.ParallelTasks(len(sizes), func(i int) {
		found[i] = ff.RunCascade(pigo.CascadeParams{
			MinSize:     sizes[i],
			MaxSize:     sizes[i],
			ShiftFactor: shift,
			ScaleFactor: scale,
			ImageParams: params,
		}, 0)
	})
	var all []pigo.Detection
	for _, f := range found {
		all = append(all, f...)
	}
	return all
}

// suppress keeps the best of overlapping clusters. pigo's clustering is
// greedy and can emit the same face twice, or a smaller box nested in a
// larger one; a box whose centre lies inside a better box, or that overlaps
// it by more than iou, is the same face.
func suppress(dets []pigo.Detection, iou float64) []pigo.Detection {
	sort.SliceStable(dets, func(i, j int) bool { return dets[i].Q > dets[j].Q })
	var kept []pigo.Detection
	for _, d := range dets {
		dup := false
		for _, k := range kept {
			half := k.Scale / 2
			inside := abs(d.Row-k.Row) <= half && abs(d.Col-k.Col) <= half
			if inside || boxIoU(d, k) > iou {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, d)
		}
	}
	return kept
}

func boxIoU(a, b pigo.Detection) float64 {
	overlap := func(c1, s1, c2, s2 int) float64 {
		lo := max(float64(c1)-float64(s1)/2, float64(c2)-float64(s2)/2)
		hi := min(float64(c1)+float64(s1)/2, float64(c2)+float64(s2)/2)
		return max(0, hi-lo)
	}
	inter := overlap(a.Row, a.Scale, b.Row, b.Scale) * overlap(a.Col, a.Scale, b.Col, b.Scale)
	union := float64(a.Scale*a.Scale+b.Scale*b.Scale) - inter
	return inter / union
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func noFace(r Result) error {
	if len(r.Skipped) == 0 {
		return fmt.Errorf("faces: %w", ErrNoFace)
	}
	return fmt.Errorf("faces: %w (%d skipped, first: %s)", ErrNoFace, len(r.Skipped), r.Skipped[0].Reason)
}

// Detect finds the faces of img [H,W,3] in [0,1] with o.Detector. An
// empty Result is not an error; only a malformed image or options, or
// damaged embedded cascades or weights are.
func (o Options) Detect(img *tensor.Tensor) (Result, error) {
	h, w, err := rgbDims(img)
	if err != nil {
		return Result{}, err
	}
	switch o.Detector {
	case DetectorSSD, "":
		return o.detectSSD(img, h, w)
	case DetectorPigo:
		return o.detectPigo(img, h, w)
	}
	return Result{}, fmt.Errorf("faces: unknown detector %q (want %q or %q)", o.Detector, DetectorSSD, DetectorPigo)
}

// detectPigo runs the cascade over the photo.
func (o Options) detectPigo(img *tensor.Tensor, h, w int) (Result, error) {
	ff, pl, err := cascades()
	if err != nil {
		return Result{}, err
	}
	short := min(h, w)
	scanMin := max(20, int(o.ScanMin*float64(short)))
	if scanMin > short {
		// Too small to hold even the cascade's smallest window.
		return Result{}, nil
	}
	gray := grayscale(img)
	pad := int(o.Pad * float64(short))
	pg, ph, pw := padGray(gray, h, w, pad)
	params := pigo.ImageParams{Pixels: pg, Rows: ph, Cols: pw, Dim: pw}
	dets := scan(ff, params, scanMin, short, o.Shift, o.Scale)
	dets = suppress(ff.ClusterDetections(dets, o.IoU), o.IoU)

	var r Result
	for _, d := range dets {
		// d is in padded coordinates, Face in the photo's.
		f := Face{
			X:     float32(d.Col-pad) - float32(d.Scale)/2,
			Y:     float32(d.Row-pad) - float32(d.Scale)/2,
			Size:  float32(d.Scale),
			Score: d.Q,
		}
		f.Box = [4]float32{f.X, f.Y, f.Size, f.Size}
		switch {
		case d.Q < o.MinScore:
			// Weak windows are mostly texture; dropping them silently would
			// hide why a face was missed, so they are reported too.
			r.Skipped = append(r.Skipped, Skipped{f, fmt.Sprintf("score %.1f below %.1f", d.Q, o.MinScore)})
			continue
		case d.Scale < o.MinFace:
			r.Skipped = append(r.Skipped, Skipped{f, fmt.Sprintf("face %d px below minimum %d px", d.Scale, o.MinFace)})
			continue
		}
		if o.Pupils {
			f.Eyes, f.EyesFound = findPupils(pl, params, d, pad, h, w)
		}
		f.Points = estimatePoints(f)
		r.Faces = append(r.Faces, f)
	}
	r.sort()
	return r, nil
}

// sort puts faces score first, size breaking ties, so callers that want
// "the" face take [0]; and skipped detections best first.
func (r *Result) sort() {
	sort.SliceStable(r.Faces, func(i, j int) bool {
		if r.Faces[i].Score != r.Faces[j].Score {
			return r.Faces[i].Score > r.Faces[j].Score
		}
		return r.Faces[i].Size > r.Faces[j].Size
	})
	sort.SliceStable(r.Skipped, func(i, j int) bool { return r.Skipped[i].Score > r.Skipped[j].Score })
}

// Where the SSD's box sits on an FFHQ-aligned face, in 512-template
// pixels: the mean over the dev-val crops (ffhq128 ids 04800–04999) that it
// detects, with √(w·h) as its side (w 322, h 374 on average).
// TestFFHQRealign logs it again.
const (
	ssdCentreX512 = 247.1
	ssdCentreY512 = 286.7
	ssdSide512    = 346.4
)

var (
	ssdOnce sync.Once
	ssdNet  *facenet.SSD
	ssdErr  error
)

// ssd loads the detector's embedded weights once; the net is read-only
// afterwards, so concurrent Detect calls can share it.
func ssd() (*facenet.SSD, error) {
	ssdOnce.Do(func() {
		ssdNet, ssdErr = facenet.LoadSSD()
		if ssdErr != nil {
			ssdErr = fmt.Errorf("faces: %w", ssdErr)
		}
	})
	return ssdNet, ssdErr
}

// detectSSD runs face-api's SSD over the photo, and over tiles of it
// when o.Tile asks and the photo is large (tile.go). Boxes scoring above
// half of MinConfidence are kept to report near misses; non-max
// suppression, and the merge of tiles, keep the better box first, so the
// lower floor changes nothing above MinConfidence.
func (o Options) detectSSD(img *tensor.Tensor, h, w int) (Result, error) {
	if !(o.MinConfidence > 0 && o.MinConfidence < 1) {
		return Result{}, fmt.Errorf("faces: MinConfidence %v, want it in (0, 1)", o.MinConfidence)
	}
	m, err := ssd()
	if err != nil {
		return Result{}, err
	}
	so := facenet.SSDOptions{MinConfidence: o.MinConfidence / 2, MaxResults: 100}
	dets, err := m.Detect(img, so)
	if err != nil {
		return Result{}, fmt.Errorf("faces: %w", err)
	}
	if tiles := tileGrid(h, w, o.MinFace); o.Tile && tiles != nil {
		found, err := detectTiles(m, img, tiles, so)
		if err != nil {
			return Result{}, err
		}
		dets = mergeTiles(dets, found, max(h, w), o.MinConfidence)
	}
	var pl *pigo.PuplocCascade
	var params pigo.ImageParams
	if o.Pupils {
		if _, pl, err = cascades(); err != nil {
			return Result{}, err
		}
		params = pigo.ImageParams{Pixels: grayscale(img), Rows: h, Cols: w, Dim: w}
	}
	var r Result
	for _, d := range dets {
		f := ssdFace(d)
		switch {
		case d.Score <= o.MinConfidence:
			r.Skipped = append(r.Skipped, Skipped{f, fmt.Sprintf("score %.2f not above %.2f", d.Score, o.MinConfidence)})
			continue
		case f.Size < float32(o.MinFace):
			r.Skipped = append(r.Skipped, Skipped{f, fmt.Sprintf("face %.0f px below minimum %d px", f.Size, o.MinFace)})
			continue
		}
		if o.Pupils {
			// puploc starts from pigo's offsets within a pigo-style box.
			sq := pigo.Detection{
				Row:   int(math.Round(float64(f.Y + f.Size/2))),
				Col:   int(math.Round(float64(f.X + f.Size/2))),
				Scale: int(math.Round(float64(f.Size))),
			}
			f.Eyes, f.EyesFound = findPupils(pl, params, sq, 0, h, w)
		}
		f.Points = estimatePoints(f)
		r.Faces = append(r.Faces, f)
	}
	r.sort()
	return r, nil
}

// ssdFace turns an SSD detection into a Face whose square sits on the face
// as pigo's box would, so that the template fitted to it (estimatePoints)
// lands where it does for pigo: the SSD's box is taller (hairline to chin)
// and centred lower. It starts from the box before face-api's clipping, so
// a face cut by the photo edge keeps its size and reaches past the edge.
func ssdFace(d facenet.Detection) Face {
	x, y, bw, bh := d.Raw[0], d.Raw[1], d.Raw[2], d.Raw[3]
	k := math.Sqrt(max(bw, 0)*max(bh, 0)) / ssdSide512
	side := boxSide512 * k
	cx := x + bw/2 + (boxCentreX512-ssdCentreX512)*k
	cy := y + bh/2 + (boxCentreY512-ssdCentreY512)*k
	return Face{
		X: float32(cx - side/2), Y: float32(cy - side/2), Size: float32(side),
		Box:   [4]float32{float32(x), float32(y), float32(bw), float32(bh)},
		Score: d.Score,
	}
}

// findPupils runs puploc from pigo's own starting offsets. puploc perturbs its
// start with math/rand and takes the median, so results jitter by a pixel or
// so between runs; a pupil outside the box counts as not found.
// Pupils in the padding (an eye off the photo) are not found either.
func findPupils(pl *pigo.PuplocCascade, params pigo.ImageParams, d pigo.Detection, pad, h, w int) ([2]Point, bool) {
	s := float32(d.Scale)
	start := func(dx float32) pigo.Puploc {
		return pigo.Puploc{
			Row:      d.Row - int(0.075*s),
			Col:      d.Col + int(dx*s),
			Scale:    s * 0.25,
			Perturbs: 63,
		}
	}
	left := pl.RunDetector(start(-0.175), params, 0, false)
	right := pl.RunDetector(start(0.185), params, 0, false)
	half := s / 2
	inside := func(p *pigo.Puploc) bool {
		return p != nil && p.Row > 0 && p.Col > 0 &&
			abs32(float32(p.Row-d.Row)) < half && abs32(float32(p.Col-d.Col)) < half &&
			p.Row >= pad && p.Row < pad+h && p.Col >= pad && p.Col < pad+w
	}
	if !inside(left) || !inside(right) || left.Col >= right.Col {
		return [2]Point{}, false
	}
	return [2]Point{
		{float32(left.Col - pad), float32(left.Row - pad)},
		{float32(right.Col - pad), float32(right.Row - pad)},
	}, true
}

// boxTemplate is the FFHQ template in units of pigo's box (origin at the box
// centre, side 1), from where the box sits on FFHQ-aligned faces. Used when
// the pupils are not found.
var boxTemplate = func() [5]Point {
	const cx, cy, s = boxCentreX512, boxCentreY512, boxSide512
	var t [5]Point
	for i, p := range Template512 {
		t[i] = Point{float32((float64(p[0]) - cx) / s), float32((float64(p[1]) - cy) / s)}
	}
	return t
}()

// estimatePoints gives a five-point guess without a landmark net: the
// template fitted to the box, with the pupils in place of its eyes when
// puploc found them. On FFHQ crops this beat carrying the nose and mouth
// along with the eyes alone (median scale error 3% against 5%, angle 1.0°
// against 1.7°, measured without padding), since the box steadies the
// scale that the short eye baseline leaves loose.
func estimatePoints(f Face) [5]Point {
	var out [5]Point
	cx, cy := f.X+f.Size/2, f.Y+f.Size/2
	for i, p := range boxTemplate {
		out[i] = Point{cx + p[0]*f.Size, cy + p[1]*f.Size}
	}
	if f.EyesFound {
		out[0], out[1] = f.Eyes[0], f.Eyes[1]
	}
	return out
}

// grayscale converts [H,W,3] floats to the 8-bit luma pigo reads (BT.601
// weights, as pigo's own RgbToGrayscale).
func grayscale(img *tensor.Tensor) []uint8 {
	n := img.Shape[0] * img.Shape[1]
	g := make([]uint8, n)
	d := img.Data
	for i := range n {
		y := 0.299*d[3*i] + 0.587*d[3*i+1] + 0.114*d[3*i+2]
		g[i] = uint8(min(max(y*255+0.5, 0), 255))
	}
	return g
}

func rgbDims(img *tensor.Tensor) (h, w int, err error) {
	if img == nil || len(img.Shape) != 3 || img.Shape[2] != 3 {
		var shape []int
		if img != nil {
			shape = img.Shape
		}
		return 0, 0, fmt.Errorf("faces: want an [H,W,3] image, got shape %v", shape)
	}
	h, w = img.Shape[0], img.Shape[1]
	if h < 1 || w < 1 || len(img.Data) != h*w*3 {
		return 0, 0, fmt.Errorf("faces: image shape %v does not match %d values", img.Shape, len(img.Data))
	}
	return h, w, nil
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

func p64(p Point) [2]float64 { return [2]float64{float64(p[0]), float64(p[1])} }

// padGray repeats the edge pixels of a w×h grey image pad times outwards.
func padGray(g []uint8, h, w, pad int) ([]uint8, int, int) {
	if pad <= 0 {
		return g, h, w
	}
	ph, pw := h+2*pad, w+2*pad
	out := make([]uint8, ph*pw)
	for y := range ph {
		sy := min(max(y-pad, 0), h-1)
		for x := range pw {
			sx := min(max(x-pad, 0), w-1)
			out[y*pw+x] = g[sy*w+sx]
		}
	}
	return out, ph, pw
}
