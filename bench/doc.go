// Package bench holds the Go sides of the speed benchmarks against
// PyTorch (`facereward bench`): the timings of the engine's nets A and B,
// of the restorer's training steps and restore, and of one ReFL step and
// FRM update; the runner of the PyTorch scripts beside it in this folder
// (engine_torch.py, restorer_torch.py, refl_torch.py), the parameter-count
// check that both sides model the same networks, and the tables and JSON
// reports the benchmarks share. PyTorch runs first, in its own process, so
// the two never share the cores.
package bench
