package autolabel

import (
	"fmt"
	"io"
	"time"

	"facereward/evaluate"
	"facereward/prefs"
	"facereward/progress"
)

// Options are a labelling run's database, image store and policy.
type Options struct {
	DB    string // a SQLite file or a postgres:// URL
	Store string // the image store of the pairs
	// Threshold is the smallest |margin| that becomes a label.
	Threshold float64
	// MinHuman human left/right verdicts train the logistic model (checked
	// by Folds-fold cross-validation, seeded by Seed); with fewer, GTRule
	// labels.
	MinHuman, Folds int
	Seed            uint64
	DryRun          bool // report what would be labelled, write nothing
	Replace         bool // first retract this labeller's earlier labels
}

// Run labels the pairs of the database no one has judged, with the model
// fitted to the human verdicts or, short of o.MinHuman of them, the
// ground-truth rule, and reports each step on stdout (the metrics'
// progress bar on stderr). Pairs judged by a person, or by this labeller
// before, are left alone; pairs without a ground truth are skipped.
func Run(o Options, stdout, stderr io.Writer) error {
	db, err := prefs.Open(o.DB)
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
	judgements, human, unusable := humanVerdicts(recs)
	fmt.Fprintf(stdout, "prefs label: %d pairs, %d judgements, %d human left/right verdicts on pairs with a ground truth\n",
		len(pairs), len(recs), len(human))
	if unusable > 0 {
		fmt.Fprintf(stdout, "  %d human verdicts are on pairs without a ground truth: not used\n", unusable)
	}

	name := RuleName
	if len(human) >= o.MinHuman {
		name = LogisticName
	}
	if o.Replace {
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
	for _, p := range Pending(pairs, judgements, prefs.AutoPrefix+name) {
		add(p)
	}
	if name == LogisticName {
		for _, j := range human {
			add(byID[j.Pair])
		}
	}
	feats, err := pairFeatures(need, prefs.Store{Dir: o.Store}, stdout, stderr)
	if err != nil {
		return err
	}

	model := GTRule()
	if name == LogisticName {
		if model, err = fitLabeller(human, byID, feats, o.Folds, o.Seed, stdout); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%d human verdicts (under --min-human %d): labelling with the ground-truth rule, as %s\n",
			len(human), o.MinHuman, model.Judge())
	}
	labels := Label(pairs, judgements, feats, model, o.Threshold, time.Now().UTC())
	return writeLabels(db, labels, byID, model, o, stdout)
}

// humanVerdicts returns every record's judgement and the human left/right
// verdicts a model can train on, and counts those it cannot: verdicts on
// pairs without a ground truth, which cannot be scored.
func humanVerdicts(recs []prefs.Record) (judgements, human []prefs.Judgement, unusable int) {
	judgements = make([]prefs.Judgement, len(recs))
	for i, r := range recs {
		judgements[i] = r.Judgement()
		if !IsHuman(r.Judge) || (r.Verdict != prefs.Left && r.Verdict != prefs.Right) {
			continue
		}
		if r.GT == "" {
			unusable++
			continue
		}
		human = append(human, judgements[i])
	}
	return judgements, human, unusable
}

// writeLabels reports the labels and, unless o.DryRun, writes them (after
// retracting the labeller's earlier ones with o.Replace).
func writeLabels(db *prefs.DB, labels Labels, byID map[string]prefs.Pair, model Model, o Options, stdout io.Writer) error {
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
	if o.DryRun {
		verb = "would label"
	}
	fmt.Fprintf(stdout, "%s %d pairs as %s (%d left, %d right); %d under the threshold %g left unlabelled\n",
		verb, len(labels.Judgements), model.Judge(), left, len(labels.Judgements)-left, labels.Under, o.Threshold)
	if o.DryRun {
		fmt.Fprintln(stdout, "dry run: nothing written")
		return nil
	}
	if o.Replace {
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
func fitLabeller(human []prefs.Judgement, byID map[string]prefs.Pair, feats map[string]Vector, folds int, seed uint64, stdout io.Writer) (Model, error) {
	examples := make([]Example, len(human))
	for i, j := range human {
		examples[i] = Example{X: feats[j.Pair], Left: j.Verdict == prefs.Left, Face: byID[j.Pair].Face}
	}
	model, err := Train(examples)
	if err != nil {
		return Model{}, fmt.Errorf("prefs label: %w", err)
	}
	// Too few faces to cross-validate is worth saying, not worth stopping
	// for: the model itself is fine.
	if cv, err := CrossValidate(examples, folds, seed); err != nil {
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
func pairFeatures(pairs []prefs.Pair, store prefs.Store, stdout, stderr io.Writer) (map[string]Vector, error) {
	feats := map[string]Vector{}
	if len(pairs) == 0 {
		return feats, nil
	}
	s, err := evaluate.NewScorer()
	if err != nil {
		return nil, err
	}
	f := NewFeatures(s, store)
	missing := map[string]int{}
	bar := progress.New(stderr, "prefs label: metrics", len(pairs))
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
	for _, name := range Names {
		if n := missing[name]; n > 0 {
			fmt.Fprintf(stdout, "  %s could not be computed for a candidate of %d pairs: their %s difference counts as 0\n", name, n, name)
		}
	}
	return feats, nil
}

// printWeights shows the model's weight per standard deviation of each
// difference (comparable across features) and per unit.
func printWeights(w io.Writer, m Model) {
	fmt.Fprintf(w, "  %-8s %9s %10s  %s\n", "feature", "weight/σ", "σ", "weight per unit")
	per := m.PerUnit()
	for i, name := range Names {
		unit := ""
		if Units[i] != "" {
			unit = " per " + Units[i]
		}
		fmt.Fprintf(w, "  %-8s %+9.3f %10.4g  %+.4g%s\n", name, m.W[i], m.Scale[i], per[i], unit)
	}
}
