package report

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Column describes one metric.
type Column struct {
	Key   string // as in Row.Values
	Label string // shown in headers, e.g. "PSNR (dB)"
	// HigherBetter orders best/worst cases and marks the best method.
	HigherBetter bool
	Digits       int // decimals shown
}

// Row is one image's results for one method; a missing metric is NaN (for
// example LMD where the landmark net could not place the face).
type Row struct {
	Name   string
	Values map[string]float64
}

// Method is one set of restorations (one --pred folder).
type Method struct {
	Name string
	Rows []Row
}

// StripImage is one panel of a strip, as PNG bytes.
type StripImage struct {
	Label string
	PNG   []byte
}

// Strip is a row of panels (LQ | restored | GT) with a caption.
type Strip struct {
	Caption string
	Images  []StripImage
}

// Page is everything a report shows.
type Page struct {
	Title   string
	Columns []Column
	Methods []Method
	Strips  []Strip
	Notes   []string // shown under the summary (counts of excluded faces, model names)
}

// Mean averages a column over rows, skipping NaN; it also returns how many
// rows counted.
func Mean(rows []Row, key string) (float64, int) {
	var s float64
	n := 0
	for _, r := range rows {
		if v, ok := r.Values[key]; ok && !math.IsNaN(v) {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return s / float64(n), n
}

// Markdown writes the summary table: one row per method, one column per
// metric (means), with the count behind each mean where some rows lack it.
func Markdown(w io.Writer, p Page) {
	fmt.Fprint(w, "| method | images |")
	for _, c := range p.Columns {
		fmt.Fprintf(w, " %s %s |", c.Label, arrow(c))
	}
	fmt.Fprint(w, "\n| --- | --- |")
	for range p.Columns {
		fmt.Fprint(w, " --- |")
	}
	fmt.Fprintln(w)
	for _, m := range p.Methods {
		fmt.Fprintf(w, "| %s | %d |", m.Name, len(m.Rows))
		for _, c := range p.Columns {
			v, n := Mean(m.Rows, c.Key)
			cell := format(v, c.Digits)
			if n != len(m.Rows) && n > 0 {
				cell += fmt.Sprintf(" (n=%d)", n)
			}
			fmt.Fprintf(w, " %s |", cell)
		}
		fmt.Fprintln(w)
	}
}

func arrow(c Column) string {
	if c.HigherBetter {
		return "↑"
	}
	return "↓"
}

func format(v float64, digits int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.*f", digits, v)
}

// BestWorst returns the names of the n best and n worst rows by a column
// (rows lacking it are left out).
func BestWorst(rows []Row, c Column, n int) (best, worst []string) {
	var have []Row
	for _, r := range rows {
		if v, ok := r.Values[c.Key]; ok && !math.IsNaN(v) {
			have = append(have, r)
		}
	}
	sort.SliceStable(have, func(i, j int) bool {
		a, b := have[i].Values[c.Key], have[j].Values[c.Key]
		if c.HigherBetter {
			return a > b
		}
		return a < b
	})
	for i := 0; i < n && i < len(have); i++ {
		best = append(best, have[i].Name)
		worst = append(worst, have[len(have)-1-i].Name)
	}
	return best, worst
}

// histBins is the bar count for n values: about √n, between 4 and 20, so
// that a handful of faces gives a few readable bars rather than twenty
// slivers of which most are empty.
func histBins(n int) int { return min(20, max(4, int(math.Ceil(math.Sqrt(float64(n)))))) }

// histogram returns an inline SVG bar chart of values in bins.
func histogram(values []float64, label string, bins int) string {
	var vs []float64
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			vs = append(vs, v)
		}
	}
	const w, h, pad = 320.0, 120.0, 18.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" role="img" aria-label="%s">`, w, h+2*pad, escape(label))
	if len(vs) == 0 {
		b.WriteString(`<text x="10" y="40">no values</text></svg>`)
		return b.String()
	}
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		hi = lo + 1
	}
	counts := make([]int, bins)
	peak := 0
	for _, v := range vs {
		i := min(int((v-lo)/(hi-lo)*float64(bins)), bins-1)
		counts[i]++
		peak = max(peak, counts[i])
	}
	bw := w / float64(bins)
	for i, c := range counts {
		bh := h * float64(c) / float64(peak)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#4a7fb5"><title>%d</title></rect>`,
			float64(i)*bw+1, pad+h-bh, bw-2, bh, c)
	}
	fmt.Fprintf(&b, `<text x="2" y="%.0f" font-size="11">%.3g</text><text x="%.0f" y="%.0f" font-size="11" text-anchor="end">%.3g</text>`,
		h+2*pad-2, lo, w-2, h+2*pad-2, hi)
	fmt.Fprintf(&b, `<text x="2" y="12" font-size="12">%s (n=%d)</text></svg>`, escape(label), len(vs))
	return b.String()
}

func escape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")
	return r.Replace(s)
}

func dataURI(png []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}
