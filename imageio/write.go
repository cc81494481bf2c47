package imageio

import (
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"facereward/atomicfile"
	"facereward/tensor"
)

// to8bit converts an [H, W, 3] or [H, W, 1] tensor to the 8-bit image the
// encoders take: grey stays grey, so a grey PNG or JPEG is a third the size.
func to8bit(t *tensor.Tensor) (image.Image, error) {
	h, w, c, err := imageShape(t)
	if err != nil {
		return nil, err
	}
	if c == 3 {
		return ToRGBA(t), nil
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range t.Data {
		g.Pix[i] = to8(v)
	}
	return g, nil
}

// EncodePNG writes t as an 8-bit PNG (RGB, or grey for [H, W, 1]).
func EncodePNG(w io.Writer, t *tensor.Tensor) error {
	img, err := to8bit(t)
	if err != nil {
		return fmt.Errorf("imageio: encode PNG: %w", err)
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("imageio: encode PNG: %w", err)
	}
	return nil
}

// EncodeJPEG writes t as a baseline JPEG at quality 1–100.
func EncodeJPEG(w io.Writer, t *tensor.Tensor, quality int) error {
	if quality < 1 || quality > 100 {
		return fmt.Errorf("imageio: encode JPEG: quality %d is outside 1–100", quality)
	}
	img, err := to8bit(t)
	if err != nil {
		return fmt.Errorf("imageio: encode JPEG: %w", err)
	}
	if err := jpeg.Encode(w, img, &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("imageio: encode JPEG: %w", err)
	}
	return nil
}

// WritePNG writes t to path as a PNG, atomically: readers see the old file
// or the whole new one, never a half-written image.
func WritePNG(path string, t *tensor.Tensor) error {
	if _, _, _, err := imageShape(t); err != nil {
		return fmt.Errorf("imageio: write %s: %w", path, err)
	}
	return writeAtomic(path, func(w io.Writer) error { return EncodePNG(w, t) })
}

// WriteJPEG writes t to path as a JPEG at quality 1–100, atomically.
func WriteJPEG(path string, t *tensor.Tensor, quality int) error {
	if _, _, _, err := imageShape(t); err != nil {
		return fmt.Errorf("imageio: write %s: %w", path, err)
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("imageio: write %s: JPEG quality %d is outside 1–100", path, quality)
	}
	return writeAtomic(path, func(w io.Writer) error { return EncodeJPEG(w, t, quality) })
}

// writeAtomic encodes through atomicfile, naming the file in errors.
func writeAtomic(path string, encode func(io.Writer) error) error {
	if err := atomicfile.Write(path, encode); err != nil {
		return fmt.Errorf("imageio: write %s: %w", path, err)
	}
	return nil
}
