#!/usr/bin/python3
"""PyTorch side of the restorer speed benchmark.

Builds the Go restorer (package restorer: Stage1, UNet, Control), the stage-2 patch
discriminators (restorer.Discriminator: the whole face's and the component critic's) and
face-api's recognition net (facenet.Recognition, random weights here) layer for layer, so that parameter counts and FLOPs match: the Go defaults (DefaultStage1, DefaultUNet), or the
architecture in --config, a JSON file in the Go restorer.Config format,
{"stage1": {Stage1Config fields}, "unet": {UNetConfig fields}}. A section left out takes the Go
default; a key left out of a section takes Go's zero value, as json.Unmarshal would leave it.

Times, as the median over --iters runs after --warmup runs (S = image size, 128 by default):
  stage1_train_s - one stage-1 training step at batch 8: forward on LQ in [-1,1], L1 loss
                   against a target, backward, AdamW (lr 2e-4) step, zero_grad
  stage2_train_s - one joint stage-2 training step at batch 8: x0 in [-1,1], t uniform in
                   [0,1000), eps ~ N(0,1), x_t = sqrt(abar)*x0 + sqrt(1-abar)*eps on the cosine
                   schedule (T = 1000), a fixed random condition [8,3,S,S]; residuals =
                   control(x_t, t, cond), pred = unet(x_t, t, residuals), MSE against
                   v = sqrt(abar)*eps - sqrt(1-abar)*x0 (eps itself for "prediction": "eps"),
                   backward, AdamW (lr 2e-4) over UNet + control, zero_grad
  stage2_detail_train_s - train.Stage2Stepper's step with the detail terms at batch 8: LQ and
                   GT in [0,1]; cond = stage1(LQ) (no grad); the stage-2 step above at t in
                   [0,550), keeping x0_hat = sqrt(abar)*x_t - sqrt(1-abar)*v_hat on the graph;
                   plus 0.01 * hinge generator loss -mean(D(x0_hat)) (D frozen), 0.01 * the
                   component critic's, the mean over the windows of the eyes and the mouth
                   (train.ComponentBoxes: 32x32 at rows/cols 44/32, 44/64, 77/48 of a
                   128x128 face) of -mean(Dc(crop)) (Dc a second discriminator, frozen),
                   0.1 * identity term 128*MSE(desc(x0_hat), desc(GT)) and 0.05 * feature
                   term (L1 of the recognition net's stage-2 and stage-6 outputs), the face
                   terms on the 88x88 face box resized to 150x150; backward, AdamW over UNet
                   + control, zero_grad; then D's hinge step on GT against x0_hat.detach(),
                   grad-norm clip 1, Adam (lr 1e-4, betas 0.9/0.99); then Dc's, the hinge
                   loss averaged over the three windows, with its own Adam of the same
                   settings
  restore_s      - restoring one face under torch.no_grad(): stage-1 forward on the LQ
                   [1,3,S,S], then 20 deterministic DDIM steps (eta 0, trailing spacing) from
                   pure noise, each one control + UNet forward conditioned on the stage-1 output
AdamW has weight_decay 0, as the Go training defaults. Nets and inputs use channels_last.
Each time has a peak beside it (KEY without _s, plus _peak_mb): the resident memory's
high-water mark over the timed runs, reset after the warm-up once the memory the earlier
steps freed is back with the system (engine_torch.median_peak, as the Go side's
bench/measure.go: medianPeak); null where the kernel cannot reset it (not Linux).

Usage: /usr/bin/python3 bench/restorer_torch.py [--config FILE] [--threads 2] [--warmup 3]
           [--iters 10] [--only stage1,stage2,stage2_detail,restore] [--json]
With --json the last line of stdout is one JSON object:
  {"torch":"1.13.1","threads":2,"stage1_train_s":..,"stage2_train_s":..,
   "stage2_detail_train_s":..,"restore_s":..,"stage1_params":..,"unet_params":..,
   "control_params":..,"disc_params":..,"comp_disc_params":..,"face_net_params":..,
   "peak_rss_mb":..,
   "stage1_train_peak_mb":..,"stage2_train_peak_mb":..,"stage2_detail_train_peak_mb":..,
   "restore_peak_mb":..}
(timings left out by --only are null).
"""

import argparse
import json
import math
import resource
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine_torch import median_peak  # the same timing as the engine benchmark


CL = torch.channels_last
T = 1000          # diffusion timesteps
BATCH = 8         # training batch
DDIM_STEPS = 20
LR = 2e-4
PARTS = ("stage1", "stage2", "stage2_detail", "restore")  # what --only picks from

# The detail step's settings: train.DefaultStage2Options with TMax 0.55 and the weights
# bench/restorer.go sets (detailOptions; COMP is the component critic's, --adv-component).
DETAIL_T_MAX = 550
ADV, COMP, ID, FEAT = 0.01, 0.01, 0.1, 0.05
DISC_WIDTHS = (64, 128, 256)  # restorer.DefaultDisc, for both critics
DISC_POWER_ITERS = 8
DISC_LR = 1e-4
# facenet.AlignedFaceBox (left, top, side as fractions of the face's side; rows 28..116, cols
# 20..108 of a 128x128 face) and the recognition net's input side.
FACE_BOX = (0.15625, 0.21875, 0.6875)
FACE_SIZE = 150
FACE_MEAN = (122.782, 117.001, 104.298)  # face-api's, in 0-255 units
FACE_DIV = 256.0
FEATURE_TAPS = (2, 6)  # facenet.FeatureTaps
# faces.Template512: facexlib's FFHQ five points (eyes, nose tip, mouth corners) on a 512 crop.
TEMPLATE_512 = ((192.98138, 239.94708), (318.90277, 240.1936), (256.63416, 314.01935),
                (201.26117, 371.41043), (313.08905, 371.15118))

DEFAULT_STAGE1 = {"image_size": 128, "unshuffle": 2, "width": 64, "blocks": 6}
DEFAULT_UNET = {"image_size": 128, "unshuffle": 2, "widths": [48, 96, 192], "blocks_per_level": 1,
                "attn_resolutions": [16], "heads": 4, "groups": 16, "time_dim": 128,
                "hint_width": 32, "prediction": "v"}


def conv(cin, cout, k=3, stride=1, zero=False):
    c = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)
    if zero:
        nn.init.zeros_(c.weight)
        nn.init.zeros_(c.bias)
    return c


class Stage1(nn.Module):
    """restorer.Stage1: unshuffle, head, blocks (conv-SiLU-conv + identity), tail, shuffle, + LQ."""

    def __init__(self, c):
        super().__init__()
        r, w = c["unshuffle"], c["width"]
        self.r = r
        self.head = conv(3 * r * r, w)
        self.body = nn.ModuleList(nn.ModuleList([conv(w, w), conv(w, w)]) for _ in range(c["blocks"]))
        self.tail = conv(w, 3 * r * r)
        with torch.no_grad():  # small tail, zero bias, as NewStage1
            self.tail.weight.mul_(0.1)
            self.tail.bias.zero_()

    def forward(self, lq):
        h = self.head(F.pixel_unshuffle(lq, self.r))
        for c1, c2 in self.body:
            h = h + c2(F.silu(c1(h)))
        return lq + F.pixel_shuffle(self.tail(h), self.r)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = conv(cin, cout)
        self.emb = nn.Linear(tdim, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = conv(cout, cout)
        self.skip = conv(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, semb):  # semb = SiLU(time embedding), as the Go TimeMLP returns
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(semb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    """GroupNorm, one 1x1 conv to q|k|v, multi-head softmax(q k^T / sqrt(d)) v, 1x1 proj, residual."""

    def __init__(self, c, heads, groups):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, c)
        self.qkv = conv(c, 3 * c, 1)
        self.proj = conv(c, c, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        nh, d = self.heads, c // self.heads
        # [b, 3c, h, w] -> [3, b, heads, h*w, d]: channels split into q, k, v, then contiguous heads.
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, nh, d, h * w).permute(1, 0, 2, 4, 3)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        o = (a @ v).permute(0, 1, 3, 2).reshape(b, c, h, w)
        return x + self.proj(o.contiguous(memory_format=CL))


def timestep_embedding(t, dim):
    """nn.TimestepEmbedding: [cos(t*f_i) | sin(t*f_i)], f_i = exp(-ln(10000)*i/half)."""
    half = dim // 2
    f = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    a = t.float()[:, None] * f[None]
    return torch.cat([torch.cos(a), torch.sin(a)], dim=1)


class Level(nn.Module):
    """One resolution: residual blocks, each followed by attention (or Identity), then a resampling
    conv (None at the bottom of the encoder and the top of the decoder)."""

    def __init__(self):
        super().__init__()
        self.res, self.attn, self.resample = nn.ModuleList(), nn.ModuleList(), None


class Encoder(nn.Module):
    """Time MLP, input conv, down levels, middle; shared in structure by UNet and control."""

    def __init__(self, c):
        super().__init__()
        f, ws, tdim, g = factor(c), c["widths"], c["time_dim"], c["groups"]
        self.freqs = ws[0]
        self.lin1, self.lin2 = nn.Linear(ws[0], tdim), nn.Linear(tdim, tdim)
        self.inp = conv(3 * f * f, ws[0])
        res, ch = c["image_size"] // f, ws[0]
        self.down = nn.ModuleList()
        for li, w in enumerate(ws):
            lv = Level()
            for _ in range(c["blocks_per_level"]):
                lv.res.append(ResBlock(ch, w, tdim, g))
                ch = w
                lv.attn.append(AttnBlock(w, c["heads"], g) if res in c["attn_resolutions"] else nn.Identity())
            if li < len(ws) - 1:
                lv.resample = conv(ch, ch, stride=2)
                res //= 2
            self.down.append(lv)
        self.mid1 = ResBlock(ch, ch, tdim, g)
        self.mid_attn = AttnBlock(ch, c["heads"], g)
        self.mid2 = ResBlock(ch, ch, tdim, g)

    def time(self, t):
        e = timestep_embedding(t, self.freqs)
        return F.silu(self.lin2(F.silu(self.lin1(e))))

    def forward(self, h, semb):
        """Runs from the input conv's output h; returns the skips (in the order made) and the middle."""
        skips = [h]
        for lv in self.down:
            for r, a in zip(lv.res, lv.attn):
                h = a(r(h, semb))
                skips.append(h)
            if lv.resample is not None:
                h = lv.resample(h)
                skips.append(h)
        return skips, self.mid2(self.mid_attn(self.mid1(h, semb)), semb)


def factor(c):
    return max(c["unshuffle"], 1)


def skip_widths(c):
    ws = [c["widths"][0]]
    for li, w in enumerate(c["widths"]):
        ws += [w] * c["blocks_per_level"] + ([w] if li < len(c["widths"]) - 1 else [])
    return ws


class UNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.f = factor(c)
        self.enc = Encoder(c)
        ws, skips = c["widths"], skip_widths(c)
        ch, res = ws[-1], (c["image_size"] // factor(c)) >> (len(ws) - 1)
        self.up = nn.ModuleList([None] * len(ws))  # up[li] works at encoder level li's size
        for li in reversed(range(len(ws))):
            lv = Level()
            for _ in range(c["blocks_per_level"] + 1):
                lv.res.append(ResBlock(ch + skips.pop(), ws[li], c["time_dim"], c["groups"]))
                ch = ws[li]
                at = res in c["attn_resolutions"]
                lv.attn.append(AttnBlock(ch, c["heads"], c["groups"]) if at else nn.Identity())
            if li > 0:
                res *= 2
                lv.resample = conv(ch, ch)
            self.up[li] = lv
        self.out_norm = nn.GroupNorm(c["groups"], ch)
        self.out = conv(ch, 3 * factor(c) ** 2, zero=True)

    def forward(self, xt, t, res):
        semb = self.enc.time(t)
        skips, h = self.enc(self.enc.inp(F.pixel_unshuffle(xt, self.f)), semb)
        h = h + res[-1]
        for lv in reversed(self.up):
            for r, a in zip(lv.res, lv.attn):
                k = len(skips) - 1
                h = a(r(torch.cat([h, skips.pop() + res[k]], dim=1), semb))
            if lv.resample is not None:
                h = lv.resample(F.interpolate(h, scale_factor=2, mode="nearest"))
        return F.pixel_shuffle(self.out(F.silu(self.out_norm(h))), self.f)


class Control(nn.Module):
    """ControlNet branch: encoder copy + hint convs, zero 1x1 convs per skip and for the middle."""

    def __init__(self, c, unet):
        super().__init__()
        self.f = factor(c)
        self.enc = Encoder(c)
        self.enc.load_state_dict(unet.enc.state_dict())
        cin, hw = 3 * factor(c) ** 2, c["hint_width"]
        self.hint = nn.ModuleList([conv(cin, hw), conv(hw, hw), conv(hw, c["widths"][0], zero=True)])
        self.zero = nn.ModuleList(conv(w, w, 1, zero=True) for w in skip_widths(c))
        self.zero_mid = conv(c["widths"][-1], c["widths"][-1], 1, zero=True)

    def forward(self, xt, t, cond):
        semb = self.enc.time(t)
        hint = F.silu(self.hint[0](F.pixel_unshuffle(cond, self.f)))
        hint = self.hint[2](F.silu(self.hint[1](hint)))
        skips, mid = self.enc(self.enc.inp(F.pixel_unshuffle(xt, self.f)) + hint, semb)
        return [z(s) for z, s in zip(self.zero, skips)] + [self.zero_mid(mid)]


class Discriminator(nn.Module):
    """restorer.Discriminator: 3x3 stride-2 convs with LeakyReLU 0.2, a 3x3 head to one logit,
    every weight spectral-normalised. Ours restarts 8 power iterations from a fixed vector on
    every forward; torch's spectral_norm carries u between forwards, but with
    n_power_iterations=8 it does the same work per forward."""

    def __init__(self, widths=DISC_WIDTHS, iters=DISC_POWER_ITERS):
        super().__init__()
        sn = lambda c: nn.utils.spectral_norm(c, n_power_iterations=iters)
        cins = (3,) + tuple(widths[:-1])
        self.convs = nn.ModuleList(sn(nn.Conv2d(ci, w, 3, stride=2, padding=1)) for ci, w in zip(cins, widths))
        self.head = sn(nn.Conv2d(widths[-1], 1, 3, padding=1))

    def forward(self, x):
        for c in self.convs:
            x = F.leaky_relu(c(x), 0.2)
        return self.head(x)


class RecBlock(nn.Module):
    """facenet's resLayer: two 3x3 convs with bias (the scale layers are folded into them). A
    down block's first conv is stride 2 'valid' and its shortcut a 2x2 average pool, with zero
    channels appended where the width doubles and a zero bottom row and right column appended
    to the residual where the strided conv comes out smaller than the pool."""

    def __init__(self, cin, cout, down):
        super().__init__()
        self.down = down
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2 if down else 1, padding=0 if down else 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x)))
        if not self.down:
            return F.relu(y + x)
        sc = F.avg_pool2d(x, 2, 2)
        dh, dw = sc.shape[2] - y.shape[2], sc.shape[3] - y.shape[3]
        if dh or dw:
            y = F.pad(y, (0, dw, 0, dh))
        if y.shape[1] != sc.shape[1]:
            zs = sc.new_zeros(sc.shape[0], y.shape[1] - sc.shape[1], sc.shape[2], sc.shape[3])
            sc = torch.cat([sc, zs], dim=1)
        return F.relu(sc + y)


class FaceRecognitionNet(nn.Module):
    """facenet.Recognition (face-api's FaceRecognitionNet): 7x7/2 'valid' stem 3->32, 3x3/2
    max pool, residual blocks 32x3 | down 64, 64x3 | down 128, 128x2 | down 256, 256x2 |
    down 256, global mean, 256->128 linear without bias."""

    LAYOUT = ((32, 32, False), (32, 32, False), (32, 32, False),
              (32, 64, True), (64, 64, False), (64, 64, False), (64, 64, False),
              (64, 128, True), (128, 128, False), (128, 128, False),
              (128, 256, True), (256, 256, False), (256, 256, False),
              (256, 256, True))

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 7, stride=2)
        self.stages = nn.ModuleList(RecBlock(ci, co, d) for ci, co, d in self.LAYOUT)
        self.fc = nn.Linear(256, 128, bias=False)

    def forward(self, x, taps=FEATURE_TAPS):
        """Returns the descriptors [N,128] and the outputs of the stages in taps."""
        x = F.max_pool2d(F.relu(self.stem(x)), 3, 2)
        feats = []
        for i, st in enumerate(self.stages):
            x = st(x)
            if i in taps:
                feats.append(x)
        return self.fc(x.mean(dim=(2, 3))), feats


def face_input(x):
    """facenet.FaceLoss.input on faces in [-1,1]: to [0,1], the face box cut out, resized to
    150x150 and normalised as face-api does. Ours samples as tfjs (no half-pixel offset), torch's
    align_corners=False with one; the work is the same."""
    n = x.shape[2]
    left, top, side = (int(math.floor(f * n + 0.5)) for f in FACE_BOX)  # Go's math.Round
    crop = ((x + 1) * 0.5)[:, :, top:top + side, left:left + side]
    if side != FACE_SIZE:
        crop = F.interpolate(crop, size=(FACE_SIZE, FACE_SIZE), mode="bilinear", align_corners=False)
    mean = torch.tensor(FACE_MEAN)[None, :, None, None] / FACE_DIV
    return (crop * (255.0 / FACE_DIV) - mean).contiguous(memory_format=CL)


def component_boxes(size, levels=len(DISC_WIDTHS)):
    """train.ComponentBoxes: (top, left, side) of the component critic's windows on a size x size
    face, squares of a quarter of its side (a multiple of 2^levels) centred on the template's
    eyes and on its mouth (the midpoint of the corners), clamped inside the face. (44, 32, 32),
    (44, 64, 32) and (77, 48, 32) at 128."""
    unit = 1 << levels
    side = size // 4 // unit * unit
    if side < unit:
        raise ValueError("component critic: %dx%d faces give windows under %d pixels" % (size, size, unit))
    k = size / 512
    t = [(x * k, y * k) for x, y in TEMPLATE_512]
    centres = (t[0], t[1], ((t[3][0] + t[4][0]) / 2, (t[3][1] + t[4][1]) / 2))
    at = lambda v: min(max(int(math.floor(v - side / 2 + 0.5)), 0), size - side)  # Go's math.Round
    return [(at(y), at(x), side) for x, y in centres]


def component_views(x, boxes):
    """train.componentViews: the crops of boxes, copied out as Go's Graph.Crop does."""
    return [x[:, :, y:y + s, l:l + s].contiguous(memory_format=CL) for y, l, s in boxes]


def cosine_alpha_bar():
    """diffusion.NewSchedule(Cosine, T): betas clipped at 0.999, abar their running product."""
    f = lambda t: math.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2
    ab, prod = [], 1.0
    for i in range(T):
        prod *= 1 - min(1 - f(i + 1) / f(i), 0.999)
        ab.append(prod)
    return torch.tensor(ab, dtype=torch.float64)


def image(n, s, uniform=False):
    x = torch.rand(n, 3, s, s) * 2 - 1 if uniform else torch.randn(n, 3, s, s)
    return x.contiguous(memory_format=CL)


def setup_stage1(s1, s):
    lq, hq = image(BATCH, s, uniform=True), image(BATCH, s, uniform=True)
    opt = torch.optim.AdamW(s1.parameters(), lr=LR, weight_decay=0)

    def step():
        F.l1_loss(s1(lq), hq).backward()
        opt.step()
        opt.zero_grad()
    return step


def setup_stage2(unet, control, abar, c):
    s = c["image_size"]
    cond = image(BATCH, s, uniform=True)
    opt = torch.optim.AdamW(list(unet.parameters()) + list(control.parameters()), lr=LR, weight_decay=0)

    def step():
        x0, eps = image(BATCH, s, uniform=True), image(BATCH, s)
        t = torch.randint(0, T, (BATCH,))
        a = abar[t].sqrt().float()[:, None, None, None]
        b = (1 - abar[t]).sqrt().float()[:, None, None, None]
        xt = a * x0 + b * eps
        target = a * eps - b * x0 if c["prediction"] == "v" else eps
        pred = unet(xt, t, control(xt, t, cond))
        F.mse_loss(pred, target).backward()
        opt.step()
        opt.zero_grad()
    return step


def setup_stage2_detail(s1, unet, control, disc, comp_disc, face, abar, c):
    s = c["image_size"]
    boxes = component_boxes(s)
    lq, hq = torch.rand(BATCH, 3, s, s), torch.rand(BATCH, 3, s, s)
    lq, hq = lq.contiguous(memory_format=CL), hq.contiguous(memory_format=CL)
    opt = torch.optim.AdamW(list(unet.parameters()) + list(control.parameters()), lr=LR, weight_decay=0)
    dparams = list(disc.parameters())
    dopt = torch.optim.Adam(dparams, lr=DISC_LR, betas=(0.9, 0.99))
    # The component critic (train.newCritic): its own discriminator and Adam, the same settings.
    cparams = list(comp_disc.parameters())
    copt = torch.optim.Adam(cparams, lr=DISC_LR, betas=(0.9, 0.99))
    face.requires_grad_(False)  # only its input gradient flows

    def step():
        with torch.no_grad():  # the condition, as restorer.Model.Condition
            cond = s1(lq * 2 - 1)
        x0, eps = hq * 2 - 1, image(BATCH, s)
        t = torch.randint(0, DETAIL_T_MAX, (BATCH,))
        a = abar[t].sqrt().float()[:, None, None, None]
        b = (1 - abar[t]).sqrt().float()[:, None, None, None]
        xt = a * x0 + b * eps
        v = c["prediction"] == "v"
        target = a * eps - b * x0 if v else eps
        pred = unet(xt, t, control(xt, t, cond))
        loss = F.mse_loss(pred, target)
        x0hat = a * xt - b * pred if v else (xt - b * pred) / a

        disc.requires_grad_(False)  # the generator pass needs only D's input gradient
        comp_disc.requires_grad_(False)
        adv = -disc(x0hat).mean()
        # critic.generator on the component views: the mean over the windows of -mean Dc(crop).
        comp = sum(-comp_disc(v).mean() for v in component_views(x0hat, boxes)) / len(boxes)
        dp, fp = face(face_input(x0hat))
        with torch.no_grad():
            dr, fr = face(face_input(x0))
        idt = 128 * F.mse_loss(dp, dr)
        feat = sum(F.l1_loss(p, r) for p, r in zip(fp, fr))
        (loss + ADV * adv + COMP * comp + ID * idt + FEAT * feat).backward()
        opt.step()
        opt.zero_grad()

        disc.requires_grad_(True)
        fake = x0hat.detach()
        dloss = F.relu(1 - disc(x0)).mean() + F.relu(1 + disc(fake)).mean()
        dloss.backward()
        nn.utils.clip_grad_norm_(dparams, 1.0)
        dopt.step()
        dopt.zero_grad()

        # detail.discStep's second critic (critic.step, critic.hinge): the hinge loss of each
        # window, real then fake, averaged over the windows; clip 1, Adam.
        comp_disc.requires_grad_(True)
        closs = sum(F.relu(1 - comp_disc(r)).mean() + F.relu(1 + comp_disc(f)).mean()
                    for r, f in zip(component_views(x0, boxes), component_views(fake, boxes))) / len(boxes)
        closs.backward()
        nn.utils.clip_grad_norm_(cparams, 1.0)
        copt.step()
        copt.zero_grad()
    return step


def setup_restore(s1, unet, control, abar, c):
    s = c["image_size"]
    lq = image(1, s, uniform=True)
    # diffusion.DDIM.Timesteps, trailing spacing; the last step lands on abar = 1.
    ts = [int(round(T - i * T / DDIM_STEPS)) - 1 for i in range(DDIM_STEPS)]
    ab = lambda t: 1.0 if t < 0 else abar[t].item()

    def restore():
        with torch.no_grad():
            cond = s1(lq)
            x = image(1, s)
            for i, t in enumerate(ts):
                tb = torch.full((1,), t, dtype=torch.long)
                pred = unet(x, tb, control(x, tb, cond))
                a, b = math.sqrt(ab(t)), math.sqrt(1 - ab(t))
                if c["prediction"] == "v":
                    x0, eps = a * x - b * pred, b * x + a * pred
                else:
                    x0, eps = (x - b * pred) / a, pred
                ap = ab(ts[i + 1] if i + 1 < len(ts) else -1)
                x = math.sqrt(ap) * x0 + math.sqrt(1 - ap) * eps
        return x
    return restore


def load_config(path):
    """Go restorer.Config from a JSON file (see the docstring), or the defaults."""
    cfg = {}
    if path is not None:
        with open(path) as f:
            cfg = json.load(f)
    # A given section starts from Go's zero values (0, [] or ""), as json.Unmarshal leaves them.
    return [dict({k: type(v)() for k, v in d.items()}, **cfg[key]) if key in cfg else dict(d)
            for key, d in (("stage1", DEFAULT_STAGE1), ("unet", DEFAULT_UNET))]


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch reference timings for the Go restorer")
    ap.add_argument("--config", help="restorer config JSON (Go format); default: the Go defaults")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--only", default=",".join(PARTS), help="comma-separated subset of the default")
    ap.add_argument("--json", action="store_true", help="print one JSON line at the end")
    args = ap.parse_args(argv)

    only = [n.strip() for n in args.only.split(",") if n.strip()]
    bad = sorted(set(only) - set(PARTS))
    if bad:
        ap.error("unknown --only entries %s (want some of %s)" % (bad, ",".join(PARTS)))
    if args.iters < 1 or args.warmup < 0 or args.threads < 1:
        ap.error("need --iters >= 1, --warmup >= 0, --threads >= 1")
    c1, cu = load_config(args.config)
    if cu["prediction"] not in ("v", "eps"):
        ap.error("unet prediction %r, want \"v\" or \"eps\"" % cu["prediction"])

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    s1 = Stage1(c1).to(memory_format=CL)
    unet = UNet(cu).to(memory_format=CL)
    control = Control(cu, unet).to(memory_format=CL)
    disc = Discriminator().to(memory_format=CL)
    comp_disc = Discriminator().to(memory_format=CL)  # the component critic's, on 32x32 windows
    face = FaceRecognitionNet().to(memory_format=CL)
    abar = cosine_alpha_bar()

    result = {"torch": torch.__version__, "threads": args.threads}
    timed = {
        "stage1_train_s": ("stage1", lambda: setup_stage1(s1, c1["image_size"])),
        "stage2_train_s": ("stage2", lambda: setup_stage2(unet, control, abar, cu)),
        "stage2_detail_train_s": ("stage2_detail", lambda: setup_stage2_detail(s1, unet, control, disc, comp_disc, face, abar, cu)),
        "restore_s": ("restore", lambda: setup_restore(s1, unet, control, abar, cu)),
    }
    for key, (name, setup) in timed.items():
        peak = key[:-len("_s")] + "_peak_mb"
        result[key], result[peak] = median_peak(setup(), args.warmup, args.iters) if name in only else (None, None)
    nets = (("stage1_params", s1), ("unet_params", unet), ("control_params", control),
            ("disc_params", disc), ("comp_disc_params", comp_disc), ("face_net_params", face))
    for key, m in nets:
        result[key] = sum(p.numel() for p in m.parameters())
    # Resetting VmHWM resets ru_maxrss too: the whole run's peak is the largest step's, or
    # what came after the last reset.
    result["peak_rss_mb"] = max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0]  # KiB on Linux
                                + [v for k, v in result.items() if k.endswith("_peak_mb") and v])

    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    else:
        print("torch %s, %d threads, warmup %d, iters %d (median seconds)"
              % (result["torch"], args.threads, args.warmup, args.iters))
        for key in timed:
            if result[key] is not None:
                peak = result[key[:-len("_s")] + "_peak_mb"]
                print("%-22s %10.4f  peak %s MB" % (key, result[key], "%.0f" % peak if peak else "?"))
        print("parameters: " + ", ".join("%s %d" % (key[:-len("_params")], result[key]) for key, _ in nets))
        print("peak RSS %.1f MB" % result["peak_rss_mb"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
