package facenet

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"facereward/tensor"
)

// ssdGolden mirrors testdata/faceapi/ssd_golden.json, written by
// tools/faceapi/golden_ssd.js with the reference runtime.
type ssdGolden struct {
	Photos []struct {
		File        string       `json:"file"`
		Width       int          `json:"width"`
		Height      int          `json:"height"`
		Detections  []goldBox    `json:"detections"`
		DetectionsL []goldBox    `json:"detections_min_confidence_0_1"`
		ScoreSum    float64      `json:"score_sum"`
		Priors      [][6]float64 `json:"priors"` // index, score, ymin, xmin, ymax, xmax
	} `json:"photos"`
}

type goldBox struct {
	X, Y, W, H, Score float64
}

var ssdLoaded struct {
	once sync.Once
	m    *SSD
	err  error
}

func ssdNet(t testing.TB) *SSD {
	t.Helper()
	ssdLoaded.once.Do(func() { ssdLoaded.m, ssdLoaded.err = LoadSSD() })
	if ssdLoaded.err != nil {
		t.Fatal(ssdLoaded.err)
	}
	return ssdLoaded.m
}

func readSSDGolden(t testing.TB) *ssdGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "ssd_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g ssdGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("ssd_golden.json: %v", err)
	}
	if len(g.Photos) == 0 {
		t.Fatal("ssd_golden.json: no photos")
	}
	return &g
}

// TestSSDParity compares the detector with face-api.js on three photos that
// take the three input paths (resized down with padding below, padded at
// the right only, resized up): every prior box face-api scores above
// 0.05, then the detections after non-max suppression at two thresholds.
// Tolerances: scores 1e-3, boxes 1 px at the photo's scale.
func TestSSDParity(t *testing.T) {
	m := ssdNet(t)
	for _, ph := range readSSDGolden(t).Photos {
		t.Run(filepath.Base(ph.File), func(t *testing.T) {
			img := readPNG(t, ph.File)
			if img.Shape[0] != ph.Height || img.Shape[1] != ph.Width {
				t.Fatalf("photo is %v, fixture says %d×%d", img.Shape, ph.Width, ph.Height)
			}
			// One net pixel is side/512 photo pixels; priors are fractions of the net input.
			side := float64(max(ph.Width, ph.Height))
			boxes, scores := m.predict(ssdInput(img))

			var sum float64
			for _, s := range scores {
				sum += float64(s)
			}
			listed := map[int]bool{}
			var worstScore, worstBox float64
			for _, p := range ph.Priors {
				i := int(p[0])
				listed[i] = true
				worstScore = math.Max(worstScore, math.Abs(float64(scores[i])-p[1]))
				for k := range 4 {
					worstBox = math.Max(worstBox, math.Abs(float64(boxes[i][k])-p[2+k])*side)
				}
			}
			// A prior face-api scores at most 0.05 must not score much above
			// it here: no face may appear that the reference does not see.
			for i, s := range scores {
				if !listed[i] && s > 0.05+1e-3 {
					t.Errorf("prior %d scores %.4f, face-api ≤ 0.05", i, s)
				}
			}
			t.Logf("%d priors > 0.05: max |Δscore| %.2e, max |Δbox| %.2e px; score sum %.4f (face-api %.4f)",
				len(ph.Priors), worstScore, worstBox, sum, ph.ScoreSum)
			if worstScore > 1e-3 || worstBox > 1 {
				t.Errorf("priors differ from face-api: score by %.2e, box by %.2e px", worstScore, worstBox)
			}
			if math.Abs(sum-ph.ScoreSum) > 5e-3 {
				t.Errorf("sum of all 5118 scores %.5f, face-api %.5f", sum, ph.ScoreSum)
			}

			for _, c := range []struct {
				min  float32
				want []goldBox
			}{{0.5, ph.Detections}, {0.1, ph.DetectionsL}} {
				got, err := m.Detect(img, SSDOptions{MinConfidence: c.min, MaxResults: 100})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(c.want) {
					t.Fatalf("min confidence %.1f: %d detections, face-api %d: %+v", c.min, len(got), len(c.want), got)
				}
				var dScore, dBox float64
				for i, d := range got {
					w := c.want[i]
					dScore = math.Max(dScore, math.Abs(float64(d.Score)-w.Score))
					for _, diff := range []float64{d.X - w.X, d.Y - w.Y, d.W - w.W, d.H - w.H} {
						dBox = math.Max(dBox, math.Abs(diff))
					}
				}
				t.Logf("min confidence %.1f: %d detections, max |Δscore| %.2e, max |Δbox| %.2e px", c.min, len(got), dScore, dBox)
				if dScore > 1e-3 || dBox > 1 {
					t.Errorf("min confidence %.1f: detections differ from face-api: score by %.2e, box by %.2e px", c.min, dScore, dBox)
				}
			}
		})
	}
}

// TestSSDInput checks the input preparation on a small synthetic photo
// against values worked out by hand from face-api's rules.
func TestSSDInput(t *testing.T) {
	// 1 row × 1024 columns: padded below to 1024×1024, halved to 512.
	img := tensor.New(1, 1024, 3)
	for x := range 1024 {
		for c := range 3 {
			img.Data[x*3+c] = float32((x+c)%256) / 255
		}
	}
	in := ssdInput(img)
	at := func(y, x, c int) float32 { return in.Data[(y*SSDSize+x)*3+c] }
	// Output row 0 reads source row 0 exactly (0·2 = 0); column x reads
	// source column 2x exactly: (2x + c) mod 256, times 1/127.5, minus 1.
	for _, x := range []int{0, 1, 100, 300, 511} {
		for c := range 3 {
			want := float32((2*x+c)%256)*float32(0.007843137718737125) - 1
			if got := at(0, x, c); math.Abs(float64(got-want)) > 1e-5 {
				t.Errorf("row 0, column %d, channel %d: %v, want %v", x, c, got, want)
			}
		}
	}
	// Every other row lies in the zero padding: 0 maps to −1.
	if got := at(1, 7, 1); got != -1 {
		t.Errorf("padding row: %v, want -1", got)
	}
}

// TestSSDNonMaxSuppression checks face-api's rule on hand-made boxes:
// above the threshold only, best first, a box overlapping a kept one by
// IoU > 0.5 dropped, one at exactly 0.5 kept, and the cap.
func TestSSDNonMaxSuppression(t *testing.T) {
	boxes := [][4]float32{
		{0, 0, 1, 1},         // 0: best
		{0, 0, 1, 0.5},       // 1: IoU 0.5 with 0: kept
		{0, 0, 1, 0.9},       // 2: IoU 0.9 with 0: dropped
		{2, 2, 3, 3},         // 3: apart, but scores at the threshold
		{4, 4, 5, 5},         // 4: apart
		{0.1, 0.1, 0.1, 0.9}, // 5: no area, overlaps nothing
	}
	scores := []float32{0.9, 0.8, 0.85, 0.5, 0.6, 0.7}
	got := nonMaxSuppression(boxes, scores, 100, 0.5, 0.5)
	want := []int{0, 1, 5, 4}
	if !slices.Equal(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
	if got := nonMaxSuppression(boxes, scores, 2, 0.5, 0.5); !slices.Equal(got, want[:2]) {
		t.Fatalf("capped at 2: kept %v, want %v", got, want[:2])
	}
}

func TestSSDBadInput(t *testing.T) {
	m := ssdNet(t)
	if _, err := m.Detect(tensor.New(8, 8), DefaultSSDOptions()); err == nil {
		t.Error("[8,8] image: want an error")
	}
	for _, o := range []SSDOptions{{MinConfidence: 0, MaxResults: 10}, {MinConfidence: 1, MaxResults: 10}, {MinConfidence: 0.5}} {
		if _, err := m.Detect(tensor.New(8, 8, 3), o); err == nil {
			t.Errorf("options %+v: want an error", o)
		}
	}
}

func TestSSDWeightChecksum(t *testing.T) {
	if _, err := newSSD(ssdFile); err != nil {
		t.Fatalf("unmodified weights: %v", err)
	}
	bad := append([]byte(nil), ssdFile...)
	bad[len(bad)-1] ^= 1 // a weight's lowest mantissa bit
	if _, err := newSSD(bad); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("modified weights gave error %v, want a sha256 mismatch", err)
	}
}
