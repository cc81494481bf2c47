package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// DefaultPython prefers Debian's interpreter, where python3-torch installs.
func DefaultPython() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// TorchJSON runs a PyTorch benchmark script and returns the JSON object on
// the last line of its output, whole and by key.
func TorchJSON(python, script string, args ...string) ([]byte, map[string]json.RawMessage, error) {
	if _, err := os.Stat(script); err != nil {
		return nil, nil, fmt.Errorf("%s not found (run from the repository root, or pass --torch-script)", script)
	}
	cmd := exec.Command(python, append([]string{script}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return nil, nil, fmt.Errorf("%s %s: %v: %s", python, script, err, msg)
	}
	// The JSON is the last line; anything before it is the script's chatter.
	var last string
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "{") {
			last = l
		}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(last), &raw); err != nil {
		return nil, nil, fmt.Errorf("reading %s output %q: %w", script, last, err)
	}
	return []byte(last), raw, nil
}
