package autolabel

import (
	"errors"
	"fmt"
	"math"
)

// Lambda is the L2 penalty on the standardised weights, per sample (the
// objective is the mean log-loss plus Lambda/2·|W|²): enough to keep the
// weights finite when the humans' verdicts are perfectly separable, too
// little to matter otherwise.
const Lambda = 0.01

// The labellers' names; the judge is prefs.AutoPrefix + Name.
const (
	LogisticName = "logistic"
	RuleName     = "gt-rule"
)

// Model is a linear scorer of pair differences: the margin is
// W·((x − Mean)/Scale) + B, positive when the left candidate is preferred.
type Model struct {
	W     Vector
	B     float64
	Mean  Vector
	Scale Vector
	Name  string
	// GTWins makes a candidate that is its pair's ground truth win, and
	// LQLoses makes the degraded input lose, whatever the metrics (the
	// ground-truth rule's anchors). A learned model leaves both false:
	// people may prefer a restoration to the ground truth, or the input
	// to a bad restoration, and the model learns what people prefer.
	GTWins, LQLoses bool
}

// GTRule is the documented ground-truth rule (see the package doc).
func GTRule() Model {
	return Model{
		Name:    RuleName,
		W:       Vector{1, 1, 1, -1, -1},
		Scale:   Vector{2, 0.05, 0.02, 2, 10},
		GTWins:  true,
		LQLoses: true,
	}
}

// Margin is m's score of a pair's difference vector x.
func (m Model) Margin(x Vector) float64 {
	s := m.B
	for i := range x {
		s += m.W[i] * (x[i] - m.Mean[i]) / m.Scale[i]
	}
	return s
}

// Predict says whether m prefers the left candidate.
func (m Model) Predict(x Vector) bool { return m.Margin(x) > 0 }

// PerUnit is m's weight on each raw difference (W/Scale): how much a
// difference of one dB, one px, … moves the margin.
func (m Model) PerUnit() Vector {
	var w Vector
	for i := range w {
		w[i] = m.W[i] / m.Scale[i]
	}
	return w
}

// Example is one human verdict on a pair: its difference vector, whether
// the left candidate won, and the pair's face (cross-validation keeps a
// face's verdicts in one fold).
type Example struct {
	X    Vector
	Left bool
	Face string
}

// Train fits the logistic model to examples.
func Train(examples []Example) (Model, error) {
	if len(examples) == 0 {
		return Model{}, errors.New("autolabel: no examples to train on")
	}
	m := Model{Name: LogisticName}
	// The flipped set's mean is 0, and its spread about 0 is the RMS of
	// the originals; a feature that is 0 throughout keeps scale 1 (its
	// weight then stays 0).
	for i := range m.Scale {
		var ss float64
		for _, e := range examples {
			ss += e.X[i] * e.X[i]
		}
		m.Scale[i] = math.Sqrt(ss / float64(len(examples)))
		if m.Scale[i] == 0 {
			m.Scale[i] = 1
		}
	}
	z := make([]Vector, len(examples))
	y := make([]float64, len(examples))
	for k, e := range examples {
		for i := range e.X {
			z[k][i] = e.X[i] / m.Scale[i]
		}
		y[k] = -1
		if e.Left {
			y[k] = 1
		}
	}
	w, err := newton(z, y)
	if err != nil {
		return Model{}, err
	}
	m.W = w
	return m, nil
}

// objective is the mean log-loss of w on (z, y) plus the L2 penalty.
func objective(w Vector, z []Vector, y []float64) float64 {
	var f float64
	for k := range z {
		f += softplus(-y[k] * dot(w, z[k]))
	}
	return f/float64(len(z)) + Lambda/2*dot(w, w)
}

// newton minimises objective from w = 0. The objective is strictly convex
// (the penalty), so the Hessian is positive definite and the Newton step
// is always a descent direction; the line search keeps steps that would
// overshoot on nearly separable data from increasing the objective.
func newton(z []Vector, y []float64) (Vector, error) {
	var w Vector
	n := float64(len(z))
	f := objective(w, z, y)
	for range 100 {
		var g Vector
		var h [NumFeatures][NumFeatures]float64
		for k := range z {
			p := sigmoid(-y[k] * dot(w, z[k])) // how wrong sample k still is
			for i := range g {
				g[i] -= y[k] * p * z[k][i] / n
				for j := range g {
					h[i][j] += p * (1 - p) * z[k][i] * z[k][j] / n
				}
			}
		}
		for i := range g {
			g[i] += Lambda * w[i]
			h[i][i] += Lambda
		}
		d, err := solve(h, g)
		if err != nil {
			return Vector{}, err
		}
		// g·d is the squared Newton decrement, twice the decrease the step
		// promises. Once it is tiny the fit is in the quadratic region,
		// where the full step is accurate, while the objective (at most log 2,
		// resolution 1e-16) could no longer tell the line search whether a
		// step helped.
		if dot(g, d) < 1e-12 {
			for i := range w {
				w[i] -= d[i]
			}
			return w, nil
		}
		step := 1.0
		for {
			var next Vector
			for i := range w {
				next[i] = w[i] - step*d[i]
			}
			if fn := objective(next, z, y); fn <= f-1e-4*step*dot(g, d) {
				w, f = next, fn
				break
			}
			if step /= 2; step < 1e-10 {
				return Vector{}, errors.New("autolabel: the logistic fit's line search found no decrease")
			}
		}
	}
	return Vector{}, errors.New("autolabel: the logistic fit did not converge in 100 Newton steps")
}

// solve returns h⁻¹g by Cholesky factorisation (h is symmetric positive
// definite).
func solve(h [NumFeatures][NumFeatures]float64, g Vector) (Vector, error) {
	var l [NumFeatures][NumFeatures]float64
	for i := range l {
		for j := 0; j <= i; j++ {
			s := h[i][j]
			for k := range j {
				s -= l[i][k] * l[j][k]
			}
			if i == j {
				if s <= 0 {
					return Vector{}, fmt.Errorf("autolabel: Hessian not positive definite (pivot %g)", s)
				}
				l[i][i] = math.Sqrt(s)
			} else {
				l[i][j] = s / l[j][j]
			}
		}
	}
	var v, x Vector
	for i := range v { // L v = g
		s := g[i]
		for k := range i {
			s -= l[i][k] * v[k]
		}
		v[i] = s / l[i][i]
	}
	for i := NumFeatures - 1; i >= 0; i-- { // Lᵀ x = v
		s := v[i]
		for k := i + 1; k < NumFeatures; k++ {
			s -= l[k][i] * x[k]
		}
		x[i] = s / l[i][i]
	}
	return x, nil
}

func dot(a, b Vector) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func sigmoid(t float64) float64 { return 1 / (1 + math.Exp(-t)) }

// softplus is log(1 + e^t) without overflow for large t.
func softplus(t float64) float64 {
	if t > 30 {
		return t
	}
	return math.Log1p(math.Exp(t))
}
