package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// Options are what every benchmark against PyTorch takes.
type Options struct {
	Iters, Warmup int    // timed (the median is reported) and untimed iterations
	Python        string // interpreter with torch
	Script        string // the PyTorch side, a script in bench/
	NoTorch       bool   // time the Go side only
	JSON          string // also write the results as JSON here; "" for none
}

// DefaultPython prefers Debian's interpreter, where python3-torch installs.
func DefaultPython() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// torchRun is the PyTorch side's outcome. It is all zero when the side was
// not asked for; line is nil when it did not run.
type torchRun struct {
	Torch   string          `json:"torch"` // PyTorch's version
	PeakMB  float64         `json:"peak_rss_mb"`
	line    json.RawMessage // the script's JSON line, whole: the --json report's "torch"
	skipped error           // why the side did not run (no torch, no script)
}

func (t torchRun) ran() bool { return t.line != nil }

// runTorch runs the PyTorch side unless o.NoTorch: o.Script with the
// arguments every script takes (this process's thread count, o.Iters,
// o.Warmup), then extra, then --json. Its JSON line decodes into the
// torchRun and into v, the benchmark's own keys. A side that did not run
// is t.skipped, reported beside the Go times; a line that does not decode
// is err.
func runTorch(o Options, v any, extra ...string) (t torchRun, err error) {
	if o.NoTorch {
		return torchRun{}, nil
	}
	args := []string{"--threads", strconv.Itoa(runtime.GOMAXPROCS(0)), "--iters", strconv.Itoa(o.Iters), "--warmup", strconv.Itoa(o.Warmup)}
	line, skipped := torchJSON(o.Python, o.Script, append(append(args, extra...), "--json")...)
	if skipped != nil {
		return torchRun{skipped: skipped}, nil
	}
	for _, into := range []any{&t, v} {
		if err := json.Unmarshal(line, into); err != nil {
			return torchRun{}, fmt.Errorf("reading %s output: %w", o.Script, err)
		}
	}
	t.line = line
	return t, nil
}

// torchJSON runs a PyTorch benchmark script and returns the JSON object on
// the last line of its output.
func torchJSON(python, script string, args ...string) ([]byte, error) {
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("%s not found (run from the repository root, or pass --torch-script)", script)
	}
	cmd := exec.Command(python, append([]string{script}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return nil, fmt.Errorf("%s %s: %v: %s", python, script, err, msg)
	}
	// The JSON is the last line; anything before it is the script's chatter.
	var last string
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "{") {
			last = l
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(last), &obj); err != nil {
		return nil, fmt.Errorf("reading %s output %q: %w", script, last, err)
	}
	return []byte(last), nil
}
