#!/usr/bin/python3
"""Golden fixtures for package metrics (PSNR, SSIM, BRISQUE, FID-ID).

Run from the repository root with Debian's python3 (python3-opencv,
python3-skimage, python3-scipy):

    /usr/bin/python3 tools/metricsref/gen_metrics.py ../shared/data/ffhq128

It writes the input PNGs and testdata/metricsref/metrics.json. The Go tests
read only those files, never the shared data.
"""
import json
import os
import sys

import cv2
import numpy as np
import scipy.linalg
import skimage.data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

OUT = "testdata/metricsref"
FACES = ["04800", "04850", "04900", "04950"]
MODEL = "/usr/share/opencv4/quality/brisque_model_live.yml"
RANGE = "/usr/share/opencv4/quality/brisque_range_live.yml"


def degrade(bgr, kind, rng):
    if kind == "blur":
        return cv2.GaussianBlur(bgr, (0, 0), 2.0)
    if kind == "noise":
        n = rng.normal(0, 12.0, bgr.shape)
        return np.clip(np.round(bgr.astype(np.float64) + n), 0, 255).astype(np.uint8)
    if kind == "jpeg":
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 25])
        assert ok
        return cv2.imdecode(buf, cv2.IMREAD_COLOR)
    raise ValueError(kind)


def y_channel(rgb):
    # basicsr bgr2ycbcr(y_only=True) on [0,1] input, scaled back to [0,255].
    x = rgb.astype(np.float64) / 255.0
    return 16.0 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]


def crop(a, c):
    return a[c:-c, c:-c] if c > 0 else a


def full_metrics(gt_rgb, im_rgb, c):
    a = crop(gt_rgb.astype(np.float64), c)
    b = crop(im_rgb.astype(np.float64), c)
    ya = crop(y_channel(gt_rgb), c)
    yb = crop(y_channel(im_rgb), c)
    kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    return {
        "psnr_rgb": peak_signal_noise_ratio(a, b, data_range=255),
        "ssim_rgb": structural_similarity(a, b, channel_axis=-1, **kw),
        "psnr_y": peak_signal_noise_ratio(ya, yb, data_range=255),
        "ssim_y": structural_similarity(ya, yb, **kw),
    }


def splitmix_floats(seed, n):
    # Uniform float32 in [-1, 1) from splitmix64, reproduced bit for bit in Go.
    out = np.empty(n, np.float32)
    s = seed & 0xFFFFFFFFFFFFFFFF
    m = 0xFFFFFFFFFFFFFFFF
    for i in range(n):
        s = (s + 0x9E3779B97F4A7C15) & m
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
        z ^= z >> 31
        out[i] = np.float32((z >> 40) / float(1 << 24)) * np.float32(2) - np.float32(1)
    return out


def fid_sets():
    d = 128
    a = splitmix_floats(1, 200 * d).reshape(200, d)
    b = splitmix_floats(2, 150 * d).reshape(150, d)
    scale = (np.float32(1) + np.arange(d, dtype=np.float32) / np.float32(d)).astype(np.float32)
    b = (b * scale + np.float32(0.1)).astype(np.float32)
    return a, b


def fid(x, y):
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    m1, m2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean, _ = scipy.linalg.sqrtm(s1 @ s2, disp=False)
    covmean = covmean.real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def main():
    root = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(0)
    pairs, brisque_files = [], []
    for face in FACES:
        gt = cv2.imread(os.path.join(root, face + ".png"), cv2.IMREAD_COLOR)
        gt_name = f"{face}_gt.png"
        cv2.imwrite(os.path.join(OUT, gt_name), gt)
        brisque_files.append(gt_name)
        for kind in ["blur", "noise", "jpeg"]:
            im = degrade(gt, kind, rng)
            name = f"{face}_{kind}.png"
            cv2.imwrite(os.path.join(OUT, name), im)
            brisque_files.append(name)
            for c in [0, 4]:
                m = full_metrics(gt[..., ::-1], im[..., ::-1], c)
                pairs.append(dict(gt=gt_name, img=name, crop=c, **m))
    # Non-face images: astronaut downscaled, and an odd-sized crop of camera
    # (odd sizes exercise the integer halving of BRISQUE's second scale).
    astro = cv2.resize(skimage.data.astronaut()[..., ::-1], (256, 256), interpolation=cv2.INTER_AREA)
    cv2.imwrite(os.path.join(OUT, "astronaut256.png"), astro)
    cam = skimage.data.camera()[101:294, 150:405]
    cv2.imwrite(os.path.join(OUT, "camera_193x255.png"), cv2.cvtColor(cam, cv2.COLOR_GRAY2BGR))
    brisque_files += ["astronaut256.png", "camera_193x255.png"]

    brisque = {}
    for name in brisque_files:
        im = cv2.imread(os.path.join(OUT, name), cv2.IMREAD_COLOR)
        brisque[name] = float(cv2.quality.QualityBRISQUE_compute(im, MODEL, RANGE)[0])

    a, b = fid_sets()
    fids = {"a_b": fid(a, b), "b_a": fid(b, a), "a_a": fid(a, a),
            "a_first8": [float(v) for v in a[0, :8]], "b_first8": [float(v) for v in b[0, :8]]}
    with open(os.path.join(OUT, "metrics.json"), "w") as f:
        json.dump({"pairs": pairs, "brisque": brisque, "fid": fids}, f, indent=1)


if __name__ == "__main__":
    main()
