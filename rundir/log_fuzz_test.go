package rundir

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadLog writes arbitrary bytes as a run's log.jsonl and reads it
// with ReadLog and ReadByStep. A log can be cut short or corrupted by a
// crash or a full disk, and reports read any run directory, so no input
// may panic; an accepted log must be coherent: no entry keeps a "step"
// field, ByStep's steps are strictly ascending, and every key Keys lists
// draws a series with as many steps as values.
func FuzzReadLog(f *testing.F) {
	f.Add([]byte(`{"step":1,"loss":0.5,"time":"2026-01-01T00:00:00Z"}` + "\n" + `{"step":2,"loss":0.25}` + "\n"))
	f.Add([]byte(`{"step":2,"loss":1}` + "\n" + `{"step":1,"eval":3}` + "\n" + `{"step":2,"eval":4}` + "\n"))
	f.Add([]byte(`{"step":1,"loss":0.5}` + "\n" + `{"step":2,"lo`))
	f.Add([]byte(`{"loss":0.5}` + "\n"))
	f.Add([]byte(`{"step":"x"}` + "\n" + `[1,2]` + "\n" + `null` + "\n"))
	f.Add([]byte(`{"step":1e300,"hacking":true}` + "\n" + `{"step":-3.5}` + "\n"))
	f.Add([]byte{})

	dir := f.TempDir()
	path := filepath.Join(dir, "log.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return // ReadLog holds the whole file; keep one exec small
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		entries, err := ReadLog(dir)
		if err != nil {
			return
		}
		for i, e := range entries {
			if _, ok := e.Fields["step"]; ok {
				t.Fatalf("entry %d keeps its step field", i)
			}
		}
		l, err := ReadByStep(dir)
		if err != nil {
			t.Fatalf("ReadByStep refused what ReadLog read: %v", err)
		}
		steps := l.Steps()
		for i := 1; i < len(steps); i++ {
			if steps[i] <= steps[i-1] {
				t.Fatalf("steps not strictly ascending: %v", steps)
			}
		}
		for _, k := range l.Keys() {
			x, y := l.Series(k)
			if len(x) == 0 || len(x) != len(y) {
				t.Fatalf("key %q: series of %d steps and %d values", k, len(x), len(y))
			}
		}
	})
}
