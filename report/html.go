package report

import (
	"html/template"
	"io"
	"math"
	"strconv"

	"facereward/atomicfile"
)

// WriteFile writes the HTML page to path atomically.
func WriteFile(path string, p Page) error {
	return atomicfile.Write(path, func(w io.Writer) error { return WriteHTML(w, p) })
}

type cell struct {
	Text string
	Sort float64 // the value the column sorts by; NaN sorts last
	Best bool
}

type htmlRow struct {
	Method, Name string
	Cells        []cell
}

type htmlHist struct {
	Method string
	SVG    template.HTML
}

type htmlPanel struct {
	Label string
	Src   template.URL
}

type htmlStrip struct {
	Caption string
	Panels  []htmlPanel
}

// WriteHTML writes the self-contained page: summary, a per-image table that
// sorts by any column (a few lines of inline script), histograms per metric
// and method, and the strips.
func WriteHTML(w io.Writer, p Page) error {
	data := struct {
		Title   string
		Columns []Column
		Summary []htmlRow
		Rows    []htmlRow
		Hists   map[string][]htmlHist
		Strips  []htmlStrip
		Notes   []string
	}{Title: p.Title, Columns: p.Columns, Hists: map[string][]htmlHist{}, Notes: p.Notes}

	// Summary: mean per method, the best method per column marked.
	best := make([]float64, len(p.Columns))
	for i, c := range p.Columns {
		best[i] = math.NaN()
		for _, m := range p.Methods {
			v, _ := Mean(m.Rows, c.Key)
			if !math.IsNaN(v) && (math.IsNaN(best[i]) || (c.HigherBetter && v > best[i]) || (!c.HigherBetter && v < best[i])) {
				best[i] = v
			}
		}
	}
	for _, m := range p.Methods {
		r := htmlRow{Method: m.Name}
		for i, c := range p.Columns {
			v, _ := Mean(m.Rows, c.Key)
			r.Cells = append(r.Cells, cell{Text: format(v, c.Digits), Sort: v, Best: len(p.Methods) > 1 && v == best[i]})
		}
		data.Summary = append(data.Summary, r)
		for _, row := range m.Rows {
			hr := htmlRow{Method: m.Name, Name: row.Name}
			for _, c := range p.Columns {
				v, ok := row.Values[c.Key]
				if !ok {
					v = math.NaN()
				}
				hr.Cells = append(hr.Cells, cell{Text: format(v, c.Digits), Sort: v})
			}
			data.Rows = append(data.Rows, hr)
		}
		for _, c := range p.Columns {
			vals := make([]float64, 0, len(m.Rows))
			for _, row := range m.Rows {
				if v, ok := row.Values[c.Key]; ok {
					vals = append(vals, v)
				}
			}
			data.Hists[c.Label] = append(data.Hists[c.Label], htmlHist{Method: m.Name, SVG: template.HTML(histogram(vals, c.Label+" · "+m.Name, histBins(len(vals))))})
		}
	}
	for _, s := range p.Strips {
		hs := htmlStrip{Caption: s.Caption}
		for _, im := range s.Images {
			hs.Panels = append(hs.Panels, htmlPanel{Label: im.Label, Src: template.URL(dataURI(im.PNG))})
		}
		data.Strips = append(data.Strips, hs)
	}
	return page.Execute(w, data)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"sortkey": func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 9, 64)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#eee;cursor:pointer;user-select:none}td:first-child,td:nth-child(2){text-align:left}
td.best{font-weight:bold;background:#e6f4e6}.strip{display:inline-block;margin:0 1.5em 1.5em 0}
.strip img{image-rendering:pixelated;width:160px;height:160px;margin-right:2px}.panel{display:inline-block;text-align:center;font-size:12px}
.hists svg{margin:0 1em 1em 0;border:1px solid #ddd}
</style></head><body>
<h1>{{.Title}}</h1>
<h2>Summary (means)</h2>
<table><tr><th>method</th>{{range .Columns}}<th>{{.Label}} {{if .HigherBetter}}↑{{else}}↓{{end}}</th>{{end}}</tr>
{{range .Summary}}<tr><td>{{.Method}}</td>{{range .Cells}}<td{{if .Best}} class="best"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</table>
{{range .Notes}}<p>{{.}}</p>{{end}}
{{if .Strips}}<h2>Best and worst cases</h2>
{{range .Strips}}<div class="strip"><div>{{.Caption}}</div>{{range .Panels}}<div class="panel"><img src="{{.Src}}" alt="{{.Label}}"><br>{{.Label}}</div>{{end}}</div>
{{end}}{{end}}
<h2>Distributions</h2><div class="hists">{{range $label, $hs := .Hists}}{{range $hs}}{{.SVG}}{{end}}{{end}}</div>
<h2>Per image</h2><p>Click a column header to sort.</p>
<table id="per-image"><thead><tr><th>method</th><th>image</th>{{range .Columns}}<th>{{.Label}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr><td>{{.Method}}</td><td>{{.Name}}</td>{{range .Cells}}<td data-v="{{sortkey .Sort}}">{{.Text}}</td>{{end}}</tr>
{{end}}</tbody></table>
<script>
document.querySelectorAll('#per-image th').forEach(function(th, col){
  var asc = true;
  th.addEventListener('click', function(){
    var body = document.querySelector('#per-image tbody');
    var rows = Array.from(body.rows);
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      if (x === undefined) { x = a.cells[col].textContent; y = b.cells[col].textContent; return asc ? x.localeCompare(y) : y.localeCompare(x); }
      if (x === '') return 1; if (y === '') return -1;
      return asc ? x - y : y - x;
    });
    asc = !asc;
    rows.forEach(function(r){ body.appendChild(r); });
  });
});
</script>
</body></html>
`))
