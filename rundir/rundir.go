package rundir

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"facereward/atomicfile"
)

// Run is an open run folder.
type Run struct {
	Dir string
	// RemovedTemps counts the stale temporary files Open removed: what
	// atomic writes of a killed run left behind.
	RemovedTemps int
	log          *os.File
}

// Open creates dir (or, with resume, reopens it) for a run whose resolved
// settings are cfg. A fresh run refuses a folder that already holds a
// config, so an old run is never overwritten by accident; a resumed run
// refuses a config that differs from the saved one, since the checkpoint
// would not belong to it. Temporary files that an interrupted atomic
// write left in dir or its checkpoints/ are removed (Run.RemovedTemps
// counts them): the run folder belongs to one run at a time, so no write
// can still be in progress.
func Open(dir string, cfg any, resume bool) (*Run, error) {
	want, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("run %s: config: %w", dir, err)
	}
	want = append(want, '\n')
	cfgPath := filepath.Join(dir, "config.json")
	have, err := os.ReadFile(cfgPath)
	switch {
	case err == nil && !resume:
		return nil, fmt.Errorf("run %s already exists (config.json found): pass --resume to continue it, or choose another folder", dir)
	case err == nil && !bytes.Equal(have, want):
		return nil, fmt.Errorf("run %s: the settings differ from the run's config.json; resume with the same settings (or start a new run)", dir)
	case err != nil && !os.IsNotExist(err):
		return nil, fmt.Errorf("run %s: %w", dir, err)
	case err != nil && resume:
		return nil, fmt.Errorf("run %s: nothing to resume (no config.json)", dir)
	}
	for _, sub := range []string{"checkpoints", "samples"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("run %s: %w", dir, err)
		}
	}
	removed, err := removeStaleTemps(dir, filepath.Join(dir, "checkpoints"))
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	if have == nil {
		if err := atomicfile.Write(cfgPath, func(w io.Writer) error { _, err := w.Write(want); return err }); err != nil {
			return nil, fmt.Errorf("run %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, "log.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	return &Run{Dir: dir, RemovedTemps: removed, log: f}, nil
}

// removeStaleTemps removes atomicfile's temporary files (and only those)
// from folders, and counts them. A killed run leaves one per write that
// was under way, a checkpoint's worth of disk each.
func removeStaleTemps(folders ...string) (int, error) {
	n := 0
	for _, folder := range folders {
		entries, err := os.ReadDir(folder)
		if err != nil {
			return n, fmt.Errorf("looking for stale temporary files: %w", err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !atomicfile.IsTemp(e.Name()) {
				continue
			}
			if err := os.Remove(filepath.Join(folder, e.Name())); err != nil {
				return n, fmt.Errorf("removing a stale temporary file: %w", err)
			}
			n++
		}
	}
	return n, nil
}

// Close closes the log.
func (r *Run) Close() error { return r.log.Close() }

// Log appends one JSON line: the fields given plus "step" and "time".
func (r *Run) Log(step int, fields map[string]any) error {
	line := map[string]any{"step": step, "time": time.Now().UTC().Format(time.RFC3339)}
	for k, v := range fields {
		line[k] = v
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("run %s: log: %w", r.Dir, err)
	}
	if _, err := r.log.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("run %s: log: %w", r.Dir, err)
	}
	return nil
}

// CheckpointPath is where the checkpoint of a step goes.
func (r *Run) CheckpointPath(step int) string {
	return filepath.Join(r.Dir, "checkpoints", fmt.Sprintf("step-%08d.safetensors", step))
}

// Latest returns the newest checkpoint and its step; ok is false when there
// is none.
func (r *Run) Latest() (path string, step int, ok bool) {
	steps := r.checkpointSteps()
	if len(steps) == 0 {
		return "", 0, false
	}
	s := steps[len(steps)-1]
	return r.CheckpointPath(s), s, true
}

func (r *Run) checkpointSteps() []int {
	return stepFiles(filepath.Join(r.Dir, "checkpoints"), ".safetensors")
}

// SamplePath is where the sample grid of a step goes in the run folder dir.
func SamplePath(dir string, step int) string {
	return filepath.Join(dir, "samples", fmt.Sprintf("step-%08d.png", step))
}

// SampleSteps are the steps of the sample grids in the run folder dir,
// ascending (none when it has no samples/).
func SampleSteps(dir string) []int {
	return stepFiles(filepath.Join(dir, "samples"), ".png")
}

// stepFiles are the steps of the files step-N<ext> in folder, ascending.
func stepFiles(folder, ext string) []int {
	entries, _ := os.ReadDir(folder)
	var steps []int
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "step-") || !strings.HasSuffix(name, ext) {
			continue // temporary files of an interrupted write, or the user's own
		}
		if s, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "step-"), ext)); err == nil {
			steps = append(steps, s)
		}
	}
	sort.Ints(steps)
	return steps
}

// Prune deletes all but the newest keep checkpoints (and never one named in
// except, such as the best so far).
func (r *Run) Prune(keep int, except ...string) error {
	steps := r.checkpointSteps()
	for i := 0; i < len(steps)-keep; i++ {
		p := r.CheckpointPath(steps[i])
		skip := false
		for _, e := range except {
			skip = skip || e == p
		}
		if skip {
			continue
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("run %s: %w", r.Dir, err)
		}
	}
	return nil
}

// Interruptible returns a context cancelled at the first SIGINT or SIGTERM,
// so a training loop can save a checkpoint and return; a second signal
// kills the process as usual.
func Interruptible(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-ch:
			fmt.Fprintln(os.Stderr, "\ninterrupted: saving a checkpoint before exiting (interrupt again to quit at once)")
			signal.Stop(ch)
			cancel()
		case <-ctx.Done():
			signal.Stop(ch)
		}
	}()
	return ctx, cancel
}
