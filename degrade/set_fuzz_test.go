package degrade

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"facereward/tensor"
)

// FuzzSet feeds a preset and arbitrary --set overrides (one key=value a
// line, as the CLI's flags give them) through Config.Set, AtSize and
// Validate, as SetOptions.config does. --set values come from people, so
// no input may panic; a failed Set must leave the Config as it was (the
// parsers promise it); a Config that validates must build a Degrader;
// and when its sizes are small enough to run in a fuzz exec, degrading a
// 16×16 face must give a [16 16 3] image of finite values in [0, 1].
func FuzzSet(f *testing.F) {
	f.Add(uint8(0), 16, "")
	f.Add(uint8(1), 128, "sigma=0.5,2\nnoise=false")
	f.Add(uint8(2), 64, "kernel_types=iso,aniso,generalized_iso\nkernel_probs=1,1,1\nkernel_size=7")
	f.Add(uint8(3), 32, "jpeg_range=5,95\njitter_prob=1\njitter_shift=40\ngray_prob=1")
	f.Add(uint8(0), 512, "down_range=0.5,2\ngray_noise_prob=0.5\nquantize=0")
	f.Add(uint8(2), 16, "angle=-1e308,1e308\nbeta_g=1,1e300")
	f.Add(uint8(1), 16, "size=0\nref_size=-1")
	f.Add(uint8(0), 16, "nope=1\nblur")
	f.Add(uint8(3), 16, "sigma=3,1\njpeg_range=0,101\nkernel_probs=NaN")

	hq := tensor.New(16, 16, 3)
	for i := range hq.Data {
		hq.Data[i] = float32(i%97) / 96
	}
	f.Fuzz(func(t *testing.T, preset uint8, size int, sets string) {
		if len(sets) > 4<<10 {
			return
		}
		names := PresetNames()
		c, err := Preset(names[int(preset)%len(names)])
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range strings.Split(sets, "\n") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			before := cloneConfig(c)
			if err := c.Set(k, v); err != nil && !reflect.DeepEqual(before, c) {
				t.Fatalf("a failed Set(%q, %q) changed the config: %v", k, v, err)
			}
		}
		c = c.AtSize(size)
		if c.Validate() != nil {
			return
		}
		d, err := New(c)
		if err != nil {
			t.Fatalf("New refused a config that validates: %v", err)
		}
		if !smallEnough(c) {
			return
		}
		lq, _, err := d.Degrade(rand.New(rand.NewPCG(1, 2)), hq)
		if err != nil {
			return // a kernel the draw cannot make is an error, not a panic
		}
		if !reflect.DeepEqual(lq.Shape, []int{16, 16, 3}) {
			t.Fatalf("degraded shape %v, want [16 16 3]", lq.Shape)
		}
		for i, v := range lq.Data {
			if math.IsNaN(float64(v)) || v < 0 || v > 1 {
				t.Fatalf("degraded value %d is %g, outside [0, 1]; config %+v", i, v, c)
			}
		}
	})
}

// smallEnough says whether degrading a 16×16 image with c stays cheap:
// Validate bounds neither the kernel nor how far down_range below 1
// enlarges the image, so the fuzz target does.
func smallEnough(c Config) bool {
	return (!c.Blur || c.KernelSize <= 51) && (!c.Down || c.DownRange[0] >= 0.25)
}

// cloneConfig copies c's slices, so a Set that writes into them shows.
func cloneConfig(c Config) Config {
	c.KernelTypes = append([]KernelType(nil), c.KernelTypes...)
	c.KernelProbs = append([]float64(nil), c.KernelProbs...)
	return c
}
