package metrics

import (
	"math"
	"testing"

	"facereward/tensor"
)

// TestPSNRSSIMGolden compares with scikit-image on real faces and their
// blurred, noisy and JPEG versions, with and without a border crop.
func TestPSNRSSIMGolden(t *testing.T) {
	f := loadFixture(t)
	var maxP, maxS float64
	for _, p := range f.Pairs {
		gt, img := readImage(t, p.GT), readImage(t, p.Img)
		for _, c := range []struct {
			ch         Channel
			psnr, ssim float64
		}{{RGB, p.PSNRRGB, p.SSIMRGB}, {Y, p.PSNRY, p.SSIMY}} {
			ps, err := PSNR(gt, img, c.ch, p.Crop)
			if err != nil {
				t.Fatal(err)
			}
			ss, err := SSIM(gt, img, c.ch, p.Crop)
			if err != nil {
				t.Fatal(err)
			}
			maxP = math.Max(maxP, math.Abs(ps-c.psnr))
			maxS = math.Max(maxS, math.Abs(ss-c.ssim))
			if math.Abs(ps-c.psnr) > 1e-3 || math.Abs(ss-c.ssim) > 1e-4 {
				t.Errorf("%s crop %d %v: PSNR %.6f SSIM %.6f, want %.6f %.6f", p.Img, p.Crop, c.ch, ps, ss, c.psnr, c.ssim)
			}
		}
	}
	t.Logf("%d pairs: max |ΔPSNR| %.2e dB, max |ΔSSIM| %.2e", len(f.Pairs), maxP, maxS)
}

func TestPSNRIdentical(t *testing.T) {
	img := tensor.New(16, 16, 3)
	for i := range img.Data {
		img.Data[i] = float32(i%7) / 7
	}
	p, err := PSNR(img, img, RGB, 0)
	if err != nil || !math.IsInf(p, 1) {
		t.Fatalf("PSNR of identical images = %v, %v; want +Inf", p, err)
	}
	s, err := SSIM(img, img, Y, 2)
	if err != nil || math.Abs(s-1) > 1e-12 {
		t.Fatalf("SSIM of identical images = %v, %v; want 1", s, err)
	}
}

// TestPSNRHand: one pixel of a 2×2 grey image off by 10 levels in every
// channel gives MSE 25 and PSNR 10·log10(255²/25).
func TestPSNRHand(t *testing.T) {
	a, b := tensor.New(2, 2, 3), tensor.New(2, 2, 3)
	for i := range a.Data {
		a.Data[i], b.Data[i] = 100.0/255, 100.0/255
	}
	b.Data[0], b.Data[1], b.Data[2] = 110.0/255, 110.0/255, 110.0/255
	p, err := PSNR(a, b, RGB, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := 10 * math.Log10(255*255/25.0); math.Abs(p-want) > 1e-9 {
		t.Fatalf("PSNR = %v, want %v", p, want)
	}
	// Luma of a grey step of 10 levels is 10·(65.481+128.553+24.966)/255.
	p, err = PSNR(a, b, Y, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := 10 * 219.0 / 255
	if want := 10 * math.Log10(255*255/(d*d/4)); math.Abs(p-want) > 1e-9 {
		t.Fatalf("PSNR Y = %v, want %v", p, want)
	}
}

func TestFullRefErrors(t *testing.T) {
	a, b := tensor.New(16, 16, 3), tensor.New(16, 15, 3)
	if _, err := PSNR(a, b, RGB, 0); err == nil {
		t.Error("PSNR accepted different shapes")
	}
	if _, err := SSIM(a, a, RGB, 3); err == nil {
		t.Error("SSIM accepted a 10×10 crop")
	}
	if _, err := PSNR(a, a, RGB, 8); err == nil {
		t.Error("PSNR accepted a crop that leaves nothing")
	}
}
