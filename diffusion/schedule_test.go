package diffusion

import (
	"math"
	"testing"
)

func mustSchedule(t *testing.T, kind BetaSchedule) *Schedule {
	t.Helper()
	s, err := NewSchedule(kind, DefaultT)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Abs(want)
}

// The expected values are products Π(1-β) computed separately (Python,
// float64); 4.0358e-5 and 0.00466 are the figures quoted for DDPM's and
// Stable Diffusion's schedules.
func TestScheduleKnownValues(t *testing.T) {
	lin := mustSchedule(t, Linear)
	for _, c := range []struct {
		t    int
		want float64
	}{
		{0, 0.9999},
		{1, 0.9999 * (1 - (1e-4 + (0.02-1e-4)/999))},
		{1, 0.9997800920720721},
		{9, 0.9981052047858344},
		{99, 0.89701814567496},
		{499, 0.07858724288177821},
		{999, 4.0358297653756754e-05},
	} {
		if got := lin.AlphaBar[c.t]; !relClose(got, c.want, 1e-9) {
			t.Errorf("linear ᾱ_%d = %.17g, want %.17g", c.t, got, c.want)
		}
	}
	sl := mustSchedule(t, ScaledLinear)
	for _, c := range []struct {
		t    int
		want float64
	}{{0, 0.99915}, {499, 0.27766965045646763}, {999, 0.004660098513077234}} {
		if got := sl.AlphaBar[c.t]; !relClose(got, c.want, 1e-9) {
			t.Errorf("scaled-linear ᾱ_%d = %.17g, want %.17g", c.t, got, c.want)
		}
	}
	// Linear at T=500 keeps the same end-point schedule shape: β doubled.
	half, err := NewSchedule(Linear, 500)
	if err != nil {
		t.Fatal(err)
	}
	if !relClose(half.Betas[0], 2e-4, 1e-12) || !relClose(half.Betas[499], 0.04, 1e-12) {
		t.Errorf("linear T=500 β from %g to %g, want 2e-4 to 0.04", half.Betas[0], half.Betas[499])
	}
}

func TestScheduleShape(t *testing.T) {
	for _, kind := range []BetaSchedule{Linear, Cosine, ScaledLinear} {
		s := mustSchedule(t, kind)
		if s.T() != DefaultT {
			t.Fatalf("%s: T = %d", kind, s.T())
		}
		if got, want := s.AlphaBar[0], 1-s.Betas[0]; got != want {
			t.Errorf("%s: ᾱ_0 = %g, want 1-β_0 = %g", kind, got, want)
		}
		for i := 1; i < s.T(); i++ {
			if !(s.AlphaBar[i] < s.AlphaBar[i-1]) || !(s.AlphaBar[i] > 0) {
				t.Fatalf("%s: ᾱ not strictly decreasing and positive at %d: %g after %g", kind, i, s.AlphaBar[i], s.AlphaBar[i-1])
			}
		}
		if s.Alpha(-1) != 1 || s.SqrtOneMinusAlphaBar(-1) != 0 {
			t.Errorf("%s: timestep -1 is not the clean image", kind)
		}
		for _, ti := range []int{0, 500, 999} {
			a, b := s.SqrtAlphaBar(ti), s.SqrtOneMinusAlphaBar(ti)
			if math.Abs(a*a+b*b-1) > 1e-12 {
				t.Errorf("%s t=%d: sqrt(ᾱ)² + sqrt(1-ᾱ)² = %g", kind, ti, a*a+b*b)
			}
			if snr := s.SNR(ti); !relClose(snr, a*a/(b*b), 1e-12) {
				t.Errorf("%s t=%d: SNR %g", kind, ti, snr)
			}
		}
	}
	if s := DefaultSchedule(); s.Kind != DefaultBetaSchedule || s.T() != DefaultT {
		t.Errorf("default schedule is %s with T=%d", s.Kind, s.T())
	}
}

// Where no β is clipped, ᾱ_t must be the closed form f(t+1)/f(0) (step t
// of the discrete chain ends at continuous time t+1).
func TestCosineFormula(t *testing.T) {
	s := mustSchedule(t, Cosine)
	f := func(u float64) float64 {
		c := math.Cos((u/1000 + 0.008) / 1.008 * math.Pi / 2)
		return c * c
	}
	clipped := 0
	for i, b := range s.Betas {
		if b == 0.999 {
			clipped++
			continue
		}
		if clipped > 0 {
			t.Fatalf("β_%d = %g unclipped after a clipped β", i, b)
		}
		if want := f(float64(i+1)) / f(0); !relClose(s.AlphaBar[i], want, 1e-9) {
			t.Fatalf("cosine ᾱ_%d = %.17g, want %.17g", i, s.AlphaBar[i], want)
		}
	}
	if clipped != 1 || s.Betas[999] != 0.999 {
		t.Errorf("want exactly the last β clipped to 0.999, got %d clipped, β_999 = %g", clipped, s.Betas[999])
	}
	// Spot value by hand: ᾱ_499 = cos²((0.5+0.008)/1.008·π/2)/cos²(0.008/1.008·π/2).
	if want := 0.493844; !relClose(s.AlphaBar[499], want, 1e-5) {
		t.Errorf("cosine ᾱ_499 = %g, want ≈ %g", s.AlphaBar[499], want)
	}
}

func TestScheduleErrors(t *testing.T) {
	if _, err := NewSchedule("quadratic", 1000); err == nil {
		t.Error("unknown schedule accepted")
	}
	if _, err := NewSchedule(Linear, 1); err == nil {
		t.Error("T=1 accepted")
	}
	// Linear with T=10 scales β to 0.01..2: the last β is not a variance.
	if _, err := NewSchedule(Linear, 10); err == nil {
		t.Error("linear T=10 (β_9 = 2) accepted")
	}
}
