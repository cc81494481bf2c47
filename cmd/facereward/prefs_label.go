package main

import (
	"fmt"
	"io"
	"os"

	"facereward/autolabel"
)

func prefsLabel(args []string, stdout io.Writer) error {
	fs := newFlags("prefs label", "prefs label --db DSN --store DIR [--threshold T] [--folds K] [--min-human N] [--dry-run]", `
Labels the pairs no one has judged (the paper's hybrid annotation). Each
candidate is scored against its pair's ground truth on PSNR, SSIM, IDS, LMD
and BRISQUE; a pair's features are the left-minus-right differences.

With at least --min-human human verdicts (left or right; ties and skips do
not count), a logistic model is fitted to them and its agreement with the
humans on faces it did not see is reported (--folds-fold cross-validation,
grouped by face); its judgements are marked auto:logistic. With fewer, the
ground-truth rule stands in, marked auto:gt-rule: a candidate that is the
ground truth wins, the degraded input (method lq) loses to a restoration;
otherwise the sign of
  ΔPSNR/2 dB + ΔSSIM/0.05 + ΔIDS/0.02 − ΔLMD/2 px − ΔBRISQUE/10
decides (Δ = left − right).

Only pairs whose |margin| reaches --threshold are labelled (the model's
margin is the log-odds of "left": 1.0 is 73% sure; the rule's is in
noticeable differences). Pairs a person has judged, or this labeller has
labelled before, are left alone, so running it again adds nothing
(--replace retracts its earlier labels first). Pairs without a ground truth
cannot be scored and are skipped.`, stdout)
	dsn := fs.String("db", "", "database: a SQLite file or a postgres:// URL")
	storeDir := fs.String("store", "", "the image store (prefs generate's OUT/images)")
	threshold := fs.Float64("threshold", 1.0, "smallest |margin| that becomes a label")
	folds := fs.Int("folds", 5, "cross-validation folds")
	minHuman := fs.Int("min-human", 20, "human verdicts needed to train the model instead of using the ground-truth rule")
	seed := fs.Uint64("seed", 1, "seed of the cross-validation split")
	dryRun := fs.Bool("dry-run", false, "report what would be labelled, write nothing")
	replace := fs.Bool("replace", false, "first retract this labeller's earlier labels (after a change to the rule or\nthe human verdicts), then label; people's verdicts are kept")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dsn == "" || *storeDir == "" {
		return fmt.Errorf("prefs label: --db and --store are required (see --help)")
	}
	if *threshold < 0 || *folds < 2 || *minHuman < 1 {
		return fmt.Errorf("prefs label: --threshold %g, --folds %d, --min-human %d: want threshold ≥ 0, folds ≥ 2, min-human ≥ 1",
			*threshold, *folds, *minHuman)
	}
	return autolabel.Run(autolabel.Options{DB: *dsn, Store: *storeDir, Threshold: *threshold, MinHuman: *minHuman, Folds: *folds,
		Seed: *seed, DryRun: *dryRun, Replace: *replace}, stdout, os.Stderr)
}
