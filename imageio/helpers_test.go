package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"facereward/tensor"
)

// rawPNG builds a PNG by hand, for the variants Go's encoder never writes
// (grey+alpha) and for headers that lie (decompression bombs, zero sizes).
// rows holds the unfiltered scanlines; idat is compressed from them.
func rawPNG(w, h uint32, depth, colorType byte, rows [][]byte) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		buf.Write(n[:])
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		buf.WriteString(typ)
		buf.Write(data)
		binary.BigEndian.PutUint32(n[:], c.Sum32())
		buf.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colorType
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for _, r := range rows {
		zw.Write([]byte{0}) // filter: none
		zw.Write(r)
	}
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return buf.Bytes()
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// maxAbsDiff fails the test on a shape mismatch and returns the largest
// elementwise difference otherwise.
func maxAbsDiff(t *testing.T, a, b *tensor.Tensor) float64 {
	t.Helper()
	if !tensor.SameShape(a.Shape, b.Shape) {
		t.Fatalf("shapes %v and %v differ", a.Shape, b.Shape)
	}
	d := 0.0
	for i := range a.Data {
		d = math.Max(d, math.Abs(float64(a.Data[i])-float64(b.Data[i])))
	}
	return d
}

func meanAbsDiff(a, b *tensor.Tensor) float64 {
	s := 0.0
	for i := range a.Data {
		s += math.Abs(float64(a.Data[i]) - float64(b.Data[i]))
	}
	return s / float64(len(a.Data))
}

func mustRead(t *testing.T, path string) *tensor.Tensor {
	t.Helper()
	img, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
