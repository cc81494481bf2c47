package metrics

import (
	"fmt"
	"math"
)

// IDS compares two identity descriptors (e.g. 128-d face embeddings). It
// returns their cosine similarity and the angle between them in degrees
// (arccos of the cosine, the "Deg" that VQFR and RestoreFormer report).
func IDS(a, b []float32) (cos, deg float64, err error) {
	if len(a) != len(b) || len(a) == 0 {
		return 0, 0, fmt.Errorf("metrics: IDS needs two descriptors of one non-zero length, got %d and %d", len(a), len(b))
	}
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0, 0, fmt.Errorf("metrics: IDS of a zero descriptor")
	}
	cos = ab / math.Sqrt(aa*bb)
	// Rounding can push |cos| a hair past 1, where Acos is NaN.
	cos = math.Max(-1, math.Min(1, cos))
	return cos, math.Acos(cos) * 180 / math.Pi, nil
}

// Point is a landmark position in pixels.
type Point struct{ X, Y float64 }

// The iBUG 68-point scheme's eye contours (0-based): 36–41 is the eye on
// the image's left (the subject's right eye), 42–47 the other.
const (
	leftEyeFirst, leftEyeLast   = 36, 41
	rightEyeFirst, rightEyeLast = 42, 47
)

// LMD is the landmark distance between a restored face's 68 landmarks and
// the ground truth's: the mean Euclidean distance in pixels, and that mean
// divided by the ground truth's inter-ocular distance, the distance between
// the centres (means) of its two eye contours, points 36–41 and 42–47.
func LMD(pred, gt []Point) (px, norm float64, err error) {
	if len(pred) != 68 || len(gt) != 68 {
		return 0, 0, fmt.Errorf("metrics: LMD needs 68 landmarks each, got %d and %d", len(pred), len(gt))
	}
	for i := range pred {
		px += math.Hypot(pred[i].X-gt[i].X, pred[i].Y-gt[i].Y)
	}
	px /= 68
	l, r := centre(gt[leftEyeFirst:leftEyeLast+1]), centre(gt[rightEyeFirst:rightEyeLast+1])
	iod := math.Hypot(l.X-r.X, l.Y-r.Y)
	if iod == 0 {
		return px, 0, fmt.Errorf("metrics: LMD: ground-truth eye centres coincide")
	}
	return px, px / iod, nil
}

func centre(ps []Point) Point {
	var c Point
	for _, p := range ps {
		c.X += p.X
		c.Y += p.Y
	}
	return Point{c.X / float64(len(ps)), c.Y / float64(len(ps))}
}
