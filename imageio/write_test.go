package imageio

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/tensor"
)

func TestTo8Rounding(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		v    float32
		want uint8
	}{
		{-1, 0}, {0, 0}, {nan, 0}, {float32(math.Inf(-1)), 0},
		{0.5 / 255, 1},     // halves round up
		{0.49 / 255, 0},    // below half rounds down
		{0.5, 128},         // 127.5 → 128
		{100.0 / 255, 100}, // exact levels survive
		{1, 255}, {1.7, 255}, {float32(math.Inf(1)), 255},
	} {
		if got := to8(c.v); got != c.want {
			t.Errorf("to8(%v) = %d, want %d", c.v, got, c.want)
		}
	}
	for k := range 256 {
		if got := to8(float32(k) / 255); int(got) != k {
			t.Errorf("level %d comes back as %d", k, got)
		}
	}
}

func ramp(h, w, c int) *tensor.Tensor {
	t := tensor.New(h, w, c)
	for i := range t.Data {
		t.Data[i] = float32(i%256) / 255
	}
	return t
}

func TestWritePNGRoundTrip(t *testing.T) {
	dir := t.TempDir()
	img := ramp(17, 23, 3)
	p := filepath.Join(dir, "out.png")
	if err := WritePNG(p, img); err != nil {
		t.Fatal(err)
	}
	// Overwriting must work too, and leave no temporary files behind.
	if err := WritePNG(p, img); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(t, mustRead(t, p), img); d != 0 {
		t.Errorf("8-bit levels changed by %g", d)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after writing, want only out.png", len(entries))
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm()&0o044 == 0 {
		t.Errorf("mode %v, want group/other readable (%v)", st.Mode(), err)
	}

	grey := ramp(5, 6, 1)
	pg := filepath.Join(dir, "grey.png")
	if err := WritePNG(pg, grey); err != nil {
		t.Fatal(err)
	}
	back := mustRead(t, pg)
	for i, v := range grey.Data {
		if back.Data[3*i] != v || back.Data[3*i+1] != v || back.Data[3*i+2] != v {
			t.Fatalf("grey pixel %d: got %v, want %v in all channels", i, back.Data[3*i:3*i+3], v)
		}
	}
}

func TestWriteJPEG(t *testing.T) {
	dir := t.TempDir()
	img := tensor.New(32, 48, 3)
	for y := range 32 {
		for x := range 48 {
			i := (y*48 + x) * 3
			img.Data[i], img.Data[i+1], img.Data[i+2] = float32(x)/47, float32(y)/31, 0.5
		}
	}
	p := filepath.Join(dir, "out.jpg")
	if err := WriteJPEG(p, img, 95); err != nil {
		t.Fatal(err)
	}
	if d := meanAbsDiff(mustRead(t, p), img); d > 0.01 {
		t.Errorf("quality 95 JPEG is off by %g on average", d)
	}
	var lo, hi bytes.Buffer
	if err := EncodeJPEG(&lo, img, 10); err != nil {
		t.Fatal(err)
	}
	if err := EncodeJPEG(&hi, img, 95); err != nil {
		t.Fatal(err)
	}
	if lo.Len() >= hi.Len() {
		t.Errorf("quality 10 gave %d bytes, quality 95 %d: quality is not applied", lo.Len(), hi.Len())
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	bad := tensor.New(4, 4, 2)
	p := filepath.Join(dir, "bad.png")
	err := WritePNG(p, bad)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "[4 4 2]") {
		t.Errorf("two-channel tensor: %v", err)
	}
	if _, statErr := os.Stat(p); statErr == nil {
		t.Error("a file was created for a tensor that cannot be written")
	}
	err = WriteJPEG(filepath.Join(dir, "q.jpg"), ramp(2, 2, 3), 0)
	if err == nil || !strings.Contains(err.Error(), "q.jpg") || !strings.Contains(err.Error(), "quality 0") {
		t.Errorf("quality 0: %v", err)
	}
	p = filepath.Join(dir, "no", "such", "dir", "x.png")
	if err := WritePNG(p, ramp(2, 2, 3)); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("missing directory: %v", err)
	}
	if err := EncodePNG(&bytes.Buffer{}, &tensor.Tensor{Shape: []int{2, 2, 3}, Data: make([]float32, 3)}); err == nil {
		t.Error("a tensor with too little data was encoded")
	}
	defer func() {
		if recover() == nil {
			t.Error("ToRGBA accepted a [2 2] tensor")
		}
	}()
	ToRGBA(tensor.New(2, 2))
}

func TestToNRGBAMatchesToRGBA(t *testing.T) {
	img := ramp(3, 5, 3)
	img.Data[0], img.Data[1] = -0.3, 1.4
	a, b := ToRGBA(img), ToNRGBA(img)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Errorf("ToRGBA and ToNRGBA differ for opaque pixels")
	}
	if a.Pix[0] != 0 || a.Pix[1] != 255 || a.Pix[3] != 255 {
		t.Errorf("first pixel %v, want clamped [0 255 x 255]", a.Pix[:4])
	}
}
