package reward

import (
	"fmt"

	"facereward/nn"
	"facereward/tensor"
)

// BTLoss is the Bradley–Terry loss of preference pairs, averaged over the
// batch: mean(-log σ(win - lose)), written as Softplus(lose - win) so that
// a confidently wrong pair gives a large finite loss instead of log(0).
// win and lose are [N,1] scores of the preferred and the other face.
func BTLoss(g *nn.Graph, win, lose *nn.Var) *nn.Var {
	if !tensor.SameShape(win.Shape(), lose.Shape()) {
		panic(fmt.Sprintf("reward: BTLoss of scores %v and %v", win.Shape(), lose.Shape()))
	}
	return g.Mean(g.Softplus(g.Sub(lose, win)))
}

// CenterLoss is the mean squared score of both sides of the pairs. The BT
// loss sees score differences only, so without it a score is free to carry
// any offset that depends on the face alone (a trained FRM drifted to
// scores of 100–300 whose pairs differed by 2–10), and ReFL's σ(score)
// would then sit flat at 1 with no gradient; a small weight of this term
// keeps scores near 0 without changing which face of a pair wins.
func CenterLoss(g *nn.Graph, win, lose *nn.Var) *nn.Var {
	return g.Scale(g.Add(g.Mean(g.Mul(win, win)), g.Mean(g.Mul(lose, lose))), 0.5)
}
