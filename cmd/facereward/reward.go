package main

import (
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"facereward/imageio"
	"facereward/imgproc"
	"facereward/prefs"
	"facereward/restorer"
	"facereward/reward"
	"facereward/tensor"
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
	if err := fs.Parse(args); err != nil {
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
	frm, err := reward.LoadOrBuiltin(*model)
	if err != nil {
		return err
	}
	recs, err := reward.ReadRecords(*src)
	if err != nil {
		return fmt.Errorf("reward eval: %w", err)
	}
	im := reward.NewImages(prefs.Store{Dir: *store}, frm.Config.ImageSize)
	ex, dropped, err := im.Examples(recs)
	if err != nil {
		return fmt.Errorf("reward eval: %w", err)
	}
	pairs := make([]prefs.Pair, len(recs))
	for i, r := range recs {
		pairs[i] = r.Pair
	}
	ts, err := im.Triplets(pairs, isDefaultStage2)
	if err != nil {
		return fmt.Errorf("reward eval: %w", err)
	}
	idx := reward.Indices(ex)
	for _, t := range ts {
		idx = append(idx, t.GT, t.Restored, t.LQ)
	}
	scores := im.Scores(frm, idx)
	acc, loss := reward.Accuracy(scores, ex)
	fmt.Fprintf(stdout, "pairwise accuracy: %.1f%% of %d verdicts (mean BT loss %.3f; %d ties and skips left out)\n", 100*acc, len(ex), loss, dropped)
	groups := map[string][]reward.Example{}
	for _, e := range ex {
		a, b := e.Record.Left.Provenance.Method, e.Record.Right.Provenance.Method
		if a > b {
			a, b = b, a
		}
		groups[a+" vs "+b] = append(groups[a+" vs "+b], e)
	}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		a, _ := reward.Accuracy(scores, groups[k])
		fmt.Fprintf(stdout, "  %-18s %5.1f%% of %d\n", k, 100*a, len(groups[k]))
	}
	if len(ts) == 0 {
		fmt.Fprintln(stdout, "triplet order: no face has a gt, an lq and a default stage-2 candidate")
		return nil
	}
	o := reward.OrderTriplets(scores, ts)
	pct := func(n int) float64 { return 100 * float64(n) / float64(o.N) }
	fmt.Fprintf(stdout, "triplet order GT > stage-2 > LQ: %.1f%% of %d faces (GT > stage-2 %.1f%%, stage-2 > LQ %.1f%%)\n",
		pct(o.Ordered), o.N, pct(o.GTOverRestored), pct(o.RestoredOverLQ))
	return nil
}

// isDefaultStage2 picks the stage-2 candidate sampled as `restore` does by
// default.
func isDefaultStage2(p prefs.Provenance) bool {
	d := restorer.DefaultSampleOptions()
	return p.Method == "stage2" && p.Steps == d.Steps && p.Strength == d.Strength && p.Guidance == d.Guidance && p.Eta == d.Eta
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
	frm, err := reward.LoadOrBuiltin(*model)
	if err != nil {
		return err
	}
	inputs, err := listInputs(paths)
	if err != nil {
		return err
	}
	s := frm.Config.ImageSize
	for _, in := range inputs {
		img, err := imageio.Read(in.path)
		if err != nil {
			return fmt.Errorf("reward score: %w", err)
		}
		if img.Shape[0] != s || img.Shape[1] != s {
			img = imgproc.Resize(img, s, s, imgproc.Area)
		}
		score := frm.Score(tensor.FromSlice(img.Data, 1, s, s, 3), 1)[0]
		fmt.Fprintf(stdout, "%.4f\t%s\n", score, in.path)
	}
	return nil
}

// defaultStore is the image store beside a SQLite or JSONL --prefs file,
// where prefs generate puts it; a database URL has no "beside".
func defaultStore(src string) (string, error) {
	if strings.Contains(src, "://") {
		return "", fmt.Errorf("--store is required with a database URL")
	}
	return filepath.Join(filepath.Dir(src), "images"), nil
}
