// Package models holds the built-in weights, embedded in the binary so that
// facereward works out of the box: the restorer that `facereward restore`
// uses without --model, and the Face Reward Model that `reward score`,
// `reward eval` and ReFL use without --model. models/README.md says how
// they were trained and under which licence they stand.
package models
