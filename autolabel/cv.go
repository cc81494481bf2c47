package autolabel

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// CV is the outcome of a cross-validation.
type CV struct {
	// Agreement is the fraction of the human verdicts that a model trained
	// without their face predicts (every verdict is held out exactly once,
	// so this is the pooled agreement, not a mean of per-fold figures that
	// would weigh a small fold like a large one).
	Agreement float64
	// Folds is the number of folds used: fewer than asked when there are
	// fewer faces than folds.
	Folds int
	// Fold is the fold of each example.
	Fold []int
}

// CrossValidate estimates how often the logistic model agrees with the
// humans on pairs it was not trained on, by k-fold cross-validation
// grouped by face: a face's verdicts are all in one fold, since its pairs
// share candidates and would otherwise leak between training and test. The
// faces are shuffled with seed, then dealt to the folds in turn; the same
// examples and seed give the same result.
func CrossValidate(examples []Example, folds int, seed uint64) (CV, error) {
	var faces []string
	seen := map[string]bool{}
	for _, e := range examples {
		if !seen[e.Face] {
			seen[e.Face] = true
			faces = append(faces, e.Face)
		}
	}
	// Sorting first makes the split depend on the set of faces and the seed,
	// not on the order the examples came in.
	slices.Sort(faces)
	folds = min(folds, len(faces))
	if folds < 2 {
		return CV{}, fmt.Errorf("autolabel: cross-validation needs at least 2 faces and 2 folds (have %d faces)", len(faces))
	}
	rng := rand.New(rand.NewPCG(seed, 0x6175746f6c6162)) // "autolab"
	rng.Shuffle(len(faces), func(i, j int) { faces[i], faces[j] = faces[j], faces[i] })
	foldOf := map[string]int{}
	for i, f := range faces {
		foldOf[f] = i % folds
	}
	cv := CV{Folds: folds, Fold: make([]int, len(examples))}
	for i, e := range examples {
		cv.Fold[i] = foldOf[e.Face]
	}
	agree := 0
	for k := range folds {
		var train, test []Example
		for i, e := range examples {
			if cv.Fold[i] == k {
				test = append(test, e)
			} else {
				train = append(train, e)
			}
		}
		m, err := Train(train)
		if err != nil {
			return CV{}, fmt.Errorf("autolabel: fold %d: %w", k+1, err)
		}
		for _, e := range test {
			if m.Predict(e.X) == e.Left {
				agree++
			}
		}
	}
	cv.Agreement = float64(agree) / float64(len(examples))
	return cv, nil
}
