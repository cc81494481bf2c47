package imageio

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"facereward/tensor"
)

// fuzzLimits are small limits, so that the fuzzer also probes the limit
// checks (and a lying header cannot make one exec allocate much).
var fuzzLimits = Limits{MaxPixels: 64 * 64, MaxFileBytes: 64 << 10}

// FuzzDecode feeds arbitrary bytes to DecodeConfig and Decode. Images come
// from users and from the network (the restore API), so no input may
// panic, and an accepted one must be what every caller assumes: an
// [H W 3] tensor whose H·W respects the limit, with finite values in
// [0, 1], and whose size is the one DecodeConfig reported (up to the
// transpose an EXIF orientation makes).
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "imageio", "*.*p*g"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) <= 4<<10 {
			f.Add(data)
		}
	}
	var png, jpg bytes.Buffer
	if err := EncodePNG(&png, ramp(5, 7, 3)); err != nil {
		f.Fatal(err)
	}
	if err := EncodeJPEG(&jpg, ramp(9, 6, 3), 80); err != nil {
		f.Fatal(err)
	}
	f.Add(png.Bytes())
	f.Add(jpg.Bytes())
	f.Add(withExif(jpg.Bytes(), binary.BigEndian, 3, 6))
	f.Add(rawPNG(2, 1, 8, 4, [][]byte{{10, 200, 30, 40}})) // grey + alpha
	f.Add(rawPNG(100, 100, 8, 0, nil))                     // over the pixel limit
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, cfgErr := fuzzLimits.DecodeConfig(bytes.NewReader(data), "fuzz")
		if cfgErr == nil && int64(cfg.Width)*int64(cfg.Height) > fuzzLimits.MaxPixels {
			t.Fatalf("DecodeConfig accepted %d×%d, above the limit", cfg.Width, cfg.Height)
		}
		img, err := fuzzLimits.Decode(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		if cfgErr != nil {
			t.Fatalf("Decode accepted what DecodeConfig refused: %v", cfgErr)
		}
		checkDecoded(t, img, cfg)
	})
}

// checkDecoded checks what every caller of Decode relies on.
func checkDecoded(t *testing.T, img *tensor.Tensor, cfg Config) {
	t.Helper()
	if len(img.Shape) != 3 || img.Shape[2] != 3 || img.Shape[0] < 1 || img.Shape[1] < 1 {
		t.Fatalf("shape %v, want [H W 3]", img.Shape)
	}
	if len(img.Data) != tensor.Numel(img.Shape) {
		t.Fatalf("shape %v with %d values", img.Shape, len(img.Data))
	}
	h, w := img.Shape[0], img.Shape[1]
	if int64(h)*int64(w) > fuzzLimits.MaxPixels {
		t.Fatalf("decoded %d×%d, above the limit of %d pixels", w, h, fuzzLimits.MaxPixels)
	}
	same := h == cfg.Height && w == cfg.Width
	transposed := cfg.Format == "jpeg" && h == cfg.Width && w == cfg.Height
	if !same && !transposed {
		t.Fatalf("decoded %d×%d, header said %d×%d (%s)", w, h, cfg.Width, cfg.Height, cfg.Format)
	}
	for i, v := range img.Data {
		if math.IsNaN(float64(v)) || v < 0 || v > 1 {
			t.Fatalf("value %d is %g, outside [0, 1]", i, v)
		}
	}
}
