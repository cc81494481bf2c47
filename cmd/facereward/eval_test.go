package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"facereward/evaluate"
	"facereward/imageio"
	"facereward/tensor"
)

// copyFaces writes the committed real faces into dir, optionally dimmed.
func copyFaces(t *testing.T, dir string, dim float32, ids ...string) {
	t.Helper()
	for _, id := range ids {
		img, err := imageio.Read(filepath.Join("..", "..", "testdata", "cvref", "degrade_jpeg_src_"+id+".png"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range img.Data {
			img.Data[i] *= dim
		}
		if err := imageio.WritePNG(filepath.Join(dir, id+".png"), img); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEvalWritesMetricsAndReport(t *testing.T) {
	gt, pred, out := t.TempDir(), t.TempDir(), t.TempDir()
	copyFaces(t, gt, 1, "04801", "04850")
	copyFaces(t, pred, 0.95, "04801", "04850")
	stdout, _, err := runCLI("eval", "--pred", pred, "--name", "dimmed", "--gt", gt, "--out", out, "--workers", "1", "--fid-id")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "| dimmed | 2 |") {
		t.Errorf("summary lacks the method row:\n%s", stdout)
	}
	var rep evaluate.Report
	b, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	m := rep.Methods[0]
	if m.FIDID == nil || !(*m.FIDID >= 0) || !strings.Contains(stdout, "FID-ID") {
		t.Errorf("FID-ID missing: %v", m.FIDID)
	}
	if len(m.Images) != 2 || m.Counts["psnr"] != 2 || !(m.Means["psnr"] > 20 && m.Means["psnr"] < 40) || m.Means["ids"] < 0.9 {
		t.Fatalf("metrics %+v", m)
	}
	csv, err := os.ReadFile(filepath.Join(out, "metrics.csv"))
	if err != nil || !strings.HasPrefix(string(csv), "method,image,psnr,ssim") || strings.Count(string(csv), "\n") != 3 {
		t.Fatalf("csv %q (%v)", csv, err)
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(html), "best PSNR of dimmed: ") {
		t.Fatalf("report lacks strips (%v)", err)
	}
}

// The report's strips show every method beside LQ and GT, ranked by the
// first method that is not the LQ or GT folder itself.
func TestEvalStripsShowEveryMethod(t *testing.T) {
	gt, a, b, out := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	copyFaces(t, gt, 1, "04801", "04850")
	copyFaces(t, a, 0.95, "04801", "04850")
	copyFaces(t, b, 0.9, "04801", "04850")
	_, _, err := runCLI("eval", "--gt", gt, "--pred", gt, "--name", "ground", "--pred", a, "--name", "dimmed", "--pred", b, "--name", "dimmer", "--out", out, "--workers", "1")
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	if !strings.Contains(page, "best PSNR of dimmed: ") {
		t.Error("strips are not ranked by the first method other than the GT folder")
	}
	for _, label := range []string{"dimmed", "dimmer", "GT"} {
		if n := strings.Count(page, `alt="`+label+`"`); n != 4 {
			t.Errorf("%d panels labelled %s; want one in each of the 4 strips", n, label)
		}
	}
	if strings.Contains(page, `alt="ground"`) {
		t.Error("the GT folder's own row got a strip panel beside the GT panel")
	}
}

func TestEvalRejectsUnpairedFolders(t *testing.T) {
	gt, pred := t.TempDir(), t.TempDir()
	copyFaces(t, gt, 1, "04801", "04850")
	copyFaces(t, pred, 1, "04801", "04999")
	_, _, err := runCLI("eval", "--pred", pred, "--gt", gt, "--out", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "04999") || !strings.Contains(err.Error(), "04850") {
		t.Fatalf("error %v", err)
	}
}

func TestEvalReportsSizeMismatch(t *testing.T) {
	gt, pred, out := t.TempDir(), t.TempDir(), t.TempDir()
	copyFaces(t, gt, 1, "04801")
	if err := imageio.WritePNG(filepath.Join(pred, "04801.png"), tensor.New(64, 64, 3)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI("eval", "--pred", pred, "--gt", gt, "--out", out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
	if !strings.Contains(string(b), "[64 64 3]") {
		t.Fatalf("size mismatch not reported: %s", b)
	}
}
