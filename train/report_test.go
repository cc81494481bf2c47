package train

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"facereward/nn"
	"facereward/restorer/restorertest"
	"facereward/rundir"
	"facereward/tensor"
	"facereward/train/traintest"
)

// readReport reads dir/report.html and checks that it loads nothing from
// outside: the page must work offline and mailed as one file.
func readReport(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatalf("no report: %v", err)
	}
	html := string(b)
	for _, bad := range []string{"<script src", "<link", "@import", `href="http`} {
		if strings.Contains(html, bad) {
			t.Errorf("report loads something from outside: %q", bad)
		}
	}
	for _, m := range regexp.MustCompile(`src="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if !strings.HasPrefix(m[1], "data:") {
			t.Errorf("report refers to a file: src=%q", m[1])
		}
	}
	return html
}

// chartTitled reports whether the page has a chart whose title starts
// with key (report.Chart draws the title in bold).
func chartTitled(html, key string) bool {
	return strings.Contains(html, `font-weight="bold">`+key+`:`) || strings.Contains(html, `font-weight="bold">`+key+`,`) ||
		strings.Contains(html, `font-weight="bold">`+key+`<`)
}

// A tiny stage-1 run leaves a self-contained report: a chart for each
// logged number, the dev-val passes' table and the newest sample grid.
// An interrupted run has one too.
func TestStage1WritesReport(t *testing.T) {
	data := restorertest.Faces(t)
	dir := filepath.Join(t.TempDir(), "run")
	opt := tinyOptions(data, 6)
	if err := Stage1(traintest.StopAfter(5), dir, opt, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	if html := readReport(t, dir); !strings.Contains(html, "<td>3</td>") {
		t.Error("the interrupted run's report lacks the pass at step 3")
	}
	if err := Stage1(context.Background(), dir, opt, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	html := readReport(t, dir)
	log, err := rundir.ReadByStep(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := log.Keys()
	for _, k := range []string{KeyLoss, KeyLR, KeyGradNorm, KeyStepsPerS, KeyDevPSNR, KeyDevIDS} {
		if !strings.Contains(strings.Join(keys, " "), k) {
			t.Errorf("the run logged no %s (keys %v)", k, keys)
		}
	}
	for _, k := range keys {
		if !chartTitled(html, k) {
			t.Errorf("report has no chart of %s", k)
		}
	}
	for _, want := range []string{
		"<th>" + KeyDevPSNR + "</th>", "<td>3</td>", "<td>6</td>", // the passes' table
		"data:image/png;base64,", "step-00000006.png", // the newest grid, embedded
		"Logged up to step 6 of 6", "<details>", `&#34;ssim_weight&#34;`, // summary and config.json
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// A hand-written reward and detail log: val_ keys count as dev-val
// scores, d_real and d_fake share a chart, and a run without samples says
// so.
func TestReportGroupsKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.json", `{"steps": 100}`)
	write("log.jsonl", `{"step":10,"loss":0.7,"d_real":0.5,"d_fake":-0.5,"batch_acc":0.6}
{"step":20,"loss":0.6,"d_real":0.6,"d_fake":-0.6,"batch_acc":0.7}
{"step":20,"val_acc":0.75,"val_pairs":40}
`)
	if err := WriteReport(dir); err != nil {
		t.Fatal(err)
	}
	html := readReport(t, dir)
	training, dev := html[:strings.Index(html, "<h2>Dev-val")], html[strings.Index(html, "<h2>Dev-val"):]
	for _, k := range []string{KeyLoss, KeyBatchAcc} {
		if !chartTitled(training, k) {
			t.Errorf("no training chart of %s", k)
		}
	}
	if !strings.Contains(training, `font-weight="bold">d_real, d_fake:`) || chartTitled(html, KeyDiscFake) {
		t.Error("d_real and d_fake are not drawn on one chart")
	}
	for _, want := range []string{`font-weight="bold">val_acc:`, "<th>val_acc</th><th>val_pairs</th>", "<td>20</td><td>0.75</td><td>40</td>", "No sample grid yet."} {
		if !strings.Contains(dev, want) {
			t.Errorf("dev-val part lacks %q", want)
		}
	}
	if strings.Contains(dev, "<td>10</td>") {
		t.Error("a step without dev-val scores is in the passes' table")
	}
}

// tinySession is a session over one parameter, for Loop's own behaviour.
func tinySession(t *testing.T, dir, stage string) *Session {
	t.Helper()
	p := nn.NewParam("w", tensor.New(2), false)
	ses, err := NewSession(dir, map[string]int{"steps": 4}, false, []*nn.Param{p}, 1e-3, 0, 0.9, 1, map[string]string{"stage": stage}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ses.Run().Close() })
	return ses
}

func loopTiny(ses *Session, stdout io.Writer) error {
	step := func() (float32, map[string]any, error) { return 1, map[string]any{KeyGradNorm: ses.Update(1)}, nil }
	eval := func(int) error { return nil }
	return ses.Loop(context.Background(), LoopOptions{"tiny", 4, 0, 2, 2}, step, eval, stdout)
}

// A report that cannot be written is printed and the run goes on; a run
// whose package reports itself gets no generic page.
func TestLoopReportFailureAndSelfReporting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ses := tinySession(t, dir, "1")
	// A folder where the page goes makes its rename fail.
	if err := os.MkdirAll(filepath.Join(dir, "report.html", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := loopTiny(ses, &out); err != nil {
		t.Fatalf("a failed report stopped the run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Errorf("the run did not finish: %v", err)
	}
	if !strings.Contains(out.String(), "report.html not written") || !strings.Contains(out.String(), "train report "+dir) {
		t.Errorf("the failure is not printed with its remedy:\n%s", out.String())
	}

	dir = filepath.Join(t.TempDir(), "run")
	self := tinySession(t, dir, "1")
	self.ReportsItself()
	if err := loopTiny(self, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err == nil {
		t.Error("Loop wrote the generic report of a run that reports itself")
	}
}
