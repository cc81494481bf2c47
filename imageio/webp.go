package imageio

import (
	"image"

	"facereward/tensor"
)

// Lossy WebP (VP8) stores limited-range BT.601 Y'CbCr (Y in 16–235), but
// x/image/webp returns it as an image.YCbCr, whose conversion assumes JPEG's
// full range; read that way every lossy WebP comes out with lifted blacks
// and dimmed whites (golang/go#40173). These functions convert the planes
// with libwebp's own fixed-point formula instead, so a decoded pixel equals
// `dwebp -nofancy`: chroma is taken from the nearest sample, as Go's
// image.YCbCr does, rather than libwebp's default smoothed upsampling.

// fromVP8 fills dst ([H, W, 3] data) from a VP8 image's planes.
func fromVP8(dst []float32, m *image.YCbCr) {
	b := m.Bounds()
	o := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			ci := m.COffset(x, y)
			r, g, bl := vp8ToRGB(m.Y[m.YOffset(x, y)], m.Cb[ci], m.Cr[ci])
			dst[o] = float32(r) / 255
			dst[o+1] = float32(g) / 255
			dst[o+2] = float32(bl) / 255
			o += 3
		}
	}
}

// vp8ToRGB is BT.601 limited range, R = 1.164(Y−16) + 1.596(V−128) and so
// on, in libwebp's arithmetic: products keep 8 fractional bits (the
// "mulhi" step) and the sums are descaled by 6 bits with clamping.
func vp8ToRGB(y, u, v uint8) (r, g, b uint8) {
	mulhi := func(a int, c int) int { return a * c >> 8 }
	yy := mulhi(int(y), 19077)
	r = clip14(yy + mulhi(int(v), 26149) - 14234)
	g = clip14(yy - mulhi(int(u), 6419) - mulhi(int(v), 13320) + 8708)
	b = clip14(yy + mulhi(int(u), 33050) - 17685)
	return r, g, b
}

// clip14 descales a value with 6 fractional bits to 0–255.
func clip14(v int) uint8 {
	switch {
	case v < 0:
		return 0
	case v >= 256<<6:
		return 255
	}
	return uint8(v >> 6)
}

// webpToTensor converts what x/image/webp returned: lossless files decode to
// NRGBA, which needs no special care; lossy ones to YCbCr or NYCbCrA.
func webpToTensor(img image.Image) *tensor.Tensor {
	var ycc *image.YCbCr
	switch m := img.(type) {
	case *image.YCbCr:
		ycc = m
	case *image.NYCbCrA:
		ycc = &m.YCbCr // straight colour; alpha is dropped
	default:
		return FromImage(img)
	}
	b := ycc.Bounds()
	t := tensor.New(b.Dy(), b.Dx(), 3)
	fromVP8(t.Data, ycc)
	return t
}
