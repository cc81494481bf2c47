// Package dataset lists face images on disk, selects the project's splits,
// pairs degraded with clean images, and feeds shuffled, prefetched batches
// to training.
//
// Everything here is deterministic given a seed: the same files, seed and
// options give the same batches, whatever the number of workers.
package dataset
