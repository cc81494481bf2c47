// Package optim holds the optimisers and training helpers that act on
// nn.Params between backward passes: Adam and AdamW as PyTorch computes them,
// gradient clipping and accumulation, an exponential moving average of the
// weights, and learning-rate schedules.
//
// Everything that must survive a restart exposes State and SetState as plain
// float32 tensors keyed by name, so a checkpoint can store it in a
// safetensors file and a resumed run takes bit-for-bit the same next step.
package optim
