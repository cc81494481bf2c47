#!/usr/bin/python3
"""Reference fixtures for the Go package degrade.

Writes to testdata/cvref/ (run from the repository root):

  degrade_kernels.json           blur kernels by basicsr's formulas (numpy, float64)
  degrade_jpeg_src_<id>.png      three real 128x128 faces, as read from the data folder
  degrade_jpeg_<id>_q<q>.png     OpenCV's JPEG round trip of each face (cv2.imencode/imdecode)
  degrade_jpeg.json              what was made, with OpenCV's own PSNR against the source

The kernel formulas are reimplemented here from basicsr's degradations.py
(mesh_grid, sigma_matrix2, bivariate_Gaussian, bivariate_generalized_Gaussian,
bivariate_plateau), so the script needs only numpy and OpenCV. Everything is
deterministic: no random numbers are drawn.
"""
import argparse
import json
import math
import os
import sys

import cv2
import numpy as np

FACES = ["04801", "04850", "04999"]
QUALITIES = [30, 60, 90]

# (type, size, sigma_x, sigma_y, theta, beta): every kernel type, odd sizes
# from 3 to 41, sigmas from tiny to larger than the window, negative angles.
KERNELS = [
    ("iso", 3, 0.5, 0.5, 0.0, 0.0),
    ("iso", 11, 3.0, 3.0, 0.0, 0.0),
    ("iso", 21, 0.1, 0.1, 0.0, 0.0),
    ("iso", 41, 12.0, 12.0, 0.0, 0.0),
    ("aniso", 11, 2.5, 0.7, 0.6, 0.0),
    ("aniso", 21, 4.0, 1.5, -2.2, 0.0),
    ("aniso", 41, 10.0, 3.0, math.pi / 3, 0.0),
    ("generalized_iso", 11, 2.0, 2.0, 0.0, 0.5),
    ("generalized_iso", 21, 3.0, 3.0, 0.0, 3.7),
    ("generalized_aniso", 15, 3.0, 1.2, 1.1, 0.8),
    ("generalized_aniso", 21, 1.5, 4.5, -0.4, 2.5),
    ("plateau_iso", 11, 1.8, 1.8, 0.0, 1.0),
    ("plateau_iso", 21, 2.5, 2.5, 0.0, 1.9),
    ("plateau_aniso", 15, 2.2, 0.9, 2.9, 1.4),
    ("plateau_aniso", 21, 5.0, 2.0, -1.3, 0.6),
]


def mesh_grid(k):
    ax = np.arange(-k // 2 + 1.0, k // 2 + 1.0)
    xx, yy = np.meshgrid(ax, ax)
    return np.stack([xx, yy], axis=-1)  # [k, k, 2], (x, y) per cell


def sigma_matrix2(sx, sy, theta):
    d = np.array([[sx**2, 0], [0, sy**2]])
    u = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return np.dot(u, np.dot(d, u.T))


def quad_form(k, sx, sy, theta, isotropic):
    grid = mesh_grid(k)
    if isotropic:
        sigma = np.array([[sx**2, 0], [0, sx**2]])
    else:
        sigma = sigma_matrix2(sx, sy, theta)
    inv = np.linalg.inv(sigma)
    return np.sum(np.dot(grid, inv) * grid, 2)


def kernel(kind, k, sx, sy, theta, beta):
    iso = kind.endswith("iso") and not kind.endswith("aniso")
    q = quad_form(k, sx, sy, theta, iso)
    if kind in ("iso", "aniso"):
        w = np.exp(-0.5 * q)
    elif kind.startswith("generalized"):
        w = np.exp(-0.5 * np.power(q, beta))
    elif kind.startswith("plateau"):
        w = np.reciprocal(np.power(q, beta) + 1)
    else:
        raise ValueError(kind)
    return w / np.sum(w)


def psnr8(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255.0**2 / mse)


def write_kernels(out):
    items = []
    for kind, k, sx, sy, theta, beta in KERNELS:
        w = kernel(kind, k, sx, sy, theta, beta)
        items.append({
            "type": kind, "size": k, "sigma_x": sx, "sigma_y": sy, "angle": theta, "beta": beta,
            "kernel": w.reshape(-1).tolist(),  # json writes float64 round-trip exact
        })
    path = os.path.join(out, "degrade_kernels.json")
    with open(path, "w") as f:
        json.dump({"generator": "tools/cvref/gen_degrade.py", "numpy": np.__version__, "kernels": items}, f)
        f.write("\n")
    print("wrote", path, len(items), "kernels")


def write_jpeg(out, data):
    cv2.setNumThreads(1)
    made = []
    for face in FACES:
        src_path = os.path.join(data, face + ".png")
        bgr = cv2.imread(src_path, cv2.IMREAD_COLOR)
        if bgr is None:
            sys.exit(f"cannot read {src_path}")
        cv2.imwrite(os.path.join(out, f"degrade_jpeg_src_{face}.png"), bgr)
        for q in QUALITIES:
            ok, enc = cv2.imencode(".jpg", bgr, [int(cv2.IMWRITE_JPEG_QUALITY), q])
            if not ok:
                sys.exit(f"imencode failed for {face} q={q}")
            dec = cv2.imdecode(enc, cv2.IMREAD_COLOR)
            name = f"degrade_jpeg_{face}_q{q}.png"
            cv2.imwrite(os.path.join(out, name), dec)
            made.append({"face": face, "quality": q, "file": name, "jpeg_bytes": int(enc.size),
                         "psnr_vs_src": round(psnr8(dec, bgr), 4)})
            print(f"{name}: {enc.size} bytes, PSNR vs source {psnr8(dec, bgr):.2f} dB")
    with open(os.path.join(out, "degrade_jpeg.json"), "w") as f:
        json.dump({"generator": "tools/cvref/gen_degrade.py", "opencv": cv2.__version__,
                   "sampling": "OpenCV default (4:2:0)", "cases": made}, f, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="testdata/cvref")
    ap.add_argument("--data", default="../shared/data/ffhq128", help="folder of the 128x128 FFHQ faces")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    write_kernels(args.out)
    write_jpeg(args.out, args.data)


if __name__ == "__main__":
    main()
