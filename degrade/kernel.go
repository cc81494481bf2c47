package degrade

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// KernelType names a blur kernel family as basicsr's random_mixed_kernels
// names it, so configs read the same as the Python ones.
type KernelType string

// The kernel families of basicsr. The presets use only Iso and Aniso; the
// generalized (exp(-q^β/2)) and plateau (1/(1+q^β)) shapes are Real-ESRGAN's.
const (
	Iso              KernelType = "iso"
	Aniso            KernelType = "aniso"
	GeneralizedIso   KernelType = "generalized_iso"
	GeneralizedAniso KernelType = "generalized_aniso"
	PlateauIso       KernelType = "plateau_iso"
	PlateauAniso     KernelType = "plateau_aniso"
)

// AllKernelTypes lists every family in a fixed order.
func AllKernelTypes() []KernelType {
	return []KernelType{Iso, Aniso, GeneralizedIso, GeneralizedAniso, PlateauIso, PlateauAniso}
}

func (t KernelType) valid() bool {
	for _, k := range AllKernelTypes() {
		if t == k {
			return true
		}
	}
	return false
}

func (t KernelType) isotropic() bool {
	return t == Iso || t == GeneralizedIso || t == PlateauIso
}

// KernelParams is one drawn blur kernel: enough to rebuild it exactly.
// For isotropic types SigmaY equals SigmaX and Angle is 0; Beta is 0 for the
// plain Gaussians.
type KernelParams struct {
	Type   KernelType `json:"type"`
	Size   int        `json:"size"`
	SigmaX float64    `json:"sigma_x"`
	SigmaY float64    `json:"sigma_y"`
	Angle  float64    `json:"angle"` // radians, counter-clockwise as in basicsr's sigma_matrix2
	Beta   float64    `json:"beta,omitempty"`
}

// Kernel builds the kernel, row-major Size×Size, summing to 1.
func (p KernelParams) Kernel() ([]float64, error) {
	if !p.Type.valid() {
		return nil, fmt.Errorf("degrade: unknown kernel type %q (valid: %s)", p.Type, typeList())
	}
	switch p.Type {
	case Iso, Aniso:
		return Gaussian(p.Size, p.SigmaX, p.SigmaY, p.Angle, p.Type.isotropic())
	case GeneralizedIso, GeneralizedAniso:
		return GeneralizedGaussian(p.Size, p.SigmaX, p.SigmaY, p.Angle, p.Beta, p.Type.isotropic())
	default:
		return Plateau(p.Size, p.SigmaX, p.SigmaY, p.Angle, p.Beta, p.Type.isotropic())
	}
}

// Gaussian is basicsr's bivariate_Gaussian: exp(-q/2) normalised, where
// q = [x y] Σ⁻¹ [x y]ᵀ on the integer grid centred on the middle tap and
// Σ = R(θ) diag(σx², σy²) R(θ)ᵀ. Isotropic uses σx for both axes and ignores
// σy and θ.
func Gaussian(size int, sigmaX, sigmaY, theta float64, isotropic bool) ([]float64, error) {
	return shapeKernel(size, sigmaX, sigmaY, theta, isotropic, func(q float64) float64 {
		return math.Exp(-0.5 * q)
	})
}

// GeneralizedGaussian is basicsr's bivariate_generalized_Gaussian:
// exp(-q^β/2) normalised; β = 1 is the Gaussian, β < 1 has heavier tails,
// β > 1 a flatter top.
func GeneralizedGaussian(size int, sigmaX, sigmaY, theta, beta float64, isotropic bool) ([]float64, error) {
	if !(beta > 0) {
		return nil, fmt.Errorf("degrade: generalized Gaussian beta %g must be > 0", beta)
	}
	return shapeKernel(size, sigmaX, sigmaY, theta, isotropic, func(q float64) float64 {
		return math.Exp(-0.5 * math.Pow(q, beta))
	})
}

// Plateau is basicsr's bivariate_plateau: 1/(q^β + 1) normalised.
func Plateau(size int, sigmaX, sigmaY, theta, beta float64, isotropic bool) ([]float64, error) {
	if !(beta > 0) {
		return nil, fmt.Errorf("degrade: plateau beta %g must be > 0", beta)
	}
	return shapeKernel(size, sigmaX, sigmaY, theta, isotropic, func(q float64) float64 {
		return 1 / (math.Pow(q, beta) + 1)
	})
}

// shapeKernel evaluates shape(q) on the grid and normalises. The inverse of
// Σ is written out in closed form; it agrees with numpy's LU inverse to
// rounding, far inside the fixtures' 1e-6.
func shapeKernel(size int, sigmaX, sigmaY, theta float64, isotropic bool, shape func(q float64) float64) ([]float64, error) {
	if size < 1 || size%2 == 0 {
		return nil, fmt.Errorf("degrade: kernel size %d must be odd and positive", size)
	}
	if isotropic {
		sigmaY, theta = sigmaX, 0
	}
	if !(sigmaX > 0) || !(sigmaY > 0) {
		return nil, fmt.Errorf("degrade: kernel sigmas (%g, %g) must be > 0", sigmaX, sigmaY)
	}
	c, s := math.Cos(theta), math.Sin(theta)
	vx, vy := sigmaX*sigmaX, sigmaY*sigmaY
	// Σ = U D Uᵀ with U = [[c, -s], [s, c]].
	a := c*c*vx + s*s*vy
	b := c * s * (vx - vy)
	d := s*s*vx + c*c*vy
	det := a*d - b*b
	ia, ib, id := d/det, -b/det, a/det

	k := make([]float64, size*size)
	half := size / 2
	sum := 0.0
	for i := range size {
		y := float64(i - half)
		for j := range size {
			x := float64(j - half)
			v := shape(x*(ia*x+ib*y) + y*(ib*x+id*y))
			k[i*size+j] = v
			sum += v
		}
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return nil, fmt.Errorf("degrade: kernel (size %d, sigmas %g, %g) does not normalise (sum %g)", size, sigmaX, sigmaY, sum)
	}
	for i := range k {
		k[i] /= sum
	}
	return k, nil
}

// RandomKernel draws a kernel as basicsr's random_mixed_kernels does: the
// type by c.KernelProbs, σx (and for anisotropic types σy and the angle)
// uniformly in their ranges, and for generalized/plateau types β by
// basicsr's rule: with probability ½ uniform in [lo, 1], else in [1, hi]
// (when the range does not contain 1, uniform in [lo, hi]). Isotropic types
// get σy = σx and angle 0. The kernel size is c.KernelSize.
func RandomKernel(rng *rand.Rand, c Config) (KernelParams, error) {
	if err := c.validateKernel(); err != nil {
		return KernelParams{}, err
	}
	p := KernelParams{Type: pick(rng, c.KernelTypes, c.KernelProbs), Size: c.KernelSize}
	p.SigmaX = uniform(rng, c.Sigma)
	if p.Type.isotropic() {
		p.SigmaY = p.SigmaX
	} else {
		p.SigmaY = uniform(rng, c.Sigma)
		p.Angle = uniform(rng, c.Angle)
	}
	switch p.Type {
	case GeneralizedIso, GeneralizedAniso:
		p.Beta = drawBeta(rng, c.BetaG)
	case PlateauIso, PlateauAniso:
		p.Beta = drawBeta(rng, c.BetaP)
	}
	return p, nil
}

// pick draws an index by weight (random.choices: weights need not sum to 1).
func pick(rng *rand.Rand, types []KernelType, probs []float64) KernelType {
	total := 0.0
	for _, p := range probs {
		total += p
	}
	u := rng.Float64() * total
	for i, p := range probs {
		if u < p {
			return types[i]
		}
		u -= p
	}
	return types[len(types)-1] // u landed on the rounding edge
}

func uniform(rng *rand.Rand, r [2]float64) float64 {
	return r[0] + (r[1]-r[0])*rng.Float64()
}

func drawBeta(rng *rand.Rand, r [2]float64) float64 {
	if r[0] > 1 || r[1] < 1 {
		return uniform(rng, r)
	}
	if rng.Float64() < 0.5 {
		return uniform(rng, [2]float64{r[0], 1})
	}
	return uniform(rng, [2]float64{1, r[1]})
}

// gaussian1D is the normalised 1-D Gaussian whose outer product with itself
// is Gaussian(size, sigma, sigma, 0, true).
func gaussian1D(size int, sigma float64) ([]float64, error) {
	if size < 1 || size%2 == 0 {
		return nil, fmt.Errorf("degrade: kernel size %d must be odd and positive", size)
	}
	if !(sigma > 0) {
		return nil, fmt.Errorf("degrade: kernel sigma %g must be > 0", sigma)
	}
	g := make([]float64, size)
	half := size / 2
	sum := 0.0
	for i := range g {
		x := float64(i - half)
		g[i] = math.Exp(-0.5 * x * x / (sigma * sigma))
		sum += g[i]
	}
	for i := range g {
		g[i] /= sum
	}
	return g, nil
}
