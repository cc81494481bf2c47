// Package reward holds the Face Reward Model (FRM): a CNN that maps a face
// to a scalar score, its Bradley–Terry loss on preference pairs, and the
// model file that training writes and ReFL and `reward score` read.
//
// The paper's FRM is CLIP-based; no CLIP exists here, so the FRM is a small
// convolutional net trained from scratch (docs/design.md §2). Its input gradient
// is what ReFL follows, so the net is built from the engine's differentiable
// ops alone and Forward accepts an input that wants its gradient.
package reward
