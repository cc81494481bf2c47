package degrade

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"facereward/imageio"
	"facereward/tensor"
)

// fixtures made by tools/cvref/gen_degrade.py.
var cvrefDir = filepath.Join("..", "testdata", "cvref")

func readFixture(t testing.TB, name string) *tensor.Tensor {
	t.Helper()
	img, err := imageio.Read(filepath.Join(cvrefDir, name))
	if err != nil {
		t.Fatalf("fixture %s (regenerate with tools/cvref/gen_degrade.py): %v", name, err)
	}
	return img
}

// jpegPSNRBound is the lowest PSNR allowed between our JPEG round trip (Go's
// image/jpeg through imageio) and OpenCV's (libjpeg-turbo) of the same face.
// Measured on the three fixture faces (q 30, 60, 90): worst 40.11 dB (04801
// at q 90), best 43.15. The codecs share the quantisation tables and 4:2:0
// chroma; Go's decoder upsamples chroma by replication where libjpeg
// interpolates ("fancy upsampling"), which also makes our round trip
// 0.2–1.0 dB further from the source than OpenCV's. Both gaps are small next
// to JPEG's own error (29–36 dB against the source).
const jpegPSNRBound = 39.5

func TestJPEGMatchesOpenCV(t *testing.T) {
	var d Degrader
	worst := math.Inf(1)
	for _, face := range []string{"04801", "04850", "04999"} {
		src := readFixture(t, "degrade_jpeg_src_"+face+".png")
		for _, q := range []int{30, 60, 90} {
			ref := readFixture(t, fmt.Sprintf("degrade_jpeg_%s_q%d.png", face, q))
			got, err := d.jpegRoundTrip(src, q)
			if err != nil {
				t.Fatal(err)
			}
			p, pSrc, pRef := psnr(got, ref), psnr(got, src), psnr(ref, src)
			t.Logf("face %s q %d: PSNR(ours, OpenCV) %.2f dB; vs source: ours %.2f, OpenCV %.2f", face, q, p, pSrc, pRef)
			worst = min(worst, p)
			if p < jpegPSNRBound {
				t.Errorf("face %s q %d: PSNR(ours, OpenCV) %.2f dB < bound %.1f", face, q, p, jpegPSNRBound)
			}
		}
	}
	t.Logf("worst PSNR(ours, OpenCV) %.2f dB, bound %.1f", worst, jpegPSNRBound)
}
