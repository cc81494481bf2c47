#!/usr/bin/python3
"""PyTorch side of `facereward bench refl`: one ReFL training step and one dynamic FRM update.

The restorer nets (Stage1, UNet, Control) come from restorer_torch.py, built from the same
config (the Go defaults, or --config in the Go restorer.Config format; see that script). The FRM
is reward.FRM: a 3x3 stem at full resolution, then per further width a stride-2 3x3 conv and a
3x3 conv, every conv followed by leaky ReLU 0.2, a global mean and Linear(w_last, 1); its input
in [0,1] is mapped to [-1,1]. Widths [32,32,64,128,128] (reward.DefaultConfig), or the "widths"
of an optional "frm" section of --config; the FRM reads faces at the UNet's image size.

Times, as the median over --iters runs after --warmup runs (B = --batch, S = image size; LQ and
HQ are fixed random [B,3,S,S] in [0,1]):
  refl_step_s  - refl.Stepper.Step plus the update, with the sampler's defaults (20 DDIM steps,
                 trailing spacing, strength 0.5, guidance 0.275) and eta 0.5 (the Go step also
                 swaps x0_hat's 2-level wavelet low band for the condition's, --low-band 2: a
                 few depthwise passes over 4 images, left out here):
                 cond = stage1(2*LQ-1) without gradients; x_t at step 10 (t = 499) from cond
                 noised; the descent without gradients through steps 10..18 (9 control + UNet
                 passes, each x0 guided 27.5% towards cond, DDIM update with sigma noise) to x_t at
                 m = 19 (t = 49); the frozen control copy's residuals there without gradients;
                 then with gradients control + UNet (frozen, but the gradient flows through it),
                 x0_hat from v, guided; the loss in [0,1] units
                   1e-4*L_reg + 0.01*L_struct + 0.002*mean(1-sigmoid(FRM(x))) + 0.1*L1(x, HQ)
                 (L_reg: per-residual MSE to the frozen copy, summed; L_struct: L1 of 3-level
                 a-trous wavelet lowpass bands); backward, clip-norm 1.0, AdamW (lr 5e-5,
                 wd 0.01) on the control branch only, zero_grad.
  frm_update_s - refl.Updater.Step (every 10 ReFL steps in training): 0.1*mean(softplus(
                 FRM(x0_hat) - FRM(HQ))) on the last step's detached x0_hat, backward,
                 clip-norm 1.0, AdamW (lr 2e-6, wd 0.35), zero_grad.
Training draws eta ~ U(0,1) (the cost does not depend on it) and m from the last two steps; the
Go side of the benchmark (refl.Bench) fixes m = 19 as here, the dearer one. Each time has a
peak beside it (KEY without _s, plus _peak_mb), measured as restorer_torch.py's
(engine_torch.median_peak). AdamW leaves
biases and GroupNorm gains undecayed, as Go's NoDecay parameters. Nets use channels_last.

Usage: /usr/bin/python3 bench/refl_torch.py [--config FILE] [--threads 2] [--warmup 1]
           [--iters 5] [--batch 4] [--json]
With --json the last line of stdout is one JSON object:
  {"torch":"1.13.1","threads":2,"refl_step_s":..,"frm_update_s":..,"control_params":..,
   "frm_params":..,"peak_rss_mb":..,"refl_step_peak_mb":..,"frm_update_peak_mb":..}
"""

import argparse
import copy
import json
import math
import resource
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine_torch import median_peak  # the same timing and peaks as the restorer benchmark
from restorer_torch import CL, DDIM_STEPS, T, Control, Stage1, UNet, conv, cosine_alpha_bar, image, load_config

STRENGTH, GUIDANCE, ETA = 0.5, 0.275, 0.5        # restorer.Default*; eta fixed (see above)
LR, WD, CLIP = 5e-5, 0.01, 1.0                    # refl.DefaultOptions
W_REG, W_STRUCT, W_REWARD, W_PIXEL = 1e-4, 0.01, 0.002, 0.1  # refl.DefaultWeights
WAVELET_LEVELS = 3
FRM_LR, FRM_WD, FRM_WEIGHT = 2e-6, 0.35, 0.1      # refl.Dynamic*
FRM_WIDTHS = [32, 32, 64, 128, 128]
FRM_DEFAULT_PARAMS = 591553                       # Go's count for reward.DefaultConfig
KERNEL = [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]]


class FRM(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.stem = conv(3, widths[0])
        self.levels = nn.ModuleList(nn.ModuleList([conv(a, b, stride=2), conv(b, b)])
                                    for a, b in zip(widths, widths[1:]))
        self.head = nn.Linear(widths[-1], 1)

    def forward(self, x):
        h = F.leaky_relu(self.stem(2 * x - 1), 0.2)
        for down, c in self.levels:
            h = F.leaky_relu(c(F.leaky_relu(down(h), 0.2)), 0.2)
        return self.head(h.mean((2, 3)))


def wavelet_lowpass(x, levels):
    """tools/torchref/wavelet.py's lowpass (StableSR's wavelet_blur), which nn.WaveletLowpass matches."""
    k = torch.tensor(KERNEL, dtype=x.dtype).expand(x.shape[1], 1, 3, 3)
    for i in range(levels):
        r = 2 ** i
        x = F.conv2d(F.pad(x, (r, r, r, r), mode="replicate"), k, groups=x.shape[1], dilation=r)
    return x


def adamw(params, lr, wd):
    # Go's NoDecay parameters (biases, norm gains) are exactly the 1-D ones.
    ps = list(params)
    return torch.optim.AdamW([{"params": [p for p in ps if p.ndim > 1]},
                              {"params": [p for p in ps if p.ndim <= 1], "weight_decay": 0.0}],
                             lr=lr, weight_decay=wd)


def timesteps(n):
    # diffusion.DDIM.Timesteps; floor(x + 0.5) is Go's math.Round for these positive values.
    return [int(math.floor(T - i * T / n + 0.5)) - 1 for i in range(n)]


def unit_image(n, s):
    return torch.rand(n, 3, s, s).contiguous(memory_format=CL)


def setup_refl(s1, unet, control, frozen, frm, abar, c, batch, last):
    s = c["image_size"]
    lq, hq = unit_image(batch, s), unit_image(batch, s)
    ts = timesteps(DDIM_STEPS)
    start = DDIM_STEPS - int(math.floor(STRENGTH * DDIM_STEPS + 0.5))  # DDIM.StartFrom
    m = DDIM_STEPS - 1
    ab = lambda t: abar[t].item()
    v_pred = c["prediction"] == "v"
    opt = adamw(control.parameters(), LR, WD)

    def x0_from_pred(x, pred, t):
        a, b = math.sqrt(ab(t)), math.sqrt(1 - ab(t))
        return a * x - b * pred if v_pred else (x - b * pred) / a

    def step():
        with torch.no_grad():
            cond = s1(2 * lq - 1)
            t = ts[start]
            x = math.sqrt(ab(t)) * cond + math.sqrt(1 - ab(t)) * image(batch, s)
            for i in range(start, m):
                t, tp = ts[i], ts[i + 1]
                tb = torch.full((batch,), t, dtype=torch.long)
                x0 = x0_from_pred(x, unet(x, tb, control(x, tb, cond)), t)
                x0 = x0 + GUIDANCE * (cond - x0)  # Sampler.guide
                # Schedule.Step with the eps that x_t and the guided x0 imply.
                at, ap = ab(t), ab(tp)
                eps = (x - math.sqrt(at) * x0) / math.sqrt(1 - at)
                sigma = ETA * math.sqrt((1 - ap) / (1 - at) * (1 - at / ap))
                x = math.sqrt(ap) * x0 + math.sqrt(max(1 - ap - sigma * sigma, 0)) * eps + sigma * image(batch, s)
            tb = torch.full((batch,), ts[m], dtype=torch.long)
            ref = frozen(x, tb, cond)
        res = control(x, tb, cond)
        x0 = x0_from_pred(x, unet(x, tb, res), ts[m])
        xu = ((1 - GUIDANCE) * x0 + GUIDANCE * cond + 1) / 2  # Sampler.GuideVar, then [0,1]
        l_reg = sum(F.mse_loss(r, f) for r, f in zip(res, ref))
        l_struct = F.l1_loss(wavelet_lowpass(xu, WAVELET_LEVELS), wavelet_lowpass(hq, WAVELET_LEVELS))
        l_reward = (1 - torch.sigmoid(frm(xu))).mean()
        loss = W_REG * l_reg + W_STRUCT * l_struct + W_REWARD * l_reward + W_PIXEL * F.l1_loss(xu, hq)
        loss.backward()
        nn.utils.clip_grad_norm_(control.parameters(), CLIP)
        opt.step()
        opt.zero_grad()
        last["x0"], last["hq"] = xu.detach(), hq
    return step


def setup_frm_update(frm, last):
    opt = adamw(frm.parameters(), FRM_LR, FRM_WD)

    def update():
        frm.requires_grad_(True)  # frozen but for its own update, as in refl.Train
        bt = F.softplus(frm(last["x0"]) - frm(last["hq"])).mean()
        (FRM_WEIGHT * bt).backward()
        nn.utils.clip_grad_norm_(frm.parameters(), CLIP)
        opt.step()
        opt.zero_grad()
        frm.requires_grad_(False)
    return update


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch reference timings for `facereward bench refl`")
    ap.add_argument("--config", help="restorer config JSON (Go format); default: the Go defaults")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--json", action="store_true", help="print one JSON line at the end")
    args = ap.parse_args(argv)

    if args.iters < 1 or args.warmup < 0 or args.threads < 1 or args.batch < 1:
        ap.error("need --iters >= 1, --warmup >= 0, --threads >= 1, --batch >= 1")
    c1, cu = load_config(args.config)
    if cu["prediction"] not in ("v", "eps"):
        ap.error("unet prediction %r, want \"v\" or \"eps\"" % cu["prediction"])
    widths = FRM_WIDTHS
    if args.config is not None:
        with open(args.config) as f:
            widths = json.load(f).get("frm", {}).get("widths", FRM_WIDTHS)

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    s1 = Stage1(c1).to(memory_format=CL).requires_grad_(False)
    unet = UNet(cu).to(memory_format=CL).requires_grad_(False)
    control = Control(cu, unet).to(memory_format=CL)
    frozen = copy.deepcopy(control).requires_grad_(False)
    # No weight gradients in the ReFL step: only the input gradient flows through it.
    frm = FRM(widths).to(memory_format=CL).requires_grad_(False)
    abar = cosine_alpha_bar()

    result = {"torch": torch.__version__, "threads": args.threads, "refl_step_s": None, "frm_update_s": None}
    result["control_params"] = sum(p.numel() for p in control.parameters())
    result["frm_params"] = sum(p.numel() for p in frm.parameters())
    if widths == FRM_WIDTHS and result["frm_params"] != FRM_DEFAULT_PARAMS:
        sys.exit("refl_torch.py: FRM has %d parameters, Go's default %d" % (result["frm_params"], FRM_DEFAULT_PARAMS))

    last = {}  # the update scores the last step's x0_hat, as refl.Bench
    result["refl_step_s"], result["refl_step_peak_mb"] = median_peak(
        setup_refl(s1, unet, control, frozen, frm, abar, cu, args.batch, last), args.warmup, args.iters)
    result["frm_update_s"], result["frm_update_peak_mb"] = median_peak(
        setup_frm_update(frm, last), args.warmup, args.iters)
    # Resetting VmHWM resets ru_maxrss too: the whole run's peak is the largest step's, or
    # what came after the last reset.
    result["peak_rss_mb"] = max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0]  # KiB on Linux
                                + [result[k] for k in ("refl_step_peak_mb", "frm_update_peak_mb") if result[k]])

    print("torch %s, %d threads, batch %d, warmup %d, iters %d (median seconds)"
          % (result["torch"], args.threads, args.batch, args.warmup, args.iters))
    for key in ("refl_step_s", "frm_update_s"):
        peak = result[key[:-len("_s")] + "_peak_mb"]
        print("%-13s %10.4f  peak %s MB" % (key, result[key], "%.0f" % peak if peak else "?"))
    print("parameters: control %d, frm %d" % (result["control_params"], result["frm_params"]))
    print("peak RSS %.1f MB" % result["peak_rss_mb"])
    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
