#!/usr/bin/python3
"""PyTorch side of `facereward bench engine`.

Times, as the median over --iters runs after --warmup runs, for each net:
  train_s   - one training step: forward, loss, backward, optimiser step, zero_grad
  forward_s - one forward pass under torch.no_grad()

Net A: conv3x3 3->64, SiLU, conv3x3 64->64, SiLU, conv3x3 64->3 (padding 1) on x [8,3,64,64],
       MSE against a randn target, Adam lr 1e-3.
Net B: two residual blocks on x [4,64,64,64] with temb [4,256]
       (GN(32)-SiLU-conv3x3, + Linear(256->64)(SiLU(temb)) over space, GN(32)-SiLU-conv3x3, + skip)
       and, in the same step, one self-attention block on y [4,128,16,16]
       (GN(32), 1x1 q/k/v, softmax(q^T k / sqrt(128)) over the 256 positions, 1x1 proj, residual);
       loss = mean(out_x^2) + mean(out_y^2), AdamW lr 1e-4 weight_decay 0.01.
Both nets and their inputs use the channels_last memory format.

Usage: /usr/bin/python3 bench/engine_torch.py [--threads 2] [--warmup 3] [--iters 10] [--nets A,B] [--json]
With --json the last line of stdout is one JSON object:
  {"torch":"1.13.1","threads":2,"A":{"train_s":..,"forward_s":..},"B":{...},"peak_rss_mb":..}
"""

import argparse
import ctypes
import gc
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CL = torch.channels_last


class NetA(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 64, 3, padding=1)
        self.c2 = nn.Conv2d(64, 64, 3, padding=1)
        self.c3 = nn.Conv2d(64, 3, 3, padding=1)

    def forward(self, x):
        return self.c3(F.silu(self.c2(F.silu(self.c1(x)))))


class ResBlock(nn.Module):
    def __init__(self, ch=64, emb=256, groups=32):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, ch)
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.emb = nn.Linear(emb, ch)
        self.norm2 = nn.GroupNorm(groups, ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return x + h


class AttnBlock(nn.Module):
    def __init__(self, ch=128, groups=32):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch)
        self.q = nn.Conv2d(ch, ch, 1)
        self.k = nn.Conv2d(ch, ch, 1)
        self.v = nn.Conv2d(ch, ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, y):
        b, c, h, w = y.shape
        n = self.norm(y)
        q = self.q(n).reshape(b, c, h * w)
        k = self.k(n).reshape(b, c, h * w)
        v = self.v(n).reshape(b, c, h * w)
        a = torch.softmax(torch.bmm(q.transpose(1, 2), k) / math.sqrt(c), dim=-1)  # [b, pos_q, pos_k]
        o = torch.bmm(v, a.transpose(1, 2)).reshape(b, c, h, w)
        return y + self.proj(o.contiguous(memory_format=CL))


class NetB(nn.Module):
    def __init__(self):
        super().__init__()
        self.res1 = ResBlock()
        self.res2 = ResBlock()
        self.attn = AttnBlock()

    def forward(self, x, temb, y):
        return self.res2(self.res1(x, temb), temb), self.attn(y)


def setup_a():
    net = NetA().to(memory_format=CL)
    x = torch.randn(8, 3, 64, 64).contiguous(memory_format=CL)
    target = torch.randn(8, 3, 64, 64).contiguous(memory_format=CL)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def train():
        loss = F.mse_loss(net(x), target)
        loss.backward()
        opt.step()
        opt.zero_grad()

    def forward():
        with torch.no_grad():
            net(x)

    return train, forward


def setup_b():
    net = NetB().to(memory_format=CL)
    x = torch.randn(4, 64, 64, 64).contiguous(memory_format=CL)
    temb = torch.randn(4, 256)
    y = torch.randn(4, 128, 16, 16).contiguous(memory_format=CL)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=0.01)

    def train():
        ox, oy = net(x, temb, y)
        loss = ox.pow(2).mean() + oy.pow(2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()

    def forward():
        with torch.no_grad():
            net(x, temb, y)

    return train, forward


SETUPS = {"A": setup_a, "B": setup_b}


def median_time(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def vmhwm_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def median_peak(fn, warmup, iters):
    """median_time of fn, and the peak RSS in MB while the timed calls ran back to back.

    After the warm-up the memory it freed goes back to the system (gc, malloc_trim) and the
    kernel's high-water mark is reset, as the Go side measures it (bench/measure.go:
    medianPeak); the peak is None where the mark cannot be reset (not Linux)."""
    for _ in range(warmup):
        fn()
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        return median_time(fn, 0, iters), None
    return median_time(fn, 0, iters), vmhwm_mb()


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch reference timings for `facereward bench engine`")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--nets", default="A,B", help="comma-separated subset of A,B")
    ap.add_argument("--json", action="store_true", help="print one JSON line at the end")
    args = ap.parse_args(argv)

    nets = [n.strip().upper() for n in args.nets.split(",") if n.strip()]
    for n in nets:
        if n not in SETUPS:
            ap.error("unknown net %r (want A or B)" % n)
    if args.iters < 1 or args.warmup < 0 or args.threads < 1:
        ap.error("need --iters >= 1, --warmup >= 0, --threads >= 1")

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    result = {"torch": torch.__version__, "threads": args.threads}
    for n in nets:
        train, forward = SETUPS[n]()
        result[n] = {
            "train_s": median_time(train, args.warmup, args.iters),
            "forward_s": median_time(forward, args.warmup, args.iters),
        }
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux

    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    else:
        print("torch %s, %d threads, warmup %d, iters %d (median seconds)"
              % (result["torch"], args.threads, args.warmup, args.iters))
        print("%-4s %12s %12s" % ("net", "train_s", "forward_s"))
        for n in nets:
            print("%-4s %12.4f %12.4f" % (n, result[n]["train_s"], result[n]["forward_s"]))
        print("peak RSS %.1f MB" % result["peak_rss_mb"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
