package autolabel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// spread is a typical per-feature spread of metric differences between two
// restorations of one face, so synthetic data has the real scales (IDS
// differences are a thousand times smaller than BRISQUE's).
var spread = Vector{3, 0.08, 0.03, 0.8, 12}

// synthetic draws n examples, three per face, with correlated features
// (blur moves PSNR, SSIM and LMD together); label gives each its verdict.
func synthetic(n int, seed uint64, label func(x Vector, rng *rand.Rand) bool) []Example {
	rng := rand.New(rand.NewPCG(seed, 1))
	ex := make([]Example, n)
	for k := range ex {
		common := rng.NormFloat64()
		for i := range ex[k].X {
			ex[k].X[i] = spread[i] * (0.6*rng.NormFloat64() + 0.4*common)
		}
		ex[k].X[LMD] = -ex[k].X[LMD] // more blur: lower PSNR, higher LMD
		ex[k].Left = label(ex[k].X, rng)
		ex[k].Face = fmt.Sprintf("face%03d", k/3)
	}
	return ex
}

// linear labels by the ground-truth rule's score plus Gaussian noise of one
// unit (against a score spread of several units).
func linear(x Vector, rng *rand.Rand) bool { return GTRule().Margin(x)+rng.NormFloat64() > 0 }

func cosine(a, b Vector) float64 { return dot(a, b) / math.Sqrt(dot(a, a)*dot(b, b)) }

// Labels drawn from a known linear rule plus noise: the fit recovers the
// rule's direction and cross-validation agrees with the labels nearly as
// often as the noise allows (the rule itself agrees with 89% of them).
func TestTrainRecoversLinearRule(t *testing.T) {
	ex := synthetic(600, 1, linear)
	m, err := Train(ex)
	if err != nil {
		t.Fatal(err)
	}
	// Compare on the model's standardised features, where every feature
	// counts alike; in raw units the IDS weight (per 0.02) would dominate.
	truth := GTRule().PerUnit()
	for i := range truth {
		truth[i] *= m.Scale[i]
	}
	if c := cosine(m.W, truth); c < 0.95 {
		t.Errorf("cosine(learned, true) = %.3f, want > 0.95 (learned %v, true %v)", c, m.W, truth)
	}
	cv, err := CrossValidate(ex, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Agreement < 0.85 || cv.Folds != 5 {
		t.Errorf("CV agreement %.3f over %d folds, want > 0.85 over 5", cv.Agreement, cv.Folds)
	}
}

// Verdicts that are coin flips cannot be predicted: held-out agreement is
// near one half (600 verdicts: standard error 2%).
func TestNoiseOnlyLabelsAgreeByChance(t *testing.T) {
	ex := synthetic(600, 2, func(_ Vector, rng *rand.Rand) bool { return rng.IntN(2) == 0 })
	cv, err := CrossValidate(ex, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(cv.Agreement-0.5) > 0.07 {
		t.Errorf("CV agreement on noise %.3f, want 0.5 ± 0.07", cv.Agreement)
	}
}

// Swapping a pair's candidates negates its margin, for a model trained on
// data that are far from symmetric (every verdict "left", features with a
// non-zero mean) and for the rule.
func TestMarginIsAntisymmetric(t *testing.T) {
	ex := synthetic(90, 4, func(Vector, *rand.Rand) bool { return true })
	for k := range ex {
		ex[k].X[PSNR] += 5
	}
	m, err := Train(ex)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, model := range []Model{m, GTRule()} {
		for range 20 {
			var x, neg Vector
			for i := range x {
				x[i] = spread[i] * rng.NormFloat64()
				neg[i] = -x[i]
			}
			a, b := model.Margin(x), model.Margin(neg)
			if math.Abs(a+b) > 1e-12*math.Max(1, math.Abs(a)) {
				t.Fatalf("%s: margin(x) = %v, margin(−x) = %v", model.Name, a, b)
			}
		}
	}
}

// Verdicts that one feature separates perfectly, where an unpenalised fit
// would send the weights to infinity, give bounded weights that put that
// feature first. The bound: the objective at the optimum is at most its
// value at W = 0, log 2, so Lambda/2·|W|² ≤ log 2 and |W| ≤ 11.8.
func TestSeparableVerdicts(t *testing.T) {
	ex := synthetic(60, 6, func(x Vector, _ *rand.Rand) bool { return x[SSIM] > 0 })
	m, err := Train(ex)
	if err != nil {
		t.Fatal(err)
	}
	if n := math.Sqrt(dot(m.W, m.W)); !(n <= 11.8) {
		t.Fatalf("|W| = %v, want ≤ 11.8: weights %v", n, m.W)
	}
	for i, w := range m.W {
		if i != SSIM && math.Abs(w) >= m.W[SSIM] {
			t.Errorf("weights %v: SSIM should have the largest", m.W)
		}
	}
}

// The split is a function of the seed: the same seed gives the same folds
// and agreement whatever the order of the examples, another seed other
// folds; a face never spans two folds, and no fold is empty.
func TestCrossValidateDeterministicAndGrouped(t *testing.T) {
	ex := synthetic(120, 8, linear)
	a, err := CrossValidate(ex, 5, 42)
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(ex)
	slices.Reverse(rev)
	b, err := CrossValidate(rev, 5, 42)
	if err != nil {
		t.Fatal(err)
	}
	bFold := slices.Clone(b.Fold)
	slices.Reverse(bFold)
	if a.Agreement != b.Agreement || !slices.Equal(a.Fold, bFold) {
		t.Errorf("same seed, reversed order: agreement %v vs %v, folds differ: %v", a.Agreement, b.Agreement, !slices.Equal(a.Fold, bFold))
	}
	c, err := CrossValidate(ex, 5, 43)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.Fold, c.Fold) {
		t.Error("seeds 42 and 43 gave the same folds")
	}
	foldOf := map[string]int{}
	sizes := make([]int, a.Folds)
	for i, e := range ex {
		if f, ok := foldOf[e.Face]; ok && f != a.Fold[i] {
			t.Fatalf("face %s in folds %d and %d", e.Face, f, a.Fold[i])
		}
		foldOf[e.Face] = a.Fold[i]
		sizes[a.Fold[i]]++
	}
	if slices.Contains(sizes, 0) {
		t.Errorf("fold sizes %v", sizes)
	}
}

// With fewer faces than folds there are as many folds as faces; one face
// cannot be cross-validated at all.
func TestCrossValidateFewFaces(t *testing.T) {
	ex := synthetic(9, 9, linear) // three faces
	cv, err := CrossValidate(ex, 5, 1)
	if err != nil || cv.Folds != 3 {
		t.Errorf("three faces, five folds asked: %d folds, %v", cv.Folds, err)
	}
	if _, err := CrossValidate(ex[:3], 5, 1); err == nil {
		t.Error("one face cross-validated")
	}
}
