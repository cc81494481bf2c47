package degrade

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Config holds every parameter of the degradation model. Ranges are
// [lo, hi] and drawn uniformly; each step has a switch so that one can be
// studied alone. Noise σ and colour-jitter shift are in 8-bit levels (the
// image is in [0, 1], so σ/255 is what is added), as in basicsr's configs.
type Config struct {
	Name string `json:"name"`
	// Size is the image side the spatial numbers below are meant for: the
	// presets are set for 512×512 faces, as in the field. See AtSize.
	Size int `json:"size"`
	// RefSize is the size the reference pipeline ran at, set by AtSize; 0
	// means Size. While Size < RefSize, what the reference's viewing
	// downscale would hide is compensated for (see AtSize).
	RefSize int `json:"ref_size,omitempty"`

	Blur        bool         `json:"blur"`
	KernelSize  int          `json:"kernel_size"` // odd
	KernelTypes []KernelType `json:"kernel_types"`
	KernelProbs []float64    `json:"kernel_probs"` // weights of KernelTypes
	Sigma       [2]float64   `json:"sigma"`        // σx and σy, as the face datasets pass blur_sigma for both
	Angle       [2]float64   `json:"angle"`        // radians, anisotropic types only
	BetaG       [2]float64   `json:"beta_g"`       // generalized Gaussian shape
	BetaP       [2]float64   `json:"beta_p"`       // plateau shape

	Down      bool       `json:"down"`
	DownRange [2]float64 `json:"down_range"` // factor r: the image goes to int(w/r)×int(h/r) and back

	Noise         bool       `json:"noise"`
	NoiseRange    [2]float64 `json:"noise_range"`     // σ in 8-bit levels
	GrayNoiseProb float64    `json:"gray_noise_prob"` // one noise plane for all channels

	JPEG      bool   `json:"jpeg"`
	JPEGRange [2]int `json:"jpeg_range"` // quality, drawn as an integer in [lo, hi]

	JitterProb  float64 `json:"jitter_prob"`  // probability of a per-channel shift
	JitterShift float64 `json:"jitter_shift"` // shift drawn in [-s, s], 8-bit levels
	GrayProb    float64 `json:"gray_prob"`    // probability of turning the LQ grey
	Quantize    bool    `json:"quantize"`     // round the LQ to 8-bit levels at the end
}

// PresetSize is the image side the presets are defined for.
const PresetSize = 512

// Bounds that keep any setting's cost finite: the presets' blur kernel is
// 41 taps at 512 px, and their strongest enlargement (codeformer's down
// factor 0.8, rescaled by AtSize) makes images 1.25 times their size.
const (
	MaxKernelSize = 255
	MaxLowSide    = 8192 // pixels: the side of the downsampled (or enlarged) image
	// MinSize and MaxSize bound the working size a set is made at (the
	// faces' side): below 16 px little of a face is left; MaxSize is 4 times
	// PresetSize, where every preset still fits the bounds above (its
	// 41-tap kernel rescales to 161 taps).
	MinSize = 16
	MaxSize = 2048
)

// PresetNames lists the presets Preset knows, sorted.
func PresetNames() []string {
	return []string{"codeformer", "codeformer-large", "diffbir", "gfpgan"}
}

// Preset returns a named configuration at PresetSize. Sources:
//   - diffbir: the DiffusionReward/DiffBIR face degradation (docs/design.md §1);
//   - gfpgan: GFPGAN's train_gfpgan_v1.yml, with its colour jitter and grey
//     (color_jitter_pt_prob, the torchvision brightness/contrast/hue jitter,
//     is not modelled);
//   - codeformer: CodeFormer_stage3.yml's degradation (the final model's);
//   - codeformer-large: CodeFormer_stage2.yml's "large degradation".
func Preset(name string) (Config, error) {
	c := Config{
		Name:        name,
		Size:        PresetSize,
		Blur:        true,
		KernelSize:  41,
		KernelTypes: []KernelType{Iso, Aniso},
		KernelProbs: []float64{0.5, 0.5},
		Angle:       [2]float64{-math.Pi, math.Pi},
		BetaG:       [2]float64{0.5, 4}, // Real-ESRGAN's ranges, unused by these presets
		BetaP:       [2]float64{1, 2},
		Down:        true,
		Noise:       true,
		JPEG:        true,
		Quantize:    true,
	}
	switch name {
	case "diffbir":
		c.Sigma, c.DownRange, c.NoiseRange, c.JPEGRange = [2]float64{0.1, 12}, [2]float64{1, 12}, [2]float64{0, 15}, [2]int{30, 100}
	case "gfpgan":
		c.Sigma, c.DownRange, c.NoiseRange, c.JPEGRange = [2]float64{0.1, 10}, [2]float64{0.8, 8}, [2]float64{0, 20}, [2]int{60, 100}
		c.JitterProb, c.JitterShift, c.GrayProb = 0.3, 20, 0.01
	case "codeformer":
		c.Sigma, c.DownRange, c.NoiseRange, c.JPEGRange = [2]float64{0.1, 10}, [2]float64{1, 12}, [2]float64{0, 15}, [2]int{60, 100}
	case "codeformer-large":
		c.Sigma, c.DownRange, c.NoiseRange, c.JPEGRange = [2]float64{1, 15}, [2]float64{4, 30}, [2]float64{0, 20}, [2]int{30, 80}
	default:
		return Config{}, fmt.Errorf("degrade: unknown preset %q (valid: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return c, nil
}

// AtSize rescales the spatial parameters for images of side s, so that
// degrading an s×s face approximates degrading it at c.Size and viewing the
// result at s (area-downscaled). With f = s/c.Size:
//
//   - kernel σ ranges scale by f, and the kernel size too,
//     2·round(f·(K−1)/2)+1, so the window cuts the kernel at the same number
//     of σ (41 at 512 becomes 11 at 128);
//   - the downsample range scales by f, so the low-resolution grid has the
//     same pixel count as the reference's (512/r = 128/(r/4)) and its
//     bilinear blockiness, noise grain and JPEG blocks land on the same
//     places of the face;
//   - RefSize remembers the reference size (the first c.Size), and while
//     Size < RefSize a scaled factor x < 1 (at 512→128: r < 4) is handled
//     specially. There the reference's low-resolution grid was finer than
//     our pixels, and its viewing downscale averages what was added on it;
//     we cannot resample to a grid finer than the image, so the image stays
//     at full size (factor 1) and instead:
//   - the noise σ is multiplied by x(1−0.4x): x for averaging x⁻² grid
//     cells per viewed pixel, (1−0.4x) for the correlation the reference's
//     bilinear enlargement puts between them (fitted on white noise for
//     views ÷2 to ÷16, within about 10%; exactly x when the downsample step
//     is off, as nothing was resampled);
//   - the JPEG quantisation scale is multiplied by x²: quality q becomes
//     the q' whose libjpeg table scale is x² times q's (at x = ¼: 30 → 95,
//     60 → 98, 90 → 99). JPEG error is mostly high-frequency, which the
//     viewing downscale removes rather than averages, hence faster than x
//     (fitted on the dev-val faces).
//
// With the downsample step off, x = Size/RefSize (the reference added its
// noise and JPEG at full size).
//
// At x ≥ 1 both routes enlarge the same grid bilinearly and nothing else
// changes. Measured on 200 dev-val faces (TestAtSizeMatchesReference), mean
// PSNR(LQ, HQ) at 128 is within 0.3 dB of the 512-and-view route for the
// diffbir and gfpgan presets, and within 0.3 dB with the blur off (without
// the noise and JPEG rules that gap is 1.5–2.6 dB).
//
// Not captured: JPEG at x < 1 still subsamples chroma (4:2:0) on our
// coarser grid, so a JPEG-only degradation stays about 1.5–2 dB stronger
// than the reference's; blur with σ below a pixel is undersampled on the
// coarse grid; the reference's noise, blur and JPEG interact at full
// resolution (clipping, rounding) and ours at the coarse one. Colour jitter,
// grey and 8-bit rounding are size-free and unchanged. AtSize(c.Size) is the
// identity, and rescaling in steps (512→256→128) gives the same config as
// one step up to the kernel size's rounding.
func (c Config) AtSize(s int) Config {
	if s == c.Size || s <= 0 || c.Size <= 0 {
		return c
	}
	f := float64(s) / float64(c.Size)
	out := c
	out.KernelTypes = append([]KernelType(nil), c.KernelTypes...)
	out.KernelProbs = append([]float64(nil), c.KernelProbs...)
	out.Size = s
	out.Sigma = [2]float64{c.Sigma[0] * f, c.Sigma[1] * f}
	out.KernelSize = 2*int(math.Round(f*float64(c.KernelSize-1)/2)) + 1
	out.DownRange = [2]float64{c.DownRange[0] * f, c.DownRange[1] * f}
	if c.RefSize == 0 {
		out.RefSize = c.Size
	}
	return out
}

// Validate reports the first inconsistent parameter of the steps that are on.
func (c Config) Validate() error {
	if c.Size < 1 {
		return fmt.Errorf("degrade: size %d must be positive", c.Size)
	}
	if c.RefSize < 0 {
		return fmt.Errorf("degrade: ref_size %d must be ≥ 0 (0 means size)", c.RefSize)
	}
	if c.Blur {
		if err := c.validateKernel(); err != nil {
			return err
		}
	}
	if c.Down {
		if !(c.DownRange[0] > 0) || c.DownRange[1] < c.DownRange[0] {
			return fmt.Errorf("degrade: down_range %v must be 0 < lo ≤ hi", c.DownRange)
		}
		// A factor below 1 enlarges (AtSize makes such factors for small
		// sizes); bounded, so that no setting can ask for a huge image.
		if float64(c.Size)/c.DownRange[0] > MaxLowSide {
			return fmt.Errorf("degrade: down_range low end %g would make a %d-px image %.0f px (at most %d)", c.DownRange[0], c.Size, float64(c.Size)/c.DownRange[0], MaxLowSide)
		}
	}
	if c.Noise {
		if !(c.NoiseRange[0] >= 0) || c.NoiseRange[1] < c.NoiseRange[0] {
			return fmt.Errorf("degrade: noise_range %v must be 0 ≤ lo ≤ hi", c.NoiseRange)
		}
		if err := checkProb("gray_noise_prob", c.GrayNoiseProb); err != nil {
			return err
		}
	}
	if c.JPEG && (c.JPEGRange[0] < 1 || c.JPEGRange[1] > 100 || c.JPEGRange[1] < c.JPEGRange[0]) {
		return fmt.Errorf("degrade: jpeg_range %v must be 1 ≤ lo ≤ hi ≤ 100", c.JPEGRange)
	}
	if err := checkProb("jitter_prob", c.JitterProb); err != nil {
		return err
	}
	if !(c.JitterShift >= 0) {
		return fmt.Errorf("degrade: jitter_shift %g must be ≥ 0", c.JitterShift)
	}
	return checkProb("gray_prob", c.GrayProb)
}

func (c Config) validateKernel() error {
	if c.KernelSize < 1 || c.KernelSize%2 == 0 || c.KernelSize > MaxKernelSize {
		return fmt.Errorf("degrade: kernel_size %d must be odd, in [1, %d]", c.KernelSize, MaxKernelSize)
	}
	if len(c.KernelTypes) == 0 || len(c.KernelTypes) != len(c.KernelProbs) {
		return fmt.Errorf("degrade: kernel_types (%d) and kernel_probs (%d) must be non-empty and the same length",
			len(c.KernelTypes), len(c.KernelProbs))
	}
	total := 0.0
	for i, t := range c.KernelTypes {
		if !t.valid() {
			return fmt.Errorf("degrade: unknown kernel type %q (valid: %s)", t, typeList())
		}
		if !(c.KernelProbs[i] >= 0) {
			return fmt.Errorf("degrade: kernel_probs[%d] = %g must be ≥ 0", i, c.KernelProbs[i])
		}
		total += c.KernelProbs[i]
	}
	if !(total > 0) {
		return fmt.Errorf("degrade: kernel_probs %v must not all be 0", c.KernelProbs)
	}
	if !(c.Sigma[0] > 0) || c.Sigma[1] < c.Sigma[0] {
		return fmt.Errorf("degrade: sigma %v must be 0 < lo ≤ hi", c.Sigma)
	}
	if c.Angle[1] < c.Angle[0] {
		return fmt.Errorf("degrade: angle %v must be lo ≤ hi", c.Angle)
	}
	for _, b := range []struct {
		key string
		r   [2]float64
	}{{"beta_g", c.BetaG}, {"beta_p", c.BetaP}} {
		if !(b.r[0] > 0) || b.r[1] < b.r[0] {
			return fmt.Errorf("degrade: %s %v must be 0 < lo ≤ hi", b.key, b.r)
		}
	}
	return nil
}

func checkProb(key string, p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("degrade: %s %g must be in [0, 1]", key, p)
	}
	return nil
}

// setter parses one --set value into a Config field.
type setter struct {
	help string
	set  func(c *Config, v string) error
}

func setters() map[string]setter {
	return map[string]setter{
		"name":            {"text", func(c *Config, v string) error { c.Name = v; return nil }},
		"size":            {"int", func(c *Config, v string) error { return parseInt(v, &c.Size) }},
		"blur":            {"bool", func(c *Config, v string) error { return parseBool(v, &c.Blur) }},
		"kernel_size":     {"odd int", func(c *Config, v string) error { return parseInt(v, &c.KernelSize) }},
		"kernel_types":    {"list of " + typeList(), func(c *Config, v string) error { return parseTypes(v, &c.KernelTypes) }},
		"kernel_probs":    {"list of weights", func(c *Config, v string) error { return parseFloats(v, &c.KernelProbs) }},
		"sigma":           {"lo,hi", func(c *Config, v string) error { return parseRange(v, &c.Sigma) }},
		"angle":           {"lo,hi radians", func(c *Config, v string) error { return parseRange(v, &c.Angle) }},
		"beta_g":          {"lo,hi", func(c *Config, v string) error { return parseRange(v, &c.BetaG) }},
		"beta_p":          {"lo,hi", func(c *Config, v string) error { return parseRange(v, &c.BetaP) }},
		"down":            {"bool", func(c *Config, v string) error { return parseBool(v, &c.Down) }},
		"down_range":      {"lo,hi", func(c *Config, v string) error { return parseRange(v, &c.DownRange) }},
		"ref_size":        {"int, 0 = size", func(c *Config, v string) error { return parseInt(v, &c.RefSize) }},
		"noise":           {"bool", func(c *Config, v string) error { return parseBool(v, &c.Noise) }},
		"noise_range":     {"lo,hi in 8-bit levels", func(c *Config, v string) error { return parseRange(v, &c.NoiseRange) }},
		"gray_noise_prob": {"probability", func(c *Config, v string) error { return parseFloat(v, &c.GrayNoiseProb) }},
		"jpeg":            {"bool", func(c *Config, v string) error { return parseBool(v, &c.JPEG) }},
		"jpeg_range":      {"lo,hi quality", func(c *Config, v string) error { return parseIntRange(v, &c.JPEGRange) }},
		"jitter_prob":     {"probability", func(c *Config, v string) error { return parseFloat(v, &c.JitterProb) }},
		"jitter_shift":    {"8-bit levels", func(c *Config, v string) error { return parseFloat(v, &c.JitterShift) }},
		"gray_prob":       {"probability", func(c *Config, v string) error { return parseFloat(v, &c.GrayProb) }},
		"quantize":        {"bool", func(c *Config, v string) error { return parseBool(v, &c.Quantize) }},
	}
}

// Keys lists the keys Set accepts, sorted, each with the form of its value.
func Keys() []string {
	m := setters()
	keys := make([]string, 0, len(m))
	for k, s := range m {
		keys = append(keys, k+" ("+s.help+")")
	}
	sort.Strings(keys)
	return keys
}

// Set overrides one parameter from its JSON key and a text value, as the
// CLI's --set key=value does. Ranges are "lo,hi"; lists are comma-separated.
// The value is checked for form only: call Validate once all are set.
func (c *Config) Set(key, value string) error {
	s, ok := setters()[strings.TrimSpace(key)]
	if !ok {
		return fmt.Errorf("degrade: unknown key %q; valid keys: %s", key, strings.Join(Keys(), ", "))
	}
	if err := s.set(c, strings.TrimSpace(value)); err != nil {
		return fmt.Errorf("degrade: set %s=%q (want %s): %w", key, value, s.help, err)
	}
	return nil
}

// viewScale is Size/RefSize: below 1, the image stands for a RefSize one
// viewed smaller.
func (c Config) viewScale() float64 {
	if c.RefSize <= 0 {
		return 1
	}
	return float64(c.Size) / float64(c.RefSize)
}
