package reward

import (
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"sort"

	"facereward/prefs"
)

// Evaluate measures the FRM model (a file or run folder; "" for the
// built-in one) on the verdicts of src (a database or a JSONL export, with
// its images in store) and prints its pairwise accuracy, overall and by
// the two candidates' methods, and its triplet order GT > stage-2 > LQ,
// where stage-2 is the candidate prefs generate samples with restore's
// default settings.
func Evaluate(model, src, store string, w io.Writer) error {
	frm, err := LoadOrBuiltin(model)
	if err != nil {
		return err
	}
	recs, err := ReadRecords(src)
	if err != nil {
		return fmt.Errorf("reward eval: %w", err)
	}
	im := NewImages(prefs.Store{Dir: store}, frm.Config.ImageSize)
	ex, dropped, err := im.Examples(recs)
	if err != nil {
		return fmt.Errorf("reward eval: %w", err)
	}
	pairs := make([]prefs.Pair, len(recs))
	for i, r := range recs {
		pairs[i] = r.Pair
	}
	ts, err := im.Triplets(pairs, prefs.IsDefaultStage2)
	if err != nil {
		return fmt.Errorf("reward eval: %w", err)
	}
	idx := Indices(ex)
	for _, t := range ts {
		idx = append(idx, t.GT, t.Restored, t.LQ)
	}
	scores := im.Scores(frm, idx)
	acc, loss := Accuracy(scores, ex)
	fmt.Fprintf(w, "pairwise accuracy: %.1f%% of %d verdicts (mean BT loss %.3f; %d ties and skips left out)\n", 100*acc, len(ex), loss, dropped)
	groups := map[string][]Example{}
	for _, e := range ex {
		a, b := e.Record.Left.Provenance.Method, e.Record.Right.Provenance.Method
		if a > b {
			a, b = b, a
		}
		groups[a+" vs "+b] = append(groups[a+" vs "+b], e)
	}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		a, _ := Accuracy(scores, groups[k])
		fmt.Fprintf(w, "  %-18s %5.1f%% of %d\n", k, 100*a, len(groups[k]))
	}
	if len(ts) == 0 {
		fmt.Fprintln(w, "triplet order: no face has a gt, an lq and a default stage-2 candidate")
		return nil
	}
	o := OrderTriplets(scores, ts)
	pct := func(n int) float64 { return 100 * float64(n) / float64(o.N) }
	fmt.Fprintf(w, "triplet order GT > stage-2 > LQ: %.1f%% of %d faces (GT > stage-2 %.1f%%, stage-2 > LQ %.1f%%)\n",
		pct(o.Ordered), o.N, pct(o.GTOverRestored), pct(o.RestoredOverLQ))
	return nil
}

// Triplet is one face's ground truth, a restoration of it and its degraded
// input: the order a reward model must give them is GT > Restored > LQ.
type Triplet struct {
	Face             string
	GT, Restored, LQ int // image indices
}

// Triplets collects, per face (the pairs sharing an id prefix, as
// `prefs generate` names them), the candidates whose provenance is the
// ground truth ("gt"), the degraded input ("lq") and the restoration that
// restored picks; faces missing one of the three are left out.
func (im *Images) Triplets(pairs []prefs.Pair, restored func(prefs.Provenance) bool) ([]Triplet, error) {
	type found struct{ gt, res, lq prefs.Ref }
	faces := map[string]*found{}
	for _, p := range pairs {
		key := path.Dir(p.ID)
		f := faces[key]
		if f == nil {
			f = &found{}
			faces[key] = f
		}
		for _, c := range []prefs.Candidate{p.Left, p.Right} {
			switch {
			case c.Provenance.Method == "gt":
				f.gt = c.Image
			case c.Provenance.Method == "lq":
				f.lq = c.Image
			case restored(c.Provenance):
				f.res = c.Image
			}
		}
	}
	keys := make([]string, 0, len(faces))
	for k := range faces {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ts []Triplet
	for _, k := range keys {
		f := faces[k]
		if f.gt == "" || f.res == "" || f.lq == "" {
			continue
		}
		t := Triplet{Face: k}
		var err error
		for _, x := range []struct {
			dst *int
			ref prefs.Ref
		}{{&t.GT, f.gt}, {&t.Restored, f.res}, {&t.LQ, f.lq}} {
			if *x.dst, err = im.Index(x.ref); err != nil {
				return nil, fmt.Errorf("face %s: %w", k, err)
			}
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// TripletScores counts the triplets ordered GT > Restored > LQ, and each
// of the two comparisons alone.
type TripletScores struct {
	N, Ordered, GTOverRestored, RestoredOverLQ int
}

// OrderTriplets counts the orders of the triplets under scores by image
// index (Images.Scores).
func OrderTriplets(scores map[int]float64, ts []Triplet) TripletScores {
	r := TripletScores{N: len(ts)}
	for _, t := range ts {
		a, b := scores[t.GT] > scores[t.Restored], scores[t.Restored] > scores[t.LQ]
		if a {
			r.GTOverRestored++
		}
		if b {
			r.RestoredOverLQ++
		}
		if a && b {
			r.Ordered++
		}
	}
	return r
}
