package train

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"facereward/atomicfile"
	"facereward/report"
	"facereward/rundir"
)

// WriteReport writes dir/report.html, one self-contained page for a
// training run (stage 1, stage 2, reward model): a chart of every number
// its log holds, the training terms apart from the dev-val scores, a
// table of the dev-val passes, the newest sample grid and the run's
// config.json. It reads only the run folder, so it can be rebuilt at any
// time (`facereward train report RUN`).
func WriteReport(dir string) error {
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return fmt.Errorf("report %s: %w", dir, err)
	}
	var settings bytes.Buffer
	if err := json.Indent(&settings, cfg, "", "  "); err != nil {
		return fmt.Errorf("report %s: config.json: %w", dir, err)
	}
	var run struct {
		Steps int `json:"steps"` // every run's config has its step count
	}
	json.Unmarshal(cfg, &run) // valid JSON (Indent took it); without steps the summary says less
	log, err := rundir.ReadByStep(dir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	trainKeys, devKeys := groupKeys(log.Keys())
	sample, sampleNote, err := newestSample(dir)
	if err != nil {
		return err
	}
	data := struct {
		Dir, Summary, Settings string
		Training, Dev          []trainChart
		DevKeys                []string
		DevRows                []devRow
		Sample                 template.URL
		SampleNote             string
	}{
		Dir: dir, Summary: summary(log, run.Steps), Settings: settings.String(),
		Training: charts(log, trainKeys), Dev: charts(log, devKeys), DevKeys: devKeys, DevRows: devRows(log, devKeys),
		Sample: sample, SampleNote: sampleNote,
	}
	path := filepath.Join(dir, "report.html")
	if err := atomicfile.Write(path, func(w io.Writer) error { return trainPage.Execute(w, data) }); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}

// ReportsItself tells the session that its caller writes report.html
// from more than the log (refl: its page has the hacking flags and the
// best pass), so Loop and finish leave the page alone.
func (s *Session) ReportsItself() { s.ownReport = true }

// writeReport rewrites the run's report.html (WriteReport) unless the
// run's package writes its own. A failure is printed, not returned: the
// page is drawn from the run folder alone and `facereward train report`
// rebuilds it, so it is no reason to stop a run, and a disk that fails
// for good fails the next checkpoint anyway.
func (s *Session) writeReport(stdout io.Writer) {
	if s.ownReport {
		return
	}
	if err := WriteReport(s.run.Dir); err != nil {
		fmt.Fprintf(stdout, "%s: report.html not written (%v); `facereward train report %s` rebuilds it\n", s.run.Dir, err, s.run.Dir)
	}
}

// isDevKey tells the dev-val scores, which eval passes log under dev_
// (restorer stages) or val_ (the reward model's held-out pairs), from the
// training terms.
func isDevKey(k string) bool { return strings.HasPrefix(k, "dev_") || strings.HasPrefix(k, "val_") }

// keyOrder puts the keys every run logs first, then the dev-val scores in
// the order of the restorer's other reports; keys not listed follow by
// name, so a new term is drawn without a change here.
var keyOrder = []string{
	KeyLoss, KeyLR, KeyGradNorm, KeyStepsPerS,
	KeyDevPSNR, KeyDevSSIM, KeyDevIDS, KeyDevLMD, KeyDevBRISQUE, KeyDevLMDFaces,
	KeyValAcc, KeyValLoss, KeyValPairs,
}

// keyTitles say what a known key is; a chart's title is its key and this.
var keyTitles = map[string]string{
	KeyLoss: "the step's loss", KeyLR: "learning rate", KeyGradNorm: "gradient norm before clipping", KeyStepsPerS: "steps/s since the (re)start",
	KeyDiffusion: "denoising loss", KeyAdv: "adversarial term (unweighted)", KeyID: "identity term (unweighted)", KeyFeat: "feature term (unweighted)",
	KeyDiscLoss: "discriminator hinge loss", KeyDiscReal: "discriminator mean logit: GT vs x0_hat",
	KeyAdvComp: "component adversarial term (unweighted)", KeyCompDiscLoss: "component discriminator hinge loss", KeyCompDiscReal: "component discriminator mean logit: GT vs x0_hat",
	KeyBatchAcc: "accuracy on the step's batch",
	KeyDevPSNR:  "PSNR (dB) ↑", KeyDevSSIM: "SSIM ↑", KeyDevIDS: "IDS ↑", KeyDevLMD: "LMD (px) ↓", KeyDevBRISQUE: "BRISQUE ↓",
	KeyDevLMDFaces: "faces with landmarks on both sides", KeyValAcc: "held-out accuracy ↑", KeyValLoss: "held-out BT loss ↓", KeyValPairs: "held-out pairs",
}

// pairedKeys are drawn on one chart, the second key as a second series:
// the discriminator's logits on GT and on x0_hat are read against each
// other.
var pairedKeys = map[string]string{KeyDiscReal: KeyDiscFake, KeyCompDiscReal: KeyCompDiscFake}

// groupKeys splits keys into the training terms and the dev-val scores,
// each in keyOrder.
func groupKeys(keys []string) (training, dev []string) {
	rank := func(k string) int {
		if i := slices.Index(keyOrder, k); i >= 0 {
			return i
		}
		return len(keyOrder)
	}
	slices.SortStableFunc(keys, func(a, b string) int { return rank(a) - rank(b) }) // keys come sorted by name
	for _, k := range keys {
		if isDevKey(k) {
			dev = append(dev, k)
		} else {
			training = append(training, k)
		}
	}
	return training, dev
}

// trainChart is one rendered chart of the page.
type trainChart struct{ SVG template.HTML }

// charts draws one chart per key, a paired key on its partner's chart.
func charts(log *rundir.ByStep, keys []string) []trainChart {
	curve := func(k string) report.Series {
		x, y := log.Series(k)
		return report.Series{Name: k, X: x, Y: y}
	}
	var out []trainChart
	for _, k := range keys {
		if drawnWithPartner(k, keys) {
			continue
		}
		c := report.Chart{Title: k, Series: []report.Series{curve(k)}, Ref: math.NaN()}
		if second, ok := pairedKeys[k]; ok && slices.Contains(keys, second) {
			c.Title += ", " + second
			c.Series = append(c.Series, curve(second))
		}
		if t, ok := keyTitles[k]; ok {
			c.Title += ": " + t
		}
		out = append(out, trainChart{template.HTML(c.SVG(420, 180))})
	}
	return out
}

// drawnWithPartner reports whether k is the second key of a pair whose
// first key is among keys.
func drawnWithPartner(k string, keys []string) bool {
	for first, second := range pairedKeys {
		if k == second && slices.Contains(keys, first) {
			return true
		}
	}
	return false
}

// devRow is one dev-val pass in the page's table: its step and one
// formatted value per dev key ("–" where the pass has none).
type devRow struct {
	Step  int
	Cells []string
}

func devRows(log *rundir.ByStep, devKeys []string) []devRow {
	var rows []devRow
	for _, st := range log.Steps() {
		r := devRow{Step: st}
		pass := false // a step that logged none of devKeys is no pass
		for _, k := range devKeys {
			cell := "–"
			if v, ok := log.Fields(st)[k].(float64); ok {
				cell, pass = fmt.Sprintf("%.4g", v), true
			}
			r.Cells = append(r.Cells, cell)
		}
		if pass {
			rows = append(rows, r)
		}
	}
	return rows
}

// summary is the page's first line: how far the log goes.
func summary(log *rundir.ByStep, steps int) string {
	all := log.Steps()
	if len(all) == 0 {
		return "Nothing logged yet."
	}
	last := all[len(all)-1]
	s := fmt.Sprintf("Logged up to step %d", last)
	if steps > 0 {
		s += fmt.Sprintf(" of %d", steps)
	}
	if t, ok := log.Fields(last)["time"].(string); ok {
		s += " (" + t + ")"
	}
	return s + "."
}

// newestSample is the newest sample grid as a data URL and its caption,
// or a note saying there is none (a reward run writes no samples).
func newestSample(dir string) (template.URL, string, error) {
	steps := rundir.SampleSteps(dir)
	if len(steps) == 0 {
		return "", "No sample grid yet.", nil
	}
	path := rundir.SamplePath(dir, steps[len(steps)-1])
	png, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("report %s: %w", dir, err)
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		fmt.Sprintf("%s, the newest sample grid of the EMA weights: a row per dev-val face, LQ | output | GT (a UNet-only run's rows are unconditional samples).", filepath.Join("samples", filepath.Base(path))), nil
}

var trainPage = template.Must(template.New("train").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Training run {{.Dir}}</title>
<style>
body{font-family:sans-serif;margin:1.5em;max-width:1300px}
.charts{display:flex;flex-wrap:wrap;gap:8px}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
pre{background:#f5f5f5;padding:8px;font-size:11px}
img{image-rendering:pixelated;max-width:100%}
</style></head><body>
<h1>Training run <code>{{.Dir}}</code></h1>
<p>{{.Summary}}</p>
<details><summary>Settings (config.json)</summary><pre>{{.Settings}}</pre></details>
<h2>Training</h2>
<div class="charts">{{range .Training}}{{.SVG}}{{end}}</div>
<h2>Dev-val passes</h2>
{{if .DevRows}}<div class="charts">{{range .Dev}}{{.SVG}}{{end}}</div>
<table><tr><th>step</th>{{range .DevKeys}}<th>{{.}}</th>{{end}}</tr>
{{range .DevRows}}<tr><td>{{.Step}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{else}}<p>No dev-val pass yet.</p>{{end}}
<h2>Samples</h2>
{{if .Sample}}<img src="{{.Sample}}" alt="newest sample grid">{{end}}
<p>{{.SampleNote}}</p>
</body></html>
`))
