//go:build ignore

// gen writes the small WebP fixtures the imageio tests decode, since Go has
// no WebP encoder. It draws two patterns with the standard library and
// converts them with libwebp's cwebp and dwebp (Debian package webp, 1.2.4
// was used):
//
//	cd testdata/imageio && go run gen.go
//
// -exact keeps the colour under transparent pixels, so the lossless files
// decode to exactly the PNGs' straight colours.
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
	"os/exec"
)

// Odd sizes exercise the half-size chroma planes' edges.
const w, h = 31, 17

func pattern(alpha bool) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x * 255 / (w - 1)), uint8(y * 255 / (h - 1)), uint8((x + y) * 4), 255}
			if x >= w/2 && y >= h/2 {
				c.B = 200 // a flat block with a sharp edge
			}
			if alpha {
				c.A = uint8(x * 255 / (w - 1)) // column 0 fully transparent
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func writePNG(name string, img image.Image) {
	f, err := os.Create(name)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func cwebp(args ...string) {
	cmd := exec.Command("cwebp", append([]string{"-quiet", "-exact", "-metadata", "none"}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("cwebp %v: %v", args, err)
	}
}

func main() {
	writePNG("pattern.png", pattern(false))
	writePNG("pattern-alpha.png", pattern(true))
	cwebp("-lossless", "pattern.png", "-o", "pattern.lossless.webp")
	cwebp("-q", "95", "pattern.png", "-o", "pattern.lossy.webp")
	cwebp("-lossless", "pattern-alpha.png", "-o", "pattern-alpha.lossless.webp")
	cwebp("-q", "95", "-alpha_q", "100", "pattern-alpha.png", "-o", "pattern-alpha.lossy.webp")
	// libwebp's own decoding of the lossy files, with nearest chroma
	// upsampling, is the reference the decoder must match exactly.
	dwebp("pattern.lossy.webp", "pattern.lossy.dwebp.png")
	dwebp("pattern-alpha.lossy.webp", "pattern-alpha.lossy.dwebp.png")
}

func dwebp(in, out string) {
	cmd := exec.Command("dwebp", "-quiet", "-nofancy", in, "-o", out)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("dwebp %s: %v", in, err)
	}
}
