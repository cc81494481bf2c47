package refl

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"

	"facereward/atomicfile"
	"facereward/imageio"
	"facereward/report"
	"facereward/rundir"
	"facereward/tensor"
	"facereward/train"
)

// IsRun reports whether the run folder dir holds a ReFL run: its
// config.json has the watch settings, which no other run's config has.
func IsRun(dir string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return false, fmt.Errorf("run %s: %w", dir, err)
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(b, &cfg); err != nil {
		return false, fmt.Errorf("run %s: config.json: %w", dir, err)
	}
	_, ok := cfg["watch"] // Options.Watch
	return ok, nil
}

// WriteReport writes dir/report.html, one self-contained page for a
// ReFL run: the loss terms and the dev-val scores over steps (the base's
// value dashed, the hacking tolerances shaded), the table of passes with
// hacking flags and the best pass, and the sample strip LQ | base | best |
// latest | GT. It reads only the run folder, so it can be rebuilt at any
// time (`facereward train refl --report RUN`).
func WriteReport(dir string) error {
	r, err := readRun(dir)
	if err != nil {
		return err
	}
	lossCharts, devCharts := r.charts()
	rows := r.rows()
	strip, stripNote := r.strip(dir)
	settings, _ := json.MarshalIndent(r.opt, "", "  ")
	data := struct {
		Dir                 string
		Loss, Dev           []chart
		Rows                []row
		Best                *bestInfo
		Rule                string
		Strip               template.URL
		StripNote, Settings string
		Hacked              bool
	}{Dir: dir, Loss: lossCharts, Dev: devCharts, Rows: rows, Best: r.best, Rule: r.opt.Watch.rule(), Strip: strip, StripNote: stripNote, Settings: string(settings)}
	for _, rw := range rows {
		data.Hacked = data.Hacked || rw.Hacking
	}
	return atomicfile.Write(filepath.Join(dir, "report.html"), func(w io.Writer) error { return page.Execute(w, data) })
}

// runLog is what the report reads from a run folder.
type runLog struct {
	opt    Options
	log    *rundir.ByStep
	passes []passScores // the dev-val passes, by step
	best   *bestInfo    // nil without best/best.json
}

func readRun(dir string) (*runLog, error) {
	r := &runLog{}
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", dir, err)
	}
	if err := json.Unmarshal(cfg, &r.opt); err != nil {
		return nil, fmt.Errorf("report %s: config.json: %w", dir, err)
	}
	if r.log, err = rundir.ReadByStep(dir); err != nil {
		return nil, err
	}
	for _, st := range r.log.Steps() {
		if p, ok := passFromLog(rundir.Entry{Step: st, Fields: r.log.Fields(st)}); ok {
			r.passes = append(r.passes, p)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "best", "best.json")); err == nil {
		r.best = &bestInfo{}
		if err := json.Unmarshal(b, r.best); err != nil {
			return nil, fmt.Errorf("report %s: best.json: %w", dir, err)
		}
	}
	return r, nil
}

// series is the log field key over the steps that have it.
func (r *runLog) series(key string) report.Series {
	x, y := r.log.Series(key)
	return report.Series{Name: key, X: x, Y: y}
}

// chart is one rendered curve of the page.
type chart struct{ SVG template.HTML }

// charts draws the loss terms and the dev-val scores, the latter against
// the base pass (step 0) with the hacking tolerances as a band.
func (r *runLog) charts() (loss, dev []chart) {
	add := func(dst *[]chart, c report.Chart) { *dst = append(*dst, chart{template.HTML(c.SVG(420, 180))}) }
	nan := math.NaN()
	for _, k := range []struct{ key, title string }{
		{KeyLoss, "total loss (weighted)"}, {KeyReward, "reward term 1 − σ(FRM)"}, {KeyStruct, "L_struct (wavelet lowpass L1)"},
		{KeyPixel, "pixel L1"}, {KeyReg, "L_reg (control residuals vs frozen)"}, {KeyFRMBT, "dynamic FRM update: BT(HQ over x0_hat)"},
	} {
		add(&loss, report.Chart{Title: k.title, Series: []report.Series{r.series(k.key)}, Ref: nan})
	}
	var base *passScores
	if len(r.passes) > 0 && r.passes[0].Step == 0 {
		base = &r.passes[0]
	}
	for _, k := range []struct {
		key, title string
		tol        float64
		get        func(p passScores) float64
	}{
		{KeyDevFRM, "FRM score (static, the loaded FRM) ↑", 0, func(p passScores) float64 { return p.Score }},
		{KeyDevPSNR, "PSNR (dB) ↑", r.opt.Watch.PSNRTol, func(p passScores) float64 { return p.PSNR }},
		{KeyDevIDS, "IDS ↑", r.opt.Watch.IDSTol, func(p passScores) float64 { return p.IDS }},
		{KeyDevLMD, "LMD (px) ↓", 0, func(p passScores) float64 { return p.LMD }},
		{KeyDevBRISQUE, "BRISQUE ↓", 0, func(p passScores) float64 { return p.BRISQUE }},
		{KeyDevSSIM, "SSIM ↑", 0, func(p passScores) float64 { return p.SSIM }},
	} {
		c := report.Chart{Title: k.title, Series: []report.Series{r.series(k.key)}, Ref: nan}
		if base != nil {
			c.Ref, c.RefLabel = k.get(*base), "base"
			if k.tol > 0 {
				c.Band = [2]float64{c.Ref - k.tol, c.Ref + k.tol}
			}
		}
		add(&dev, c)
	}
	return loss, dev
}

// row is one pass in the page's table, its scores formatted.
type row struct {
	Step                               int
	FRM, PSNR, SSIM, IDS, LMD, BRISQUE string
	Hacking, Best                      bool
}

func (r *runLog) rows() []row {
	var rows []row
	for _, p := range r.passes {
		hack, _ := r.log.Fields(p.Step)[KeyHacking].(bool)
		f := func(v float64, digits int) string {
			if math.IsNaN(v) {
				return "–"
			}
			return fmt.Sprintf("%.*f", digits, v)
		}
		rows = append(rows, row{p.Step, f(p.Score, 3), f(p.PSNR, 2), f(p.SSIM, 4), f(p.IDS, 4), f(p.LMD, 3), f(p.BRISQUE, 2), hack, r.best != nil && r.best.Step == p.Step})
	}
	return rows
}

// strip is the sample strip as a data URL and its caption, or why there
// is none; nothing before the second pass.
func (r *runLog) strip(dir string) (template.URL, string) {
	if len(r.passes) <= 1 {
		return "", ""
	}
	last := r.passes[len(r.passes)-1].Step
	bestStep := 0
	if r.best != nil {
		bestStep = r.best.Step
	}
	png, err := sampleStrip(dir, bestStep, last)
	if err != nil {
		return "", "no strip: " + err.Error()
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		fmt.Sprintf("columns: LQ | base (step 0) | best (step %d) | latest (step %d) | GT; the first %d dev-val faces, same noise in every pass", bestStep, last, 8)
}

// sampleStrip composes LQ | base | best | latest | GT from the sample grids
// of step 0, bestStep and last (each LQ | output | GT per face).
func sampleStrip(dir string, bestStep, last int) ([]byte, error) {
	read := func(step int) (*tensor.Tensor, error) {
		return imageio.Read(rundir.SamplePath(dir, step))
	}
	g0, err := read(0)
	if err != nil {
		return nil, err
	}
	gb, err := read(bestStep)
	if err != nil {
		return nil, err
	}
	gl, err := read(last)
	if err != nil {
		return nil, err
	}
	h, w := g0.Shape[0], g0.Shape[1]
	s := w / 3
	if !tensor.SameShape(g0.Shape, gb.Shape) || !tensor.SameShape(g0.Shape, gl.Shape) || s*3 != w || h%s != 0 {
		return nil, fmt.Errorf("sample grids of steps 0, %d and %d differ in shape", bestStep, last)
	}
	cells := []struct {
		src *tensor.Tensor
		col int
	}{{g0, 0}, {g0, 1}, {gb, 1}, {gl, 1}, {g0, 2}}
	var rows [][]*tensor.Tensor
	for r := range h / s {
		var row []*tensor.Tensor
		for _, c := range cells {
			im := tensor.New(s, s, 3)
			for y := range s {
				copy(im.Data[y*s*3:(y+1)*s*3], c.src.Data[((r*s+y)*w+c.col*s)*3:][:s*3])
			}
			row = append(row, im)
		}
		rows = append(rows, row)
	}
	return train.Grid(rows)
}

var page = template.Must(template.New("refl").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>ReFL run {{.Dir}}</title>
<style>
body{font-family:sans-serif;margin:1.5em;max-width:1300px}
.charts{display:flex;flex-wrap:wrap;gap:8px}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
tr.hack td{background:#fdd}tr.best td{font-weight:bold;background:#dfd}
.alarm{background:#c00;color:#fff;padding:10px;font-size:1.2em;font-weight:bold}
pre{background:#f5f5f5;padding:8px;font-size:11px}
img{image-rendering:pixelated;max-width:100%}
</style></head><body>
<h1>ReFL run <code>{{.Dir}}</code></h1>
{{if .Hacked}}<p class="alarm">WARNING: reward hacking suspected — at least one dev-val pass raised the FRM score while PSNR or IDS fell beyond the tolerance (red rows). The best checkpoint never comes from such a pass.</p>{{end}}
<h2>Dev-val passes</h2>
<div class="charts">{{range .Dev}}{{.SVG}}{{end}}</div>
<p>Dashed: the base restorer (step 0). Shaded: the tolerance within which a pass counts as faithful.</p>
<table><tr><th>step</th><th>FRM ↑</th><th>PSNR ↑</th><th>SSIM ↑</th><th>IDS ↑</th><th>LMD ↓</th><th>BRISQUE ↓</th><th></th></tr>
{{range .Rows}}<tr class="{{if .Hacking}}hack{{else if .Best}}best{{end}}"><td>{{.Step}}</td><td>{{.FRM}}</td><td>{{.PSNR}}</td><td>{{.SSIM}}</td><td>{{.IDS}}</td><td>{{.LMD}}</td><td>{{.BRISQUE}}</td><td>{{if .Hacking}}hacking?{{else if .Best}}best{{end}}</td></tr>
{{end}}</table>
<p>Best checkpoint rule: {{.Rule}}.{{if .Best}} Best so far: step {{.Best.Step}} (in <code>best/</code>).{{end}}</p>
<h2>Samples</h2>
{{if .Strip}}<img src="{{.Strip}}" alt="sample strip">{{end}}
<p>{{.StripNote}}</p>
<h2>Training losses</h2>
<div class="charts">{{range .Loss}}{{.SVG}}{{end}}</div>
<h2>Settings</h2>
<pre>{{.Settings}}</pre>
</body></html>
`))
