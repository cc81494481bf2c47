// Package prefs holds preference data for the Face Reward Model: pairs of
// candidate restorations of one degraded face, the verdicts people (or an
// automatic labeller) give on them, the content-addressed store of their
// images, JSONL export and import, and the generation of pairs (faces
// degraded and restored several ways).
package prefs
