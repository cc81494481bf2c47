package metrics

import (
	"testing"

	"facereward/tensor"
)

// Benchmarks on one 128×128 face pair; faces/s is per goroutine (single
// core): the metrics are not parallel inside, callers run one per core.
//
//	go test -run '^$' -bench . ./metrics/

func benchPair(b *testing.B) (gt, img *tensor.Tensor) {
	return readImage(b, "04800_gt.png"), readImage(b, "04800_jpeg.png")
}

func reportFaces(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "faces/s")
}

func BenchmarkPSNR(b *testing.B) {
	gt, img := benchPair(b)
	for b.Loop() {
		if _, err := PSNR(gt, img, Y, 4); err != nil {
			b.Fatal(err)
		}
	}
	reportFaces(b)
}

func BenchmarkSSIM(b *testing.B) {
	gt, img := benchPair(b)
	for b.Loop() {
		if _, err := SSIM(gt, img, RGB, 0); err != nil {
			b.Fatal(err)
		}
	}
	reportFaces(b)
}

func BenchmarkBRISQUE(b *testing.B) {
	_, img := benchPair(b)
	for b.Loop() {
		if _, err := BRISQUE(img); err != nil {
			b.Fatal(err)
		}
	}
	reportFaces(b)
}

func BenchmarkNIQE(b *testing.B) {
	_, img := benchPair(b)
	for b.Loop() {
		if _, err := NIQE(img); err != nil {
			b.Fatal(err)
		}
	}
	reportFaces(b)
}
