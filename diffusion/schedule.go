package diffusion

import (
	"fmt"
	"math"
)

// BetaSchedule names how the per-step noise variances β_t are laid out.
type BetaSchedule string

const (
	// Linear is DDPM's β from 1e-4 to 0.02 (scaled by 1000/T as in
	// guided-diffusion, so other T keep the same end-point ᾱ).
	Linear BetaSchedule = "linear"
	// Cosine is Nichol & Dhariwal's ᾱ(t) = cos²((t/T+s)/(1+s)·π/2), s =
	// 0.008, with β clipped at 0.999 so the last steps stay finite.
	Cosine BetaSchedule = "cosine"
	// ScaledLinear is Stable Diffusion's: linear in sqrt(β) from
	// sqrt(0.00085) to sqrt(0.012). It is tuned for 64×64 latents and leaves
	// too much signal at t = T-1 for pixels; here for comparison.
	ScaledLinear BetaSchedule = "scaled-linear"
)

// DefaultT is the number of training timesteps of every published model the
// project follows.
const DefaultT = 1000

// DefaultBetaSchedule is cosine. Pixel-space face models in the field
// (guided-diffusion's, DiffBIR's pixel-space variants) use linear or cosine.
// At low resolution such as our 128×128 the linear schedule reaches almost
// pure noise well before t = T (a small image has little redundancy, so the
// same noise level erases more of it) and the last fifth of its steps teach
// little, while cosine spreads the information loss evenly over t (Nichol &
// Dhariwal 2021, §3.2, measured at 64×64 and below).
const DefaultBetaSchedule = Cosine

// Schedule is a discrete noise schedule: x_t = sqrt(ᾱ_t)·x0 + sqrt(1-ᾱ_t)·ε.
// AlphaBar is in float64 because 1-ᾱ near t = 0 and ᾱ near t = T-1 are both
// far below float32's resolution around 1.
type Schedule struct {
	Kind     BetaSchedule
	Betas    []float64 // β_t, t in [0, T)
	AlphaBar []float64 // ᾱ_t = Π_{s<=t} (1-β_s)
}

// DefaultSchedule is the project's schedule: DefaultBetaSchedule over
// DefaultT steps.
func DefaultSchedule() *Schedule {
	s, err := NewSchedule(DefaultBetaSchedule, DefaultT)
	if err != nil {
		panic(err) // the defaults are valid by construction
	}
	return s
}

// NewSchedule builds a schedule of T steps.
func NewSchedule(kind BetaSchedule, T int) (*Schedule, error) {
	if T < 2 {
		return nil, fmt.Errorf("diffusion: schedule needs T >= 2, got %d", T)
	}
	betas := make([]float64, T)
	switch kind {
	case Linear:
		scale := 1000 / float64(T)
		linspace(betas, scale*1e-4, scale*0.02)
	case ScaledLinear:
		linspace(betas, math.Sqrt(0.00085), math.Sqrt(0.012))
		for i, b := range betas {
			betas[i] = b * b
		}
	case Cosine:
		for i := range betas {
			betas[i] = min(1-cosineAlphaBar(i+1, T)/cosineAlphaBar(i, T), 0.999)
		}
	default:
		return nil, fmt.Errorf("diffusion: unknown beta schedule %q (want %q, %q or %q)", kind, Linear, Cosine, ScaledLinear)
	}
	ab := make([]float64, T)
	prod := 1.0
	for i, b := range betas {
		if !(b > 0 && b < 1) {
			return nil, fmt.Errorf("diffusion: %s schedule with T=%d gives β_%d = %g outside (0, 1)", kind, T, i, b)
		}
		prod *= 1 - b
		ab[i] = prod
	}
	return &Schedule{Kind: kind, Betas: betas, AlphaBar: ab}, nil
}

// cosineAlphaBar is the continuous f(t)/f(0) of the cosine schedule.
func cosineAlphaBar(t, T int) float64 {
	const s = 0.008
	f := func(t float64) float64 {
		c := math.Cos((t/float64(T) + s) / (1 + s) * math.Pi / 2)
		return c * c
	}
	return f(float64(t)) / f(0)
}

// linspace fills dst with evenly spaced values from a to b inclusive.
func linspace(dst []float64, a, b float64) {
	n := len(dst)
	for i := range dst {
		dst[i] = a + (b-a)*float64(i)/float64(n-1)
	}
}

// T is the number of timesteps.
func (s *Schedule) T() int { return len(s.AlphaBar) }

// Alpha returns ᾱ_t; t = -1 is the clean image (ᾱ = 1).
func (s *Schedule) Alpha(t int) float64 {
	if t < 0 {
		return 1
	}
	return s.AlphaBar[t]
}

// SqrtAlphaBar is sqrt(ᾱ_t), the signal coefficient of x_t.
func (s *Schedule) SqrtAlphaBar(t int) float64 { return math.Sqrt(s.Alpha(t)) }

// SqrtOneMinusAlphaBar is sqrt(1-ᾱ_t), the noise coefficient of x_t.
func (s *Schedule) SqrtOneMinusAlphaBar(t int) float64 { return math.Sqrt(1 - s.Alpha(t)) }

// SNR is the signal-to-noise ratio ᾱ_t/(1-ᾱ_t).
func (s *Schedule) SNR(t int) float64 { a := s.Alpha(t); return a / (1 - a) }

// checkT panics on a timestep outside [-1, T): always a programming error.
func (s *Schedule) checkT(t int) {
	if t < -1 || t >= s.T() {
		panic(fmt.Sprintf("diffusion: timestep %d outside [-1, %d)", t, s.T()))
	}
}
