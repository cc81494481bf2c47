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
	o, check := benchOptions(fs, 3, 1, "bench/restorer_torch.py")
	esrgan := fs.Int("esrgan", 0, "time the ESRGAN background on an N×N centre crop of the first photo (0: skip)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := check("photo"); err != nil {
		return err
	}
	if *esrgan < 0 {
		return fmt.Errorf("bench photo: --esrgan must be ≥ 0")
	}
	return bench.Photo(bench.PhotoOptions{Photos: fs.Args(), ESRGAN: *esrgan, Options: *o}, stdout)
}
