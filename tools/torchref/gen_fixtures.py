#!/usr/bin/python3
"""Generate PyTorch reference fixtures for the facereward Go engine.

Usage:
    python3 tools/torchref/gen_fixtures.py --out testdata/torchref          # (re)write all fixtures, then check them
    python3 tools/torchref/gen_fixtures.py --out testdata/torchref --check  # only re-read and verify existing files

Conventions (those of the Go engine, not PyTorch's):
  * images are NHWC;
  * convolution weights are [kh, kw, cin, cout]  (torch [cout,cin,kh,kw] permuted (2,3,1,0)); biases [cout];
  * linear weights are [in, out] (torch weight transposed), y = x @ W + b;
  * every fixture with gradients uses loss = sum(out * gout) for a fixed random `gout`
    of out's shape and stores the gradient of every input / weight as `grad.<name>`;
  * all tensors are F32; hyper-parameters are strings in __metadata__.

The leaves that receive gradients are created directly in the Go layouts and converted to
PyTorch layouts inside the computation, so autograd returns gradients in the Go layouts.

Only the standard library, numpy and torch are used; safetensors files are written by hand.
Each fixture is seeded on its own, so the output is deterministic and byte-identical between runs.
"""

import argparse
import json
import math
import os
import struct
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as _exc:  # pragma: no cover
    sys.exit("gen_fixtures.py needs numpy and torch (%s); use Debian's /usr/bin/python3 with "
             "python3-torch and python3-numpy installed" % _exc)

MAX_FILE_BYTES = 100 * 1024

# --------------------------------------------------------------------------------------------
# safetensors I/O
# --------------------------------------------------------------------------------------------


def write_safetensors(path, tensors, metadata):
    """tensors: dict name -> torch tensor (converted to contiguous little-endian float32)."""
    names = sorted(tensors)
    header = {}
    blobs = []
    off = 0
    for name in names:
        a = tensors[name].detach().to(torch.float32).contiguous().numpy().astype("<f4", copy=False)
        raw = a.tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    meta = {str(k): str(v) for k, v in metadata.items()}
    header["__metadata__"] = meta
    hjson = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    pad = (-len(hjson)) % 8
    hjson += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    """Returns (dict name -> numpy float32 array, metadata dict). Validates the layout strictly."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("file too short")
    (n,) = struct.unpack("<Q", data[:8])
    if n % 8 != 0 or 8 + n > len(data):
        raise ValueError("bad header length %d" % n)
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    body = data[8 + n :]
    meta = header.pop("__metadata__", {})
    for k, v in meta.items():
        if not isinstance(v, str):
            raise ValueError("metadata %r is not a string" % k)
    spans = []
    out = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError("%s: dtype %s" % (name, info["dtype"]))
        b, e = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape)) if shape else 1
        if e - b != 4 * count or b < 0 or e > len(body):
            raise ValueError("%s: bad offsets %r for shape %r" % (name, (b, e), shape))
        spans.append((b, e))
        out[name] = np.frombuffer(body[b:e], dtype="<f4").reshape(shape)
    spans.sort()
    pos = 0
    for b, e in spans:
        if b != pos:
            raise ValueError("data section has a gap/overlap at %d" % b)
        pos = e
    if pos != len(body):
        raise ValueError("trailing bytes in data section")
    return out, meta


# --------------------------------------------------------------------------------------------
# helpers (Go layouts <-> torch layouts)
# --------------------------------------------------------------------------------------------


def leaf(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


def conv_weight(kh, kw, cin, cout):
    """Go-layout conv weight leaf [kh,kw,cin,cout], scaled ~1/sqrt(fan_in)."""
    return leaf(kh, kw, cin, cout, scale=1.0 / math.sqrt(kh * kw * cin))


def to_nchw(x):
    return x.permute(0, 3, 1, 2)


def to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def conv_nhwc(x, w, b, stride, padding):
    """x NHWC, w [kh,kw,cin,cout] -> NHWC."""
    wt = w.permute(3, 2, 0, 1)  # -> [cout, cin, kh, kw]
    return to_nhwc(F.conv2d(to_nchw(x), wt, b, stride=stride, padding=padding))


def group_norm_nhwc(x, groups, weight, bias, eps):
    return to_nhwc(F.group_norm(to_nchw(x), groups, weight, bias, eps))


def backward_with_gout(out, inputs):
    """Draw gout ~ randn(out.shape), backprop loss = sum(out*gout); return gout and grads."""
    gout = torch.randn(*out.shape)
    loss = (out * gout).sum()
    names = list(inputs)
    grads = torch.autograd.grad(loss, [inputs[n] for n in names])
    res = {"gout": gout}
    for n, g in zip(names, grads):
        if g is None:
            raise RuntimeError("no gradient for " + n)
        if float(g.abs().max()) == 0.0:
            raise RuntimeError("all-zero gradient for " + n)
        res["grad." + n] = g
    return res


def base_meta(name):
    return {
        "fixture": name,
        "generator": "tools/torchref/gen_fixtures.py",
        "torch_version": torch.__version__,
        "layout": "NHWC images; conv weight [kh,kw,cin,cout]; linear weight [in,out]",
        "loss": "sum(out*gout)",
    }


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------

FIXTURES = []


def fixture(fn):
    FIXTURES.append(fn)
    return fn


def _conv_fixture(fname, seed, xshape, kh, cout, stride, padding):
    torch.manual_seed(seed)
    x = leaf(*xshape)
    w = conv_weight(kh, kh, xshape[3], cout)
    b = leaf(cout, scale=0.1)
    out = conv_nhwc(x, w, b, stride, padding)
    t = {"x": x, "w": w, "b": b, "out": out}
    t.update(backward_with_gout(out, {"x": x, "w": w, "b": b}))
    meta = base_meta(fname)
    meta.update({"stride": stride, "padding": padding, "kernel": "%dx%d" % (kh, kh), "op": "conv2d"})
    return fname, t, meta


@fixture
def conv_s1():
    return _conv_fixture("conv_s1", 101, (2, 9, 9, 5), 3, 7, 1, 1)


@fixture
def conv_s2():
    return _conv_fixture("conv_s2", 102, (2, 9, 9, 5), 3, 7, 2, 1)


@fixture
def conv_1x1():
    return _conv_fixture("conv_1x1", 103, (2, 6, 6, 5), 1, 7, 1, 0)


@fixture
def conv_s2_k4():
    return _conv_fixture("conv_s2_k4", 104, (1, 8, 8, 3), 4, 4, 2, 1)


@fixture
def groupnorm():
    torch.manual_seed(105)
    x = leaf(2, 4, 4, 8)
    weight = (1.0 + 0.5 * torch.randn(8)).requires_grad_(True)
    bias = leaf(8, scale=0.5)
    out = group_norm_nhwc(x, 4, weight, bias, 1e-5)
    t = {"x": x, "weight": weight, "bias": bias, "out": out}
    t.update(backward_with_gout(out, {"x": x, "weight": weight, "bias": bias}))
    meta = base_meta("groupnorm")
    meta.update({"groups": 4, "eps": "1e-05", "layout_note": "x NHWC, normalised over (H,W,C/groups) per group"})
    return "groupnorm", t, meta


@fixture
def layernorm():
    torch.manual_seed(106)
    x = leaf(3, 5, 8)
    weight = (1.0 + 0.5 * torch.randn(8)).requires_grad_(True)
    bias = leaf(8, scale=0.5)
    out = F.layer_norm(x, (8,), weight, bias, 1e-5)
    t = {"x": x, "weight": weight, "bias": bias, "out": out}
    t.update(backward_with_gout(out, {"x": x, "weight": weight, "bias": bias}))
    meta = base_meta("layernorm")
    meta.update({"normalized_shape": "8", "eps": "1e-05"})
    return "layernorm", t, meta


def _attention(q, k, v, heads):
    """q,k,v [B,T,C]; channels split into `heads` contiguous groups; scale 1/sqrt(C/heads)."""
    B, T, C = q.shape
    d = C // heads

    def split(z):
        return z.reshape(B, T, heads, d).transpose(1, 2)  # [B,h,T,d]

    qh, kh, vh = split(q), split(k), split(v)
    a = torch.softmax(qh @ kh.transpose(-1, -2) / math.sqrt(d), dim=-1)
    o = a @ vh  # [B,h,T,d]
    return o.transpose(1, 2).reshape(B, T, C)


def _sdpa_fixture(fname, seed, heads):
    torch.manual_seed(seed)
    q = leaf(2, 6, 8)
    k = leaf(2, 6, 8)
    v = leaf(2, 6, 8)
    out = _attention(q, k, v, heads)
    t = {"q": q, "k": k, "v": v, "out": out}
    t.update(backward_with_gout(out, {"q": q, "k": k, "v": v}))
    meta = base_meta(fname)
    meta.update({
        "heads": heads,
        "head_dim": 8 // heads,
        "scale": repr(1.0 / math.sqrt(8 // heads)),
        "formula": "softmax(q k^T * scale, over keys) v; heads = contiguous channel groups, concatenated back",
    })
    return fname, t, meta


@fixture
def sdpa():
    return _sdpa_fixture("sdpa", 107, 1)


@fixture
def sdpa_heads():
    return _sdpa_fixture("sdpa_heads", 108, 2)


@fixture
def attnblock():
    torch.manual_seed(109)
    C = 8
    y = leaf(2, 4, 4, C)
    p = {
        "norm.weight": (1.0 + 0.3 * torch.randn(C)).requires_grad_(True),
        "norm.bias": leaf(C, scale=0.3),
    }
    for n in ("q", "k", "v", "proj"):
        p[n + ".weight"] = conv_weight(1, 1, C, C)
        p[n + ".bias"] = leaf(C, scale=0.1)
    B, H, W, _ = y.shape
    h = group_norm_nhwc(y, 4, p["norm.weight"], p["norm.bias"], 1e-5)
    q = conv_nhwc(h, p["q.weight"], p["q.bias"], 1, 0).reshape(B, H * W, C)
    k = conv_nhwc(h, p["k.weight"], p["k.bias"], 1, 0).reshape(B, H * W, C)
    v = conv_nhwc(h, p["v.weight"], p["v.bias"], 1, 0).reshape(B, H * W, C)
    a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(C), dim=-1)  # [B, pos_q, pos_k]
    o = (a @ v).reshape(B, H, W, C)
    out = y + conv_nhwc(o, p["proj.weight"], p["proj.bias"], 1, 0)
    t = {"y": y, "out": out}
    t.update(p)
    inputs = {"y": y}
    inputs.update(p)
    t.update(backward_with_gout(out, inputs))
    meta = base_meta("attnblock")
    meta.update({
        "groups": 4,
        "eps": "1e-05",
        "heads": 1,
        "scale": repr(1.0 / math.sqrt(C)),
        "formula": "h=GN(y); q,k,v=1x1conv(h); a=softmax(q k^T/sqrt(C)) over the H*W positions; out=y+proj(a v)",
    })
    return "attnblock", t, meta


@fixture
def resblock():
    torch.manual_seed(110)
    C, E = 8, 16
    x = leaf(2, 6, 6, C)
    temb = leaf(2, E)
    p = {
        "norm1.weight": (1.0 + 0.3 * torch.randn(C)).requires_grad_(True),
        "norm1.bias": leaf(C, scale=0.3),
        "conv1.weight": conv_weight(3, 3, C, C),
        "conv1.bias": leaf(C, scale=0.1),
        "emb.weight": leaf(E, C, scale=1.0 / math.sqrt(E)),
        "emb.bias": leaf(C, scale=0.1),
        "norm2.weight": (1.0 + 0.3 * torch.randn(C)).requires_grad_(True),
        "norm2.bias": leaf(C, scale=0.3),
        "conv2.weight": conv_weight(3, 3, C, C),
        "conv2.bias": leaf(C, scale=0.1),
    }
    h = conv_nhwc(F.silu(group_norm_nhwc(x, 4, p["norm1.weight"], p["norm1.bias"], 1e-5)),
                  p["conv1.weight"], p["conv1.bias"], 1, 1)
    e = F.silu(temb) @ p["emb.weight"] + p["emb.bias"]  # [B, C]
    h = h + e[:, None, None, :]
    h = conv_nhwc(F.silu(group_norm_nhwc(h, 4, p["norm2.weight"], p["norm2.bias"], 1e-5)),
                  p["conv2.weight"], p["conv2.bias"], 1, 1)
    out = x + h
    t = {"x": x, "temb": temb, "out": out}
    t.update(p)
    inputs = {"x": x, "temb": temb}
    inputs.update(p)
    t.update(backward_with_gout(out, inputs))
    meta = base_meta("resblock")
    meta.update({
        "groups": 4,
        "eps": "1e-05",
        "conv": "3x3 stride 1 padding 1",
        "formula": "h=conv1(silu(GN1(x))); h+=silu(temb)@emb.weight+emb.bias (over space); "
                   "h=conv2(silu(GN2(h))); out=x+h",
    })
    return "resblock", t, meta


@fixture
def ops():
    torch.manual_seed(111)
    t = {}
    x0 = torch.randn(2, 3, 4, 5)
    gout = torch.randn(2, 3, 4, 5)
    t["x"] = x0
    t["gout"] = gout
    elementwise = {
        "silu": F.silu,
        "gelu": lambda z: F.gelu(z),  # exact erf form (torch default approximate='none')
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softmax": lambda z: torch.softmax(z, dim=-1),
    }
    for name, fn in elementwise.items():
        x = x0.clone().requires_grad_(True)
        out = fn(x)
        (g,) = torch.autograd.grad((out * gout).sum(), [x])
        t[name + ".out"] = out
        t[name + ".grad.x"] = g

    # spatial ops on NHWC tensors; torch ops applied to the NCHW view
    x_ps0 = torch.randn(1, 2, 3, 8)
    x_pu0 = torch.randn(1, 4, 6, 2)
    t["x_ps"] = x_ps0
    t["x_pu"] = x_pu0

    def spatial(name, src_name, src, fn):
        x = src.clone().requires_grad_(True)
        out = to_nhwc(fn(to_nchw(x)))
        g_out = torch.randn(*out.shape)
        (g,) = torch.autograd.grad((out * g_out).sum(), [x])
        t[name + ".out"] = out
        t[name + ".gout"] = g_out
        t[name + ".grad." + src_name] = g

    spatial("pixel_shuffle", "x_ps", x_ps0, lambda z: F.pixel_shuffle(z, 2))
    spatial("pixel_unshuffle", "x_pu", x_pu0, lambda z: F.pixel_unshuffle(z, 2))
    spatial("upsample_nearest", "x_ps", x_ps0, lambda z: F.interpolate(z, scale_factor=2, mode="nearest"))
    # 2x2 average pool, stride 2, no padding; x_ps is 2x3 so torch floors W: the last column is dropped.
    spatial("avg_pool", "x_ps", x_ps0, lambda z: F.avg_pool2d(z, 2))
    # same pooling on an even-sized input (x_pu, 4x6 -> 2x3)
    spatial("avg_pool_even", "x_pu", x_pu0, lambda z: F.avg_pool2d(z, 2))

    meta = base_meta("ops")
    meta.update({
        "elementwise": "silu,gelu,sigmoid,tanh,softmax on x with shared gout; <op>.out, <op>.grad.x",
        "gelu": "exact erf form: x*0.5*(1+erf(x/sqrt(2)))",
        "softmax_dim": "-1",
        "pixel_shuffle": "r=2, torch channel order on the NCHW view: out[c,h*r+i,w*r+j]=in[c*r*r+i*r+j,h,w]",
        "pixel_unshuffle": "r=2, inverse of pixel_shuffle, on x_pu",
        "upsample_nearest": "scale 2 on x_ps",
        "avg_pool": "kernel 2, stride 2, pad 0, floor mode (x_ps 2x3 -> 1x1; column 2 unused)",
        "avg_pool_even": "kernel 2, stride 2, pad 0 on x_pu (4x6 -> 2x3)",
        "spatial_gout": "<op>.gout per spatial op; loss = sum(<op>.out * <op>.gout)",
    })
    return "ops", t, meta


def _adam_meta(name, wd):
    meta = base_meta(name)
    meta.update({"lr": "0.01", "beta1": "0.9", "beta2": "0.999", "betas": "0.9,0.999", "eps": "1e-08",
                 "weight_decay": wd, "amsgrad": "false", "loss": "none (gradients given)"})
    return meta


@fixture
def adam():
    torch.manual_seed(112)
    p0 = torch.randn(5, 4)
    gs = [torch.randn(5, 4) for _ in range(3)]
    p = torch.nn.Parameter(p0.clone())
    opt = torch.optim.Adam([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    t = {"p0": p0}
    for i, g in enumerate(gs, 1):
        t["g%d" % i] = g
        p.grad = g.clone()
        opt.step()
        t["p%d" % i] = p.detach().clone()
    meta = _adam_meta("adam", "0")
    meta["optimizer"] = "torch.optim.Adam"
    return "adam", t, meta


@fixture
def adamw():
    torch.manual_seed(113)
    p0 = torch.randn(5, 4)
    b0 = torch.randn(4)
    gs = [torch.randn(5, 4) for _ in range(3)]
    bgs = [torch.randn(4) for _ in range(3)]
    p = torch.nn.Parameter(p0.clone())
    b = torch.nn.Parameter(b0.clone())
    opt = torch.optim.AdamW(
        [{"params": [p], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}],
        lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    t = {"p0": p0, "b0": b0}
    for i in range(3):
        t["g%d" % (i + 1)] = gs[i]
        t["bg%d" % (i + 1)] = bgs[i]
        p.grad = gs[i].clone()
        b.grad = bgs[i].clone()
        opt.step()
        t["p%d" % (i + 1)] = p.detach().clone()
        t["b%d" % (i + 1)] = b.detach().clone()
    meta = _adam_meta("adamw", "0.1")
    meta["weight_decay_p"] = "0.1"
    meta["weight_decay_b"] = "0"
    meta["optimizer"] = "torch.optim.AdamW (decoupled: p *= 1 - lr*wd before the Adam update)"
    return "adamw", t, meta


@fixture
def timestep_embedding():
    t_in = torch.tensor([0.0, 1.0, 10.0, 999.0])
    dim, max_period = 16, 10000
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half)
    args = t_in[:, None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    meta = base_meta("timestep_embedding")
    meta.update({"dim": dim, "max_period": max_period, "loss": "none",
                 "formula": "half=dim//2; freqs=exp(-ln(max_period)*arange(half)/half); "
                            "args=t[:,None]*freqs[None]; emb=cat([cos(args), sin(args)], -1)"})
    return "timestep_embedding", {"t": t_in, "emb": emb}, meta


# --------------------------------------------------------------------------------------------
# expected shapes (the spec, checked independently of the generator code)
# --------------------------------------------------------------------------------------------


def _with_grads(shapes, grad_names):
    d = dict(shapes)
    for n in grad_names:
        d["grad." + n] = shapes[n]
    return d


def _conv_spec(xs, ws, bs, outs):
    return _with_grads({"x": xs, "w": ws, "b": bs, "out": outs, "gout": outs}, ["x", "w", "b"])


def _build_expected():
    e = {}
    e["conv_s1"] = _conv_spec((2, 9, 9, 5), (3, 3, 5, 7), (7,), (2, 9, 9, 7))
    e["conv_s2"] = _conv_spec((2, 9, 9, 5), (3, 3, 5, 7), (7,), (2, 5, 5, 7))
    e["conv_1x1"] = _conv_spec((2, 6, 6, 5), (1, 1, 5, 7), (7,), (2, 6, 6, 7))
    e["conv_s2_k4"] = _conv_spec((1, 8, 8, 3), (4, 4, 3, 4), (4,), (1, 4, 4, 4))
    gn = {"x": (2, 4, 4, 8), "weight": (8,), "bias": (8,), "out": (2, 4, 4, 8), "gout": (2, 4, 4, 8)}
    e["groupnorm"] = _with_grads(gn, ["x", "weight", "bias"])
    ln = {"x": (3, 5, 8), "weight": (8,), "bias": (8,), "out": (3, 5, 8), "gout": (3, 5, 8)}
    e["layernorm"] = _with_grads(ln, ["x", "weight", "bias"])
    sd = {"q": (2, 6, 8), "k": (2, 6, 8), "v": (2, 6, 8), "out": (2, 6, 8), "gout": (2, 6, 8)}
    e["sdpa"] = _with_grads(sd, ["q", "k", "v"])
    e["sdpa_heads"] = _with_grads(sd, ["q", "k", "v"])
    ab = {"y": (2, 4, 4, 8), "out": (2, 4, 4, 8), "gout": (2, 4, 4, 8), "norm.weight": (8,), "norm.bias": (8,)}
    for n in ("q", "k", "v", "proj"):
        ab[n + ".weight"] = (1, 1, 8, 8)
        ab[n + ".bias"] = (8,)
    e["attnblock"] = _with_grads(ab, [n for n in ab if n not in ("out", "gout")])
    rb = {"x": (2, 6, 6, 8), "temb": (2, 16), "out": (2, 6, 6, 8), "gout": (2, 6, 6, 8),
          "norm1.weight": (8,), "norm1.bias": (8,), "conv1.weight": (3, 3, 8, 8), "conv1.bias": (8,),
          "emb.weight": (16, 8), "emb.bias": (8,),
          "norm2.weight": (8,), "norm2.bias": (8,), "conv2.weight": (3, 3, 8, 8), "conv2.bias": (8,)}
    e["resblock"] = _with_grads(rb, [n for n in rb if n not in ("out", "gout")])
    op = {"x": (2, 3, 4, 5), "gout": (2, 3, 4, 5), "x_ps": (1, 2, 3, 8), "x_pu": (1, 4, 6, 2)}
    for n in ("silu", "gelu", "sigmoid", "tanh", "softmax"):
        op[n + ".out"] = (2, 3, 4, 5)
        op[n + ".grad.x"] = (2, 3, 4, 5)
    for n, src, s_src, s_out in (("pixel_shuffle", "x_ps", (1, 2, 3, 8), (1, 4, 6, 2)),
                                 ("pixel_unshuffle", "x_pu", (1, 4, 6, 2), (1, 2, 3, 8)),
                                 ("upsample_nearest", "x_ps", (1, 2, 3, 8), (1, 4, 6, 8)),
                                 ("avg_pool", "x_ps", (1, 2, 3, 8), (1, 1, 1, 8)),
                                 ("avg_pool_even", "x_pu", (1, 4, 6, 2), (1, 2, 3, 2))):
        op[n + ".out"] = s_out
        op[n + ".gout"] = s_out
        op[n + ".grad." + src] = s_src
    e["ops"] = op
    ad = {"p0": (5, 4)}
    for i in (1, 2, 3):
        ad["g%d" % i] = (5, 4)
        ad["p%d" % i] = (5, 4)
    e["adam"] = ad
    aw = dict(ad)
    aw["b0"] = (4,)
    for i in (1, 2, 3):
        aw["bg%d" % i] = (4,)
        aw["b%d" % i] = (4,)
    e["adamw"] = aw
    e["timestep_embedding"] = {"t": (4,), "emb": (4, 16)}
    return e


EXPECTED = _build_expected()
REQUIRED_META = {
    "conv_s1": ["stride", "padding"], "conv_s2": ["stride", "padding"], "conv_1x1": ["stride", "padding"],
    "conv_s2_k4": ["stride", "padding"], "groupnorm": ["groups", "eps"], "layernorm": ["eps"],
    "sdpa": ["heads", "scale"], "sdpa_heads": ["heads", "scale"], "attnblock": ["groups", "eps", "scale"],
    "resblock": ["groups", "eps"], "ops": [], "adam": ["lr", "betas", "eps", "weight_decay"],
    "adamw": ["lr", "betas", "eps", "weight_decay"], "timestep_embedding": ["dim"],
}


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------


def generate(outdir):
    torch.set_num_threads(1)  # keep reductions in a fixed order
    os.makedirs(outdir, exist_ok=True)
    for fn in FIXTURES:
        name, tensors, meta = fn()
        path = os.path.join(outdir, name + ".safetensors")
        write_safetensors(path, tensors, meta)
        print("wrote %-40s %6d bytes, %2d tensors" % (path, os.path.getsize(path), len(tensors)))


def check(outdir):
    ok = True
    for name in sorted(EXPECTED):
        path = os.path.join(outdir, name + ".safetensors")
        try:
            size = os.path.getsize(path)
            tensors, meta = read_safetensors(path)
        except Exception as exc:  # noqa: BLE001
            print("FAIL %s: %s" % (path, exc))
            ok = False
            continue
        errs = []
        exp = EXPECTED[name]
        if size >= MAX_FILE_BYTES:
            errs.append("file is %d bytes (limit %d)" % (size, MAX_FILE_BYTES))
        missing = sorted(set(exp) - set(tensors))
        extra = sorted(set(tensors) - set(exp))
        if missing:
            errs.append("missing tensors %s" % missing)
        if extra:
            errs.append("unexpected tensors %s" % extra)
        for n, shape in exp.items():
            if n in tensors:
                a = tensors[n]
                if tuple(a.shape) != tuple(shape):
                    errs.append("%s shape %s, want %s" % (n, tuple(a.shape), tuple(shape)))
                if not np.all(np.isfinite(a)):
                    errs.append("%s has non-finite values" % n)
                if n.startswith("grad.") or ".grad." in n:
                    if not np.any(a != 0):
                        errs.append("%s is all zero" % n)
        for k in REQUIRED_META[name] + ["torch_version"]:
            if k not in meta:
                errs.append("metadata %r missing" % k)
        if errs:
            ok = False
            for e in errs:
                print("FAIL %s: %s" % (path, e))
        else:
            print("ok   %-40s %6d bytes, %2d tensors" % (path, size, len(tensors)))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="testdata/torchref", help="output directory")
    ap.add_argument("--check", action="store_true", help="only re-read and verify existing fixtures")
    args = ap.parse_args(argv)
    if not args.check:
        generate(args.out)
    ok = check(args.out)
    print("torch", torch.__version__, "numpy", np.__version__)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
