package restorer

import (
	"fmt"
	"math/bits"
	"slices"

	"facereward/diffusion"
)

// Stage1Config sizes the stage-1 restorer.
type Stage1Config struct {
	ImageSize int `json:"image_size"`
	// Unshuffle is the pixel-unshuffle factor of the input: the body runs
	// at ImageSize/Unshuffle, which is what makes it cheap enough for CPUs.
	Unshuffle int `json:"unshuffle"`
	Width     int `json:"width"`
	Blocks    int `json:"blocks"`
}

// UNetConfig sizes the UNet; the control branch always uses the UNet's
// own config, since it is a copy of the UNet's encoder.
type UNetConfig struct {
	ImageSize int `json:"image_size"`
	// Unshuffle is the pixel-unshuffle factor of the input (0 or 1: none):
	// the network runs at ImageSize/Unshuffle on 3·Unshuffle² channels and
	// pixel-shuffles its output back, which cuts the cost of the widest,
	// full-resolution level on CPUs ("simple diffusion" does the same).
	Unshuffle int `json:"unshuffle,omitempty"`
	// Widths are the channels of each resolution level, the first at
	// ImageSize/Unshuffle, each next one at half the size.
	Widths         []int `json:"widths"`
	BlocksPerLevel int   `json:"blocks_per_level"`
	// AttnResolutions lists the feature-map sizes (e.g. 16 for 16×16) at
	// which residual blocks are followed by self-attention.
	AttnResolutions []int `json:"attn_resolutions"`
	Heads           int   `json:"heads"`
	Groups          int   `json:"groups"`
	// TimeDim is the width of the timestep-embedding MLP; the sinusoidal
	// features it reads are Widths[0] wide.
	TimeDim int `json:"time_dim"`
	// HintWidth is the width of the control branch's condition encoder.
	HintWidth int `json:"hint_width"`
	// Prediction is what the UNet predicts, ε or v; the network is the
	// same, the sampler and the losses read this to interpret its output.
	Prediction diffusion.Prediction `json:"prediction"`
}

// Config is the whole restorer: its architecture and the β schedule its
// UNet was trained on.
type Config struct {
	Stage1 Stage1Config `json:"stage1"`
	UNet   UNetConfig   `json:"unet"`
	// Schedule is stored beside the networks in a model directory's
	// config.json (and in a stage-2 run's), not in their JSON.
	Schedule diffusion.BetaSchedule `json:"-"`
}

// DefaultStage1 is sized for 2 CPU cores: at ×2 unshuffle the body runs at
// 64×64; 3.7 GFLOP per 128×128 image forward, 0.46 M parameters.
func DefaultStage1() Stage1Config {
	return Stage1Config{ImageSize: 128, Unshuffle: 2, Width: 64, Blocks: 6}
}

// DefaultUNet is sized for 2 CPU cores at 128×128: the input is pixel-
// unshuffled ×2, so the three levels run at 64, 32 and 16 (attention at
// 16×16) and no convolution works on a full-resolution map. One forward
// of one image costs 7.1 GFLOP in the UNet (6.0 M parameters) and 2.3 in
// the control branch (2.7 M), 2.2× less than the four-level 32/64/128/256
// UNet at full resolution this replaced; BenchmarkUNetControl measures the
// step times.
func DefaultUNet() UNetConfig {
	return UNetConfig{
		ImageSize:       128,
		Unshuffle:       2,
		Widths:          []int{48, 96, 192},
		BlocksPerLevel:  1,
		AttnResolutions: []int{16},
		Heads:           4,
		Groups:          16,
		TimeDim:         128,
		HintWidth:       32,
		// v, as diffusion.DefaultPrediction explains: x0 from ε divides by
		// sqrt(ᾱ), which the cosine schedule takes to 5e-5 near t = T.
		Prediction: diffusion.DefaultPrediction,
	}
}

// DefaultConfig bundles the defaults.
func DefaultConfig() Config {
	return Config{Stage1: DefaultStage1(), UNet: DefaultUNet(), Schedule: diffusion.DefaultBetaSchedule}
}

// Bounds on every size a config may ask for. A config comes from a file
// (a model directory's config.json, a run's options) and the networks are
// allocated from it before any weight is read, so an unchecked width of
// 100000 is a 360 GB allocation that kills the process. The bounds are far
// above anything that trains on CPUs (the defaults use widths ≤ 192 at
// 128×128) and far below what would exhaust memory.
const (
	// MaxImageSize bounds image sizes: faces are restored at 128×128; 1024
	// leaves room for 8× that while keeping feature maps allocatable.
	MaxImageSize = 1024
	// MaxUnshuffle bounds pixel-unshuffle factors: the input channels grow
	// as 3·r², and beyond 8 the first level no longer sees any image.
	MaxUnshuffle = 8
	// MaxWidth bounds every channel count (widths, time dim, hint width,
	// groups, heads): a 3×3 convolution of 4096 channels is already 151 M
	// parameters.
	MaxWidth = 4096
	// MaxCount bounds block counts and list lengths (levels, blocks per
	// level, attention resolutions): depth costs time, and 64 of anything
	// is more than any config here uses.
	MaxCount = 64
	// MaxParams bounds the parameters a config builds, counted from the
	// config before anything is allocated, so that many moderate sizes
	// cannot add up to an exhausted memory: 200 M float32 parameters are
	// 800 MB (1.6 GB with gradients), against 9 M for the default model.
	MaxParams = 200_000_000
)

// checkRange reports a field outside lo..hi, naming it as the config's
// JSON does.
func checkRange(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s = %d, want %d..%d", field, v, lo, hi)
	}
	return nil
}

// Validate reports the first problem with c.
func (c Stage1Config) Validate() error {
	for _, f := range []struct {
		name      string
		v, lo, hi int
	}{
		{"image_size", c.ImageSize, 16, MaxImageSize},
		{"unshuffle", c.Unshuffle, 1, MaxUnshuffle},
		{"width", c.Width, 1, MaxWidth},
		{"blocks", c.Blocks, 0, MaxCount},
	} {
		if err := checkRange(f.name, f.v, f.lo, f.hi); err != nil {
			return fmt.Errorf("stage1: %w", err)
		}
	}
	switch {
	case c.ImageSize%16 != 0:
		return fmt.Errorf("stage1: image size %d is not a positive multiple of 16", c.ImageSize)
	case c.ImageSize%c.Unshuffle != 0:
		return fmt.Errorf("stage1: unshuffle %d does not divide image size %d", c.Unshuffle, c.ImageSize)
	}
	if n := c.numParams(); n > MaxParams {
		return fmt.Errorf("stage1: %d parameters, want at most %d", n, MaxParams)
	}
	return nil
}

// Validate reports the first problem with c.
func (c UNetConfig) Validate() error {
	// The ranges come first: the checks after them multiply and shift
	// these numbers, which is only safe once they are known to be small.
	for _, f := range []struct {
		name      string
		v, lo, hi int
	}{
		{"image_size", c.ImageSize, 16, MaxImageSize},
		{"unshuffle", c.Unshuffle, 0, MaxUnshuffle},
		{"len(widths)", len(c.Widths), 1, MaxCount},
		{"blocks_per_level", c.BlocksPerLevel, 1, MaxCount},
		{"len(attn_resolutions)", len(c.AttnResolutions), 0, MaxCount},
		{"heads", c.Heads, 1, MaxWidth},
		{"groups", c.Groups, 1, MaxWidth},
		{"time_dim", c.TimeDim, 1, MaxWidth},
		{"hint_width", c.HintWidth, 1, MaxWidth},
	} {
		if err := checkRange(f.name, f.v, f.lo, f.hi); err != nil {
			return fmt.Errorf("unet: %w", err)
		}
	}
	for i, w := range c.Widths {
		if err := checkRange(fmt.Sprintf("widths[%d]", i), w, 1, MaxWidth); err != nil {
			return fmt.Errorf("unet: %w", err)
		}
	}
	if c.ImageSize%16 != 0 {
		return fmt.Errorf("unet: image size %d is not a positive multiple of 16", c.ImageSize)
	}
	if c.ImageSize%c.factor() != 0 {
		return fmt.Errorf("unet: unshuffle %d does not divide image size %d", c.Unshuffle, c.ImageSize)
	}
	// len(Widths) ≤ MaxCount, but a shift by 63 would overflow: the levels
	// must fit the image first.
	if r := c.inner(); len(c.Widths)-1 > bits.Len(uint(r)) || r>>(len(c.Widths)-1) < 1 || r%(1<<(len(c.Widths)-1)) != 0 {
		return fmt.Errorf("unet: %d levels do not fit image size %d (unshuffled: %d)", len(c.Widths), c.ImageSize, r)
	}
	// Every channel count a GroupNorm or attention sees is a width or a
	// sum of widths (the decoder's concatenations), so checking the widths
	// is enough.
	for _, w := range c.Widths {
		if w%c.Groups != 0 {
			return fmt.Errorf("unet: width %d is not a positive multiple of %d groups", w, c.Groups)
		}
		if w%c.Heads != 0 {
			return fmt.Errorf("unet: width %d does not split into %d heads", w, c.Heads)
		}
	}
	if c.Widths[0]%2 != 0 {
		return fmt.Errorf("unet: first width %d must be even (sinusoidal features)", c.Widths[0])
	}
	if err := c.Prediction.Validate(); err != nil {
		return fmt.Errorf("unet: %w", err)
	}
	if n := c.numParams() + c.controlParams(); n > MaxParams {
		return fmt.Errorf("unet: %d parameters with the control branch, want at most %d", n, MaxParams)
	}
	return nil
}

// convParams counts a k×k convolution's weights and biases.
func convParams(cin, cout, k int) int64 { return int64(k*k*cin*cout + cout) }

// linearParams counts a linear layer's weights and biases.
func linearParams(in, out int) int64 { return int64(in*out + out) }

// normParams counts a GroupNorm's scale and shift.
func normParams(c int) int64 { return int64(2 * c) }

func resBlockParams(cin, cout, tdim int) int64 {
	n := normParams(cin) + convParams(cin, cout, 3) + linearParams(tdim, cout) + normParams(cout) + convParams(cout, cout, 3)
	if cin != cout {
		n += convParams(cin, cout, 1)
	}
	return n
}

func attnBlockParams(c int) int64 { return normParams(c) + convParams(c, 3*c, 1) + convParams(c, c, 1) }

// numParams counts what NewStage1 allocates, without allocating it; it
// mirrors NewStage1 and TestNumParams keeps the two in step. Only call it
// on sizes already range-checked (the products then fit an int).
func (c Stage1Config) numParams() int64 {
	cin := 3 * c.Unshuffle * c.Unshuffle
	return convParams(cin, c.Width, 3) + int64(c.Blocks)*2*convParams(c.Width, c.Width, 3) + convParams(c.Width, cin, 3)
}

// encoderParams counts newEncoder's parameters (mirrors it).
func (c UNetConfig) encoderParams() int64 {
	n := linearParams(c.Widths[0], c.TimeDim) + linearParams(c.TimeDim, c.TimeDim)
	n += convParams(3*c.factor()*c.factor(), c.Widths[0], 3)
	res, ch := c.inner(), c.Widths[0]
	for li, w := range c.Widths {
		for range c.BlocksPerLevel {
			n += resBlockParams(ch, w, c.TimeDim)
			ch = w
			if c.attnAt(res) {
				n += attnBlockParams(w)
			}
		}
		if li < len(c.Widths)-1 {
			n += convParams(ch, ch, 3)
			res /= 2
		}
	}
	return n + 2*resBlockParams(ch, ch, c.TimeDim) + attnBlockParams(ch)
}

// numParams counts what NewUNet allocates (mirrors it).
func (c UNetConfig) numParams() int64 {
	n := c.encoderParams()
	skips := skipWidths(c)
	ch, res := c.Widths[len(c.Widths)-1], c.bottom()
	for li := len(c.Widths) - 1; li >= 0; li-- {
		w := c.Widths[li]
		for range c.BlocksPerLevel + 1 {
			sw := skips[len(skips)-1]
			skips = skips[:len(skips)-1]
			n += resBlockParams(ch+sw, w, c.TimeDim)
			ch = w
			if c.attnAt(res) {
				n += attnBlockParams(w)
			}
		}
		if li > 0 {
			res *= 2
			n += convParams(ch, ch, 3)
		}
	}
	return n + normParams(ch) + convParams(ch, 3*c.factor()*c.factor(), 3)
}

// controlParams counts what NewControl allocates (mirrors it).
func (c UNetConfig) controlParams() int64 {
	cin, hw, w0 := 3*c.factor()*c.factor(), c.HintWidth, c.Widths[0]
	n := c.encoderParams() + convParams(cin, hw, 3) + convParams(hw, hw, 3) + convParams(hw, w0, 3)
	for _, w := range skipWidths(c) {
		n += convParams(w, w, 1)
	}
	wm := c.Widths[len(c.Widths)-1]
	return n + convParams(wm, wm, 1)
}

// factor is the unshuffle factor, 1 where none is set.
func (c UNetConfig) factor() int { return max(c.Unshuffle, 1) }

// inner is the size of the first level's feature maps.
func (c UNetConfig) inner() int { return c.ImageSize / c.factor() }

// bottom is the size of the last level's (and the middle's) feature maps.
func (c UNetConfig) bottom() int { return c.inner() >> (len(c.Widths) - 1) }

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if err := c.Stage1.Validate(); err != nil {
		return err
	}
	if err := c.UNet.Validate(); err != nil {
		return err
	}
	if n := c.Stage1.numParams() + c.UNet.numParams() + c.UNet.controlParams(); n > MaxParams {
		return fmt.Errorf("%d parameters in all, want at most %d", n, MaxParams)
	}
	if c.Stage1.ImageSize != c.UNet.ImageSize {
		return fmt.Errorf("stage1 image size %d differs from the UNet's %d", c.Stage1.ImageSize, c.UNet.ImageSize)
	}
	return nil
}

func (c UNetConfig) attnAt(res int) bool { return slices.Contains(c.AttnResolutions, res) }
