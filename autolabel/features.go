package autolabel

import (
	"errors"
	"fmt"
	"math"

	"facereward/evaluate"
	"facereward/imageio"
	"facereward/metrics"
	"facereward/prefs"
	"facereward/tensor"
)

// NumFeatures is the length of a feature vector.
const NumFeatures = 5

// Vector is one number per feature, in the order of Names: a candidate's
// metrics, or a pair's differences (left minus right).
type Vector [NumFeatures]float64

// Feature indices into a Vector.
const (
	PSNR = iota
	SSIM
	IDS
	LMD
	BRISQUE
)

// Names and Units label the features in reports.
var (
	Names = [NumFeatures]string{"PSNR", "SSIM", "IDS", "LMD", "BRISQUE"}
	Units = [NumFeatures]string{"dB", "", "", "px", ""}
)

// keys are evaluate's names for the features.
var keys = [NumFeatures]string{evaluate.PSNR, evaluate.SSIM, evaluate.IDS, evaluate.LMD, evaluate.BRISQUE}

// PSNRCap bounds PSNR: a candidate identical to its ground truth has an
// infinite PSNR, which would swamp every other feature and break the fit;
// 60 dB is past any visible difference in 8-bit images.
const PSNRCap = 60.0

// ErrNoGT is returned for a pair without a ground-truth image: its
// full-reference metrics cannot be computed.
var ErrNoGT = errors.New("the pair has no ground-truth image")

// Features computes pair feature vectors from the images in a store. A
// candidate's metrics are cached by (image, ground truth), since the same
// restoration appears in many pairs. It is not safe for concurrent use (nor
// is its Scorer).
type Features struct {
	scorer *evaluate.Scorer
	store  prefs.Store
	cache  map[[2]prefs.Ref]Vector
}

// NewFeatures scores with s the images held in store.
func NewFeatures(s *evaluate.Scorer, store prefs.Store) *Features {
	return &Features{scorer: s, store: store, cache: map[[2]prefs.Ref]Vector{}}
}

// IsGT reports whether c is p's ground truth: made by the "gt" method, or
// the very image the pair names as its ground truth.
func IsGT(p prefs.Pair, c prefs.Candidate) bool {
	return c.Provenance.Method == "gt" || (p.GT != "" && c.Image == p.GT)
}

// IsLQ reports whether c is p's degraded input: made by the "lq" method,
// or the very image the pair names as its LQ.
func IsLQ(p prefs.Pair, c prefs.Candidate) bool {
	return c.Provenance.Method == "lq" || c.Image == p.LQ
}

// Pair returns p's feature vector, left minus right, and the names of the
// features whose difference was set to 0 because a metric could not be
// computed for a candidate.
//
// A missing metric (NaN) is most often LMD, when the landmark net cannot
// place a face. It says nothing reliable about which candidate is better
// (the net also fails on sharp faces in unusual poses, and on every
// candidate of a face whose ground truth it cannot place), so that
// difference is 0, neutral, and the other four features decide; unlike a
// stand-in such as the worst LMD in the batch, this keeps a pair's features
// independent of which other pairs are scored with it.
func (f *Features) Pair(p prefs.Pair) (Vector, []string, error) {
	if p.GT == "" {
		return Vector{}, nil, fmt.Errorf("pair %s: %w", p.ID, ErrNoGT)
	}
	var gt *tensor.Tensor // loaded once, and only when a candidate is not cached
	var l, r Vector
	for _, side := range []struct {
		name string
		c    prefs.Candidate
		m    *Vector
	}{{"left", p.Left, &l}, {"right", p.Right, &r}} {
		key := [2]prefs.Ref{side.c.Image, p.GT}
		m, ok := f.cache[key]
		if !ok {
			var err error
			if gt == nil {
				if gt, err = f.load(p.GT); err != nil {
					return Vector{}, nil, fmt.Errorf("pair %s: ground truth: %w", p.ID, err)
				}
			}
			if m, err = f.candidate(p, side.c, gt); err != nil {
				return Vector{}, nil, fmt.Errorf("pair %s: %s candidate: %w", p.ID, side.name, err)
			}
			f.cache[key] = m
		}
		*side.m = m
	}
	x, missing := diff(l, r)
	return x, missing, nil
}

// candidate computes c's metrics against gt. The ground truth itself gets
// the perfect full-reference scores (PSNR at the cap, SSIM 1, IDS 1, LMD 0)
// without running the nets, so its LMD is defined even when the landmark
// net cannot place the face, and a "gt" candidate stored from another
// encoding than the pair's GT (another ref, same pixels) scores the same;
// BRISQUE needs no reference and is measured on the candidate.
func (f *Features) candidate(p prefs.Pair, c prefs.Candidate, gt *tensor.Tensor) (Vector, error) {
	img := gt
	if c.Image != p.GT {
		var err error
		if img, err = f.load(c.Image); err != nil {
			return Vector{}, err
		}
	}
	if IsGT(p, c) {
		b, err := metrics.BRISQUE(img)
		if err != nil {
			b = math.NaN()
		}
		return Vector{PSNRCap, 1, 1, 0, b}, nil
	}
	res, err := f.scorer.Pair(img, gt, nil)
	if err != nil {
		return Vector{}, fmt.Errorf("image %s: %w", c.Image, err)
	}
	var m Vector
	for i, k := range keys {
		m[i] = res.Values[k]
	}
	m[PSNR] = math.Min(m[PSNR], PSNRCap)
	return m, nil
}

func (f *Features) load(r prefs.Ref) (*tensor.Tensor, error) {
	path, err := f.store.Path(r)
	if err != nil {
		return nil, err
	}
	img, err := imageio.Read(path)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", r, err)
	}
	return img, nil
}

// diff is l − r, with 0 (and the feature's name) where either side is NaN.
func diff(l, r Vector) (Vector, []string) {
	var x Vector
	var missing []string
	for i := range x {
		if math.IsNaN(l[i]) || math.IsNaN(r[i]) {
			missing = append(missing, Names[i])
			continue
		}
		x[i] = l[i] - r[i]
	}
	return x, missing
}
