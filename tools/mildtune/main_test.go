package main

import (
	"math"
	"strings"
	"testing"
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
		lq:      []float64{20, 20},
		psnr:    [][]float64{{21, 22, 23}, {24, 25, 26}},
		brisque: [][]float64{{10, 30, 50}, {12, 32, 52}},
	}
	gain, b := p.apply(-2.6, 0.4, 0.5)
	if math.Abs(gain-((21+25)/2.0-20)) > 1e-12 || math.Abs(b-(10+32)/2.0) > 1e-12 {
		t.Errorf("apply: gain %g, BRISQUE %g; want 3, 21", gain, b)
	}
	// Halfway up the ramp (detail −2.4): guidance 0.375, between grid points.
	p.detail[1] = -2.4
	gain, b = p.apply(-2.6, 0.4, 0.5)
	if math.Abs(gain-((21+24.5)/2.0-20)) > 1e-12 || math.Abs(b-(10+22)/2.0) > 1e-12 {
		t.Errorf("apply halfway: gain %g, BRISQUE %g; want 2.75, 16", gain, b)
	}
}

// Three faces in three bins of detail: each bin's cells are its one face's
// gain over the LQ and BRISQUE, stage 1's and the GT's rows included.
func TestPrintBins(t *testing.T) {
	p := &preset{
		name:    "heavy",
		grid:    []float64{0.25, 0.5},
		detail:  []float64{-4, -3.5, -3},
		lq:      []float64{20, 21, 22},
		psnr:    [][]float64{{20.5, 21}, {21.25, 21.5}, {23, 24}},
		brisque: [][]float64{{1, 20}, {5, 25}, {15, 30}},
		rows: map[string][]result{
			"stage 1": {{21, 60}, {22, 55}, {23.5, 50}},
			"GT":      {{math.NaN(), 8}, {math.NaN(), 9}, {math.NaN(), 10}},
		},
	}
	edges, err := parseEdges("-3.8, -3.3")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	printBins(&b, []*preset{p}, edges)
	for _, want := range []string{
		"| stage-1 detail | faces | stage 1 | 0.25 | 0.5 | GT BRISQUE |",
		"| below -3.8 | 1 | +1.00 / 60.0 | +0.50 / 1.0 | +1.00 / 20.0 | 8.0 |",
		"| -3.8 to -3.3 | 1 | +1.00 / 55.0 | +0.25 / 5.0 | +0.50 / 25.0 | 9.0 |",
		"| -3.3 and above | 1 | +1.50 / 50.0 | +1.00 / 15.0 | +2.00 / 30.0 | 10.0 |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in\n%s", want, b.String())
		}
	}
	for _, bad := range []string{"", "-3,-4", "-3,x", "NaN"} {
		if _, err := parseEdges(bad); err == nil {
			t.Errorf("parseEdges(%q): no error", bad)
		}
	}
}
