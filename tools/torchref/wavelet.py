#!/usr/bin/python3
"""Golden values for nn.WaveletLowpass (the low band of StableSR/DiffBIR's wavelet_decomposition).

Usage:
    /usr/bin/python3 tools/torchref/wavelet.py --out testdata/torchref/wavelet.json

Each case seeds torch itself, so the output is deterministic. Tensors are written in the Go
engine's NHWC layout as flat float32 lists with their shapes; "grad" is d/dx of sum(low * w).
"""

import argparse
import json
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as _exc:  # pragma: no cover
    sys.exit("wavelet.py needs numpy and torch (%s); use Debian's /usr/bin/python3" % _exc)

KERNEL = [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]]

# (name, seed, NCHW shape, levels). "tiny" has radius 4 > its 3-pixel width, so the
# replicate padding is wider than the image.
CASES = [
    ("l1", 0, (1, 3, 13, 11), 1),
    ("l3", 1, (2, 3, 9, 7), 3),
    ("tiny", 2, (1, 2, 5, 3), 3),
]


def wavelet_blur(image, radius):
    """One level exactly as in StableSR's wavelet_blur."""
    c = image.shape[1]
    kernel = torch.tensor(KERNEL, dtype=image.dtype).expand(c, 1, 3, 3)
    image = F.pad(image, (radius, radius, radius, radius), mode="replicate")
    return F.conv2d(image, kernel, groups=c, dilation=radius)


def lowpass(image, levels):
    for i in range(levels):
        image = wavelet_blur(image, 2 ** i)
    return image


def nhwc(t):
    t = t.detach().permute(0, 2, 3, 1).contiguous()
    # The shortest decimal that reads back as the same float32 keeps the file small.
    return {"shape": list(t.shape), "data": [float(repr(v)) for v in t.flatten().numpy()]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cases = []
    for name, seed, shape, levels in CASES:
        torch.manual_seed(seed)
        x = torch.rand(*shape, requires_grad=True)
        w = torch.randn(*shape)
        low = lowpass(x, levels)
        (low * w).sum().backward()
        cases.append({"name": name, "levels": levels, "x": nhwc(x), "w": nhwc(w),
                      "low": nhwc(low), "grad": nhwc(x.grad)})
    doc = {"generator": "tools/torchref/wavelet.py", "torch": torch.__version__, "cases": cases}
    with open(args.out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
