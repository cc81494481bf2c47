package report

import (
	"math"
	"strings"
	"testing"
)

// A chart draws one polyline per series through its non-NaN points, in the
// plot box, with the reference line and band when given.
func TestChartSVG(t *testing.T) {
	c := Chart{Title: "PSNR <dB>", Series: []Series{{Name: "a", X: []float64{0, 50, 100}, Y: []float64{25, math.NaN(), 26}}},
		Ref: 25.5, RefLabel: "base", Band: [2]float64{25.2, 25.8}}
	svg := c.SVG(400, 200)
	if !strings.Contains(svg, "PSNR &lt;dB&gt;") {
		t.Error("title not escaped")
	}
	if n := strings.Count(svg, "<circle"); n != 2 {
		t.Errorf("%d points drawn, want 2 (the NaN skipped)", n)
	}
	if !strings.Contains(svg, "stroke-dasharray") || !strings.Contains(svg, `opacity="0.12"`) {
		t.Error("no reference line or band")
	}
	// The first point (x 0, y 25, the lowest value) sits at the plot's left
	// edge and below the reference line.
	i := strings.Index(svg, `points="`)
	pts := strings.Fields(svg[i+8 : i+8+strings.Index(svg[i+8:], `"`)])
	if len(pts) != 2 || !strings.HasPrefix(pts[0], "56.0,") {
		t.Errorf("points %v", pts)
	}
	if strings.Contains(svg, "NaN") {
		t.Error("NaN in the SVG")
	}
	if empty := (Chart{Title: "x", Ref: math.NaN()}).SVG(100, 100); !strings.Contains(empty, "no data yet") {
		t.Error("an empty chart does not say so")
	}
}
