package train

import (
	"math"
	"strings"
	"testing"
)

// Each count out of range is named by its flag; the defaults pass.
func TestCountsValidate(t *testing.T) {
	ok := Counts{Steps: 10, Batch: 8, SaveEvery: 5, LR: 1e-4, Clip: 1, EMA: 0.999}
	if err := ok.Validate("train x"); err != nil {
		t.Fatalf("valid counts: %v", err)
	}
	for _, c := range []struct {
		edit func(*Counts)
		want string
	}{
		{func(c *Counts) { c.Steps = 0 }, "train x: --steps 0, want ≥ 1"},
		{func(c *Counts) { c.Until = -1 }, "--until -1"},
		{func(c *Counts) { c.Batch = 0 }, "--batch 0"},
		{func(c *Counts) { c.Warmup = -1 }, "--warmup -1"},
		{func(c *Counts) { c.EvalEvery = -1 }, "--eval-every -1"},
		{func(c *Counts) { c.EvalFaces = -1 }, "--eval-faces -1"},
		{func(c *Counts) { c.SaveEvery = 0 }, "--save-every 0"},
		{func(c *Counts) { c.KeepCheckpts = -1 }, "keep_checkpoints -1"},
		{func(c *Counts) { c.LR = math.NaN() }, "--lr NaN"},
		{func(c *Counts) { c.LR = 0 }, "--lr 0"},
		{func(c *Counts) { c.LR = math.Inf(1) }, "--lr +Inf"},
		{func(c *Counts) { c.WeightDecay = -0.1 }, "--weight-decay -0.1"},
		{func(c *Counts) { c.Clip = math.NaN() }, "--clip NaN"},
		{func(c *Counts) { c.EMA = 1 }, "--ema 1"},
	} {
		bad := ok
		c.edit(&bad)
		if err := bad.Validate("train x"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", bad, err, c.want)
		}
	}
	for _, o := range []struct {
		name string
		c    Counts
	}{
		{"stage 1", func() Counts {
			o := DefaultStage1Options("")
			return Counts{Steps: o.Steps, Batch: o.Batch, Warmup: o.Warmup, EvalEvery: o.EvalEvery, EvalFaces: o.EvalFaces, SaveEvery: o.SaveEvery, KeepCheckpts: o.KeepCheckpts, LR: o.LR, Clip: o.Clip, EMA: o.EMA}
		}()},
		{"stage 2", func() Counts {
			o := DefaultStage2Options("")
			return Counts{Steps: o.Steps, Batch: o.Batch, Warmup: o.Warmup, EvalEvery: o.EvalEvery, EvalFaces: o.EvalFaces, SaveEvery: o.SaveEvery, KeepCheckpts: o.KeepCheckpts, LR: o.LR, Clip: o.Clip, EMA: o.EMA}
		}()},
	} {
		if err := o.c.Validate(o.name); err != nil {
			t.Errorf("%s defaults: %v", o.name, err)
		}
	}
}
