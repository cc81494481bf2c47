package degrade

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

type kernelFixture struct {
	Type   KernelType `json:"type"`
	Size   int        `json:"size"`
	SigmaX float64    `json:"sigma_x"`
	SigmaY float64    `json:"sigma_y"`
	Angle  float64    `json:"angle"`
	Beta   float64    `json:"beta"`
	Kernel []float64  `json:"kernel"`
}

// TestKernelsMatchBasicsr compares every kernel family with the numpy
// reimplementation of basicsr's formulas in tools/cvref/gen_degrade.py.
func TestKernelsMatchBasicsr(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(cvrefDir, "degrade_kernels.json"))
	if err != nil {
		t.Fatalf("kernel fixture (regenerate with tools/cvref/gen_degrade.py): %v", err)
	}
	var fx struct{ Kernels []kernelFixture }
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatalf("kernel fixture: %v", err)
	}
	seen := map[KernelType]bool{}
	worst := 0.0
	for _, f := range fx.Kernels {
		p := KernelParams{Type: f.Type, Size: f.Size, SigmaX: f.SigmaX, SigmaY: f.SigmaY, Angle: f.Angle, Beta: f.Beta}
		k, err := p.Kernel()
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if len(k) != len(f.Kernel) {
			t.Fatalf("%+v: %d taps, fixture has %d", p, len(k), len(f.Kernel))
		}
		diff, sum := 0.0, 0.0
		for i := range k {
			diff = max(diff, math.Abs(k[i]-f.Kernel[i]))
			sum += k[i]
		}
		if diff > 1e-6 {
			t.Errorf("%+v: max |Go − numpy| = %.3g > 1e-6", p, diff)
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("%+v: sums to %.15f", p, sum)
		}
		worst = max(worst, diff)
		seen[f.Type] = true
	}
	for _, kt := range AllKernelTypes() {
		if !seen[kt] {
			t.Errorf("fixture has no %s kernel", kt)
		}
	}
	t.Logf("%d kernels, worst max |Go − numpy| = %.3g", len(fx.Kernels), worst)
}

// The separable path of blur must build the same kernel as the 2-D one.
func TestGaussian1DIsSeparableIso(t *testing.T) {
	for _, c := range []struct {
		size  int
		sigma float64
	}{{1, 1}, {11, 0.03}, {11, 3}, {41, 12}} {
		k2, err := Gaussian(c.size, c.sigma, 0, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		g, err := gaussian1D(c.size, c.sigma)
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.size {
			for j := range c.size {
				if d := math.Abs(g[i]*g[j] - k2[i*c.size+j]); d > 1e-15 {
					t.Fatalf("size %d σ %g: tap (%d,%d) differs by %g", c.size, c.sigma, i, j, d)
				}
			}
		}
	}
}

func TestKernelErrors(t *testing.T) {
	bad := []KernelParams{
		{Type: Iso, Size: 4, SigmaX: 1, SigmaY: 1},
		{Type: Iso, Size: 0, SigmaX: 1, SigmaY: 1},
		{Type: Aniso, Size: 5, SigmaX: 1, SigmaY: 0},
		{Type: GeneralizedIso, Size: 5, SigmaX: 1, SigmaY: 1, Beta: 0},
		{Type: PlateauAniso, Size: 5, SigmaX: 1, SigmaY: 1, Beta: -1},
		{Type: "box", Size: 5, SigmaX: 1, SigmaY: 1},
	}
	for _, p := range bad {
		if _, err := p.Kernel(); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
}

func TestRandomKernelDraws(t *testing.T) {
	c, _ := Preset("diffbir")
	c.KernelTypes = append([]KernelType(nil), AllKernelTypes()...)
	c.KernelProbs = []float64{3, 1, 1, 1, 1, 1} // weights need not sum to 1
	c.KernelSize = 7
	rng := rand.New(rand.NewPCG(1, 2))
	count := map[KernelType]int{}
	const n = 8000
	for range n {
		p, err := RandomKernel(rng, c)
		if err != nil {
			t.Fatal(err)
		}
		count[p.Type]++
		if p.Size != 7 {
			t.Fatalf("size %d", p.Size)
		}
		if p.SigmaX < c.Sigma[0] || p.SigmaX > c.Sigma[1] || p.SigmaY < c.Sigma[0] || p.SigmaY > c.Sigma[1] {
			t.Fatalf("sigmas out of range: %+v", p)
		}
		if p.Type.isotropic() && (p.SigmaY != p.SigmaX || p.Angle != 0) {
			t.Fatalf("isotropic kernel with σy ≠ σx or an angle: %+v", p)
		}
		if p.Angle < -math.Pi || p.Angle > math.Pi {
			t.Fatalf("angle out of range: %+v", p)
		}
		switch p.Type {
		case GeneralizedIso, GeneralizedAniso:
			if p.Beta < c.BetaG[0] || p.Beta > c.BetaG[1] {
				t.Fatalf("beta out of beta_g: %+v", p)
			}
		case PlateauIso, PlateauAniso:
			if p.Beta < c.BetaP[0] || p.Beta > c.BetaP[1] {
				t.Fatalf("beta out of beta_p: %+v", p)
			}
		default:
			if p.Beta != 0 {
				t.Fatalf("Gaussian with a beta: %+v", p)
			}
		}
	}
	// Iso has weight 3/8, the others 1/8 each; 4σ of a binomial is < 0.025.
	for i, kt := range c.KernelTypes {
		want := c.KernelProbs[i] / 8
		if got := float64(count[kt]) / n; math.Abs(got-want) > 0.025 {
			t.Errorf("%s drawn %.3f of the time, want %.3f", kt, got, want)
		}
	}
}
