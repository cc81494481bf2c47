// Package bench holds the Go sides of the speed benchmarks against
// PyTorch (`facereward bench`): the timings of the engine's nets A and B
// and of the restorer's training steps and restore, the runner of the
// PyTorch scripts beside it in this folder (engine_torch.py,
// restorer_torch.py, refl_torch.py), and the tables and JSON reports the
// two sides share. PyTorch runs first, in its own process, so the two
// never share the cores.
package bench
