package photo

import (
	"math"
	"sort"

	"facereward/faces"
	"facereward/imgproc"
	"facereward/tensor"
)

// Face is what happened to one face of a photo, as report.json records it.
type Face struct {
	// Box is the detection (x, y, side) in input pixels, Score its
	// detector score.
	Box   [3]float32 `json:"box"`
	Score float32    `json:"detection_score"`
	// Side is the face's aligned crop side in output pixels: the
	// resolution it was blended and pasted at.
	Side int `json:"side"`
	// Detail is the weight the input's own detail above the model's
	// resolution got in the blend (1: all kept; 0: a noisy input, none).
	Detail float64 `json:"detail_weight"`
	// RewardBefore and RewardAfter are the reward model's scores of the
	// input face and of the result (at the model's size); Identity is the
	// cosine between their face descriptors. Scored says they were
	// measured: not with --no-gate, nor when the sharpness test already
	// kept the input.
	RewardBefore float64 `json:"reward_before"`
	RewardAfter  float64 `json:"reward_after"`
	Identity     float64 `json:"identity"`
	Scored       bool    `json:"scored"`
	// Restored says the restoration was pasted; otherwise the input face
	// was kept, for Reason.
	Restored bool   `json:"restored"`
	Reason   string `json:"reason,omitempty"`
}

// Detail weights of the band-pass blend: the input's detail above the
// model's resolution is kept whole when its noise (the median absolute
// finest diagonal wavelet coefficient, as Donoho's estimate) is below
// noiseClean and dropped above noiseDirty, linearly between. Sharp photos
// measure about 0.002–0.006, the training degradations' noise 0.02–0.1.
const (
	noiseClean = 0.006
	noiseDirty = 0.02
)

// minSharpness is the least high-frequency energy a restored face of a
// clean photo may keep, as a fraction of the input face's at the same
// resolution (hfRatio): below it the input was the sharper face.
const minSharpness = 0.95

// hfRatio is the high-frequency energy of a over that of b (both F×F
// faces), inside the central box where the face is.
func hfRatio(a, b *tensor.Tensor) float64 {
	return imgproc.CentralHFEnergy(a) / math.Max(imgproc.CentralHFEnergy(b), 1e-12)
}

// detailWeight is how much of img's own high band to keep.
func detailWeight(img *tensor.Tensor) float64 {
	s := noiseSigma(img)
	return math.Max(0, math.Min(1, (noiseDirty-s)/(noiseDirty-noiseClean)))
}

// noiseSigma estimates the noise level of img [H,W,3] in [0,1] from the
// luma's finest Haar HH band: median |HH| / 0.6745 (Donoho and
// Johnstone), robust to the edges that real detail puts there.
func noiseSigma(img *tensor.Tensor) float64 {
	h, w := img.Shape[0], img.Shape[1]
	luma := func(y, x int) float64 {
		i := (y*w + x) * 3
		return 0.299*float64(img.Data[i]) + 0.587*float64(img.Data[i+1]) + 0.114*float64(img.Data[i+2])
	}
	var hh []float64
	for y := 0; y+1 < h; y += 2 {
		for x := 0; x+1 < w; x += 2 {
			hh = append(hh, math.Abs(luma(y, x)-luma(y, x+1)-luma(y+1, x)+luma(y+1, x+1))/2)
		}
	}
	if len(hh) == 0 {
		return 0
	}
	sort.Float64s(hh)
	return hh[len(hh)/2] / 0.6745
}

// blend combines the restoration res (the model's size S) with crop, the
// same face at the output's resolution (F×F): the restoration supplies
// every frequency up to the model's Nyquist, the input (weighted by w)
// those above, which a model of side S cannot produce. A face no larger
// than S is the restoration resized.
func blend(crop, res *tensor.Tensor, w float64) *tensor.Tensor {
	f, s := crop.Shape[0], res.Shape[0]
	if f <= s {
		return imgproc.Resize(res, f, f, imgproc.Area)
	}
	up := imgproc.Resize(res, f, f, imgproc.Cubic)
	if w == 0 {
		return up
	}
	low := imgproc.Resize(imgproc.Resize(crop, s, s, imgproc.Area), f, f, imgproc.Cubic)
	out := tensor.New(f, f, 3)
	for i := range out.Data {
		out.Data[i] = up.Data[i] + float32(w)*(crop.Data[i]-low.Data[i])
	}
	return out
}

// matchColour shifts res so that each channel's mean over the face's
// centre equals crop's: the restored face takes the photo's light and
// colour cast, which the model (trained on FFHQ's) does not know.
func matchColour(res, crop *tensor.Tensor) {
	f := res.Shape[0]
	lo, hi := f/5, f-f/5
	var dr, dc [3]float64
	n := 0
	for y := lo; y < hi; y++ {
		for x := lo; x < hi; x++ {
			for c := range 3 {
				i := (y*f+x)*3 + c
				dr[c] += float64(res.Data[i])
				dc[c] += float64(crop.Data[i])
			}
			n++
		}
	}
	for i := range res.Data {
		c := i % 3
		res.Data[i] += float32((dc[c] - dr[c]) / float64(n))
	}
}

// isGrey reports whether every pixel of img has equal channels (within
// half an 8-bit level): a black-and-white photo, which must stay one.
func isGrey(img *tensor.Tensor) bool {
	for i := 0; i+2 < len(img.Data); i += 3 {
		r, g, b := img.Data[i], img.Data[i+1], img.Data[i+2]
		if math.Abs(float64(r-g)) > 0.5/255 || math.Abs(float64(g-b)) > 0.5/255 {
			return false
		}
	}
	return true
}

// toGrey replaces every pixel by its luma (BT.601), in place.
func toGrey(img *tensor.Tensor) {
	for i := 0; i+2 < len(img.Data); i += 3 {
		y := 0.299*img.Data[i] + 0.587*img.Data[i+1] + 0.114*img.Data[i+2]
		img.Data[i], img.Data[i+1], img.Data[i+2] = y, y, y
	}
}

// centerFace returns the index of the face whose box centre is nearest the
// photo's centre (facexlib's only_center_face).
func centerFace(fs []faces.Face, w, h int) int {
	best, bestD := 0, math.Inf(1)
	for i, f := range fs {
		dx := float64(f.X+f.Size/2) - float64(w)/2
		dy := float64(f.Y+f.Size/2) - float64(h)/2
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = i, d
		}
	}
	return best
}
