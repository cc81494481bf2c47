package rundir

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Entry is one line of log.jsonl: its step and fields (numbers as float64).
type Entry struct {
	Step   int
	Fields map[string]any
}

// ReadLog reads a run's log.jsonl in order. A last line cut short by a
// crash is skipped; any other bad line is an error naming it.
func ReadLog(dir string) ([]Entry, error) {
	path := filepath.Join(dir, "log.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	lines := strings.Split(string(b), "\n")
	var out []Entry
	for i, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var f map[string]any
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			if i == len(lines)-1 {
				break // the unterminated last line of an interrupted write
			}
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		step, ok := f["step"].(float64)
		if !ok {
			return nil, fmt.Errorf("%s line %d: no step", path, i+1)
		}
		delete(f, "step")
		out = append(out, Entry{Step: int(step), Fields: f})
	}
	return out, nil
}

// ByStep is a run's log merged by step, what reports draw from. A step
// can have several lines: a training line and an eval pass's, and again
// both when a resumed run repeats the steps after its checkpoint. A
// step's fields are the union of its lines', a later line's value
// replacing an earlier one's.
type ByStep struct {
	steps  []int                  // the logged steps, ascending
	fields map[int]map[string]any // each step's merged fields
}

// ReadByStep reads dir's log.jsonl (ReadLog) merged by step.
func ReadByStep(dir string) (*ByStep, error) {
	entries, err := ReadLog(dir)
	if err != nil {
		return nil, err
	}
	return mergeSteps(entries), nil
}

// mergeSteps merges log entries, in the order they were logged, by step.
func mergeSteps(entries []Entry) *ByStep {
	l := &ByStep{fields: map[int]map[string]any{}}
	for _, e := range entries {
		f := l.fields[e.Step]
		if f == nil {
			f = map[string]any{}
			l.fields[e.Step] = f
			l.steps = append(l.steps, e.Step)
		}
		for k, v := range e.Fields {
			f[k] = v
		}
	}
	sort.Ints(l.steps)
	return l
}

// Steps are the logged steps, ascending.
func (l *ByStep) Steps() []int { return l.steps }

// Fields are a step's merged fields (nil for a step never logged); the
// caller must not change them.
func (l *ByStep) Fields(step int) map[string]any { return l.fields[step] }

// Keys are the fields that hold a number at some step, sorted: the ones
// Series can draw (not the time, nor flags such as refl's hacking).
func (l *ByStep) Keys() []string {
	seen := map[string]bool{}
	for _, f := range l.fields {
		for k, v := range f {
			if _, ok := v.(float64); ok {
				seen[k] = true
			}
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Series is the field key over the steps where it holds a number.
func (l *ByStep) Series(key string) (x, y []float64) {
	for _, s := range l.steps {
		if v, ok := l.fields[s][key].(float64); ok {
			x, y = append(x, float64(s)), append(y, v)
		}
	}
	return x, y
}
