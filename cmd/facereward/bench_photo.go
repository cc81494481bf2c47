package main

import (
	"fmt"
	"io"

	"facereward/bench"
)

func benchPhoto(args []string, stdout io.Writer) error {
	fs := newFlags("bench photo", "bench photo [flags] [PHOTO...]", `
Times restore on whole photos with the built-in weights and restore's
defaults (SSD detection, landmarks, one restoration per face, blend,
colour match, gate, ×2 cubic upscale): per photo, per face, and detection
alone, for the given photos or three committed ones (1, 4 and 5 faces at
512, 640 and 1920 px). --esrgan N also times the ESRGAN background
upsampler on an N×N crop, per output megapixel. Beside them, the peers'
published CPU figures (quoted, not measured), and the network's share:
one face restored (20 steps from noise) in this build and in PyTorch
(bench/restorer_torch.py --only restore), as a ratio.`, stdout)
	iters := fs.Int("iters", 3, "timed iterations per measurement (the median is reported)")
	warmup := fs.Int("warmup", 1, "untimed iterations first")
	esrgan := fs.Int("esrgan", 0, "time the ESRGAN background on an N×N centre crop of the first photo (0: skip)")
	python := fs.String("python", bench.DefaultPython(), "Python interpreter with torch")
	script := fs.String("torch-script", "bench/restorer_torch.py", "the PyTorch side (its restore part)")
	noTorch := fs.Bool("no-torch", false, "skip PyTorch")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *iters < 1 || *warmup < 0 || *esrgan < 0 {
		return fmt.Errorf("bench photo: --iters must be ≥ 1, --warmup and --esrgan ≥ 0")
	}
	return bench.Photo(bench.PhotoOptions{Photos: fs.Args(), ESRGAN: *esrgan, Options: bench.Options{Iters: *iters, Warmup: *warmup,
		Python: *python, Script: *script, NoTorch: *noTorch, JSON: *jsonOut}}, stdout)
}
