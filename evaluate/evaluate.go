package evaluate

import (
	"fmt"
	"math"

	"facereward/facenet"
	"facereward/metrics"
	"facereward/tensor"
)

// FaceBox is the box (fractions of the side) the face networks see.
var FaceBox = facenet.AlignedFaceBox

// Metric keys, in report order.
const (
	PSNR    = "psnr"
	SSIM    = "ssim"
	PSNRY   = "psnr_y"
	SSIMY   = "ssim_y"
	IDS     = "ids"
	Deg     = "deg"
	LMD     = "lmd"
	LMDNorm = "lmd_norm"
	BRISQUE = "brisque"
	NIQE    = "niqe_ffhq"
)

// Info describes a metric for tables.
type Info struct {
	Key, Label   string
	HigherBetter bool
	Digits       int
	NeedsGT      bool
}

// All lists every metric in report order.
var All = []Info{
	{PSNR, "PSNR", true, 2, true},
	{SSIM, "SSIM", true, 4, true},
	{PSNRY, "PSNR-Y", true, 2, true},
	{SSIMY, "SSIM-Y", true, 4, true},
	{IDS, "IDS", true, 4, false},
	{Deg, "Deg", false, 2, false},
	{LMD, "LMD (px)", false, 3, true},
	{LMDNorm, "LMD/IOD", false, 4, true},
	{BRISQUE, "BRISQUE", false, 2, false},
	{NIQE, metrics.NIQEName, false, 3, false},
}

// Scorer holds the face networks; it is not safe for concurrent use (give
// each worker its own).
type Scorer struct {
	lm  *facenet.Landmarks68
	rec *facenet.Recognition
	// CropBorder is the border, in pixels, that PSNR and SSIM ignore
	// (basicsr's crop_border).
	CropBorder int
}

// NewScorer loads the embedded face networks.
func NewScorer() (*Scorer, error) {
	lm, rec, err := facenet.Load()
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	return &Scorer{lm: lm, rec: rec}, nil
}

// Result is one image's metrics (NaN where not computed) and why any are
// missing. PredDesc and RefDesc are the identity descriptors (nil when not
// computed), kept for set-level metrics such as FID-ID.
type Result struct {
	Values            map[string]float64
	Problems          []string
	PredDesc, RefDesc []float32
}

func newResult() Result {
	r := Result{Values: map[string]float64{}}
	for _, m := range All {
		r.Values[m.Key] = math.NaN()
	}
	return r
}

// Pair scores a restoration against its ground truth; ref is what identity
// is measured against when gt is nil (the LQ input, no-ground-truth mode).
func (s *Scorer) Pair(pred, gt, ref *tensor.Tensor) (Result, error) {
	r := newResult()
	if gt != nil && !tensor.SameShape(pred.Shape, gt.Shape) {
		return r, fmt.Errorf("restoration is %s but ground truth is %s", tensor.ShapeString(pred.Shape), tensor.ShapeString(gt.Shape))
	}
	var err error
	if gt != nil {
		for _, m := range []struct {
			key string
			f   func(a, b *tensor.Tensor, ch metrics.Channel, crop int) (float64, error)
			ch  metrics.Channel
		}{{PSNR, metrics.PSNR, metrics.RGB}, {SSIM, metrics.SSIM, metrics.RGB}, {PSNRY, metrics.PSNR, metrics.Y}, {SSIMY, metrics.SSIM, metrics.Y}} {
			if r.Values[m.key], err = m.f(pred, gt, m.ch, s.CropBorder); err != nil {
				return r, err
			}
		}
	}
	if r.Values[BRISQUE], err = metrics.BRISQUE(pred); err != nil {
		r.Problems = append(r.Problems, "BRISQUE: "+err.Error())
		r.Values[BRISQUE] = math.NaN()
	}
	if r.Values[NIQE], err = metrics.NIQE(pred); err != nil {
		r.Problems = append(r.Problems, metrics.NIQEName+": "+err.Error())
		r.Values[NIQE] = math.NaN()
	}

	if ref == nil {
		ref = gt
	}
	if ref != nil {
		a, b := s.rec.DescriptorCrop(faceCrop(pred)), s.rec.DescriptorCrop(faceCrop(ref))
		r.PredDesc, r.RefDesc = a[:], b[:]
		cos, deg, err := metrics.IDS(a[:], b[:])
		if err != nil {
			r.Problems = append(r.Problems, "IDS: "+err.Error())
		} else {
			r.Values[IDS], r.Values[Deg] = cos, deg
		}
	}
	if gt != nil {
		lp, okP := s.landmarks(pred)
		lg, okG := s.landmarks(gt)
		switch {
		case !okG:
			r.Problems = append(r.Problems, "LMD: the landmark net could not place the ground-truth face")
		case !okP:
			r.Problems = append(r.Problems, "LMD: the landmark net could not place the restored face")
		default:
			px, norm, err := metrics.LMD(lp, lg)
			if err != nil {
				r.Problems = append(r.Problems, "LMD: "+err.Error())
			} else {
				r.Values[LMD], r.Values[LMDNorm] = px, norm
			}
		}
	}
	return r, nil
}

func faceCrop(img *tensor.Tensor) *tensor.Tensor {
	c, _, _ := facenet.AlignedCrop(img)
	return c
}

// landmarks returns the 68 points in image pixels, and false when the net
// clearly failed to place the face: points far outside the box, eyes not
// above the mouth, or the eyes nearly on top of each other.
func (s *Scorer) landmarks(img *tensor.Tensor) ([]metrics.Point, bool) {
	crop, x0, y0 := facenet.AlignedCrop(img)
	side := crop.Shape[0]
	raw := s.lm.PredictCrop(crop)
	pts := make([]metrics.Point, 68)
	margin := 0.25 * float64(side)
	for i, p := range raw {
		pts[i] = metrics.Point{X: float64(p[0]) + float64(x0), Y: float64(p[1]) + float64(y0)}
		if float64(p[0]) < -margin || float64(p[1]) < -margin || float64(p[0]) > float64(side)+margin || float64(p[1]) > float64(side)+margin {
			return pts, false
		}
	}
	mean := func(from, to int) metrics.Point {
		var m metrics.Point
		for i := from; i <= to; i++ {
			m.X += pts[i].X / float64(to-from+1)
			m.Y += pts[i].Y / float64(to-from+1)
		}
		return m
	}
	le, re, mouth := mean(36, 41), mean(42, 47), mean(48, 67)
	iod := math.Hypot(re.X-le.X, re.Y-le.Y)
	if le.Y >= mouth.Y || re.Y >= mouth.Y || iod < 0.1*float64(side) {
		return pts, false
	}
	return pts, true
}
