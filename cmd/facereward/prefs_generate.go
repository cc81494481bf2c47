package main

import (
	"fmt"
	"io"
	"os"

	"facereward/prefs"
)

func prefsGenerate(args []string, stdout io.Writer) error {
	fs := newFlags("prefs generate", "prefs generate --data DIR --out DIR [--n N] [flags]", `
Makes preference pairs to judge. For N faces of --split (picked at random
with --seed) it degrades each face (--preset, seeded per face), restores the
LQ with the model, and stores in the image store (--out/images) the LQ, the
ground truth and K candidates:
  stage1    the stage-1 estimate,
  stage2-i  --samples stage-2 restorations, i = 0, 1, …, each with its own
            seed, cycling through three sampler settings: restore's
            defaults (20 steps from strength 0.5, guidance 0.275, eta 0.2,
            low band 2);
            10 steps with eta 0; 20 steps from strength 0.7, guidance 0.3,
            eta 1,
  lq        the degraded input as the restorer sees it (resized back to the
            working size, bilinearly, as basicsr does: the issue's
            "bicubic upsampled LQ"),
  gt        the ground truth itself, with --gt.
Every two candidates of a face make a pair, shown left/right in a seeded
random order. Pairs go to --db (default --out/prefs.db; a postgres:// URL
for PostgreSQL), one transaction per face: an interrupted run keeps the faces
it finished, and running it again skips them.`, stdout)
	data := fs.String("data", "", "folder of FFHQ-style faces (ids in the file names)")
	out := fs.String("out", "", "folder for the image store (images/) and the default database")
	dsn := fs.String("db", "", "database: a SQLite file or a postgres:// URL (default OUT/prefs.db)")
	model := fs.String("model", "", "model directory, or builtin:refl (the default: the ReFL-tuned built-in weights) or builtin:base (before ReFL)")
	n := fs.Int("n", 100, "faces")
	split := fs.String("split", "train", "the FFHQ ids to draw from: train (01001–04799), devval (04800–04999), or empty for every face")
	preset := fs.String("preset", "diffbir", "degradation preset")
	seed := fs.Uint64("seed", 1, "seed of the face choice, the degradations, the samplers and the left/right order")
	samples := fs.Int("samples", 3, "stage-2 candidates per face")
	withGT := fs.Bool("gt", false, "add the ground truth as a candidate")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" || *out == "" {
		return fmt.Errorf("prefs generate: --data and --out are required (see --help)")
	}
	if *n <= 0 || *samples < 0 {
		return fmt.Errorf("prefs generate: --n %d and --samples %d: want n > 0 and samples ≥ 0", *n, *samples)
	}
	return prefs.Generate(prefs.GenerateOptions{Data: *data, Split: *split, N: *n, Preset: *preset, Model: *model,
		Samples: *samples, GT: *withGT, Seed: *seed, Out: *out, DB: *dsn}, stdout, os.Stderr)
}
