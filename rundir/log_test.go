package rundir

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ReadLog returns the logged lines in order and skips a last line cut
// short by a crash, but not a bad line elsewhere.
func TestReadLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r, err := Open(dir, map[string]int{"a": 1}, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := r.Log(i*10, map[string]any{"loss": float64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	path := filepath.Join(dir, "log.jsonl")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"step":30,"lo`)
	f.Close()
	es, err := ReadLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[2].Step != 20 || es[2].Fields["loss"] != 2.0 {
		t.Fatalf("entries %+v", es)
	}
	if _, ok := es[0].Fields["step"]; ok {
		t.Error("the step stays among the fields")
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append([]byte("not json\n"), b...), 0o644)
	if _, err := ReadLog(dir); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a bad first line: %v", err)
	}
}

// ReadByStep merges a step's lines field by field, the later line
// winning: here step 20's eval line stays, and its training line is
// replaced by the one the resumed run logged again.
func TestReadByStepMergesResumedSteps(t *testing.T) {
	dir := t.TempDir()
	log := `{"step":10,"loss":1,"time":"t0"}
{"step":20,"loss":2,"time":"t1"}
{"step":20,"dev_psnr":20.5,"hacking":true}
{"step":20,"loss":2.5,"time":"t2"}
{"step":30,"loss":3,"time":"t3"}
`
	if err := os.WriteFile(filepath.Join(dir, "log.jsonl"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := ReadByStep(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Steps(); !slices.Equal(got, []int{10, 20, 30}) {
		t.Errorf("steps %v", got)
	}
	if got := l.Keys(); !slices.Equal(got, []string{"dev_psnr", "loss"}) {
		t.Errorf("keys %v, want the numeric fields only", got)
	}
	x, y := l.Series("loss")
	if !slices.Equal(x, []float64{10, 20, 30}) || !slices.Equal(y, []float64{1, 2.5, 3}) {
		t.Errorf("loss series %v %v, want step 20's later value", x, y)
	}
	x, y = l.Series("dev_psnr")
	if !slices.Equal(x, []float64{20}) || !slices.Equal(y, []float64{20.5}) {
		t.Errorf("dev_psnr series %v %v", x, y)
	}
	if f := l.Fields(20); f["time"] != "t2" || f["hacking"] != true {
		t.Errorf("step 20's fields %v", f)
	}
	if _, err := ReadByStep(t.TempDir()); err == nil || !strings.Contains(err.Error(), "log.jsonl") {
		t.Errorf("a folder without a log: %v", err)
	}
}

// SampleSteps lists the grids by step and ignores other files.
func TestSampleSteps(t *testing.T) {
	dir := t.TempDir()
	if got := SampleSteps(dir); got != nil {
		t.Errorf("no samples/: %v", got)
	}
	os.MkdirAll(filepath.Join(dir, "samples"), 0o755)
	for _, s := range []int{200, 0, 100} {
		if err := os.WriteFile(SamplePath(dir, s), []byte("png"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "samples", ".step-00000300.png.tmp-1"), nil, 0o644)
	if got := SampleSteps(dir); !slices.Equal(got, []int{0, 100, 200}) {
		t.Errorf("sample steps %v", got)
	}
}
