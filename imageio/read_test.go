package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"facereward/tensor"
)

// straight16 is the reference pixel every PNG variant below is built from:
// straight (unpremultiplied) 16-bit RGBA with alpha 0, partial and full.
func straight16(x, y int) (r, g, b, a uint16) {
	r = uint16(x * 9000)
	g = uint16(y * 13000)
	b = uint16(65535 - x*y*2000)
	a = uint16([]int{65535, 0, 30000, 65535, 257}[(x+y)%5])
	return
}

const pw, ph = 7, 5

// expect builds the tensor the package doc promises for a source whose
// straight samples are v(x, y) on a scale of max.
func expect(v func(x, y int) [3]uint16, scale float32) *tensor.Tensor {
	t := tensor.New(ph, pw, 3)
	for y := range ph {
		for x := range pw {
			c := v(x, y)
			for k := range 3 {
				t.Data[(y*pw+x)*3+k] = float32(c[k]) / scale
			}
		}
	}
	return t
}

func TestPNGVariants(t *testing.T) {
	nrgba := image.NewNRGBA(image.Rect(0, 0, pw, ph))
	nrgba64 := image.NewNRGBA64(image.Rect(0, 0, pw, ph))
	rgb := image.NewRGBA(image.Rect(0, 0, pw, ph))
	rgb64 := image.NewRGBA64(image.Rect(0, 0, pw, ph))
	gray := image.NewGray(image.Rect(0, 0, pw, ph))
	gray16 := image.NewGray16(image.Rect(0, 0, pw, ph))
	pal := color.Palette{}
	paletted := image.NewPaletted(image.Rect(0, 0, pw, ph), nil)
	var ga8, ga16 [][]byte // grey+alpha scanlines
	for y := range ph {
		var r8, r16 []byte
		for x := range pw {
			r, g, b, a := straight16(x, y)
			nrgba.SetNRGBA(x, y, color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)})
			nrgba64.SetNRGBA64(x, y, color.NRGBA64{r, g, b, a})
			rgb.SetRGBA(x, y, color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255})
			rgb64.SetRGBA64(x, y, color.RGBA64{r, g, b, 65535})
			gray.SetGray(x, y, color.Gray{uint8(r >> 8)})
			gray16.SetGray16(x, y, color.Gray16{r})
			paletted.Palette = append(pal, color.NRGBA{uint8(g >> 8), uint8(b >> 8), uint8(r >> 8), uint8(a >> 8)})
			pal = paletted.Palette
			paletted.SetColorIndex(x, y, uint8(len(pal)-1))
			r8 = append(r8, uint8(g>>8), uint8(a>>8))
			r16 = binary.BigEndian.AppendUint16(r16, g)
			r16 = binary.BigEndian.AppendUint16(r16, a)
		}
		ga8, ga16 = append(ga8, r8), append(ga16, r16)
	}
	hi8 := func(f func(r, g, b, a uint16) [3]uint16) func(x, y int) [3]uint16 {
		return func(x, y int) [3]uint16 { c := f(straight16(x, y)); return [3]uint16{c[0] >> 8, c[1] >> 8, c[2] >> 8} }
	}
	full := func(f func(r, g, b, a uint16) [3]uint16) func(x, y int) [3]uint16 {
		return func(x, y int) [3]uint16 { return f(straight16(x, y)) }
	}
	rgbOf := func(r, g, b, a uint16) [3]uint16 { return [3]uint16{r, g, b} }
	gbr := func(r, g, b, a uint16) [3]uint16 { return [3]uint16{g, b, r} }
	greyR := func(r, g, b, a uint16) [3]uint16 { return [3]uint16{r, r, r} }
	greyG := func(r, g, b, a uint16) [3]uint16 { return [3]uint16{g, g, g} }

	cases := []struct {
		name string
		file []byte
		want *tensor.Tensor
	}{
		{"rgba8 with alpha", encodePNG(t, nrgba), expect(hi8(rgbOf), 255)},
		{"rgba16 with alpha", encodePNG(t, nrgba64), expect(full(rgbOf), 65535)},
		{"rgb8", encodePNG(t, rgb), expect(hi8(rgbOf), 255)},
		{"rgb16", encodePNG(t, rgb64), expect(full(rgbOf), 65535)},
		{"grey8", encodePNG(t, gray), expect(hi8(greyR), 255)},
		{"grey16", encodePNG(t, gray16), expect(full(greyR), 65535)},
		{"palette with transparency", encodePNG(t, paletted), expect(hi8(gbr), 255)},
		{"grey+alpha8", rawPNG(pw, ph, 8, 4, ga8), expect(hi8(greyG), 255)},
		{"grey+alpha16", rawPNG(pw, ph, 16, 4, ga16), expect(full(greyG), 65535)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(c.file), c.name)
			if err != nil {
				t.Fatal(err)
			}
			// The promise is v/255 or v/65535 exactly, so no tolerance.
			if d := maxAbsDiff(t, got, c.want); d != 0 {
				t.Errorf("differs from the straight colours by up to %g", d)
			}
		})
	}
}

// The fast paths must agree with the generic At() path, including on
// sub-images whose bounds do not start at the origin. For Y'CbCr the
// reference is At()'s samples through color.YCbCrToRGB, the 8-bit
// conversion libjpeg also uses (At().RGBA() computes a 16-bit one instead).
func TestFromImageFastPathsMatchGeneric(t *testing.T) {
	r := image.Rect(0, 0, 9, 6)
	rgba := image.NewRGBA(r)
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 5)
	}
	for i := 3; i < len(rgba.Pix); i += 4 {
		rgba.Pix[i] = 255 // opaque, so RGBA() loses nothing
	}
	gray := image.NewGray(r)
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 3)
	}
	sub := image.Rect(2, 1, 8, 5)
	imgs := []image.Image{rgba, gray, rgba.SubImage(sub), gray.SubImage(sub)}
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444,
		image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440} {
		ycc := image.NewYCbCr(r, ratio)
		for i := range ycc.Y {
			ycc.Y[i] = uint8(i * 7)
		}
		for i := range ycc.Cb {
			ycc.Cb[i], ycc.Cr[i] = uint8(i*31), uint8(255-i*17)
		}
		imgs = append(imgs, ycc, ycc.SubImage(sub),
			&image.NYCbCrA{YCbCr: *ycc, A: make([]uint8, len(ycc.Y)), AStride: ycc.YStride})
	}
	for _, img := range imgs {
		fast := FromImage(img)
		slow := tensor.New(img.Bounds().Dy(), img.Bounds().Dx(), 3)
		switch m := img.(type) {
		case *image.YCbCr:
			yccReference(slow.Data, m)
		case *image.NYCbCrA:
			yccReference(slow.Data, &m.YCbCr) // alpha is dropped
		default:
			fromGeneric(slow.Data, img)
		}
		if d := maxAbsDiff(t, fast, slow); d > 1e-6 {
			t.Errorf("%T %v: fast path differs from the reference by %g", img, img.Bounds(), d)
		}
	}
}

func yccReference(dst []float32, m *image.YCbCr) {
	o := 0
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := m.At(x, y).(color.YCbCr)
			r, g, bl := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
			dst[o], dst[o+1], dst[o+2] = float32(r)/255, float32(g)/255, float32(bl)/255
			o += 3
		}
	}
}

// Lossless WebP must give the source PNG exactly; lossy WebP must give
// exactly what libwebp's dwebp -nofancy gives, and stay near the source.
func TestWebP(t *testing.T) {
	dir := filepath.Join("..", "testdata", "imageio")
	read := func(name string) *tensor.Tensor { return mustRead(t, filepath.Join(dir, name)) }
	cases := []struct {
		file, want string
		max, mean  float64
	}{
		{"pattern.lossless.webp", "pattern.png", 0, 0},
		{"pattern-alpha.lossless.webp", "pattern-alpha.png", 0, 0}, // -exact kept colour under alpha 0
		{"pattern.lossy.webp", "pattern.lossy.dwebp.png", 0, 0},
		{"pattern-alpha.lossy.webp", "pattern-alpha.lossy.dwebp.png", 0, 0},
		{"pattern.lossy.webp", "pattern.png", 0.25, 0.02},
		{"pattern-alpha.lossy.webp", "pattern-alpha.png", 0.25, 0.02},
	}
	for _, c := range cases {
		got, want := read(c.file), read(c.want)
		if d := maxAbsDiff(t, got, want); d > c.max {
			t.Errorf("%s vs %s: max difference %g, want ≤ %g", c.file, c.want, d, c.max)
		}
		if d := meanAbsDiff(got, want); d > c.mean {
			t.Errorf("%s vs %s: mean difference %g, want ≤ %g", c.file, c.want, d, c.mean)
		}
	}
}

// The format comes from the bytes, so a misnamed file still decodes.
func TestFormatFromContentNotExtension(t *testing.T) {
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, 4, 3))
	img.Pix[5] = 200
	p := writeFile(t, dir, "actually-a-png.jpg", encodePNG(t, img))
	got := mustRead(t, p)
	if got.Shape[0] != 3 || got.Shape[1] != 4 || got.Data[15] != 200.0/255 {
		t.Errorf("got shape %v, pixel 5 = %v", got.Shape, got.Data[15])
	}
	cfg, err := ReadConfig(p)
	if err != nil || cfg != (Config{Format: "png", Width: 4, Height: 3}) {
		t.Errorf("ReadConfig = %+v, %v", cfg, err)
	}
}

// wantErr checks an error names the file and says why.
func wantErr(t *testing.T, err error, target error, name string, reason ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", name)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("%s: error %q is not %v", name, err, target)
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("error %q does not name the file %s", err, name)
	}
	for _, r := range reason {
		if !strings.Contains(err.Error(), r) {
			t.Errorf("error %q does not say %q", err, r)
		}
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	src := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 13)
	}
	pngData := encodePNG(t, src)
	jpgData := encodeJPEG(t, src, 90)
	webpData, err := os.ReadFile(filepath.Join("..", "testdata", "imageio", "pattern.lossy.webp"))
	if err != nil {
		t.Fatal(err)
	}
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, src, nil); err != nil {
		t.Fatal(err)
	}

	_, err = Read(filepath.Join(dir, "missing.png"))
	wantErr(t, err, fs.ErrNotExist, "missing.png")

	_, err = Read(dir)
	wantErr(t, err, nil, dir, "directory")

	p := writeFile(t, dir, "empty.png", nil)
	_, err = Read(p)
	wantErr(t, err, ErrEmpty, p, "0 bytes")

	p = writeFile(t, dir, "anim.png", gifBuf.Bytes())
	_, err = Read(p)
	wantErr(t, err, ErrUnsupported, p, "GIF")

	p = writeFile(t, dir, "page.png", []byte("<html>not an image</html>"))
	_, err = Read(p)
	wantErr(t, err, ErrUnsupported, p, "unknown", "3c 68 74 6d")

	p = writeFile(t, dir, "zero.png", rawPNG(0, 5, 8, 0, nil))
	_, err = Read(p)
	wantErr(t, err, nil, p, "png header")

	// Cuts inside the header, the pixel data and just before the end.
	for _, tc := range []struct {
		name string
		data []byte
		cut  int
	}{
		{"png-header", pngData, 20},
		{"png-data", pngData, len(pngData) / 2},
		{"png-noend", pngData, len(pngData) - 12},
		{"jpeg-header", jpgData, 100},
		{"jpeg-data", jpgData, len(jpgData) / 2},
		{"jpeg-noend", jpgData, len(jpgData) - 2},
		{"webp-header", webpData, 20},
		{"webp-data", webpData, len(webpData) / 2},
	} {
		p := writeFile(t, dir, tc.name+".img", tc.data[:tc.cut])
		_, err := Read(p)
		wantErr(t, err, ErrTruncated, p, "truncated")
	}
}

// A few bytes that claim 100000×100000 pixels must fail at the header, and
// must not allocate anything like the 120 GB the claim implies.
func TestDecompressionBomb(t *testing.T) {
	dir := t.TempDir()
	small := image.NewRGBA(image.Rect(0, 0, 16, 16))
	jpg := encodeJPEG(t, small, 80)
	// Patch the SOF0 frame size to 65535×65535, JPEG's largest.
	sof := bytes.Index(jpg, []byte{0xff, 0xc0})
	binary.BigEndian.PutUint16(jpg[sof+5:], 65535)
	binary.BigEndian.PutUint16(jpg[sof+7:], 65535)
	webpData, err := os.ReadFile(filepath.Join("..", "testdata", "imageio", "pattern.lossless.webp"))
	if err != nil {
		t.Fatal(err)
	}
	// The VP8L header holds 14-bit width-1 and height-1: make both 16384.
	bits := binary.LittleEndian.Uint32(webpData[21:])
	binary.LittleEndian.PutUint32(webpData[21:], bits&^(1<<28-1)|16383|16383<<14)

	for name, data := range map[string][]byte{
		"bomb.png":  rawPNG(100000, 100000, 8, 2, [][]byte{{1, 2, 3}}),
		"bomb.jpg":  jpg,
		"bomb.webp": webpData,
	} {
		p := writeFile(t, dir, name, data)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Read(p)
		runtime.ReadMemStats(&after)
		wantErr(t, err, ErrTooLarge, p, "pixels, limit")
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: allocated %d bytes before refusing", name, n)
		}
	}
}

func TestLimits(t *testing.T) {
	data := encodePNG(t, image.NewGray(image.Rect(0, 0, 20, 10)))
	if _, err := (Limits{MaxPixels: 200}).Decode(bytes.NewReader(data), "ok.png"); err != nil {
		t.Errorf("200 pixels at a 200-pixel limit: %v", err)
	}
	_, err := Limits{MaxPixels: 199}.Decode(bytes.NewReader(data), "big.png")
	wantErr(t, err, ErrTooLarge, "big.png", "20×10")
	_, err = Limits{MaxFileBytes: 10}.Decode(bytes.NewReader(data), "long.png")
	wantErr(t, err, ErrTooLarge, "long.png", "bytes")
	p := writeFile(t, t.TempDir(), "long.png", data)
	_, err = Limits{MaxFileBytes: 10}.Read(p)
	wantErr(t, err, ErrTooLarge, p, "bytes")
	_, err = Limits{MaxPixels: 199}.ReadConfig(p)
	wantErr(t, err, ErrTooLarge, p)
}

// The real faces, when this machine has them: one file decodes to the
// documented shape and range.
func TestRealFace(t *testing.T) {
	p := filepath.Join("..", "..", "shared", "data", "ffhq128", "04800.png")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data not present (%v); this test needs /work/shared/data/ffhq128", err)
	}
	img := mustRead(t, p)
	if !tensor.SameShape(img.Shape, []int{128, 128, 3}) {
		t.Fatalf("shape %v, want [128 128 3]", img.Shape)
	}
	lo, hi := img.Data[0], img.Data[0]
	for _, v := range img.Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < 0 || hi > 1 || hi-lo < 0.5 {
		t.Errorf("values span [%g, %g], want a real photo's range inside [0, 1]", lo, hi)
	}
}

func BenchmarkReadPNG128(b *testing.B) {
	src := image.NewRGBA(image.Rect(0, 0, 128, 128))
	for i := range src.Pix {
		src.Pix[i] = uint8(i*7 + i/512)
	}
	p := filepath.Join(b.TempDir(), "x.png")
	if err := WritePNG(p, FromImage(src)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadRealFace(b *testing.B) {
	p := filepath.Join("..", "..", "shared", "data", "ffhq128", "04800.png")
	if _, err := os.Stat(p); err != nil {
		b.Skipf("real data not present: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(p); err != nil {
			b.Fatal(err)
		}
	}
}
