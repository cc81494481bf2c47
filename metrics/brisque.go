package metrics

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sync"

	"facereward/imgproc"
	"facereward/tensor"
)

// brisqueJSON is OpenCV's LIVE BRISQUE model (an ε-SVR with an RBF kernel
// over 36 features) and its feature range, converted from Debian
// opencv-data by tools/metricsref/convert_brisque.py. Licence:
// models/LICENSE-opencv-brisque.txt.
//
//go:embed models/brisque_live.json
var brisqueJSON []byte

type brisqueModel struct {
	Gamma    float64     `json:"gamma"`
	Rho      float64     `json:"rho"`
	Alpha    []float64   `json:"alpha"`
	RangeMin []float32   `json:"range_min"`
	RangeMax []float32   `json:"range_max"`
	SV       [][]float32 `json:"support_vectors"`
}

const brisqueFeatures = 36

var loadBRISQUE = sync.OnceValues(func() (*brisqueModel, error) {
	var m brisqueModel
	if err := json.Unmarshal(brisqueJSON, &m); err != nil {
		return nil, fmt.Errorf("metrics: BRISQUE model: %w", err)
	}
	if len(m.Alpha) != len(m.SV) || len(m.RangeMin) != brisqueFeatures || len(m.RangeMax) != brisqueFeatures {
		return nil, fmt.Errorf("metrics: BRISQUE model: %d alphas, %d support vectors, range %d/%d",
			len(m.Alpha), len(m.SV), len(m.RangeMin), len(m.RangeMax))
	}
	for i, sv := range m.SV {
		if len(sv) != brisqueFeatures {
			return nil, fmt.Errorf("metrics: BRISQUE model: support vector %d has %d values", i, len(sv))
		}
	}
	return &m, nil
})

// BRISQUE scores an [H,W,3] RGB image in [0,1] (lower is better, 0–100) the
// way cv2.quality.QualityBRISQUE_compute does with OpenCV's LIVE model on
// the same image saved as 8-bit PNG. Images must be at least 2×2.
func BRISQUE(img *tensor.Tensor) (float64, error) {
	m, err := loadBRISQUE()
	if err != nil {
		return 0, err
	}
	g, err := brisqueGray(img)
	if err != nil {
		return 0, err
	}
	f := brisqueFeatureVector(g)
	return m.predict(f), nil
}

// brisqueGray is cvtColor(BGR2GRAY) on the 8-bit image, with OpenCV's
// fixed-point weights, then convertTo(CV_32F, 1/255).
func brisqueGray(img *tensor.Tensor) (gray32, error) {
	if len(img.Shape) != 3 || img.Shape[2] != 3 {
		return gray32{}, fmt.Errorf("metrics: want an [H,W,3] image, got shape %v", img.Shape)
	}
	h, w := img.Shape[0], img.Shape[1]
	if h < 2 || w < 2 {
		return gray32{}, fmt.Errorf("metrics: BRISQUE needs at least 2×2 pixels, got %d×%d", h, w)
	}
	g := gray32{h: h, w: w, v: make([]float32, h*w)}
	const scale = float32(1.0 / 255)
	for i := range g.v {
		p := img.Data[i*3:]
		r, gg, b := int(to255(p[0])), int(to255(p[1])), int(to255(p[2]))
		y := (b*3735 + gg*19235 + r*9798 + 16384) >> 15
		g.v[i] = float32(y) * scale
	}
	return g, nil
}

// brisqueFeatureVector computes the 18 features of each of two scales: the
// full image and cv::resize to (w/2, h/2) with INTER_CUBIC.
func brisqueFeatureVector(g gray32) []float64 {
	feats := make([]float64, 0, brisqueFeatures)
	feats = append(feats, brisqueScale(g)...)
	src := tensor.FromSlice(g.v, g.h, g.w, 1)
	half := imgproc.Resize(src, g.h/2, g.w/2, imgproc.Cubic)
	feats = append(feats, brisqueScale(gray32{h: g.h / 2, w: g.w / 2, v: half.Data})...)
	return feats
}

// brisqueShifts are the neighbour offsets (row, column) of the pairwise
// products: horizontal, vertical, main and secondary diagonal.
var brisqueShifts = [4][2]int{{0, 1}, {1, 0}, {1, 1}, {-1, 1}}

func brisqueScale(g gray32) []float64 {
	s := mscn32(g)
	feats := make([]float64, 0, 18)
	a := fitAGGD(s.v)
	feats = append(feats, a.gamma, (a.lsigma*a.lsigma+a.rsigma*a.rsigma)/2)
	prod := make([]float32, len(s.v))
	for _, sh := range brisqueShifts {
		shiftProduct(prod, s, sh[0], sh[1])
		a := fitAGGD(prod)
		feats = append(feats, a.gamma, a.meanParam(), a.lsigma*a.lsigma, a.rsigma*a.rsigma)
	}
	return feats
}

// mscn32 is OpenCV quality's normalisation in float32:
// (I − μ) / (√(blur(I²) − μ²) + 1/255). A negative variance (rounding on
// flat areas) gives NaN on purpose: OpenCV's pow does, and the fits then
// skip those pixels.
func mscn32(g gray32) gray32 {
	n := len(g.v)
	mu := gray32{g.h, g.w, make([]float32, n)}
	sig := gray32{g.h, g.w, make([]float32, n)}
	sq := gray32{g.h, g.w, make([]float32, n)}
	rows := make([]float32, n)
	blurReplicate(mu, g, mscnKernel, rows)
	for i, v := range g.v {
		sq.v[i] = v * v
	}
	blurReplicate(sig, sq, mscnKernel, rows)
	const c = float32(1.0 / 255)
	out := gray32{g.h, g.w, sq.v}
	for i, v := range g.v {
		m := mu.v[i]
		d := float32(math.Sqrt(float64(sig.v[i] - m*m)))
		out.v[i] = (v - m) / (d + c)
	}
	return out
}

// shiftProduct writes s(i,j)·s(i+di, j+dj), with zero where the neighbour
// falls outside the image.
func shiftProduct(dst []float32, s gray32, di, dj int) {
	for i := 0; i < s.h; i++ {
		for j := 0; j < s.w; j++ {
			var nb float32
			if ii, jj := i+di, j+dj; ii >= 0 && ii < s.h && jj >= 0 && jj < s.w {
				nb = s.v[ii*s.w+jj]
			}
			dst[i*s.w+j] = nb * s.v[i*s.w+j]
		}
	}
}

// rbf32 is the float32 exp of OpenCV's ml module. OpenCV's SIMD exp clamps
// its argument with max/min instructions that turn NaN into the lower
// bound, so a NaN distance (features of a flat image) gives a kernel value
// of 0, not NaN; a flat image then scores −ρ ≈ 149.6, clamped to 100.
func rbf32(x float32) float32 {
	if x != x {
		return 0
	}
	return float32(math.Exp(float64(x)))
}

// predict scales the features to [−1, 1] with the model's range and runs
// the ε-SVR as OpenCV's ml module does: squared distances accumulated in
// float64 from float32 differences, the kernel value rounded to float32,
// the score clamped to [0, 100].
func (m *brisqueModel) predict(feats []float64) float64 {
	x := make([]float32, len(feats))
	for i, f := range feats {
		lo, hi := m.RangeMin[i], m.RangeMax[i]
		x[i] = -1 + 2*(float32(f)-lo)/(hi-lo)
	}
	sum := -m.Rho
	for k, sv := range m.SV {
		var d float64
		for i, v := range sv {
			t := float64(v - x[i])
			d += t * t
		}
		sum += m.Alpha[k] * float64(rbf32(float32(-m.Gamma*d)))
	}
	score := float64(float32(sum))
	return math.Min(math.Max(score, 0), 100)
}
