package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// fakeTorch writes a shell script that stands in for a PyTorch side: some
// chatter, then line with $ARGS replaced by the arguments it was given.
func fakeTorch(t *testing.T, line string) Options {
	t.Helper()
	script := filepath.Join(t.TempDir(), "fake_torch.sh")
	body := "echo chatter\necho '" + strings.ReplaceAll(line, "$ARGS", `'"$*"'`) + "'\n"
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return Options{Iters: 3, Warmup: 1, Python: "/bin/sh", Script: script}
}

// runTorch passes the arguments every script takes, decodes the line into
// both torchRun and the benchmark's own keys, and tells a side that did
// not run from one whose line does not read.
func TestRunTorch(t *testing.T) {
	o := fakeTorch(t, `{"torch":"9.9","threads":2,"args":"$ARGS","refl_step_s":1.5,"frm_update_s":0.25,"peak_rss_mb":12.5}`)
	var tr torchReFL
	got, err := runTorch(o, &tr, "--batch", "4")
	if err != nil {
		t.Fatal(err)
	}
	wantArgs := "--threads " + strconv.Itoa(runtime.GOMAXPROCS(0)) + " --iters 3 --warmup 1 --batch 4 --json"
	if !got.ran() || got.Torch != "9.9" || got.PeakMB != 12.5 || tr.Step != 1.5 || tr.FRMUpdate != 0.25 ||
		!strings.Contains(string(got.line), `"args":"`+wantArgs+`"`) {
		t.Errorf("run %+v (line %s), decoded %+v; want args %q", got, got.line, tr, wantArgs)
	}

	if got, err := runTorch(Options{NoTorch: true}, &tr); err != nil || got.ran() || got.skipped != nil {
		t.Errorf("--no-torch: %+v, %v", got, err)
	}
	o.Script += ".missing"
	if got, err := runTorch(o, &tr); err != nil || got.ran() || got.skipped == nil {
		t.Errorf("missing script: %+v, %v", got, err)
	}
	o = fakeTorch(t, `{"torch":"9.9","refl_step_s":"fast"}`)
	if got, err := runTorch(o, &tr); err == nil || got.ran() {
		t.Errorf("undecodable line: %+v, %v", got, err)
	}
}
