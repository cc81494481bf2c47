package degrade

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"path/filepath"

	"facereward/imageio"
	"facereward/imgproc"
	"facereward/tensor"
)

// Record is everything drawn for one LQ image. Zero values mean the step was
// off (or drew nothing): no Kernel, JPEGQuality 0, no Jitter.
type Record struct {
	Config string        `json:"config,omitempty"` // Config.Name
	Kernel *KernelParams `json:"kernel,omitempty"`
	// Scale is the drawn factor r; ScaleApplied is the one used (1 where a
	// shrunk config keeps the image at full size, see AtSize), and LowH×LowW
	// the low-resolution size int(h/r')×int(w/r').
	Scale        float64 `json:"scale,omitempty"`
	ScaleApplied float64 `json:"scale_applied,omitempty"`
	LowH         int     `json:"low_h,omitempty"`
	LowW         int     `json:"low_w,omitempty"`
	// NoiseSigma and JPEGQuality are drawn; the Applied values are what was
	// used, which differ only in a shrunk config at x < 1 (see AtSize).
	NoiseSigma         float64     `json:"noise_sigma,omitempty"`
	NoiseSigmaApplied  float64     `json:"noise_sigma_applied,omitempty"`
	GrayNoise          bool        `json:"gray_noise,omitempty"`
	JPEGQuality        int         `json:"jpeg_quality,omitempty"`
	JPEGQualityApplied int         `json:"jpeg_quality_applied,omitempty"`
	Jitter             *[3]float64 `json:"jitter,omitempty"` // RGB shift in 8-bit levels
	Gray               bool        `json:"gray,omitempty"`
}

// Stream derives an image's random stream from its name (a path relative to
// its dataset root), so a pair does not depend on which other files were
// processed or in what order: rand.New(rand.NewPCG(seed, Stream(rel))).
func Stream(rel string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(filepath.ToSlash(rel)))
	return h.Sum64()
}

// Degrader degrades images with one Config, reusing its buffers between
// calls. It is not safe for concurrent use: give each worker its own.
type Degrader struct {
	cfg     Config
	scratch imgproc.Scratch
	kernel  []float32
	jpeg    bytes.Buffer
}

// New checks c and returns a Degrader for it.
func New(c Config) (*Degrader, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.KernelTypes = append([]KernelType(nil), c.KernelTypes...) // the caller may reuse its slices
	c.KernelProbs = append([]float64(nil), c.KernelProbs...)
	return &Degrader{cfg: c}, nil
}

// Config returns the configuration the Degrader was made with.
func (d *Degrader) Config() Config { return d.cfg }

// Degrade is the one-shot form of Degrader.Degrade.
func Degrade(rng *rand.Rand, hq *tensor.Tensor, c Config) (*tensor.Tensor, Record, error) {
	d, err := New(c)
	if err != nil {
		return nil, Record{}, err
	}
	return d.Degrade(rng, hq)
}

// draws is what one image gets, drawn before any pixel work so that two
// images of different sizes degraded from the same seed draw the same
// parameters (the noise fields, drawn last, differ in length).
type draws struct {
	rec        Record
	scale      float64 // applied factor
	noiseSigma float64 // applied σ in [0, 1] units
	jitter     [3]float32
}

func (d *Degrader) draw(rng *rand.Rand) (draws, error) {
	c := d.cfg
	dr := draws{rec: Record{Config: c.Name}, scale: 1}
	if c.Blur {
		k, err := RandomKernel(rng, c)
		if err != nil {
			return dr, err
		}
		dr.rec.Kernel = &k
	}
	// x is the factor in this image's pixels; with the step off the
	// reference ran at full size, x = Size/RefSize. See AtSize.
	g := c.viewScale()
	x := g
	if c.Down {
		r := uniform(rng, c.DownRange)
		dr.rec.Scale, dr.scale, x = r, r, r
	}
	noiseFactor, jpegFactor := 1.0, 1.0
	if g < 1 && x < 1 {
		dr.scale = 1
		noiseFactor = x * (1 - 0.4*x)
		if !c.Down {
			noiseFactor = x // the reference grid was not resampled: plain averaging
		}
		jpegFactor = x * x
	}
	if c.Down {
		dr.rec.ScaleApplied = dr.scale
	}
	if c.Noise {
		s := uniform(rng, c.NoiseRange)
		dr.rec.NoiseSigma = s
		dr.rec.NoiseSigmaApplied = s * noiseFactor
		dr.noiseSigma = dr.rec.NoiseSigmaApplied / 255
		dr.rec.GrayNoise = rng.Float64() < c.GrayNoiseProb
	}
	if c.JPEG {
		q := c.JPEGRange[0] + rng.IntN(c.JPEGRange[1]-c.JPEGRange[0]+1)
		dr.rec.JPEGQuality = q
		dr.rec.JPEGQualityApplied = scaleQuality(q, jpegFactor)
	}
	if c.JitterProb > 0 && rng.Float64() < c.JitterProb {
		var j [3]float64
		for i := range j {
			j[i] = uniform(rng, [2]float64{-c.JitterShift, c.JitterShift})
			dr.jitter[i] = float32(j[i] / 255)
		}
		dr.rec.Jitter = &j
	}
	if c.GrayProb > 0 && rng.Float64() < c.GrayProb {
		dr.rec.Gray = true
	}
	return dr, nil
}

// Degrade makes the LQ image of hq, an [H, W, 3] tensor in [0, 1] (not
// modified), and returns it with what was drawn.
func (d *Degrader) Degrade(rng *rand.Rand, hq *tensor.Tensor) (*tensor.Tensor, Record, error) {
	if hq == nil || len(hq.Shape) != 3 || hq.Shape[2] != 3 || hq.Shape[0] < 1 || hq.Shape[1] < 1 ||
		len(hq.Data) != tensor.Numel(hq.Shape) {
		var shape []int
		if hq != nil {
			shape = hq.Shape
		}
		return nil, Record{}, fmt.Errorf("degrade: want an RGB image [H W 3], got shape %v", shape)
	}
	dr, err := d.draw(rng)
	if err != nil {
		return nil, Record{}, err
	}
	h, w := hq.Shape[0], hq.Shape[1]

	img := hq
	if k := dr.rec.Kernel; k != nil {
		if img, err = d.blur(img, *k); err != nil {
			return nil, dr.rec, err
		}
	}

	// Sizes as GFPGAN's int(w // scale); never below one pixel.
	lh, lw := h, w
	if d.cfg.Down {
		lh = max(1, int(math.Floor(float64(h)/dr.scale)))
		lw = max(1, int(math.Floor(float64(w)/dr.scale)))
		dr.rec.LowH, dr.rec.LowW = lh, lw
	}
	if lh != h || lw != w {
		low := tensor.New(lh, lw, 3)
		d.scratch.ResizeInto(low, img, imgproc.Linear)
		img = low
	} else if img == hq {
		img = hq.Clone() // the steps below work in place
	}

	if d.cfg.Noise && dr.noiseSigma > 0 {
		addNoise(rng, img.Data, float32(dr.noiseSigma), dr.rec.GrayNoise)
	}
	if d.cfg.JPEG {
		if img, err = d.jpegRoundTrip(img, dr.rec.JPEGQualityApplied); err != nil {
			return nil, dr.rec, err
		}
	}
	if img.Shape[0] != h || img.Shape[1] != w {
		back := tensor.New(h, w, 3)
		d.scratch.ResizeInto(back, img, imgproc.Linear)
		img = back
	}

	if dr.rec.Jitter != nil {
		jitter(img.Data, dr.jitter)
	}
	if dr.rec.Gray {
		toGray(img.Data)
	}
	if d.cfg.Quantize {
		quantize(img.Data)
	}
	return img, dr.rec, nil
}

// blur filters a copy of img with the kernel k describes. Two shortcuts keep
// it cheap, both far below an 8-bit level: an isotropic Gaussian is exactly
// the outer product of two normalised 1-D Gaussians, so it runs as a row
// pass and a column pass (2K taps instead of K², differing by float32
// rounding); and taps below 1e-9 of the peak are dropped (imgproc skips zero
// taps), which moves no output by more than K²·1e-9.
func (d *Degrader) blur(img *tensor.Tensor, k KernelParams) (*tensor.Tensor, error) {
	out := tensor.New(img.Shape...)
	if k.Type == Iso {
		g, err := gaussian1D(k.Size, k.SigmaX)
		if err != nil {
			return nil, fmt.Errorf("degrade: blur: %w", err)
		}
		d.setKernel(g)
		mid := tensor.New(img.Shape...)
		d.scratch.Filter2DInto(mid, img, d.kernel, 1, k.Size)
		d.scratch.Filter2DInto(out, mid, d.kernel, k.Size, 1)
		return out, nil
	}
	kv, err := k.Kernel()
	if err != nil {
		return nil, fmt.Errorf("degrade: blur: %w", err)
	}
	d.setKernel(kv)
	d.scratch.Filter2DInto(out, img, d.kernel, k.Size, k.Size)
	return out, nil
}

// setKernel stores kv as float32, as cv2.filter2D converts a float64 kernel
// for a float32 image, with negligible taps zeroed (see blur).
func (d *Degrader) setKernel(kv []float64) {
	peak := 0.0
	for _, v := range kv {
		peak = max(peak, v)
	}
	d.kernel = d.kernel[:0]
	for _, v := range kv {
		if v < 1e-9*peak {
			v = 0
		}
		d.kernel = append(d.kernel, float32(v))
	}
}

// addNoise adds N(0, σ²) to every value (or one draw per pixel shared by
// its three channels) and clips to [0, 1], as basicsr's
// random_add_gaussian_noise with clip=True.
func addNoise(rng *rand.Rand, px []float32, sigma float32, gray bool) {
	for i := 0; i+2 < len(px); i += 3 {
		p := px[i : i+3 : i+3]
		if gray {
			n := sigma * float32(rng.NormFloat64())
			p[0], p[1], p[2] = clip01(p[0]+n), clip01(p[1]+n), clip01(p[2]+n)
			continue
		}
		p[0] = clip01(p[0] + sigma*float32(rng.NormFloat64()))
		p[1] = clip01(p[1] + sigma*float32(rng.NormFloat64()))
		p[2] = clip01(p[2] + sigma*float32(rng.NormFloat64()))
	}
}

// jpegRoundTrip encodes img (clamped to [0, 1] and rounded to 8 bits by the
// encoder) at quality q and decodes it again, all in memory.
func (d *Degrader) jpegRoundTrip(img *tensor.Tensor, q int) (*tensor.Tensor, error) {
	d.jpeg.Reset()
	if err := imageio.EncodeJPEG(&d.jpeg, img, q); err != nil {
		return nil, fmt.Errorf("degrade: JPEG q=%d: %w", q, err)
	}
	out, err := imageio.Decode(bytes.NewReader(d.jpeg.Bytes()), "JPEG round trip")
	if err != nil {
		return nil, fmt.Errorf("degrade: JPEG q=%d: %w", q, err)
	}
	return out, nil
}

// jitter shifts each channel and clips, as GFPGAN's color_jitter.
func jitter(px []float32, shift [3]float32) {
	for i := 0; i+2 < len(px); i += 3 {
		px[i] = clip01(px[i] + shift[0])
		px[i+1] = clip01(px[i+1] + shift[1])
		px[i+2] = clip01(px[i+2] + shift[2])
	}
}

// toGray replaces each pixel by its luma with cv2.COLOR_BGR2GRAY's weights.
func toGray(px []float32) {
	for i := 0; i+2 < len(px); i += 3 {
		y := 0.299*px[i] + 0.587*px[i+1] + 0.114*px[i+2]
		px[i], px[i+1], px[i+2] = y, y, y
	}
}

// quantize is np.clip((x*255).round(), 0, 255)/255 in float32, with round
// half to even like numpy and torch.
func quantize(px []float32) {
	for i, v := range px {
		q := float32(math.RoundToEven(float64(v * 255)))
		px[i] = min(max(q, 0), 255) / 255
	}
}

func clip01(v float32) float32 { return min(max(v, 0), 1) }

// scaleQuality returns the quality whose libjpeg table scale is f times
// that of q (scale 5000/q below 50, 200−2q above).
func scaleQuality(q int, f float64) int {
	if f == 1 {
		return q
	}
	var s float64
	if q < 50 {
		s = 5000 / float64(q)
	} else {
		s = 200 - 2*float64(q)
	}
	s *= f
	var out float64
	if s > 100 {
		out = 5000 / s
	} else {
		out = (200 - s) / 2
	}
	return min(100, max(1, int(math.Round(out))))
}
