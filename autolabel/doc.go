// Package autolabel is the automatic labeller of preference pairs (the
// paper's "hybrid annotation"): a linear model on the differences of five
// full-reference metrics between a pair's two candidates, trained on the
// human verdicts, labels the pairs no one has judged where it is confident.
//
// Features. Each candidate is scored against its pair's ground truth:
// PSNR (dB, capped at PSNRCap), SSIM, IDS (cosine of identity
// descriptors), LMD (landmark distance, px) and BRISQUE (no-reference,
// lower is better). A pair's vector is left minus right; a metric that
// cannot be computed for a candidate gives a difference of 0 (see
// Features.Pair).
//
// Model. L2-regularised logistic regression (strength Lambda) on
// standardised differences, fitted by Newton's method with a backtracking
// line search, which is deterministic and converges in a few steps on five
// features. It trains on human verdicts "left" and "right" only: a tie
// says neither is better and a skip says nothing, and neither can be a
// label of a two-way classifier. The margin is the log-odds that the left
// candidate is preferred.
//
// Antisymmetry. Swapping the candidates negates x and must negate the
// verdict, so every training pair also enters flipped (−x, the opposite
// verdict). That set has mean 0, so Mean is 0; its loss is even in the
// intercept B (flipping every sample turns B into −B), so the convex
// optimum has B = 0 and B is not fitted. With B = 0 a flipped sample's
// loss equals its original's, so the fit runs on the originals alone: the
// flipped copies only fix Mean and B. Hence Margin(−x) = −Margin(x).
//
// Ground-truth rule. With too few human verdicts, GTRule stands in. Its
// two anchors: a candidate that is the ground truth always wins, and the
// degraded input (method "lq") always loses to a restoration of it: the
// best and the worst a restorer can hand back. The full-reference metrics
// cannot see the second: a restoration that moves pixels loses PSNR and
// SSIM against the input even when it looks far better, and without the
// anchor the rule preferred the input to restore's default output on 21
// of 200 dev-val faces. Between two restorations the score is
//
//	s = ΔPSNR/2 dB + ΔSSIM/0.05 + ΔIDS/0.02 − ΔLMD/2 px − ΔBRISQUE/10
//
// (Δ = left − right), each difference counted in units of a noticeable
// difference, signed so that better is positive, and the verdict is the
// sign of s. A unit is never smaller than the metric's own noise: between
// two stage-2 samples of one face (1,200 pairs of `prefs generate` on 400
// training faces) the differences spread with standard deviations of
// 0.41 dB, 0.017, 0.0088, 0.94 px and 6.1, which is 0.2–0.6 units for
// every metric. LMD's first unit, 0.5 px, put its noise at 1.9 units, so
// the landmark net's jitter outvoted the other four metrics; 2 px brings
// it in line (0.47). Its judgements are marked "auto:gt-rule".
//
// Policy (Run, what `prefs label` does): with at least MinHuman human
// verdicts the logistic model (cross-validated by face) labels the pairs no
// one has judged where |margin| reaches the threshold; with fewer, the
// ground-truth rule labels them.
package autolabel
