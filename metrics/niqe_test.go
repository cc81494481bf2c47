package metrics

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"facereward/dataset"
	"facereward/imageio"
	"facereward/imgproc"
	"facereward/tensor"
)

// TestMSCNHand checks the normalisation on a column-stripe pattern
// I = c + d·(−1)^x, where a symmetric window gives, away from the left and
// right borders, μ = c + d·S·(−1)^x and σ = |d|·√(1−S²) with S the
// alternating sum of the 1-D kernel taps, so MSCN = d(−1)^x(1−S)/(|d|√(1−S²)+C).
func TestMSCNHand(t *testing.T) {
	const h, w, c, d = 12, 16, 100.0, 20.0
	var taps [7]float64
	var sum float64
	for i := range taps {
		x := float64(i - 3)
		taps[i] = math.Exp(-x * x / (2 * (7.0 / 6) * (7.0 / 6)))
		sum += taps[i]
	}
	var s float64
	for i, k := range taps {
		s += k / sum * math.Pow(-1, float64(i-3))
	}
	g := make([]float64, h*w)
	g32 := gray32{h, w, make([]float32, h*w)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sign := 1 - 2*float64(x%2)
			g[y*w+x] = c + d*sign
			g32.v[y*w+x] = float32((c + d*sign) / 255)
		}
	}
	m64, sig := mscn64(g, h, w)
	m32 := mscn32(g32)
	for y := 0; y < h; y++ {
		for x := 3; x < w-3; x++ {
			sign := 1 - 2*float64(x%2)
			want := d * sign * (1 - s) / (d*math.Sqrt(1-s*s) + 1)
			if got := m64[y*w+x]; math.Abs(got-want) > 1e-9 {
				t.Fatalf("NIQE MSCN at (%d,%d) = %v, want %v", y, x, got, want)
			}
			if got, want := sig[y*w+x], d*math.Sqrt(1-s*s); math.Abs(got-want) > 1e-9 {
				t.Fatalf("NIQE σ at (%d,%d) = %v, want %v", y, x, got, want)
			}
			// BRISQUE: the same on the [0,1] scale with C = 1/255, in float32.
			d1 := d / 255
			want = d1 * sign * (1 - s) / (d1*math.Sqrt(1-s*s) + 1.0/255)
			if got := float64(m32.v[y*w+x]); math.Abs(got-want) > 1e-4 {
				t.Fatalf("BRISQUE MSCN at (%d,%d) = %v, want %v", y, x, got, want)
			}
		}
	}
}

func TestNIQEModelEmbedded(t *testing.T) {
	m, err := loadNIQE()
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != NIQEName || m.Patch != NIQEPatch || m.Patches < 1000 {
		t.Fatalf("embedded model %q, patch %d, %d patches", m.Name, m.Patch, m.Patches)
	}
}

// gaussBlur blurs with cv2.GaussianBlur(img, (0,0), sigma)'s kernel size
// rule for float images (2·⌈4σ⌉+1) through imgproc.Filter2D.
func gaussBlur(img *tensor.Tensor, sigma float64) *tensor.Tensor {
	if sigma == 0 {
		return img
	}
	n := 2*int(math.Ceil(4*sigma)) + 1
	k1 := gaussianTaps(n, sigma)
	k := make([]float32, n*n)
	for i := range n {
		for j := range n {
			k[i*n+j] = float32(k1[i] * k1[j])
		}
	}
	return imgproc.Filter2D(img, k, n, n)
}

func addNoise(img *tensor.Tensor, sigma float64, seed uint64) *tensor.Tensor {
	r := rand.New(rand.NewPCG(seed, 7))
	out := img.Clone()
	for i, v := range out.Data {
		out.Data[i] = float32(math.Min(1, math.Max(0, float64(v)+r.NormFloat64()*sigma/255)))
	}
	return out
}

// niqeFaces returns 20 dev-val faces from the shared data, or the four
// committed fixture faces when the shared data is absent.
func niqeFaces(t *testing.T) []*tensor.Tensor {
	const root = "../../shared/data/ffhq128"
	var paths []string
	if _, err := os.Stat(root); err == nil {
		f, err := dataset.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		dev, err := f.Split("dev-val")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20 && i*10 < len(dev.Files); i++ {
			paths = append(paths, dev.Files[i*10].Path)
		}
	} else {
		t.Logf("%s absent: using the 4 fixture faces instead of 20 dev-val faces", root)
		for _, id := range []string{"04800", "04850", "04900", "04950"} {
			paths = append(paths, filepath.Join(fixtureDir, id+"_gt.png"))
		}
	}
	faces := make([]*tensor.Tensor, len(paths))
	for i, p := range paths {
		img, err := imageio.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		faces[i] = img
	}
	return faces
}

// TestNIQEMonotonic: NIQE-FFHQ averaged over faces rises with blur and
// with noise strength.
func TestNIQEMonotonic(t *testing.T) {
	faces := niqeFaces(t)
	for _, c := range []struct {
		name   string
		levels []float64
		apply  func(*tensor.Tensor, float64, uint64) *tensor.Tensor
	}{
		{"blur σ", []float64{0, 1, 2, 3}, func(img *tensor.Tensor, s float64, _ uint64) *tensor.Tensor { return gaussBlur(img, s) }},
		{"noise σ/255", []float64{0, 5, 10, 20}, addNoise},
	} {
		prev := math.Inf(-1)
		for _, lv := range c.levels {
			var sum float64
			for i, f := range faces {
				s, err := NIQE(c.apply(f, lv, uint64(i)))
				if err != nil {
					t.Fatal(err)
				}
				sum += s
			}
			mean := sum / float64(len(faces))
			t.Logf("%s %g: mean %s %.3f over %d faces", c.name, lv, NIQEName, mean, len(faces))
			if mean <= prev {
				t.Errorf("%s %g: mean %s %.3f does not rise from %.3f", c.name, lv, NIQEName, mean, prev)
			}
			prev = mean
		}
	}
}

func TestNIQEErrors(t *testing.T) {
	if _, err := NIQE(tensor.New(32, 32, 3)); err == nil {
		t.Error("NIQE accepted a one-patch image")
	}
	if _, err := NIQE(tensor.New(64, 64, 1)); err == nil {
		t.Error("NIQE accepted a grey tensor")
	}
}

// TestGammaTableMonotonic guards the binary search of the NIQE fit.
func TestGammaTableMonotonic(t *testing.T) {
	_, r := gammaTable()
	for i := 1; i < len(r); i++ {
		if !(r[i] > r[i-1]) {
			t.Fatalf("r(γ) not increasing at %d: %v then %v", i, r[i-1], r[i])
		}
	}
}

// TestAGGDSearch: the binary search finds the grid's global minimum.
func TestAGGDSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 50; trial++ {
		v := make([]float64, 500)
		scale := 0.5 + rng.Float64()
		for i := range v {
			x := rng.NormFloat64()
			if x > 0 {
				x *= scale
			}
			v[i] = x * math.Abs(x) * rng.Float64()
		}
		a := fitAGGD64(v)
		var m moments
		for _, p := range v {
			m.add(p)
		}
		gh := math.Sqrt(m.negSq/float64(m.neg)) / math.Sqrt(m.posSq/float64(m.pos))
		rhat := (m.absSum / 500) * (m.absSum / 500) / ((m.negSq + m.posSq) / 500)
		rnorm := rhat * (gh*gh*gh + 1) * (gh + 1) / ((gh*gh + 1) * (gh*gh + 1))
		gams, r := gammaTable()
		best, bestD := 0, math.Inf(1)
		for i := range r {
			if d := math.Abs(r[i] - rnorm); d < bestD {
				best, bestD = i, d
			}
		}
		if a.gamma != gams[best] {
			t.Fatalf("trial %d: γ %v, exhaustive search %v", trial, a.gamma, gams[best])
		}
	}
}
