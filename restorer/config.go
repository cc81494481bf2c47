package restorer

import (
	"errors"
	"fmt"
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

// Validate reports the first problem with c.
func (c Stage1Config) Validate() error {
	switch {
	case c.ImageSize < 16 || c.ImageSize%16 != 0:
		return fmt.Errorf("stage1: image size %d is not a positive multiple of 16", c.ImageSize)
	case c.Unshuffle < 1 || c.ImageSize%c.Unshuffle != 0:
		return fmt.Errorf("stage1: unshuffle %d does not divide image size %d", c.Unshuffle, c.ImageSize)
	case c.Width < 1 || c.Blocks < 0:
		return fmt.Errorf("stage1: width %d, blocks %d", c.Width, c.Blocks)
	}
	return nil
}

// Validate reports the first problem with c.
func (c UNetConfig) Validate() error {
	if c.ImageSize < 16 || c.ImageSize%16 != 0 {
		return fmt.Errorf("unet: image size %d is not a positive multiple of 16", c.ImageSize)
	}
	if len(c.Widths) == 0 {
		return errors.New("unet: no widths")
	}
	if c.Unshuffle < 0 || c.ImageSize%max(c.Unshuffle, 1) != 0 {
		return fmt.Errorf("unet: unshuffle %d does not divide image size %d", c.Unshuffle, c.ImageSize)
	}
	if r := c.inner(); r>>(len(c.Widths)-1) < 1 || r%(1<<(len(c.Widths)-1)) != 0 {
		return fmt.Errorf("unet: %d levels do not fit image size %d (unshuffled: %d)", len(c.Widths), c.ImageSize, r)
	}
	if c.Groups < 1 || c.Heads < 1 {
		return fmt.Errorf("unet: groups %d, heads %d", c.Groups, c.Heads)
	}
	// Every channel count a GroupNorm or attention sees is a width or a
	// sum of widths (the decoder's concatenations), so checking the widths
	// is enough.
	for _, w := range c.Widths {
		if w < 1 || w%c.Groups != 0 {
			return fmt.Errorf("unet: width %d is not a positive multiple of %d groups", w, c.Groups)
		}
		if w%c.Heads != 0 {
			return fmt.Errorf("unet: width %d does not split into %d heads", w, c.Heads)
		}
	}
	if c.BlocksPerLevel < 1 {
		return fmt.Errorf("unet: %d blocks per level", c.BlocksPerLevel)
	}
	if c.Widths[0]%2 != 0 {
		return fmt.Errorf("unet: first width %d must be even (sinusoidal features)", c.Widths[0])
	}
	if c.TimeDim < 1 || c.HintWidth < 1 {
		return fmt.Errorf("unet: time dim %d, hint width %d", c.TimeDim, c.HintWidth)
	}
	if err := c.Prediction.Validate(); err != nil {
		return fmt.Errorf("unet: %w", err)
	}
	return nil
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
	if c.Stage1.ImageSize != c.UNet.ImageSize {
		return fmt.Errorf("stage1 image size %d differs from the UNet's %d", c.Stage1.ImageSize, c.UNet.ImageSize)
	}
	return nil
}

func (c UNetConfig) attnAt(res int) bool { return slices.Contains(c.AttnResolutions, res) }
