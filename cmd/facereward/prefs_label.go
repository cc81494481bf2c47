package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"facereward/autolabel"
	"facereward/evaluate"
	"facereward/prefs"
	"facereward/progress"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" || *storeDir == "" {
		return fmt.Errorf("prefs label: --db and --store are required (see --help)")
	}
	if *threshold < 0 || *folds < 2 || *minHuman < 1 {
		return fmt.Errorf("prefs label: --threshold %g, --folds %d, --min-human %d: want threshold ≥ 0, folds ≥ 2, min-human ≥ 1",
			*threshold, *folds, *minHuman)
	}
	db, err := prefs.Open(*dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	pairs, err := db.Pairs()
	if err != nil {
		return err
	}
	recs, err := db.Records()
	if err != nil {
		return err
	}
	byID := map[string]prefs.Pair{}
	for _, p := range pairs {
		byID[p.ID] = p
	}
	judgements := make([]prefs.Judgement, len(recs))
	var human []prefs.Judgement // usable for training: left/right on a scorable pair
	unusable := 0
	for i, r := range recs {
		judgements[i] = r.Judgement()
		if !autolabel.IsHuman(r.Judge) || (r.Verdict != prefs.Left && r.Verdict != prefs.Right) {
			continue
		}
		if r.GT == "" {
			unusable++
			continue
		}
		human = append(human, judgements[i])
	}
	fmt.Fprintf(stdout, "prefs label: %d pairs, %d judgements, %d human left/right verdicts on pairs with a ground truth\n",
		len(pairs), len(recs), len(human))
	if unusable > 0 {
		fmt.Fprintf(stdout, "  %d human verdicts are on pairs without a ground truth: not used\n", unusable)
	}

	name := autolabel.RuleName
	if len(human) >= *minHuman {
		name = autolabel.LogisticName
	}
	if *replace {
		// Forget the old labels here too, so that a dry run shows what a
		// real one would write.
		kept := judgements[:0]
		for _, j := range judgements {
			if j.Judge != prefs.AutoPrefix+name {
				kept = append(kept, j)
			}
		}
		judgements = kept
	}
	// Score only what is needed: the pairs this labeller may label and,
	// for the model, the pairs people judged.
	var need []prefs.Pair
	seen := map[string]bool{}
	add := func(p prefs.Pair) {
		if p.GT != "" && !seen[p.ID] {
			seen[p.ID] = true
			need = append(need, p)
		}
	}
	for _, p := range autolabel.Pending(pairs, judgements, prefs.AutoPrefix+name) {
		add(p)
	}
	if name == autolabel.LogisticName {
		for _, j := range human {
			add(byID[j.Pair])
		}
	}
	feats, err := pairFeatures(need, prefs.Store{Dir: *storeDir}, stdout)
	if err != nil {
		return err
	}

	model := autolabel.GTRule()
	if name == autolabel.LogisticName {
		if model, err = fitLabeller(human, byID, feats, *folds, *seed, stdout); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%d human verdicts (under --min-human %d): labelling with the ground-truth rule, as %s\n",
			len(human), *minHuman, model.Judge())
	}

	labels := autolabel.Label(pairs, judgements, feats, model, *threshold, time.Now().UTC())
	left := 0
	for _, j := range labels.Judgements {
		if j.Verdict == prefs.Left {
			left++
		}
	}
	if labels.Unscored > 0 {
		fmt.Fprintf(stdout, "skipped %d unjudged pairs without a ground truth (they cannot be scored)\n", labels.Unscored)
	}
	verb := "labelled"
	if *dryRun {
		verb = "would label"
	}
	fmt.Fprintf(stdout, "%s %d pairs as %s (%d left, %d right); %d under the threshold %g left unlabelled\n",
		verb, len(labels.Judgements), model.Judge(), left, len(labels.Judgements)-left, labels.Under, *threshold)
	if *dryRun {
		fmt.Fprintln(stdout, "dry run: nothing written")
		return nil
	}
	if *replace {
		n, err := db.Retract(model.Judge())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "retracted %d earlier %s labels\n", n, model.Judge())
	}
	// Import writes them in one transaction: all or none, and one commit
	// instead of one per judgement.
	out := make([]prefs.Record, len(labels.Judgements))
	for i, j := range labels.Judgements {
		out[i] = prefs.Record{Pair: byID[j.Pair], Verdict: j.Verdict, Judge: j.Judge, At: j.At}
	}
	if err := db.Import(out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d judgements to %s\n", len(out), db.Name())
	return nil
}

// fitLabeller trains the logistic model on the human verdicts and reports
// its cross-validated agreement with them and its weights.
func fitLabeller(human []prefs.Judgement, byID map[string]prefs.Pair, feats map[string]autolabel.Vector, folds int, seed uint64, stdout io.Writer) (autolabel.Model, error) {
	examples := make([]autolabel.Example, len(human))
	for i, j := range human {
		examples[i] = autolabel.Example{X: feats[j.Pair], Left: j.Verdict == prefs.Left, Face: byID[j.Pair].Face}
	}
	model, err := autolabel.Train(examples)
	if err != nil {
		return autolabel.Model{}, fmt.Errorf("prefs label: %w", err)
	}
	// Too few faces to cross-validate is worth saying, not worth stopping
	// for: the model itself is fine.
	if cv, err := autolabel.CrossValidate(examples, folds, seed); err != nil {
		fmt.Fprintf(stdout, "logistic model on %d human verdicts: not cross-validated (%v)\n", len(examples), err)
	} else {
		fmt.Fprintf(stdout, "logistic model on %d human verdicts: %d-fold agreement %.1f%% (folds grouped by face)\n",
			len(examples), cv.Folds, 100*cv.Agreement)
	}
	printWeights(stdout, model)
	return model, nil
}

// pairFeatures scores pairs (all with a ground truth) with a progress bar,
// and says how many had a metric that could not be computed.
func pairFeatures(pairs []prefs.Pair, store prefs.Store, stdout io.Writer) (map[string]autolabel.Vector, error) {
	feats := map[string]autolabel.Vector{}
	if len(pairs) == 0 {
		return feats, nil
	}
	s, err := evaluate.NewScorer()
	if err != nil {
		return nil, err
	}
	f := autolabel.NewFeatures(s, store)
	missing := map[string]int{}
	bar := progress.New(os.Stderr, "prefs label: metrics", len(pairs))
	for _, p := range pairs {
		x, miss, err := f.Pair(p)
		if err != nil {
			return nil, fmt.Errorf("prefs label: %w", err)
		}
		feats[p.ID] = x
		for _, m := range miss {
			missing[m]++
		}
		bar.Add(1)
	}
	bar.Finish()
	for _, name := range autolabel.Names {
		if n := missing[name]; n > 0 {
			fmt.Fprintf(stdout, "  %s could not be computed for a candidate of %d pairs: their %s difference counts as 0\n", name, n, name)
		}
	}
	return feats, nil
}

// printWeights shows the model's weight per standard deviation of each
// difference (comparable across features) and per unit.
func printWeights(w io.Writer, m autolabel.Model) {
	fmt.Fprintf(w, "  %-8s %9s %10s  %s\n", "feature", "weight/σ", "σ", "weight per unit")
	per := m.PerUnit()
	for i, name := range autolabel.Names {
		unit := ""
		if autolabel.Units[i] != "" {
			unit = " per " + autolabel.Units[i]
		}
		fmt.Fprintf(w, "  %-8s %+9.3f %10.4g  %+.4g%s\n", name, m.W[i], m.Scale[i], per[i], unit)
	}
}
