package facenet

import (
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"facereward/imageio"
	"facereward/tensor"
)

const fixtureDir = "../testdata/faceapi"

// golden mirrors testdata/faceapi/golden.json, written by
// tools/faceapi/golden.js with the reference runtime.
type golden struct {
	Faces []struct {
		Name          string         `json:"name"`
		LandmarksPNG  string         `json:"landmarks_png"`
		DescriptorPNG string         `json:"descriptor_png"`
		Landmarks     [68][2]float64 `json:"landmarks"`
		Descriptor    []float64      `json:"descriptor"`
	} `json:"faces"`
	Crops struct {
		Source     string         `json:"source"`
		Rows       [2]int         `json:"rows"`
		Landmarks  [68][2]float64 `json:"landmarks"`
		Descriptor []float64      `json:"descriptor"`
		Synthetic  struct {
			Shape    []int     `json:"shape"`
			Size     int       `json:"size"`
			Prepared []float64 `json:"prepared"`
		} `json:"synthetic"`
	} `json:"crops"`
}

func readGolden(t testing.TB) *golden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("golden.json: %v", err)
	}
	return &g
}

func readPNG(t testing.TB, name string) *tensor.Tensor {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return imageio.FromImage(img)
}

var loaded struct {
	once sync.Once
	lm   *Landmarks68
	rec  *Recognition
	err  error
}

func nets(t testing.TB) (*Landmarks68, *Recognition) {
	t.Helper()
	loaded.once.Do(func() { loaded.lm, loaded.rec, loaded.err = Load() })
	if loaded.err != nil {
		t.Fatal(loaded.err)
	}
	return loaded.lm, loaded.rec
}

func maxPointErr(got [68][2]float32, want [68][2]float64) float64 {
	worst := 0.0
	for i := range got {
		worst = max(worst, math.Hypot(float64(got[i][0])-want[i][0], float64(got[i][1])-want[i][1]))
	}
	return worst
}

func cosine(a [128]float32, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * b[i]
		aa += float64(a[i]) * float64(a[i])
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

// TestParity compares both nets, single and batched, with face-api.js on the
// same PNG pixels: at most 0.5 px per landmark, descriptor cosine ≥ 0.999.
func TestParity(t *testing.T) {
	lm, rec := nets(t)
	gold := readGolden(t)
	var lmBatch, descBatch []*tensor.Tensor
	worstPx, worstCos := 0.0, 1.0
	for _, f := range gold.Faces {
		li, di := readPNG(t, f.LandmarksPNG), readPNG(t, f.DescriptorPNG)
		lmBatch, descBatch = append(lmBatch, li), append(descBatch, di)
		px := maxPointErr(lm.Predict(li), f.Landmarks)
		cs := cosine(rec.Descriptor(di), f.Descriptor)
		t.Logf("%-10s landmarks max error %.2e px, descriptor 1−cosine %.2e", f.Name, px, 1-cs)
		if px > 0.5 {
			t.Errorf("%s: landmark off by %.3f px from face-api (limit 0.5)", f.Name, px)
		}
		if cs < 0.999 {
			t.Errorf("%s: descriptor cosine %.6f with face-api (limit 0.999)", f.Name, cs)
		}
		worstPx, worstCos = max(worstPx, px), min(worstCos, cs)
	}
	t.Logf("all faces: max landmark error %.2e px, min descriptor cosine %.9f", worstPx, worstCos)

	pts := lm.PredictBatch(stack(lmBatch))
	descs := rec.DescriptorBatch(stack(descBatch))
	for i, f := range gold.Faces {
		if px := maxPointErr(pts[i], f.Landmarks); px > 0.5 {
			t.Errorf("%s: batched landmark off by %.3f px", f.Name, px)
		}
		if cs := cosine(descs[i], f.Descriptor); cs < 0.999 {
			t.Errorf("%s: batched descriptor cosine %.6f", f.Name, cs)
		}
	}
}

// TestCropHelpers checks Prepare and the back-mapping against face-api
// handling a non-square crop itself.
func TestCropHelpers(t *testing.T) {
	lm, rec := nets(t)
	gold := readGolden(t)
	c := gold.Crops
	src := readPNG(t, c.Source)
	w := src.Shape[1]
	crop := tensor.FromSlice(src.Data[c.Rows[0]*w*3:c.Rows[1]*w*3], c.Rows[1]-c.Rows[0], w, 3)
	px := maxPointErr(lm.PredictCrop(crop), c.Landmarks)
	cs := cosine(rec.DescriptorCrop(crop), c.Descriptor)
	t.Logf("%dx%d crop: landmarks max error %.2e px, descriptor 1−cosine %.2e", w, c.Rows[1]-c.Rows[0], px, 1-cs)
	if px > 0.5 || cs < 0.999 {
		t.Errorf("crop: landmark error %.3f px (limit 0.5), descriptor cosine %.6f (limit 0.999)", px, cs)
	}

	// Prepare alone, on a synthetic 7×4 image of 0–250 values (Prepare is
	// linear, so the [0,1] scaling is undone after).
	s := c.Synthetic
	img := tensor.New(s.Shape...)
	for i := range img.Data {
		img.Data[i] = float32((i*37)%251) / 255
	}
	got, fr := Prepare(img, s.Size)
	for i, v := range got.Data {
		if d := math.Abs(float64(v)*255 - s.Prepared[i]); d > 1e-3 {
			t.Fatalf("Prepare: value %d is %.5f, face-api %.5f", i, float64(v)*255, s.Prepared[i])
		}
	}
	// 7 tall, 4 wide: 3 columns of padding, round(1.5) = 2 after, 1 before.
	if fr.PadX != 1 || fr.PadY != 0 || math.Abs(fr.Scale-9.0/7) > 1e-12 {
		t.Errorf("Prepare frame %+v, want PadX 1, PadY 0, Scale 9/7", fr)
	}
}

// TestWeightChecksum checks that a weight file changed by one byte is
// refused with an error naming the checksum.
func TestWeightChecksum(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		load func([]byte) error
	}{
		{"landmark68", landmarkFile, func(b []byte) error { _, err := newLandmarks68(b); return err }},
		{"recognition", recognitionFile, func(b []byte) error { _, err := newRecognition(b); return err }},
	} {
		if err := c.load(c.data); err != nil {
			t.Fatalf("%s: unmodified weights: %v", c.name, err)
		}
		bad := append([]byte(nil), c.data...)
		bad[len(bad)-1] ^= 1 // a weight's lowest mantissa bit
		err := c.load(bad)
		if err == nil || !strings.Contains(err.Error(), "sha256") {
			t.Errorf("%s: modified weights gave error %v, want a sha256 mismatch", c.name, err)
		}
	}
}

func stack(ts []*tensor.Tensor) *tensor.Tensor {
	s := ts[0].Shape
	out := tensor.New(append([]int{len(ts)}, s...)...)
	for i, t := range ts {
		copy(out.Data[i*t.Len():], t.Data)
	}
	return out
}

// BenchmarkLandmarks and BenchmarkDescriptor report faces/s at batch 1 and 8:
//
//	go test ./facenet/ -run '^$' -bench . -benchtime 20x
func BenchmarkLandmarks(b *testing.B) {
	lm, _ := nets(b)
	face := readPNG(b, "ffhq04800_112.png")
	for _, n := range []int{1, 8} {
		batch := stack(repeat(face, n))
		b.Run(batchName(n), func(b *testing.B) {
			for b.Loop() {
				lm.PredictBatch(batch)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "faces/s")
		})
	}
}

func BenchmarkDescriptor(b *testing.B) {
	_, rec := nets(b)
	face := readPNG(b, "ffhq04800_150.png")
	for _, n := range []int{1, 8} {
		batch := stack(repeat(face, n))
		b.Run(batchName(n), func(b *testing.B) {
			for b.Loop() {
				rec.DescriptorBatch(batch)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "faces/s")
		})
	}
}

func repeat(t *tensor.Tensor, n int) []*tensor.Tensor {
	ts := make([]*tensor.Tensor, n)
	for i := range ts {
		ts[i] = t
	}
	return ts
}

func batchName(n int) string { return "batch" + string(rune('0'+n)) }
