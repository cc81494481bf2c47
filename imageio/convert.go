package imageio

import (
	"fmt"
	"image"
	"image/color"

	"facereward/tensor"
)

// FromImage converts img to an [H, W, 3] tensor as the package doc
// describes. The types Go's PNG, JPEG and WebP decoders return are read from
// their pixel buffers directly; only rarer types (CMYK, custom images) go
// through the per-pixel At interface, which allocates for every pixel.
//
// An *image.YCbCr is taken as JPEG's full-range Y'CbCr and converted to
// 8-bit RGB as libjpeg does (color.YCbCrToRGB). Lossy WebP's planes are
// limited-range and come out right only through Read and Decode, which
// know where they came from.
func FromImage(img image.Image) *tensor.Tensor {
	b := img.Bounds()
	t := tensor.New(b.Dy(), b.Dx(), 3)
	switch m := img.(type) {
	case *image.RGBA:
		fromRGBA(t.Data, m)
	case *image.NRGBA:
		fromNRGBA(t.Data, m)
	case *image.YCbCr:
		fromYCbCr(t.Data, m)
	case *image.NYCbCrA:
		fromYCbCr(t.Data, &m.YCbCr) // straight colour; alpha is dropped
	case *image.Gray:
		fromGray(t.Data, m)
	case *image.Paletted:
		fromPaletted(t.Data, m)
	case *image.RGBA64:
		fromRGBA64(t.Data, m)
	case *image.NRGBA64:
		fromNRGBA64(t.Data, m)
	case *image.Gray16:
		fromGray16(t.Data, m)
	default:
		fromGeneric(t.Data, img)
	}
	return t
}

func fromNRGBA(dst []float32, m *image.NRGBA) {
	b := m.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			p := row[4*x : 4*x+3 : 4*x+3]
			dst[o] = float32(p[0]) / 255
			dst[o+1] = float32(p[1]) / 255
			dst[o+2] = float32(p[2]) / 255
			o += 3
		}
	}
}

// fromRGBA undoes the premultiplication (c/a) so that alpha is dropped the
// same way for every pixel type; opaque pixels, the usual case, are v/255.
func fromRGBA(dst []float32, m *image.RGBA) {
	b := m.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			p := row[4*x : 4*x+4 : 4*x+4]
			a := float32(255)
			if p[3] != 255 {
				a = float32(p[3])
			}
			if a == 0 {
				dst[o], dst[o+1], dst[o+2] = 0, 0, 0
			} else {
				dst[o] = float32(p[0]) / a
				dst[o+1] = float32(p[1]) / a
				dst[o+2] = float32(p[2]) / a
			}
			o += 3
		}
	}
}

func fromYCbCr(dst []float32, m *image.YCbCr) {
	b := m.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			ci := m.COffset(x, y)
			r, g, bl := color.YCbCrToRGB(m.Y[m.YOffset(x, y)], m.Cb[ci], m.Cr[ci])
			dst[o] = float32(r) / 255
			dst[o+1] = float32(g) / 255
			dst[o+2] = float32(bl) / 255
			o += 3
		}
	}
}

func fromGray(dst []float32, m *image.Gray) {
	b := m.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			v := float32(row[x]) / 255
			dst[o], dst[o+1], dst[o+2] = v, v, v
			o += 3
		}
	}
}

// fromPaletted converts the palette once, then looks every pixel up.
func fromPaletted(dst []float32, m *image.Paletted) {
	lut := make([][3]float32, 256)
	for i, c := range m.Palette {
		if i == len(lut) {
			break // a uint8 index cannot reach further entries
		}
		lut[i] = straight(c)
	}
	b := m.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			// An index past the palette is black, as image.Paletted.At says.
			c := lut[row[x]]
			dst[o], dst[o+1], dst[o+2] = c[0], c[1], c[2]
			o += 3
		}
	}
}

func fromRGBA64(dst []float32, m *image.RGBA64) {
	b := m.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			p := row[8*x : 8*x+8 : 8*x+8]
			c := unpremultiply(be16(p[0:]), be16(p[2:]), be16(p[4:]), be16(p[6:]))
			dst[o], dst[o+1], dst[o+2] = c[0], c[1], c[2]
			o += 3
		}
	}
}

func fromNRGBA64(dst []float32, m *image.NRGBA64) {
	b := m.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			p := row[8*x : 8*x+6 : 8*x+6]
			dst[o] = float32(be16(p[0:])) / 65535
			dst[o+1] = float32(be16(p[2:])) / 65535
			dst[o+2] = float32(be16(p[4:])) / 65535
			o += 3
		}
	}
}

func fromGray16(dst []float32, m *image.Gray16) {
	b := m.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			v := float32(be16(row[2*x:])) / 65535
			dst[o], dst[o+1], dst[o+2] = v, v, v
			o += 3
		}
	}
}

func fromGeneric(dst []float32, img image.Image) {
	b := img.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := straight(img.At(x, y))
			dst[o], dst[o+1], dst[o+2] = c[0], c[1], c[2]
			o += 3
		}
	}
}

// straight returns a colour's unpremultiplied RGB in [0, 1]. NRGBA colours
// (PNG palettes with transparency) are read as stored, since going through
// the premultiplied RGBA() would lose precision at low alpha.
func straight(c color.Color) [3]float32 {
	if n, ok := c.(color.NRGBA); ok {
		return [3]float32{float32(n.R) / 255, float32(n.G) / 255, float32(n.B) / 255}
	}
	r, g, b, a := c.RGBA()
	return unpremultiply(r, g, b, a)
}

// unpremultiply takes 16-bit premultiplied samples.
func unpremultiply(r, g, b, a uint32) [3]float32 {
	if a == 0 {
		return [3]float32{}
	}
	fa := float32(a)
	return [3]float32{float32(r) / fa, float32(g) / fa, float32(b) / fa}
}

func be16(p []byte) uint32 { return uint32(p[0])<<8 | uint32(p[1]) }

// to8 is the package's float → 8-bit rule: round(clamp(v, 0, 1)·255), NaN → 0.
func to8(v float32) uint8 {
	if !(v > 0) { // also catches NaN
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(float64(v)*255 + 0.5)
}

// imageShape checks that t is [H, W, 1] or [H, W, 3] and returns H, W, C.
func imageShape(t *tensor.Tensor) (h, w, c int, err error) {
	if t == nil {
		return 0, 0, 0, fmt.Errorf("nil tensor")
	}
	if len(t.Shape) != 3 || (t.Shape[2] != 1 && t.Shape[2] != 3) || t.Shape[0] <= 0 || t.Shape[1] <= 0 {
		return 0, 0, 0, fmt.Errorf("tensor shape %s is not an image [H W 3] or [H W 1]", tensor.ShapeString(t.Shape))
	}
	if len(t.Data) != tensor.Numel(t.Shape) {
		return 0, 0, 0, fmt.Errorf("tensor shape %s needs %d values, has %d", tensor.ShapeString(t.Shape), tensor.Numel(t.Shape), len(t.Data))
	}
	return t.Shape[0], t.Shape[1], t.Shape[2], nil
}

// ToRGBA converts an [H, W, 3] (or grey [H, W, 1]) tensor to an opaque
// 8-bit image with the package's rounding rule. Like tensor.FromSlice it
// panics on a wrong shape, which is a programming error; the Encode and
// Write functions check the shape and return an error instead.
func ToRGBA(t *tensor.Tensor) *image.RGBA {
	h, w, _, err := imageShape(t)
	if err != nil {
		panic("imageio.ToRGBA: " + err.Error())
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill8(img.Pix, t)
	return img
}

// ToNRGBA is ToRGBA for callers that want *image.NRGBA; since every pixel is
// opaque the bytes are the same.
func ToNRGBA(t *tensor.Tensor) *image.NRGBA {
	h, w, _, err := imageShape(t)
	if err != nil {
		panic("imageio.ToNRGBA: " + err.Error())
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	fill8(img.Pix, t)
	return img
}

// fill8 writes t into a packed, opaque 4-bytes-per-pixel buffer.
func fill8(pix []byte, t *tensor.Tensor) {
	c := t.Shape[2]
	n := t.Shape[0] * t.Shape[1]
	for i := range n {
		p := pix[4*i : 4*i+4 : 4*i+4]
		if c == 1 {
			v := to8(t.Data[i])
			p[0], p[1], p[2] = v, v, v
		} else {
			s := t.Data[3*i : 3*i+3 : 3*i+3]
			p[0], p[1], p[2] = to8(s[0]), to8(s[1]), to8(s[2])
		}
		p[3] = 255
	}
}
