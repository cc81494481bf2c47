package evaluate

import (
	"math"
	"testing"

	"facereward/report"
)

// LMD common averages each method over the same faces: those every method
// placed. Here b placed a hard face a could not; on its own faces b's LMD
// looks worse, on the common one it equals a's.
func TestCommonLMD(t *testing.T) {
	nan := math.NaN()
	row := func(name string, lmd float64) report.Row {
		return report.Row{Name: name, Values: map[string]float64{LMD: lmd}}
	}
	p := report.Page{
		Columns: []report.Column{{Key: LMD, Label: "LMD (px)", Digits: 3}},
		Methods: []report.Method{
			{Name: "a", Rows: []report.Row{row("1", 2), row("2", 2), row("3", nan)}},
			{Name: "b", Rows: []report.Row{row("1", 2), row("2", 2), row("3", 8)}},
		},
	}
	n, ok := addCommonLMD(&p)
	if !ok || n != 2 {
		t.Fatalf("common faces %d, %v", n, ok)
	}
	if len(p.Columns) != 2 || p.Columns[1].Key != lmdCommon {
		t.Fatalf("columns %+v", p.Columns)
	}
	for _, m := range p.Methods {
		if mean, cnt := report.Mean(m.Rows, lmdCommon); mean != 2 || cnt != 2 {
			t.Errorf("%s: common LMD %g over %d", m.Name, mean, cnt)
		}
	}
	if mean, _ := report.Mean(p.Methods[1].Rows, LMD); mean != 4 {
		t.Errorf("b's own LMD %g, want 4", mean)
	}
	one := report.Page{Columns: p.Columns[:1], Methods: p.Methods[:1]}
	if _, ok := addCommonLMD(&one); ok {
		t.Error("one method got a common column")
	}
}
