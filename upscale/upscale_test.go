package upscale

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/imageio"
	"facereward/nn"
	"facereward/safetensors"
	"facereward/tensor"
)

const fixtures = "../testdata/esrgan"

// golden is tools/esrgan/golden.js's fixture: TF.js's raw output for each
// input PNG.
type golden struct {
	Cases []struct {
		Input, Output string
		Shape         []int
	}
}

func readGolden(t *testing.T, name string) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("no cases in the fixture")
	}
	return g
}

func readF32(t *testing.T, file string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, file))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d", file, len(b), 4*n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// diff returns the largest and mean absolute differences of a and b.
func diff(a, b []float32) (maxd, mean float64) {
	for i, v := range a {
		d := math.Abs(float64(v - b[i]))
		maxd = max(maxd, d)
		mean += d
	}
	return maxd, mean / float64(len(a))
}

// TestParity compares the embedded model with TF.js on the committed crops:
// the raw output of one pass, then Upscale's clipped output computed in
// uneven tiles (the 28×20 crop in 12-pixel tiles leaves 4- and 8-pixel
// ones), whose seams must not move it either.
func TestParity(t *testing.T) {
	net, err := Load(Default)
	if err != nil {
		t.Fatal(err)
	}
	if net.Scale != 2 {
		t.Fatalf("scale %d, want 2", net.Scale)
	}
	for _, c := range readGolden(t, Default).Cases {
		img, err := imageio.Read(filepath.Join(fixtures, c.Input))
		if err != nil {
			t.Fatal(err)
		}
		want := readF32(t, c.Output, tensor.Numel(c.Shape))
		g := nn.NewGraph()
		g.NoGrad = true
		raw := net.raw(g, img)
		if !tensor.SameShape(raw.Shape, c.Shape) {
			t.Fatalf("%s: output %v, want %v", c.Input, raw.Shape, c.Shape)
		}
		// F16 weights move the output by about 4e-4 at most (F32: 1e-6).
		maxd, mean := diff(raw.Data, want)
		t.Logf("%s: raw output vs TF.js: max %.2g, mean %.2g", c.Input, maxd, mean)
		if maxd > 1e-3 || mean > 2e-4 {
			t.Errorf("%s: raw output differs from TF.js by max %.3g, mean %.3g (want ≤ 1e-3, 2e-4)", c.Input, maxd, mean)
		}

		for i, v := range want {
			want[i] = min(max(v, 0), 1)
		}
		tile := 16
		if img.Shape[0] != img.Shape[1] {
			tile = 12
		}
		var calls [][2]int
		out, err := net.Upscale(img, tile, func(done, total int) { calls = append(calls, [2]int{done, total}) })
		if err != nil {
			t.Fatal(err)
		}
		rows, cols := (img.Shape[0]+tile-1)/tile, (img.Shape[1]+tile-1)/tile
		if len(calls) != rows*cols || calls[0] != [2]int{1, rows * cols} || calls[len(calls)-1] != [2]int{rows * cols, rows * cols} {
			t.Errorf("%s: progress calls %v, want 1…%d of %d", c.Input, calls, rows*cols, rows*cols)
		}
		maxd, mean = diff(out.Data, want)
		t.Logf("%s: tiled (%d) vs TF.js clipped: max %.2g, mean %.2g", c.Input, tile, maxd, mean)
		if maxd > 1e-3 || mean > 2e-4 {
			t.Errorf("%s: %d-pixel tiles differ from TF.js by max %.3g, mean %.3g (want ≤ 1e-3, 2e-4)", c.Input, tile, maxd, mean)
		}
		again, _ := net.Upscale(img, tile, nil)
		if !slicesEqual(again.Data, out.Data) {
			t.Errorf("%s: a second run differs", c.Input)
		}
	}
}

func slicesEqual(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// TestShuffleOrder checks that permuting a convolution's output channels
// makes nn.PixelShuffle compute tf.depthToSpace (NHWC: output (y·s+i,
// x·s+j, c) = input (y, x, (i·s+j)·C + c)) of the original convolution.
func TestShuffleOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randn := func(shape ...int) *tensor.Tensor {
		x := tensor.New(shape...)
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, s := range []int{2, 3} {
		const h, w, cin, co = 2, 3, 4, 3
		c := conv{nn.Constant(randn(1, 1, cin, co*s*s)), nn.Constant(randn(co * s * s)), 0}
		x := nn.Constant(randn(1, h, w, cin))
		g := nn.NewGraph()
		g.NoGrad = true
		tf := c.forward(g, x).Value // the original channel order
		got := g.PixelShuffle(torchShuffleOrder(c, s).forward(g, x), s).Value
		for y := range h * s {
			for xx := range w * s {
				for ch := range co {
					k := (y%s)*s + xx%s
					want := tf.Data[((y/s)*w+xx/s)*co*s*s+k*co+ch]
					if v := got.Data[(y*w*s+xx)*co+ch]; math.Abs(float64(v-want)) > 1e-6 {
						t.Fatalf("s=%d: (%d,%d,%d) = %g, depthToSpace gives %g", s, y, xx, ch, v, want)
					}
				}
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load("esrgan-nope"); err == nil || !strings.Contains(err.Error(), Default) {
		t.Errorf("unknown name: %v", err)
	}
	// A damaged embedded file is refused by its sha256.
	saved := embedded[Default]
	t.Cleanup(func() { embedded[Default] = saved })
	bad := bytes.Clone(saved.data)
	bad[len(bad)-1] ^= 1
	embedded[Default] = struct {
		data []byte
		sha  string
	}{bad, saved.sha}
	if _, err := Load(Default); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("damaged weights: %v", err)
	}
	embedded[Default] = saved

	if _, err := LoadFile(filepath.Join(t.TempDir(), "none.safetensors")); err == nil {
		t.Error("missing file loaded")
	}
	f, err := safetensors.ReadBytes(saved.data, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, ts map[string]*tensor.Tensor, meta map[string]string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := safetensors.Write(p, ts, meta, safetensors.F16); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The same weights through LoadFile load.
	if n, err := LoadFile(write("ok.safetensors", f.Tensors, f.Meta)); err != nil || n.Scale != 2 {
		t.Fatalf("LoadFile of the embedded weights: %v", err)
	}
	ts := map[string]*tensor.Tensor{}
	for k, v := range f.Tensors {
		ts[k] = v
	}
	delete(ts, "LFF_7_2/bias")
	if _, err := LoadFile(write("missing.safetensors", ts, f.Meta)); err == nil || !strings.Contains(err.Error(), `"LFF_7_2/bias"`) {
		t.Errorf("missing tensor: %v", err)
	}
	meta := map[string]string{}
	for k, v := range f.Meta {
		meta[k] = v
	}
	meta["G"] = "16"
	if _, err := LoadFile(write("sizes.safetensors", f.Tensors, meta)); err == nil || !strings.Contains(err.Error(), "has shape") {
		t.Errorf("wrong sizes: %v", err)
	}
	meta["architecture"] = "rdn"
	if _, err := LoadFile(write("rdn.safetensors", f.Tensors, meta)); err == nil || !strings.Contains(err.Error(), "rrdn") {
		t.Errorf("other architecture: %v", err)
	}
}

func TestUpscaleBadShape(t *testing.T) {
	net, err := Load(Default)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]int{{4, 4, 4}, {4, 4}, {0, 4, 3}} {
		if _, err := net.Upscale(tensor.New(s...), 0, nil); err == nil {
			t.Errorf("shape %v accepted", s)
		}
	}
}
