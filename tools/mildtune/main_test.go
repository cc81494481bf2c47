package main

import (
	"math"
	"testing"

	"facereward/restorer"
)

func TestInterp(t *testing.T) {
	xs, ys := []float64{0.2, 0.4, 0.8}, []float64{10, 20, 0}
	for _, c := range []struct{ x, want float64 }{
		{0.1, 10}, {0.2, 10}, {0.3, 15}, {0.4, 20}, {0.6, 10}, {0.8, 0}, {0.9, 0},
	} {
		if got := interp(xs, ys, c.x); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("interp at %g: %g, want %g", c.x, got, c.want)
		}
	}
}

// Two faces, one below the ramp and one above it: the first keeps the
// grid's lowest guidance, the second gets the mild one.
func TestApply(t *testing.T) {
	p := &preset{
		grid:    []float64{0.25, 0.5, 0.75},
		detail:  []float64{-3, -2},
		lqPSNR:  20,
		psnr:    [][]float64{{21, 22, 23}, {24, 25, 26}},
		brisque: [][]float64{{10, 30, 50}, {12, 32, 52}},
	}
	r := rule{from: -2.6, span: 0.4, top: 0.5}
	mild := func(d float64) float64 { return r.guidance(false, p.grid[0], d) }
	gain, b := p.apply(mild)
	if math.Abs(gain-((21+25)/2.0-20)) > 1e-12 || math.Abs(b-(10+32)/2.0) > 1e-12 {
		t.Errorf("apply: gain %g, BRISQUE %g; want 3, 21", gain, b)
	}
	// Halfway up the ramp (detail −2.4): guidance 0.375, between grid points.
	p.detail[1] = -2.4
	gain, b = p.apply(mild)
	if math.Abs(gain-((21+24.5)/2.0-20)) > 1e-12 || math.Abs(b-(10+22)/2.0) > 1e-12 {
		t.Errorf("apply halfway: gain %g, BRISQUE %g; want 2.75, 16", gain, b)
	}
}

// A heavy rule keeps the shipped mild ramp above and adds its own below:
// the lowest guidance between them.
func TestHeavyGuidance(t *testing.T) {
	r := rule{from: -3.4, span: 0.4, top: 0.6}
	mildTop := restorer.MildFrom + restorer.MildSpan
	for _, c := range []struct{ d, want float64 }{
		{-5, 0.6}, {-3.8, 0.6}, {-3.6, 0.4375}, {-3.4, 0.275}, {-3, 0.275},
		{restorer.MildFrom, 0.275}, {mildTop, restorer.DefaultMildGuidance}, {0, restorer.DefaultMildGuidance},
	} {
		if g := r.guidance(true, 0.275, c.d); math.Abs(g-c.want) > 1e-12 {
			t.Errorf("detail %g: guidance %g, want %g", c.d, g, c.want)
		}
	}
}
