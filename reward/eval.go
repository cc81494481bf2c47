package reward

import (
	"fmt"
	"path"
	"sort"

	"facereward/prefs"
)

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
