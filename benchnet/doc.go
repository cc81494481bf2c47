// Package benchnet holds the two networks that measure the engine's speed
// against PyTorch (docs/design.md §5; bench/engine_torch.py builds the same
// two): net A, three plain convolutions, and net B, the diffusion UNet's
// building blocks (timestep-conditioned residual blocks and self-attention).
//
// The nets keep their layers in unexported fields, so they must not be
// passed to nn.Clone (see its rule); nothing needs to copy them.
package benchnet
