package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"facereward/reward"
)

func runReward(args []string, stdout io.Writer) error {
	return dispatch("reward", "The Face Reward Model: a CNN that scores a face, higher is better.", []subcommand{
		{"score", "print the model's score of images", rewardScore},
		{"eval", "its agreement with verdicts, and its order of GT, restoration and LQ", rewardEval},
	}, args, stdout)
}

func rewardEval(args []string, stdout io.Writer) error {
	fs := newFlags("reward eval", "reward eval --model RUN|FILE --prefs DB|FILE.jsonl [--store DIR]", `
Measures a Face Reward Model on preference data it was not trained on
(for example the dev-val pairs of `+"`prefs generate --split devval --gt`"+`):
  pairwise accuracy  the fraction of left/right verdicts whose preferred
                     image the model scores higher, overall and by the
                     two candidates' methods;
  triplet order      per face, whether GT > stage-2 > LQ, where stage-2 is
                     the candidate sampled with restore's default settings
                     and LQ the degraded input.`, stdout)
	model := fs.String("model", "", "reward model: a run folder or a .safetensors file (default: the built-in FRM)")
	src := fs.String("prefs", "", "preference data: a SQLite file, a postgres:// URL or a .jsonl export")
	store := fs.String("store", "", "the image store (default: images/ beside a SQLite or JSONL --prefs)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *src == "" {
		return fmt.Errorf("reward eval: --prefs is required (see --help)")
	}
	if *store == "" {
		var err error
		if *store, err = defaultStore(*src); err != nil {
			return fmt.Errorf("reward eval: %w", err)
		}
	}
	return reward.Evaluate(*model, *src, *store, stdout)
}

func rewardScore(args []string, stdout io.Writer) error {
	fs := newFlags("reward score", "reward score --model RUN|FILE IMAGE...", `
Prints the Face Reward Model's score of each image (aligned face crops;
other sizes are resized to the model's, area-averaged when shrinking),
one "score<TAB>path" line each. Higher is better; scores compare faces, they
have no absolute meaning. --model is a reward run folder or its
model.safetensors; without it the built-in FRM (models/README.md: trained
on FFHQ-derived pairs, CC BY-NC-SA 4.0) scores.`, stdout)
	model := fs.String("model", "", "reward model: a run folder or a .safetensors file (default: the built-in FRM)")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("reward score: give images (see --help)")
	}
	return reward.ScoreFiles(*model, paths, stdout)
}

// defaultStore is the image store beside a SQLite or JSONL --prefs file,
// where prefs generate puts it; a database URL has no "beside".
func defaultStore(src string) (string, error) {
	if strings.Contains(src, "://") {
		return "", fmt.Errorf("--store is required with a database URL")
	}
	return filepath.Join(filepath.Dir(src), "images"), nil
}
