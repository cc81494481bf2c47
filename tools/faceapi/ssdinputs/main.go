// Command ssdinputs writes the PNG photos that the SSD parity fixture
// (tools/faceapi/golden_ssd.js) runs on, from committed JPEGs:
//
//	go run ./tools/faceapi/ssdinputs -out testdata/faceapi
//
// The fixture needs PNG because JPEG decoders differ (Go's image/jpeg and
// the JS ones by several grey levels), and it needs the three ways face-api
// prepares a photo: a wide photo resized down (sample1 at 640×427: padded
// at the bottom, 640 → 512), a tall one padded at the right and not
// resized (a crop of sample5 at 384×512), and a small square one resized up
// (testdata/faces/astronaut_256.png, used as it is).
package main

import (
	"flag"
	"fmt"
	"log"
	"path/filepath"

	"facereward/imageio"
	"facereward/imgproc"
	"facereward/tensor"
)

func main() {
	out := flag.String("out", "testdata/faceapi", "output directory")
	src := flag.String("photos", "testdata/detect", "directory of the committed face-api sample photos")
	flag.Parse()
	for _, p := range []struct {
		in, out    string
		x, y, w, h int // crop before resizing; w == 0 keeps the photo whole
		rw, rh     int
	}{
		{"faceapi_sample1.jpg", "ssd_sample1_640.png", 0, 0, 0, 0, 640, 427},
		{"faceapi_sample5.jpg", "ssd_sample5_384.png", 0, 0, 1048, 1398, 384, 512},
	} {
		img, err := imageio.Read(filepath.Join(*src, p.in))
		if err != nil {
			log.Fatal(err)
		}
		if p.w > 0 {
			img = crop(img, p.x, p.y, p.w, p.h)
		}
		img = imgproc.Resize(img, p.rh, p.rw, imgproc.Area)
		path := filepath.Join(*out, p.out)
		if err := imageio.WritePNG(path, img); err != nil {
			log.Fatal(err)
		}
		fmt.Println(path, p.rw, "×", p.rh)
	}
}

func crop(img *tensor.Tensor, x0, y0, w, h int) *tensor.Tensor {
	if x0+w > img.Shape[1] || y0+h > img.Shape[0] {
		log.Fatalf("crop %d,%d %d×%d outside the %d×%d photo", x0, y0, w, h, img.Shape[1], img.Shape[0])
	}
	out := tensor.New(h, w, 3)
	for y := range h {
		copy(out.Data[y*w*3:(y+1)*w*3], img.Data[((y0+y)*img.Shape[1]+x0)*3:][:w*3])
	}
	return out
}
