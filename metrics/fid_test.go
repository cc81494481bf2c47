package metrics

import (
	"math"
	"testing"
)

// splitmixSet reproduces gen_metrics.py's splitmix_floats: uniform float32
// in [-1, 1), n rows of d.
func splitmixSet(seed uint64, n, d int) [][]float32 {
	out := make([][]float32, n)
	s := seed
	for i := range out {
		out[i] = make([]float32, d)
		for j := range out[i] {
			s += 0x9E3779B97F4A7C15
			z := s
			z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
			z = (z ^ (z >> 27)) * 0x94D049BB133111EB
			z ^= z >> 31
			out[i][j] = float32(float64(z>>40)/(1<<24))*2 - 1
		}
	}
	return out
}

func fidSets() (a, b [][]float32) {
	const d = 128
	a, b = splitmixSet(1, 200, d), splitmixSet(2, 150, d)
	for _, r := range b {
		for j := range r {
			r[j] = r[j]*(1+float32(j)/d) + 0.1
		}
	}
	return a, b
}

// TestFIDIDGolden compares with numpy + scipy.linalg.sqrtm.
func TestFIDIDGolden(t *testing.T) {
	f := loadFixture(t)
	a, b := fidSets()
	for j := 0; j < 8; j++ {
		if float64(a[0][j]) != f.FID.AFirst[j] || float64(b[0][j]) != f.FID.BFirst[j] {
			t.Fatalf("generated sets differ from the fixture's at %d: %v %v vs %v %v", j, a[0][j], b[0][j], f.FID.AFirst[j], f.FID.BFirst[j])
		}
	}
	for _, c := range []struct {
		name string
		x, y [][]float32
		want float64
	}{{"a,b", a, b, f.FID.AB}, {"b,a", b, a, f.FID.BA}, {"a,a", a, a, f.FID.AA}} {
		got, err := FIDID(c.x, c.y)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("FID-ID(%s) = %.9f, scipy %.9f, |Δ| %.2e", c.name, got, c.want, math.Abs(got-c.want))
		if math.Abs(got-c.want) > 1e-6*math.Max(1, math.Abs(c.want)) {
			t.Errorf("FID-ID(%s) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestFIDIDErrors(t *testing.T) {
	if _, err := FIDID([][]float32{{1, 2}}, [][]float32{{1, 2}, {3, 4}}); err == nil {
		t.Error("FID-ID accepted a one-sample set")
	}
	if _, err := FIDID([][]float32{{1, 2}, {0, 1}}, [][]float32{{1, 2, 3}, {3, 4, 5}}); err == nil {
		t.Error("FID-ID accepted descriptors of different lengths")
	}
}
