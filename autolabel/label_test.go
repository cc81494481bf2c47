package autolabel

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"facereward/prefs"
)

func ref(n int) prefs.Ref { return prefs.Ref(fmt.Sprintf("sha256:%064x", n)) }

// pair makes a pair of face 1 (ground truth ref(1)) between two methods.
func pair(id string, left, right string) prefs.Pair {
	cand := func(method string, n int) prefs.Candidate {
		img := ref(n)
		if method == "gt" {
			img = ref(1)
		}
		return prefs.Candidate{Image: img, Provenance: prefs.Provenance{Method: method}}
	}
	return prefs.Pair{ID: id, Face: "face1", LQ: ref(2), GT: ref(1), Left: cand(left, 3), Right: cand(right, 4)}
}

// The rule's score is the documented sum of differences over noticeable
// differences, and its verdict is its sign.
func TestGTRuleScore(t *testing.T) {
	rule := GTRule()
	x := Vector{2, 0.05, 0.02, 2, 10} // one noticeable difference each
	if got := rule.Margin(x); math.Abs(got-(1+1+1-1-1)) > 1e-12 {
		t.Errorf("margin %v, want 1", got)
	}
	if !rule.Predict(Vector{PSNR: 1}) || rule.Predict(Vector{LMD: 1}) || rule.Predict(Vector{BRISQUE: 1}) || !rule.Predict(Vector{IDS: 0.001}) {
		t.Error("rule prefers the wrong side: higher PSNR and IDS, lower LMD and BRISQUE are better")
	}
}

// The ground truth wins under the rule even where its metrics lose (here
// BRISQUE, which prefers over-sharpened restorations, by a wide margin),
// on either side; a learned model follows its margin instead.
func TestGTRulePicksGT(t *testing.T) {
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	pairs := []prefs.Pair{pair("gt-left", "gt", "stage2"), pair("gt-right", "stage2", "gt")}
	feats := map[string]Vector{"gt-left": {BRISQUE: 60}, "gt-right": {BRISQUE: -60}}
	got := Label(pairs, nil, feats, GTRule(), 1, at)
	if len(got.Judgements) != 2 || got.Judgements[0].Verdict != prefs.Left || got.Judgements[1].Verdict != prefs.Right {
		t.Fatalf("rule labels %+v, want the ground truth (left, then right)", got.Judgements)
	}
	for _, j := range got.Judgements {
		if j.Judge != "auto:gt-rule" || !j.At.Equal(at) {
			t.Errorf("judgement %+v: want judge auto:gt-rule at %v", j, at)
		}
		if err := j.Validate(); err != nil {
			t.Error(err)
		}
	}
	learned := GTRule()
	learned.Name, learned.GTWins = LogisticName, false
	got = Label(pairs, nil, feats, learned, 1, at)
	if len(got.Judgements) != 2 || got.Judgements[0].Verdict != prefs.Right || got.Judgements[1].Verdict != prefs.Left {
		t.Fatalf("learned model labels %+v, want the lower BRISQUE", got.Judgements)
	}
}

// The degraded input loses under the rule even where its metrics win (a
// restoration that moved pixels loses PSNR), on either side, but not to
// the ground truth; a learned model follows its margin instead.
func TestGTRuleLQLoses(t *testing.T) {
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	pairs := []prefs.Pair{pair("lq-left", "lq", "stage2"), pair("lq-right", "stage1", "lq"), pair("gt-lq", "gt", "lq")}
	feats := map[string]Vector{"lq-left": {PSNR: 10}, "lq-right": {PSNR: -10}, "gt-lq": {PSNR: 30}}
	got := Label(pairs, nil, feats, GTRule(), 1, at)
	want := []prefs.Verdict{prefs.Right, prefs.Left, prefs.Left}
	if len(got.Judgements) != 3 {
		t.Fatalf("rule labels %+v", got.Judgements)
	}
	for i, j := range got.Judgements {
		if j.Verdict != want[i] {
			t.Errorf("pair %s: %s, want %s", j.Pair, j.Verdict, want[i])
		}
	}
	learned := GTRule()
	learned.Name, learned.GTWins, learned.LQLoses = LogisticName, false, false
	got = Label(pairs[:2], nil, feats, learned, 1, at)
	if len(got.Judgements) != 2 || got.Judgements[0].Verdict != prefs.Left || got.Judgements[1].Verdict != prefs.Right {
		t.Fatalf("learned model labels %+v, want the higher PSNR", got.Judgements)
	}
}

// Only confident margins become labels; pairs a person has judged (tie
// included) or this labeller has labelled are left alone, another
// labeller's labels are not; pairs without features are counted. A second
// run adds nothing.
func TestLabelThresholdAndExistingVerdicts(t *testing.T) {
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	var pairs []prefs.Pair
	for _, id := range []string{"human", "tied", "ruled", "other-auto", "weak", "strong", "unscored"} {
		pairs = append(pairs, pair(id, "stage1", "stage2"))
	}
	strong := Vector{PSNR: -2, SSIM: -0.05, IDS: -0.02} // margin −3
	feats := map[string]Vector{
		"human": strong, "tied": strong, "ruled": strong, "other-auto": strong, "strong": strong,
		"weak": {PSNR: 1.8}, // margin 0.9
	}
	old := []prefs.Judgement{
		{Pair: "human", Verdict: prefs.Left, Judge: "ada", At: at},
		{Pair: "tied", Verdict: prefs.Tie, Judge: "bob", At: at},
		{Pair: "ruled", Verdict: prefs.Left, Judge: "auto:gt-rule", At: at},
		{Pair: "other-auto", Verdict: prefs.Left, Judge: "auto:logistic", At: at},
	}
	got := Label(pairs, old, feats, GTRule(), 1, at)
	var ids []string
	for _, j := range got.Judgements {
		ids = append(ids, j.Pair+"="+string(j.Verdict))
	}
	if s := strings.Join(ids, " "); s != "other-auto=right strong=right" {
		t.Errorf("labelled %q, want other-auto=right strong=right", s)
	}
	if got.Under != 1 || got.Unscored != 1 {
		t.Errorf("under the threshold %d, unscored %d; want 1 and 1", got.Under, got.Unscored)
	}
	if low := Label(pairs, old, feats, GTRule(), 0.5, at); len(low.Judgements) != 3 || low.Under != 0 {
		t.Errorf("threshold 0.5: %d labels, %d under; want 3 and 0", len(low.Judgements), low.Under)
	}
	again := Label(pairs, append(old, got.Judgements...), feats, GTRule(), 1, at)
	if len(again.Judgements) != 0 {
		t.Errorf("second run labelled %+v", again.Judgements)
	}
}

// A margin of exactly 0 prefers no one, whatever the threshold.
func TestZeroMarginIsNoLabel(t *testing.T) {
	got := Label([]prefs.Pair{pair("even", "stage1", "stage2")}, nil, map[string]Vector{"even": {}}, GTRule(), 0, time.Now())
	if len(got.Judgements) != 0 || got.Under != 1 {
		t.Errorf("zero margin: %+v", got)
	}
}
