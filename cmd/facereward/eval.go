package main

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"facereward/evaluate"
)

func runEval(args []string, stdout io.Writer) error {
	fs := newFlags("eval", "eval --pred DIR [--pred DIR…] [--gt DIR] [--lq DIR] --out DIR", `
Scores restored faces. With --gt: PSNR, SSIM (RGB and Y, as basicsr), IDS and
its angle Deg (face-api recognition descriptors), LMD (68 face-api landmarks,
in pixels and over the inter-ocular distance), BRISQUE (OpenCV's LIVE model)
and NIQE-FFHQ (NIQE fitted on this project's FFHQ train faces — not MATLAB's
model). Without --gt (real low-quality photos): the no-reference metrics and
identity against --lq.

Files are matched by name without extension. Several --pred folders are
compared side by side. Writes metrics.json (means and per image),
metrics.csv and report.html (one self-contained page) into --out and prints
a Markdown summary. A face the landmark net cannot place is reported, left
out of LMD and counted.`, stdout)
	var preds stringList
	fs.Var(&preds, "pred", "folder of restorations (repeatable)")
	var names stringList
	fs.Var(&names, "name", "name of the matching --pred in tables (repeatable; default: the folder name)")
	gtDir := fs.String("gt", "", "folder of ground-truth faces")
	lqDir := fs.String("lq", "", "folder of low-quality inputs (shown in strips; identity reference without --gt)")
	out := fs.String("out", "", "output folder")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "parallel workers")
	cropBorder := fs.Int("crop-border", 0, "pixels at each edge that PSNR and SSIM ignore (basicsr's crop_border)")
	fidID := fs.Bool("fid-id", false, "also report FID-ID: the Fréchet distance between the sets of identity descriptors (needs well over 128 images to be meaningful)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(preds) == 0 || *out == "" {
		return fmt.Errorf("eval: --pred and --out are required (see --help)")
	}
	if *gtDir == "" && *lqDir == "" {
		return fmt.Errorf("eval: give --gt (full-reference metrics) or --lq (no-ground-truth mode)")
	}
	if len(names) != 0 && len(names) != len(preds) {
		return fmt.Errorf("eval: %d --name for %d --pred", len(names), len(preds))
	}
	if *workers < 1 {
		return fmt.Errorf("eval: --workers must be ≥ 1")
	}
	return evaluate.Compare(evaluate.CompareOptions{Preds: preds, Names: names, GT: *gtDir, LQ: *lqDir, Out: *out,
		Workers: *workers, CropBorder: *cropBorder, FIDID: *fidID}, stdout, os.Stderr)
}
