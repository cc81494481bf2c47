package degrade

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"facereward/tensor"
)

// testFace is a real 128×128 face kept in testdata, so these tests need no
// shared data folder.
func testFace(t testing.TB) *tensor.Tensor {
	return readFixture(t, "degrade_jpeg_src_04801.png")
}

func flat(h, w int, v float32) *tensor.Tensor {
	img := tensor.New(h, w, 3)
	for i := range img.Data {
		img.Data[i] = v
	}
	return img
}

// noiseOnly is a config whose only step is Gaussian noise of σ levels.
func noiseOnly(sigma, grayProb float64) Config {
	c, _ := Preset("diffbir")
	c.Blur, c.Down, c.JPEG, c.Quantize = false, false, false, false
	c.NoiseRange = [2]float64{sigma, sigma}
	c.GrayNoiseProb = grayProb
	return c
}

func TestNoiseStatistics(t *testing.T) {
	const sigma = 10.0 // levels; 0.5 ± 4σ stays inside [0, 1], so no clipping
	img := flat(256, 256, 0.5)
	for _, gray := range []bool{false, true} {
		p := 0.0
		if gray {
			p = 1
		}
		lq, rec, err := Degrade(rand.New(rand.NewPCG(3, 4)), img, noiseOnly(sigma, p))
		if err != nil {
			t.Fatal(err)
		}
		if rec.GrayNoise != gray || rec.NoiseSigma != sigma || rec.NoiseSigmaApplied != sigma {
			t.Fatalf("record %+v", rec)
		}
		var sum, sq, cross float64
		n := 0
		for i := 0; i < len(lq.Data); i += 3 {
			r, g, b := lq.Data[i]-0.5, lq.Data[i+1]-0.5, lq.Data[i+2]-0.5
			if gray && (r != g || g != b) {
				t.Fatalf("grey noise differs across channels at pixel %d: %v %v %v", i/3, r, g, b)
			}
			for _, v := range []float32{r, g, b} {
				sum += float64(v)
				sq += float64(v) * float64(v)
				n++
			}
			cross += float64(r) * float64(g)
		}
		want := sigma / 255
		mean, std := sum/float64(n), math.Sqrt(sq/float64(n))
		// Independent draws per pixel (grey: per pixel, not per value).
		draws := float64(n)
		if gray {
			draws /= 3
		}
		if math.Abs(mean) > 4*want/math.Sqrt(draws) {
			t.Errorf("gray=%v: mean %.2e, want ≈ 0 (4σ/√n = %.2e)", gray, mean, 4*want/math.Sqrt(draws))
		}
		if math.Abs(std/want-1) > 0.02 {
			t.Errorf("gray=%v: std %.5f, want %.5f ± 2%%", gray, std, want)
		}
		corr := cross / float64(n/3) / (want * want)
		if !gray && math.Abs(corr) > 0.03 {
			t.Errorf("colour noise: R–G correlation %.3f, want ≈ 0", corr)
		}
		t.Logf("gray=%v: mean %.2e, std %.5f (want %.5f), R–G correlation %.3f", gray, mean, std, want, corr)
	}
}

func TestNoiseClipsToUnitRange(t *testing.T) {
	lq, _, err := Degrade(rand.New(rand.NewPCG(5, 6)), flat(64, 64, 0.99), noiseOnly(20, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range lq.Data {
		if v < 0 || v > 1 {
			t.Fatalf("value %v outside [0, 1]", v)
		}
	}
}

func TestSameSeedSameBytes(t *testing.T) {
	face := testFace(t)
	for _, name := range PresetNames() {
		c, _ := Preset(name)
		c = c.AtSize(128)
		c.JitterProb, c.GrayProb = 0.5, 0.5 // exercise every step
		a, ra, err := Degrade(rand.New(rand.NewPCG(11, 12)), face, c)
		if err != nil {
			t.Fatal(err)
		}
		b, rb, err := Degrade(rand.New(rand.NewPCG(11, 12)), face, c)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.Shape, b.Shape) || !reflect.DeepEqual(ra, rb) {
			t.Fatalf("%s: records differ: %+v vs %+v", name, ra, rb)
		}
		for i := range a.Data {
			if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
				t.Fatalf("%s: value %d differs: %v vs %v", name, i, a.Data[i], b.Data[i])
			}
		}
		c2, _, err := Degrade(rand.New(rand.NewPCG(11, 13)), face, c)
		if err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(a.Data, c2.Data) {
			t.Errorf("%s: seeds (11,12) and (11,13) gave the same image", name)
		}
	}
}

func TestDegradeDoesNotModifyInput(t *testing.T) {
	face := testFace(t)
	orig := face.Clone()
	for _, blur := range []bool{true, false} {
		c := noiseOnly(15, 0)
		c.Blur = blur
		if _, _, err := Degrade(rand.New(rand.NewPCG(1, 1)), face, c); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(face.Data, orig.Data) {
			t.Fatalf("blur=%v: the input image changed", blur)
		}
	}
}

func TestRecordJSONRoundTrip(t *testing.T) {
	face := testFace(t)
	c, _ := Preset("gfpgan")
	c = c.AtSize(128)
	c.JitterProb, c.GrayProb, c.GrayNoiseProb = 1, 1, 1
	c.KernelTypes = append([]KernelType(nil), AllKernelTypes()...)
	c.KernelProbs = []float64{0, 0, 0, 0, 0, 1} // plateau_aniso: every kernel field set
	_, rec, err := Degrade(rand.New(rand.NewPCG(7, 8)), face, c)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kernel == nil || rec.Kernel.Beta == 0 || rec.Jitter == nil || !rec.Gray || !rec.GrayNoise || rec.JPEGQuality == 0 {
		t.Fatalf("record lacks fields: %+v", rec)
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rec, back) {
		t.Fatalf("round trip changed the record:\n%+v\n%+v\n%s", rec, back, raw)
	}
	t.Logf("%s", raw)
}

func TestEveryPresetAt128(t *testing.T) {
	face := testFace(t)
	for _, name := range PresetNames() {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(c.AtSize(128))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rng := rand.New(rand.NewPCG(21, 22))
		for range 20 {
			lq, rec, err := d.Degrade(rng, face)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(lq.Shape, []int{128, 128, 3}) {
				t.Fatalf("%s: LQ shape %v", name, lq.Shape)
			}
			for _, v := range lq.Data {
				// Quantised: an exact multiple of 1/255 in [0, 1].
				if l := v * 255; v < 0 || v > 1 || l != float32(math.Round(float64(l))) {
					t.Fatalf("%s: value %v is not an 8-bit level (record %+v)", name, v, rec)
				}
			}
			if rec.Kernel == nil || rec.Kernel.Size != 11 || rec.JPEGQuality == 0 || rec.ScaleApplied < 1 {
				t.Fatalf("%s: record %+v", name, rec)
			}
		}
	}
}

func TestPresetsAsPublished(t *testing.T) {
	want := map[string][4][2]float64{ // sigma, down, noise, jpeg
		"diffbir":          {{0.1, 12}, {1, 12}, {0, 15}, {30, 100}},
		"gfpgan":           {{0.1, 10}, {0.8, 8}, {0, 20}, {60, 100}},
		"codeformer":       {{0.1, 10}, {1, 12}, {0, 15}, {60, 100}},
		"codeformer-large": {{1, 15}, {4, 30}, {0, 20}, {30, 80}},
	}
	for name, w := range want {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		got := [4][2]float64{c.Sigma, c.DownRange, c.NoiseRange, {float64(c.JPEGRange[0]), float64(c.JPEGRange[1])}}
		if got != w || c.KernelSize != 41 || c.Size != 512 || c.Validate() != nil {
			t.Errorf("%s: %+v", name, c)
		}
	}
	g, _ := Preset("gfpgan")
	if g.JitterProb != 0.3 || g.JitterShift != 20 || g.GrayProb != 0.01 {
		t.Errorf("gfpgan colour: %+v", g)
	}
	if _, err := Preset("realesrgan"); err == nil || !strings.Contains(err.Error(), "diffbir") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestAtSize(t *testing.T) {
	for _, name := range PresetNames() {
		c, _ := Preset(name)
		if got := c.AtSize(PresetSize); !reflect.DeepEqual(got, c) {
			t.Errorf("%s: AtSize(512) changed the config:\n%+v\n%+v", name, c, got)
		}
	}
	c, _ := Preset("diffbir")
	s := c.AtSize(128)
	if s.Size != 128 || s.RefSize != 512 || s.KernelSize != 11 || s.Sigma != [2]float64{0.025, 3} || s.DownRange != [2]float64{0.25, 3} {
		t.Errorf("AtSize(128): %+v", s)
	}
	if c.Size != 512 || c.RefSize != 0 {
		t.Errorf("AtSize changed its receiver: %+v", c)
	}
	s.KernelProbs[0] = 0.9
	if c.KernelProbs[0] != 0.5 {
		t.Error("AtSize's result shares KernelProbs with its receiver")
	}
	// In steps: the same config (the kernel size rounds the same here).
	if two := c.AtSize(256).AtSize(128); !reflect.DeepEqual(two, c.AtSize(128)) {
		t.Errorf("512→256→128 %+v\n differs from 512→128 %+v", two, c.AtSize(128))
	}
	if k := c.AtSize(16).KernelSize; k != 3 {
		t.Errorf("AtSize(16) kernel size %d, want 3", k)
	}
}

func TestScaleQuality(t *testing.T) {
	for _, c := range []struct {
		q    int
		f    float64
		want int
	}{{30, 1, 30}, {60, 1, 60}, {30, 1.0 / 16, 95}, {60, 1.0 / 16, 98}, {90, 1.0 / 16, 99}, {10, 0.5, 20}, {40, 0.5, 69}, {100, 0.5, 100}} {
		if got := scaleQuality(c.q, c.f); got != c.want {
			t.Errorf("scaleQuality(%d, %g) = %d, want %d", c.q, c.f, got, c.want)
		}
	}
}

func TestSet(t *testing.T) {
	c, _ := Preset("diffbir")
	for k, v := range map[string]string{
		"sigma": "0.5, 4", "kernel_size": "21", "kernel_types": "iso,plateau_aniso", "kernel_probs": "1,3",
		"jpeg_range": "50,95", "noise": "false", "gray_prob": "0.2", "jitter_shift": "10", "ref_size": "512",
	} {
		if err := c.Set(k, v); err != nil {
			t.Fatalf("Set(%s, %s): %v", k, v, err)
		}
	}
	if c.Sigma != [2]float64{0.5, 4} || c.KernelSize != 21 || c.KernelTypes[1] != PlateauAniso || c.KernelProbs[1] != 3 ||
		c.JPEGRange != [2]int{50, 95} || c.Noise || c.GrayProb != 0.2 || c.JitterShift != 10 || c.RefSize != 512 {
		t.Fatalf("after Set: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	before := c
	for _, kv := range [][3]string{ // key, value, part of the message
		{"sigmas", "1,2", "valid keys"},
		{"sigma", "1", "two numbers"},
		{"sigma", "3,1", "above"},
		{"sigma", "a,b", "not a finite number"},
		{"kernel_size", "x", "not an integer"},
		{"kernel_types", "iso,box", "unknown kernel type"},
		{"noise", "maybe", "boolean"},
		{"jpeg_range", "50", "two integers"},
		{"gray_prob", "NaN", "finite"},
	} {
		err := c.Set(kv[0], kv[1])
		if err == nil || !strings.Contains(err.Error(), kv[2]) {
			t.Errorf("Set(%s, %s): error %v, want one mentioning %q", kv[0], kv[1], err, kv[2])
		}
	}
	if !reflect.DeepEqual(c, before) {
		t.Errorf("failed Sets changed the config")
	}
	err := c.Set("nope", "1")
	for _, k := range []string{"sigma (lo,hi)", "jpeg_range", "kernel_types (list of iso|aniso|"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("unknown-key error does not list %q: %v", k, err)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	base, _ := Preset("gfpgan")
	for key, mutate := range map[string]func(c *Config){
		"kernel_size":  func(c *Config) { c.KernelSize = 40 },
		"kernel_probs": func(c *Config) { c.KernelProbs = []float64{1} },
		"sigma":        func(c *Config) { c.Sigma = [2]float64{0, 1} },
		"down_range":   func(c *Config) { c.DownRange = [2]float64{0, 2} },
		"noise_range":  func(c *Config) { c.NoiseRange = [2]float64{-1, 2} },
		"jpeg_range":   func(c *Config) { c.JPEGRange = [2]int{0, 90} },
		"gray_prob":    func(c *Config) { c.GrayProb = 1.5 },
		"jitter_prob":  func(c *Config) { c.JitterProb = -0.1 },
		"size":         func(c *Config) { c.Size = 0 },
		// Costs that would be unbounded: a 257-tap kernel, and a factor
		// that would enlarge a 512-px face to 512,000 px.
		"kernel_size 257":          func(c *Config) { c.KernelSize = 257 },
		"down_range low end 0.001": func(c *Config) { c.DownRange = [2]float64{0.001, 2} },
	} {
		c := base
		c.KernelProbs = append([]float64(nil), base.KernelProbs...)
		mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: Validate() = %v", key, err)
		}
		if _, _, err := Degrade(rand.New(rand.NewPCG(1, 1)), flat(8, 8, 0.5), c); err == nil {
			t.Errorf("%s: Degrade accepted an invalid config", key)
		}
	}
	// A step that is off is not checked.
	c := base
	c.JPEG, c.JPEGRange = false, [2]int{0, 0}
	if err := c.Validate(); err != nil {
		t.Errorf("JPEG off: %v", err)
	}
}

func TestDegradeRejectsBadImages(t *testing.T) {
	c, _ := Preset("diffbir")
	for _, img := range []*tensor.Tensor{nil, tensor.New(8, 8), tensor.New(8, 8, 1), tensor.New(0, 8, 3)} {
		if _, _, err := Degrade(rand.New(rand.NewPCG(1, 1)), img, c.AtSize(8)); err == nil {
			t.Errorf("accepted %v", img)
		}
	}
}

func TestGrayAndJitter(t *testing.T) {
	face := testFace(t)
	c := noiseOnly(0, 0)
	c.Noise = false
	c.GrayProb = 1
	lq, rec, err := Degrade(rand.New(rand.NewPCG(1, 2)), face, c)
	if err != nil || !rec.Gray {
		t.Fatal(err, rec)
	}
	for i := 0; i < len(lq.Data); i += 3 {
		if lq.Data[i] != lq.Data[i+1] || lq.Data[i] != lq.Data[i+2] {
			t.Fatalf("pixel %d not grey", i/3)
		}
	}
	c.GrayProb, c.JitterProb, c.JitterShift, c.Quantize = 0, 1, 20, true
	lq, rec, err = Degrade(rand.New(rand.NewPCG(1, 2)), flat(4, 4, 0.5), c)
	if err != nil || rec.Jitter == nil {
		t.Fatal(err, rec)
	}
	for ch, s := range rec.Jitter {
		if math.Abs(s) > 20 {
			t.Fatalf("shift %v beyond ±20", s)
		}
		want := float32(math.Round(127.5+s)) / 255 // 0.5 + s/255, then quantised (ties are not hit)
		if got := lq.Data[ch]; math.Abs(float64(got-want)) > 1e-6 {
			t.Errorf("channel %d: %v, want %v", ch, got, want)
		}
	}
}
