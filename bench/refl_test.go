package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One real ReFL step of the built-in restorer and FRM (no PyTorch) gives
// positive times under the report's "go", and a PyTorch side modelling
// other networks is refused.
func TestReFLRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "refl.json")
	var out bytes.Buffer
	if err := ReFL(Options{Iters: 1, NoTorch: true, JSON: path}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| ReFL step (batch 4) |") {
		t.Errorf("no ReFL row:\n%s", out.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Go reflTimes `json:"go"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Go.Step <= 0 || rep.Go.FRMUpdate <= 0 {
		t.Fatalf("report %s", b)
	}
	if err := sameReFLNets("refl_torch.py", torchReFL{ControlParams: 2666352, FRMParams: 591553}); err != nil {
		t.Errorf("the default networks' counts: %v", err)
	}
	if err := sameReFLNets("refl_torch.py", torchReFL{ControlParams: 2666352, FRMParams: 591552}); err == nil {
		t.Error("a different FRM was accepted")
	}
}
