package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func samplePage() Page {
	cols := []Column{{Key: "psnr", Label: "PSNR", HigherBetter: true, Digits: 2}, {Key: "lmd", Label: "LMD", Digits: 3}}
	return Page{
		Title:   "eval <test>",
		Columns: cols,
		Methods: []Method{
			{Name: "base", Rows: []Row{
				{Name: "04800.png", Values: map[string]float64{"psnr": 24, "lmd": 2}},
				{Name: "04801.png", Values: map[string]float64{"psnr": 26, "lmd": math.NaN()}},
			}},
			{Name: "refl", Rows: []Row{
				{Name: "04800.png", Values: map[string]float64{"psnr": 25, "lmd": 1.5}},
				{Name: "04801.png", Values: map[string]float64{"psnr": 27, "lmd": 1.7}},
			}},
		},
		Strips: []Strip{{Caption: "worst PSNR", Images: []StripImage{{Label: "LQ", PNG: []byte{0x89, 'P', 'N', 'G'}}}}},
		Notes:  []string{"1 face excluded from LMD"},
	}
}

func TestMeanSkipsMissing(t *testing.T) {
	p := samplePage()
	if v, n := Mean(p.Methods[0].Rows, "lmd"); v != 2 || n != 1 {
		t.Fatalf("mean %v over %d", v, n)
	}
	if v, n := Mean(p.Methods[1].Rows, "psnr"); v != 26 || n != 2 {
		t.Fatalf("mean %v over %d", v, n)
	}
}

func TestMarkdownSummary(t *testing.T) {
	var b bytes.Buffer
	Markdown(&b, samplePage())
	out := b.String()
	for _, want := range []string{"| method | images | PSNR ↑ | LMD ↓ |", "| base | 2 | 25.00 | 2.000 (n=1) |", "| refl | 2 | 26.00 | 1.600 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestBestWorst(t *testing.T) {
	p := samplePage()
	best, worst := BestWorst(p.Methods[0].Rows, p.Columns[1], 1)
	if len(best) != 1 || best[0] != "04800.png" || worst[0] != "04800.png" {
		t.Fatalf("best %v worst %v (the NaN row must be left out)", best, worst)
	}
	best, worst = BestWorst(p.Methods[1].Rows, p.Columns[0], 1)
	if best[0] != "04801.png" || worst[0] != "04800.png" {
		t.Fatalf("best %v worst %v", best, worst)
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.html")
	if err := WriteFile(path, samplePage()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, bad := range []string{"<script src", "<link", `src="http`, "@import"} {
		if strings.Contains(html, bad) {
			t.Errorf("page loads something from outside: %q", bad)
		}
	}
	for _, want := range []string{
		"eval &lt;test&gt;",              // title escaped
		`<td class="best">26.00</td>`,    // best method marked
		"data:image/png;base64,iVBORw==", // strip embedded
		`data-v="">–</td>`,               // missing value shown and sorted last
		"<svg", "1 face excluded from LMD", "addEventListener('click'",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHistBins(t *testing.T) {
	for n, want := range map[int]int{0: 4, 3: 4, 48: 7, 200: 15, 5000: 20} {
		if got := histBins(n); got != want {
			t.Errorf("histBins(%d) = %d, want %d", n, got, want)
		}
	}
	if got := strings.Count(histogram([]float64{1, 2, 3}, "x", histBins(3)), "<rect"); got != 4 {
		t.Errorf("3 values drew %d bars, want 4", got)
	}
}
