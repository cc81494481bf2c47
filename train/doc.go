// Package train holds the training loops of facereward's networks (the
// restorer's stage 1 and stage 2, the reward model) and what every loop
// shares, which refl's ReFL run uses too: the Session (run folder,
// optimiser, EMA, Loop) and the on-the-fly pairs with their dev-val set
// (evaluate.DevSet). Each run lives in a rundir folder, resumes exactly
// from its newest checkpoint, and saves before exiting on Ctrl-C.
package train
