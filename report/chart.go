package report

import (
	"fmt"
	"math"
	"strings"
)

// Series is one line of a chart.
type Series struct {
	Name string
	X, Y []float64
}

// Chart is a line chart over training steps, drawn as inline SVG.
type Chart struct {
	Title  string
	Series []Series
	// Ref, when not NaN, is drawn as a dashed horizontal line (the base
	// model's value) with RefLabel.
	Ref      float64
	RefLabel string
	// Band, when its width is positive, shades [Band[0], Band[1]] (a
	// tolerance around Ref).
	Band [2]float64
}

var chartColours = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// SVG draws the chart at w×h pixels. NaN points are skipped.
func (c Chart) SVG(w, h int) string {
	const left, right, top, bottom = 56.0, 10.0, 22.0, 28.0
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	grow := func(x, y float64) {
		if math.IsNaN(x) || math.IsNaN(y) {
			return
		}
		xmin, xmax, ymin, ymax = math.Min(xmin, x), math.Max(xmax, x), math.Min(ymin, y), math.Max(ymax, y)
	}
	for _, s := range c.Series {
		for i := range s.X {
			grow(s.X[i], s.Y[i])
		}
	}
	if !math.IsNaN(c.Ref) && !math.IsInf(xmin, 1) {
		grow(xmin, c.Ref)
	}
	if c.Band[1] > c.Band[0] && !math.IsInf(xmin, 1) {
		grow(xmin, c.Band[0])
		grow(xmin, c.Band[1])
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`, w, h, w, h)
	fmt.Fprintf(&b, `<text x="%g" y="14" font-weight="bold">%s</text>`, left, escape(c.Title))
	if math.IsInf(xmin, 1) {
		b.WriteString(`<text x="60" y="60">no data yet</text></svg>`)
		return b.String()
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	if ymax == ymin {
		ymin, ymax = ymin-0.5*math.Max(math.Abs(ymin), 1e-3), ymax+0.5*math.Max(math.Abs(ymax), 1e-3)
	}
	pad := 0.05 * (ymax - ymin)
	ymin, ymax = ymin-pad, ymax+pad
	pw, ph := float64(w)-left-right, float64(h)-top-bottom
	px := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return top + (ymax-y)/(ymax-ymin)*ph }
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#999"/>`, left, top, pw, ph)
	if c.Band[1] > c.Band[0] {
		fmt.Fprintf(&b, `<rect x="%g" y="%.1f" width="%g" height="%.1f" fill="#2ca02c" opacity="0.12"/>`, left, py(c.Band[1]), pw, py(c.Band[0])-py(c.Band[1]))
	}
	for i := range 3 {
		y := ymin + (ymax-ymin)*float64(i)/2
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`, left-4, py(y)+4, tick(y, ymax-ymin))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%d">%g</text><text x="%g" y="%d" text-anchor="end">%g</text>`, left, h-8, xmin, left+pw, h-8, xmax)
	if !math.IsNaN(c.Ref) {
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#555" stroke-dasharray="4 3"/><text x="%g" y="%.1f" fill="#555" text-anchor="end">%s</text>`,
			left, left+pw, py(c.Ref), py(c.Ref), left+pw-2, py(c.Ref)-3, escape(c.RefLabel))
	}
	for k, s := range c.Series {
		col := chartColours[k%len(chartColours)]
		var pts []string
		for i := range s.X {
			if math.IsNaN(s.Y[i]) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.X[i]), py(s.Y[i])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, col, strings.Join(pts, " "))
		if len(pts) <= 40 {
			for _, p := range pts {
				xy := strings.Split(p, ",")
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2.5" fill="%s"/>`, xy[0], xy[1], col)
			}
		}
		if n := len(c.Series); n > 1 {
			// On the x axis's line, centred between its end labels: the
			// title's line has no room to spare for a long title.
			x := left + pw/2 + (float64(k)-float64(n-1)/2)*90
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="%s" text-anchor="middle">%s</text>`, x, h-8, col, escape(s.Name))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// tick formats an axis value with enough digits for the axis's span.
func tick(v, span float64) string {
	d := max(0, int(math.Ceil(-math.Log10(span)))+2)
	return fmt.Sprintf("%.*f", d, v)
}
