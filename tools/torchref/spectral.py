#!/usr/bin/python3
"""Golden values for nn.SpectralNorm and nn.SpectralSigma.

Usage:
    /usr/bin/python3 tools/torchref/spectral.py --out testdata/torchref/spectral.safetensors

Each case <c> stores, in the Go engine's layouts (conv weight [kh,kw,cin,cout], linear [in,out]):
  <c>            the weight
  <c>.sigma [1]  its largest singular value, from torch.linalg.svdvals of torch's own view
                 ([cout, -1] of the [cout,cin,kh,kw] weight; the transposed linear weight)
  <c>.out        w / sigma
  <c>.gout       a random upstream gradient
  <c>.grad.<c>   d/dw of sum(out * gout) with sigma = u^T W v and the exact singular vectors u, v
                 held constant, as torch.nn.utils.parametrizations.spectral_norm differentiates
Singular values and gradients are computed in float64 and stored as float32. The gap metadata
(<c>.gap = sigma2/sigma1) tells how fast a power iteration converges on each case.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_fixtures import write_safetensors  # noqa: E402  (exits with a hint if torch is missing)

import torch  # noqa: E402

# (name, seed, Go shape)
CASES = [
    ("conv_small", 201, (3, 3, 4, 5)),
    ("conv_wide", 202, (3, 3, 8, 16)),
    ("linear", 203, (16, 1)),
]


def torch_view(w):
    """The matrix torch's spectral_norm normalises: weight.reshape(cout, -1) in torch's layout."""
    if w.dim() == 4:
        return w.permute(3, 2, 0, 1).reshape(w.shape[3], -1)
    return w.t()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    tensors = {}
    meta = {"generator": "tools/torchref/spectral.py", "torch_version": torch.__version__,
            "layout": "conv weight [kh,kw,cin,cout]; linear weight [in,out]", "loss": "sum(out*gout)"}
    for name, seed, shape in CASES:
        torch.manual_seed(seed)
        w = torch.randn(*shape, dtype=torch.float64) * 0.2
        gout = torch.randn(*shape, dtype=torch.float64)
        svals = torch.linalg.svdvals(torch_view(w))
        u_, _, vh = torch.linalg.svd(torch_view(w))
        leaf = w.clone().requires_grad_(True)
        sigma = torch.dot(u_[:, 0], torch_view(leaf) @ vh[0])
        out = leaf / sigma
        (grad,) = torch.autograd.grad((out * gout).sum(), [leaf])
        if abs(float(sigma) - float(svals[0])) > 1e-12 * float(svals[0]):
            raise RuntimeError("svd and svdvals disagree on " + name)
        tensors[name] = w
        tensors[name + ".sigma"] = svals[:1]
        tensors[name + ".out"] = out.detach()
        tensors[name + ".gout"] = gout
        tensors[name + ".grad." + name] = grad
        meta[name + ".gap"] = "%.4f" % (float(svals[1] / svals[0]) if len(svals) > 1 else 0.0)
    write_safetensors(args.out, tensors, meta)


if __name__ == "__main__":
    main()
