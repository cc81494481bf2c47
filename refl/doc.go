// Package refl is reward feedback learning (ReFL) for the diffusion
// restorer, DiffusionReward's method (docs/design.md §1, adapted as §2
// says): it fine-tunes the restorer's control branch so that the Face
// Reward Model (FRM) scores its restorations higher, while fidelity terms
// and a moving FRM keep it from hacking the reward.
//
// One update takes a batch of degraded train faces, runs the restore
// command's sampler without gradients, with DDIM's eta drawn from U(0,1),
// down to a step m drawn from the last LastSteps, and at m one forward pass
// with gradients predicts the clean image x0_hat. The loss on x0_hat is
//
//	λ_reg·L_reg + λ_struct·L_struct + λ_r·(1 − σ(FRM(x0_hat))) + λ_pix·L1(x0_hat, HQ)
//
// (L_reg: the control residuals against a frozen copy's; L_struct: L1 of
// the wavelet lowpass bands). AdamW steps the control branch (optionally
// the UNet too). Every FRMEvery updates the FRM itself takes one step of
// the Bradley–Terry loss preferring the ground truth over x0_hat, so that
// the restorer cannot settle on images that only fool a fixed FRM. Every
// Watch.Every updates a dev-val pass scores the restorer with the static
// (as loaded) FRM and the fidelity metrics, flags reward hacking (the
// reward up while PSNR or IDS falls beyond tolerance) and keeps the best
// faithful pass's weights.
//
// The files:
//
//   - loss.go: Loss, its Weights (the paper's and ours) and RewardTerm.
//   - step.go: Nets (the networks a run loads) and Stepper, one
//     micro-batch from descent to backward pass; shared by Train and Bench.
//   - dynamic.go: Updater, the dynamic FRM update.
//   - options.go: Options (a run's config.json) and WatchOptions, the
//     hacking watch's settings and rules.
//   - keys.go: the log.jsonl fields a run writes and reads back.
//   - train.go: Train, the run on train.Session's loop, resumable exactly.
//   - watch.go: the dev-val passes, the hacking flag and best/.
//   - report.go: WriteReport, the run's report.html.
//   - bench.go: Bench, one step and one FRM update for `bench refl`.
package refl
