package autolabel

import (
	"math"
	"strings"
	"time"

	"facereward/prefs"
)

// IsHuman reports whether a judge is a person rather than a labeller.
func IsHuman(judge string) bool { return !strings.HasPrefix(judge, prefs.AutoPrefix) }

// Judge is the judge name m's judgements carry.
func (m Model) Judge() string { return prefs.AutoPrefix + m.Name }

// Pending returns the pairs that labeller judge may label: those no person
// has judged and that judge has not labelled before. Any human verdict
// counts, ties and skips too: a person has looked at the pair, and a label
// must not contradict a tie or second-guess a skip.
func Pending(pairs []prefs.Pair, judgements []prefs.Judgement, judge string) []prefs.Pair {
	done := map[string]bool{}
	for _, j := range judgements {
		if IsHuman(j.Judge) || j.Judge == judge {
			done[j.Pair] = true
		}
	}
	var out []prefs.Pair
	for _, p := range pairs {
		if !done[p.ID] {
			out = append(out, p)
		}
	}
	return out
}

// Labels is the outcome of Label.
type Labels struct {
	Judgements []prefs.Judgement
	// Under counts the pending pairs whose |margin| is under the
	// threshold, left unlabelled.
	Under int
	// Unscored counts the pending pairs without features (no ground
	// truth), left unlabelled.
	Unscored int
}

// Label judges with m, at time at, the pending pairs (see Pending) whose
// features are known and whose |margin| is at least threshold; a margin of
// exactly 0 prefers neither candidate and is never a label. With m.GTWins
// a candidate that is its pair's ground truth wins whatever the margin,
// and with m.LQLoses the pair's degraded input loses (the ground truth
// still beats it).
func Label(pairs []prefs.Pair, judgements []prefs.Judgement, features map[string]Vector, m Model, threshold float64, at time.Time) Labels {
	var out Labels
	for _, p := range Pending(pairs, judgements, m.Judge()) {
		x, ok := features[p.ID]
		if !ok {
			out.Unscored++
			continue
		}
		margin := m.Margin(x)
		if m.LQLoses {
			margin = anchor(margin, IsLQ(p, p.Right), IsLQ(p, p.Left))
		}
		if m.GTWins {
			margin = anchor(margin, IsGT(p, p.Left), IsGT(p, p.Right))
		}
		if margin == 0 || math.Abs(margin) < threshold {
			out.Under++
			continue
		}
		v := prefs.Right
		if margin > 0 {
			v = prefs.Left
		}
		out.Judgements = append(out.Judgements, prefs.Judgement{Pair: p.ID, Verdict: v, Judge: m.Judge(), At: at})
	}
	return out
}

// anchor overrides margin when exactly one side is marked: +∞ when the
// left is, −∞ when the right is.
func anchor(margin float64, left, right bool) float64 {
	switch {
	case left && !right:
		return math.Inf(1)
	case right && !left:
		return math.Inf(-1)
	}
	return margin
}
