package train

import (
	"fmt"
	"math"
)

// Counts are the settings every training run shares, each named by the
// flag that sets it. Validate checks them before any work: a run with no
// step would export an untrained model, a checkpoint interval of 0 divides
// by zero in the loop, and NaN passes every range comparison.
type Counts struct {
	Steps, Until, Batch, Warmup, EvalEvery, EvalFaces, SaveEvery, KeepCheckpts int
	LR, WeightDecay, Clip, EMA                                                 float64
}

// Validate returns the first setting out of range, naming its flag.
func (c Counts) Validate(label string) error {
	ints := []struct {
		flag string
		v    int
		min  int
	}{
		{"--steps", c.Steps, 1}, {"--until", c.Until, 0}, {"--batch", c.Batch, 1}, {"--warmup", c.Warmup, 0},
		{"--eval-every", c.EvalEvery, 0}, {"--eval-faces", c.EvalFaces, 0}, {"--save-every", c.SaveEvery, 1},
		{"keep_checkpoints", c.KeepCheckpts, 0},
	}
	for _, s := range ints {
		if s.v < s.min {
			return fmt.Errorf("%s: %s %d, want ≥ %d", label, s.flag, s.v, s.min)
		}
	}
	floats := []struct {
		flag   string
		v      float64
		ok     bool
		wanted string
	}{
		{"--lr", c.LR, c.LR > 0, "> 0"},
		{"--weight-decay", c.WeightDecay, c.WeightDecay >= 0, "≥ 0"},
		{"--clip", c.Clip, c.Clip >= 0, "≥ 0 (0: no clipping)"},
		{"--ema", c.EMA, c.EMA >= 0 && c.EMA < 1, "in [0, 1)"},
	}
	for _, s := range floats {
		if !s.ok || math.IsInf(s.v, 0) {
			return fmt.Errorf("%s: %s %v, want a finite number %s", label, s.flag, s.v, s.wanted)
		}
	}
	return nil
}
