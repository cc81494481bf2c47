package facenet

import (
	"fmt"
	"math"
	"sort"

	"facereward/nn"
	"facereward/tensor"
)

// SSDOptions are face-api's SsdMobilenetv1Options.
type SSDOptions struct {
	// MinConfidence drops detections scoring at or below it; it must lie
	// in (0, 1). face-api's default is 0.5.
	MinConfidence float32
	// MaxResults caps the detections non-max suppression keeps (face-api:
	// 100).
	MaxResults int
}

// DefaultSSDOptions returns face-api's defaults.
func DefaultSSDOptions() SSDOptions { return SSDOptions{MinConfidence: 0.5, MaxResults: 100} }

// ssdIoU is the overlap above which non-max suppression drops the weaker
// of two boxes; face-api fixes it at 0.5.
const ssdIoU = 0.5

// Detection is one face the SSD found, in pixels of the photo.
type Detection struct {
	// X, Y, W, H is face-api's box: the decoded box clipped to the net's
	// input square. That square is the photo padded at the right or the
	// bottom, so a box is clipped at the photo's top and left edges and at
	// its longer side's far edge, but may reach into the padding on the
	// shorter side.
	X, Y, W, H float64
	// Raw is the box before that clipping, as x, y, w, h: a face cut by
	// the photo's edge reaches past it.
	Raw [4]float64
	// Score is the face class's sigmoid probability.
	Score float32
}

// Detect finds the faces of img [H,W,3] in [0,1] as face-api's
// ssdMobilenetv1 does: the photo is zero-padded at the right or bottom to
// a square, resized to 512×512 (tfjs-core's resizeBilinear), the net scores
// all prior boxes, and boxes scoring above o.MinConfidence go through
// non-max suppression at IoU 0.5, best first.
func (m *SSD) Detect(img *tensor.Tensor, o SSDOptions) ([]Detection, error) {
	if img == nil || len(img.Shape) != 3 || img.Shape[2] != 3 || img.Shape[0] < 1 || img.Shape[1] < 1 {
		var shape []int
		if img != nil {
			shape = img.Shape
		}
		return nil, fmt.Errorf("facenet: SSD: want an [H,W,3] image, got shape %v", shape)
	}
	if !(o.MinConfidence > 0 && o.MinConfidence < 1) || o.MaxResults < 1 {
		return nil, fmt.Errorf("facenet: SSD: options %+v: MinConfidence must lie in (0,1) and MaxResults be positive", o)
	}
	boxes, scores := m.predict(ssdInput(img))
	keep := nonMaxSuppression(boxes, scores, o.MaxResults, ssdIoU, o.MinConfidence)

	// face-api maps boxes back with the photo's size scaled to 512 and
	// rounded (computeReshapedDimensions), not with the exact ratio: the
	// rounding moves boxes by up to half a net pixel, kept for parity.
	h, w := float64(img.Shape[0]), float64(img.Shape[1])
	scale := SSDSize / max(h, w)
	padX, padY := SSDSize/math.Round(w*scale), SSDSize/math.Round(h*scale)
	out := make([]Detection, len(keep))
	for i, k := range keep {
		b := boxes[k]
		ymin, xmin, ymax, xmax := float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3])
		top, bottom := max(0, ymin)*padY, min(1, ymax)*padY
		left, right := max(0, xmin)*padX, min(1, xmax)*padX
		out[i] = Detection{
			X: left * w, Y: top * h, W: (right - left) * w, H: (bottom - top) * h,
			Raw:   [4]float64{xmin * padX * w, ymin * padY * h, (xmax - xmin) * padX * w, (ymax - ymin) * padY * h},
			Score: scores[k],
		}
	}
	return out, nil
}

// ssdInput is face-api's toBatchTensor(512, false) followed by its
// normalisation: img [H,W,3] in [0,1] is taken to 0–255, zero-padded after
// the shorter side to a square (padToSquare without centring), resized to
// 512×512 with tfjs-core's resizeBilinear at alignCorners=false (source
// = dst·side/512, upper neighbour clamped; no resizing when the side is
// already 512), and mapped to [−1, 1] as x·(1/127.5 in float32) − 1.
//
// The padding is never built: a source pixel outside the photo reads 0,
// which for a large photo saves a square copy of it.
func ssdInput(img *tensor.Tensor) *tensor.Tensor {
	h, w := img.Shape[0], img.Shape[1]
	side := max(h, w)
	ratio := float64(side) / SSDSize
	px := func(y, x, c int) float64 {
		if y >= h || x >= w {
			return 0
		}
		return float64(img.Data[(y*w+x)*3+c]) * 255
	}
	src := func(d int) (lo, hi int, frac float64) {
		f := ratio * float64(d)
		lo = int(math.Floor(f))
		return lo, min(side-1, int(math.Ceil(f))), f - float64(lo)
	}
	const mul = float32(0.007843137718737125) // face-api.js@0.22.2's constant
	out := tensor.New(1, SSDSize, SSDSize, 3)
	tensor.Parallel(SSDSize, SSDSize*SSDSize*30, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			y0, y1, fy := src(r)
			for col := range SSDSize {
				x0, x1, fx := src(col)
				for c := range 3 {
					top := px(y0, x0, c) + (px(y0, x1, c)-px(y0, x0, c))*fx
					bot := px(y1, x0, c) + (px(y1, x1, c)-px(y1, x0, c))*fx
					v := float32(top + (bot-top)*fy)
					out.Data[(r*SSDSize+col)*3+c] = v*mul - 1
				}
			}
		}
	})
	return out
}

// predict runs the net on one prepared input [1,512,512,3] and decodes
// every prior box: boxes as ymin, xmin, ymax, xmax in fractions of the
// input, and the face score.
func (m *SSD) predict(in *tensor.Tensor) ([][4]float32, []float32) {
	g := graphs.Get().(*nn.Graph)
	defer func() { g.Reset(); graphs.Put(g) }()
	encs, logits := m.Forward(g, nn.Constant(in))
	boxes := make([][4]float32, ssdAnchors)
	scores := make([]float32, ssdAnchors)
	prior := 0
	for i := range encs {
		e, l := encs[i].Value.Data, logits[i].Value.Data
		for j := range len(e) / 4 {
			var a, t [4]float32
			copy(a[:], m.anchors[4*prior:])
			copy(t[:], e[4*j:])
			boxes[prior] = decodeBox(a, t)
			// face-api drops the first (background) logit and scores the second.
			scores[prior] = float32(1 / (1 + math.Exp(-float64(l[3*j+1]))))
			prior++
		}
	}
	if prior != ssdAnchors {
		panic(fmt.Sprintf("facenet.SSD: predictors gave %d boxes, want %d", prior, ssdAnchors))
	}
	return boxes, scores
}

// decodeBox applies offsets t (ty, tx, th, tw) to prior box a (ymin, xmin,
// ymax, xmax) with TF's box coder scales 10, 10, 5, 5, in face-api's
// order of float32 operations (outputLayer's decodeBoxesLayer).
func decodeBox(a, t [4]float32) [4]float32 {
	exp := func(v float32) float32 { return float32(math.Exp(float64(v))) }
	sizeY, sizeX := a[2]-a[0], a[3]-a[1]
	cy, cx := a[0]+sizeY/2, a[1]+sizeX/2
	halfH := exp(t[2]/5) * sizeY / 2
	midY := t[0]/10*sizeY + cy
	halfW := exp(t[3]/5) * sizeX / 2
	midX := t[1]/10*sizeX + cx
	return [4]float32{midY - halfH, midX - halfW, midY + halfH, midX + halfW}
}

// nonMaxSuppression is face-api's: boxes scoring above minScore, best
// first (ties keep their index order), each kept unless it overlaps an
// already kept box by IoU > iou, until maxOut are kept.
func nonMaxSuppression(boxes [][4]float32, scores []float32, maxOut int, iou float64, minScore float32) []int {
	var cand []int
	for i, s := range scores {
		if s > minScore {
			cand = append(cand, i)
		}
	}
	sort.SliceStable(cand, func(a, b int) bool { return scores[cand[a]] > scores[cand[b]] })
	var kept []int
	for _, c := range cand {
		if len(kept) >= min(maxOut, len(boxes)) {
			break
		}
		ok := true
		for _, k := range kept {
			if priorIoU(boxes[c], boxes[k]) > iou {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, c)
		}
	}
	return kept
}

// priorIoU is face-api's IOU of two ymin, xmin, ymax, xmax boxes, in
// float64; a box of no area overlaps nothing.
func priorIoU(a, b [4]float32) float64 {
	box := func(v [4]float32) (y0, x0, y1, x1 float64) {
		return math.Min(float64(v[0]), float64(v[2])), math.Min(float64(v[1]), float64(v[3])),
			math.Max(float64(v[0]), float64(v[2])), math.Max(float64(v[1]), float64(v[3]))
	}
	ay0, ax0, ay1, ax1 := box(a)
	by0, bx0, by1, bx1 := box(b)
	areaA, areaB := (ay1-ay0)*(ax1-ax0), (by1-by0)*(bx1-bx0)
	if areaA <= 0 || areaB <= 0 {
		return 0
	}
	inter := math.Max(math.Min(ay1, by1)-math.Max(ay0, by0), 0) * math.Max(math.Min(ax1, bx1)-math.Max(ax0, bx0), 0)
	return inter / (areaA + areaB - inter)
}
