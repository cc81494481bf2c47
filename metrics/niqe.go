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

// NIQE-FFHQ is NIQE (Mittal, Soundararajan & Bovik, "Making a completely
// blind image quality analyzer", 2013) with its pristine multivariate
// Gaussian fitted on this project's 128×128 FFHQ training faces by
// tools/niqefit, not MATLAB's model: its scores are comparable only with
// other NIQE-FFHQ scores. Lower is better.
const NIQEName = "NIQE-FFHQ"

// NIQEPatch is the patch side at full scale. Mittal's 96 leaves one patch
// in a 128×128 face; 32 gives a 4×4 grid (16×16 patches at the half scale)
// while still holding a few hundred pixels per fit.
const NIQEPatch = 32

// niqeSharpness keeps, when fitting, the patches whose mean local contrast
// is above this fraction of the image's sharpest patch (Mittal's sh_th).
const niqeSharpness = 0.75

// niqeFeatures is 18 features per scale, two scales.
const niqeFeatures = 36

// NIQEModel is a pristine NIQE model: the mean and covariance of the
// patch features of sharp patches of pristine images.
type NIQEModel struct {
	Name      string      `json:"name"`
	Patch     int         `json:"patch"`
	Sharpness float64     `json:"sharpness_threshold"`
	Images    int         `json:"images"`
	Patches   int         `json:"patches"`
	Source    string      `json:"source"`
	Mu        []float64   `json:"mu"`
	Cov       [][]float64 `json:"cov"`
}

//go:embed models/niqe_ffhq128.json
var niqeJSON []byte

var loadNIQE = sync.OnceValues(func() (*NIQEModel, error) {
	var m NIQEModel
	if err := json.Unmarshal(niqeJSON, &m); err != nil {
		return nil, fmt.Errorf("metrics: %s model: %w", NIQEName, err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
})

func (m *NIQEModel) check() error {
	if m.Patch != NIQEPatch || len(m.Mu) != niqeFeatures || len(m.Cov) != niqeFeatures {
		return fmt.Errorf("metrics: NIQE model %q: patch %d, %d means, %d covariance rows; want %d, %d, %d",
			m.Name, m.Patch, len(m.Mu), len(m.Cov), NIQEPatch, niqeFeatures, niqeFeatures)
	}
	for i, r := range m.Cov {
		if len(r) != niqeFeatures {
			return fmt.Errorf("metrics: NIQE model %q: covariance row %d has %d values", m.Name, i, len(r))
		}
	}
	return nil
}

// NIQE scores an [H,W,3] RGB image in [0,1] with the embedded NIQE-FFHQ
// model. The image must hold at least two NIQEPatch×NIQEPatch patches;
// pixels beyond the last whole patch are ignored.
func NIQE(img *tensor.Tensor) (float64, error) {
	m, err := loadNIQE()
	if err != nil {
		return 0, err
	}
	return m.Score(img)
}

// Score is the distance between the model and the Gaussian fit of all of
// img's patch features: √((μ₁−μ₂)ᵀ ((Σ₁+Σ₂)/2)⁺ (μ₁−μ₂)).
func (m *NIQEModel) Score(img *tensor.Tensor) (float64, error) {
	feats, _, err := niqePatchFeatures(img)
	if err != nil {
		return 0, err
	}
	feats = finiteRows(feats)
	mu, cov, err := meanCov(feats)
	if err != nil {
		return 0, fmt.Errorf("metrics: NIQE: %w", err)
	}
	avg := newMat(niqeFeatures)
	d := make([]float64, niqeFeatures)
	for i := range avg {
		d[i] = m.Mu[i] - mu[i]
		for j := range avg[i] {
			avg[i][j] = (m.Cov[i][j] + cov[i][j]) / 2
		}
	}
	inv := pinvSym(avg)
	var q float64
	for i := range d {
		for j := range d {
			q += d[i] * inv[i][j] * d[j]
		}
	}
	return math.Sqrt(math.Max(q, 0)), nil
}

// finiteRows drops feature vectors holding NaN or ±Inf: a perfectly flat
// patch has no negative MSCN values to fit (MATLAB's nanmean/nancov skip
// them the same way).
func finiteRows(x [][]float64) [][]float64 {
	out := x[:0:0]
	for _, r := range x {
		ok := true
		for _, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// niqeGray is MATLAB's rgb2gray on the 8-bit image, rounded to 8 bits as
// rgb2gray of uint8 input is, on the 0–255 scale NIQE works in.
func niqeGray(img *tensor.Tensor) ([]float64, int, int, error) {
	if len(img.Shape) != 3 || img.Shape[2] != 3 {
		return nil, 0, 0, fmt.Errorf("metrics: want an [H,W,3] image, got shape %v", img.Shape)
	}
	h, w := img.Shape[0], img.Shape[1]
	g := make([]float64, h*w)
	for i := range g {
		p := img.Data[i*3:]
		g[i] = math.Round(0.298936021293775*to255(p[0]) + 0.587043074451121*to255(p[1]) + 0.114020904255103*to255(p[2]))
	}
	return g, h, w, nil
}

// niqePatchFeatures returns the 36 features of every whole patch (row-major
// over the grid) and each patch's sharpness, the mean local standard
// deviation at full scale. The half scale is cv::resize INTER_CUBIC of the
// grey image (MATLAB's imresize antialiases; the fit and the scores here
// use the same resize, so the model is consistent with itself).
func niqePatchFeatures(img *tensor.Tensor) (feats [][]float64, sharp []float64, err error) {
	g, h, w, err := niqeGray(img)
	if err != nil {
		return nil, nil, err
	}
	ph, pw := h/NIQEPatch, w/NIQEPatch
	if ph*pw < 2 {
		return nil, nil, fmt.Errorf("metrics: NIQE needs at least two %d×%d patches, image is %d×%d", NIQEPatch, NIQEPatch, h, w)
	}
	h, w = ph*NIQEPatch, pw*NIQEPatch
	full := make([]float64, h*w)
	for y := 0; y < h; y++ {
		copy(full[y*w:(y+1)*w], g[y*img.Shape[1]:])
	}
	feats = make([][]float64, ph*pw)
	for i := range feats {
		feats[i] = make([]float64, 0, niqeFeatures)
	}
	s1, sig1 := mscn64(full, h, w)
	sharp = blockMeans(sig1, h, w, NIQEPatch)
	appendBlockFeatures(feats, s1, h, w, NIQEPatch)

	f32 := make([]float32, len(full))
	for i, v := range full {
		f32[i] = float32(v)
	}
	half := imgproc.Resize(tensor.FromSlice(f32, h, w, 1), h/2, w/2, imgproc.Cubic)
	g2 := make([]float64, len(half.Data))
	for i, v := range half.Data {
		g2[i] = float64(v)
	}
	s2, _ := mscn64(g2, h/2, w/2)
	appendBlockFeatures(feats, s2, h/2, w/2, NIQEPatch/2)
	return feats, sharp, nil
}

// mscn64 is NIQE's normalisation on the 0–255 scale:
// (I − μ) / (√|blur(I²) − μ²| + 1), with the 7×7 Gaussian (σ 7/6) and
// replicated borders of Mittal's code. It also returns the local standard
// deviation, from which patch sharpness is measured.
func mscn64(g []float64, h, w int) (mscn, sigma []float64) {
	k := gaussianTaps(7, 7.0/6)
	mu := blur64(g, h, w, k)
	sq := make([]float64, len(g))
	for i, v := range g {
		sq[i] = v * v
	}
	sigma = blur64(sq, h, w, k) // E[I²], turned into σ in place
	mscn = sq
	for i, v := range g {
		sigma[i] = math.Sqrt(math.Abs(sigma[i] - mu[i]*mu[i]))
		mscn[i] = (v - mu[i]) / (sigma[i] + 1)
	}
	return mscn, sigma
}

// blur64 is a separable correlation with replicated borders.
func blur64(src []float64, h, w int, k []float64) []float64 {
	r := len(k) / 2
	rows := make([]float64, len(src))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for i, kv := range k {
				s += kv * src[y*w+clampInt(x-r+i, w)]
			}
			rows[y*w+x] = s
		}
	}
	out := make([]float64, len(src))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for i, kv := range k {
				s += kv * rows[clampInt(y-r+i, h)*w+x]
			}
			out[y*w+x] = s
		}
	}
	return out
}

func blockMeans(v []float64, h, w, p int) []float64 {
	out := make([]float64, 0, (h/p)*(w/p))
	for by := 0; by < h/p; by++ {
		for bx := 0; bx < w/p; bx++ {
			var s float64
			for y := by * p; y < (by+1)*p; y++ {
				for x := bx * p; x < (bx+1)*p; x++ {
					s += v[y*w+x]
				}
			}
			out = append(out, s/float64(p*p))
		}
	}
	return out
}

// niqeShifts are MATLAB circshift offsets (rows, columns): the product is
// s(i,j)·s(i−di, j−dj) with wrap-around inside the patch.
var niqeShifts = [4][2]int{{0, 1}, {1, 0}, {1, 1}, {-1, 1}}

// appendBlockFeatures appends the 18 features of each p×p block of the MSCN
// image s to feats (one entry per block, row-major).
func appendBlockFeatures(feats [][]float64, s []float64, h, w, p int) {
	blk := make([]float64, p*p)
	for by := 0; by < h/p; by++ {
		for bx := 0; bx < w/p; bx++ {
			for y := 0; y < p; y++ {
				copy(blk[y*p:(y+1)*p], s[(by*p+y)*w+bx*p:])
			}
			i := by*(w/p) + bx
			feats[i] = append(feats[i], blockFeatures(blk, p)...)
		}
	}
}

// blockFeatures is Mittal's computefeature.m: the AGGD shape and mean
// squared scale of the block, then shape, mean and left/right scales of
// the four neighbour products.
func blockFeatures(b []float64, p int) []float64 {
	a := fitAGGD64(b)
	bl, br := a.scales()
	f := []float64{a.gamma, (bl + br) / 2}
	pair := make([]float64, len(b))
	for _, sh := range niqeShifts {
		for y := 0; y < p; y++ {
			sy := ((y-sh[0])%p + p) % p
			for x := 0; x < p; x++ {
				sx := ((x-sh[1])%p + p) % p
				pair[y*p+x] = b[y*p+x] * b[sy*p+sx]
			}
		}
		a := fitAGGD64(pair)
		bl, br := a.scales()
		g := a.gamma
		f = append(f, g, (br-bl)*(math.Gamma(2/g)/math.Gamma(1/g)), bl, br)
	}
	return f
}

// scales are MATLAB's betal and betar: the standard deviations times
// √(Γ(1/γ)/Γ(3/γ)).
func (a aggd) scales() (bl, br float64) {
	c := math.Sqrt(math.Gamma(1/a.gamma) / math.Gamma(3/a.gamma))
	return a.lsigma * c, a.rsigma * c
}

// fitAGGD64 is estimateaggdparam.m: the global best shape on the grid.
func fitAGGD64(v []float64) aggd {
	var m moments
	for _, p := range v {
		m.add(p)
	}
	return m.fit(false)
}
