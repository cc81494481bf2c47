#!/usr/bin/python3
"""Generate OpenCV reference fixtures for the Go package facereward/imgproc.

Usage (Debian's Python with python3-opencv and python3-numpy, not a pyenv one):
    /usr/bin/python3 tools/cvref/gen_imgproc.py --out testdata/cvref          # (re)write, then check
    /usr/bin/python3 tools/cvref/gen_imgproc.py --out testdata/cvref --check  # only re-read and check

Files written (all safetensors, written by hand; see tools/cvref/README.md):
    imgproc_face.safetensors      the 128x128 RGB face, uint8 values stored as F16 (exact for 0..255)
    imgproc_filter2d.safetensors  cv2.filter2D on float32 images with Gaussian and random kernels
    imgproc_resize_<interp>.safetensors  cv2.resize of the face (float32 and uint8) at several scales
    imgproc_resize_rand.safetensors      cv2.resize of small random float32 images to non-square sizes

Large outputs are stored on a subset of rows and columns (`<key>.rows`, `<key>.cols` hold the
indices): the first 8, the last 8 and 24 random ones between, so both borders and every phase of
the sampling grid are covered while each file stays well under 200 KB.

Every random draw comes from its own numpy RandomState seed, so reruns are byte-identical.
"""

import argparse
import json
import os
import struct
import sys

try:
    import cv2
    import numpy as np
except ImportError as _exc:  # pragma: no cover
    sys.exit("gen_imgproc.py needs numpy and cv2 (%s); use Debian's /usr/bin/python3 with "
             "python3-opencv installed" % _exc)

MAX_FILE_BYTES = 200 * 1024
FACE_PATH = "/work/shared/data/ffhq128/04801.png"
SCALES = [("0.25", 0.25), ("0.333", 1.0 / 3.0), ("0.5", 0.5), ("0.7", 0.7), ("2", 2.0), ("3.5", 3.5)]
INTERPS = [("linear", cv2.INTER_LINEAR), ("cubic", cv2.INTER_CUBIC), ("area", cv2.INTER_AREA)]
FULL_LIMIT = 48  # an axis longer than this is stored on a subset of its indices

# --------------------------------------------------------------------------------------------
# safetensors I/O
# --------------------------------------------------------------------------------------------


def write_safetensors(path, tensors, metadata):
    """tensors: name -> (numpy array, dtype "F32" | "F16")."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        arr, dt = tensors[name]
        np_dt = {"F32": "<f4", "F16": "<f2"}[dt]
        a = np.ascontiguousarray(arr).astype(np_dt)
        if dt == "F16" and not np.array_equal(a.astype(np.float64), np.asarray(arr, np.float64)):
            raise ValueError("%s: F16 storage is only for values it holds exactly" % name)
        raw = a.tobytes(order="C")
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    """Returns (name -> float64 array, metadata), checking the layout strictly."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if n % 8 != 0 or 8 + n > len(data):
        raise ValueError("%s: bad header length %d" % (path, n))
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    meta = header.pop("__metadata__", {})
    out, spans = {}, []
    for name, info in header.items():
        size = {"F32": 4, "F16": 2}[info["dtype"]]
        b, e = info["data_offsets"]
        shape = tuple(info["shape"])
        if e - b != size * int(np.prod(shape)):
            raise ValueError("%s: %s has bad offsets" % (path, name))
        spans.append((b, e))
        np_dt = "<f4" if size == 4 else "<f2"
        out[name] = np.frombuffer(body[b:e], dtype=np_dt).reshape(shape).astype(np.float64)
    pos = 0
    for b, e in sorted(spans):
        if b != pos:
            raise ValueError("%s: gap or overlap at %d" % (path, b))
        pos = e
    if pos != len(body):
        raise ValueError("%s: trailing bytes" % path)
    return out, meta


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


def load_face_u8():
    bgr = cv2.imread(FACE_PATH, cv2.IMREAD_COLOR)
    if bgr is None or bgr.shape != (128, 128, 3):
        sys.exit("cannot read a 128x128 colour image from %s" % FACE_PATH)
    return np.ascontiguousarray(bgr[:, :, ::-1])  # RGB, the Go convention


def face_f32(u8):
    # The Go test forms the same float32 quotient: float32(v) / 255.
    return u8.astype(np.float32) / np.float32(255)


def gaussian_kernel(size, sig_x, sig_y, theta):
    """basicsr's bivariate Gaussian: exp(-0.5 xy^T Sigma^-1 xy) with Sigma = R diag(sx^2, sy^2) R^T."""
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    sigma = rot @ np.diag([sig_x ** 2, sig_y ** 2]) @ rot.T
    inv = np.linalg.inv(sigma)
    ax = np.arange(-(size // 2), size // 2 + 1, dtype=np.float64)
    xx, yy = np.meshgrid(ax, ax)
    xy = np.stack([xx, yy], axis=-1)
    k = np.exp(-0.5 * np.sum((xy @ inv) * xy, axis=-1))
    return (k / k.sum()).astype(np.float32)


def pick(n, rng):
    """Indices stored for an axis of length n: all of them, or both ends plus a random middle."""
    if n <= FULL_LIMIT:
        return np.arange(n)
    mid = np.sort(rng.choice(np.arange(8, n - 8), size=24, replace=False))
    return np.concatenate([np.arange(8), mid, np.arange(n - 8, n)])


def as3(a):
    return a[:, :, None] if a.ndim == 2 else a


def put_sampled(t, key, full, rows, cols, dtype):
    t[key] = (as3(full)[np.ix_(rows, cols)], dtype)
    t[key.rsplit(".", 1)[0] + ".rows"] = (rows.astype(np.float32), "F32")
    t[key.rsplit(".", 1)[0] + ".cols"] = (cols.astype(np.float32), "F32")


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------


def base_meta(name):
    return {"fixture": name, "generator": "tools/cvref/gen_imgproc.py",
            "opencv_version": cv2.__version__, "numpy_version": np.__version__, "layout": "HWC, RGB"}


def make_face(out):
    u8 = load_face_u8()
    meta = base_meta("imgproc_face")
    meta["source"] = FACE_PATH
    meta["note"] = "uint8 values stored as F16 (exact); float image = float32(v)/255"
    write_safetensors(os.path.join(out, "imgproc_face.safetensors"), {"face.u8": (u8, "F16")}, meta)


def make_filter2d(out):
    t = {}
    kernels = {
        "iso": gaussian_kernel(13, 2.1, 2.1, 0.0),
        "aniso": gaussian_kernel(15, 3.0, 1.2, 0.6),
        # A non-square kernel with negative taps catches kh/kw swaps and a flipped (convolution) kernel.
        "rect": np.random.RandomState(11).uniform(-0.5, 1.0, size=(5, 9)).astype(np.float32),
    }
    for name, k in kernels.items():
        t["kern." + name] = (k, "F32")

    rand = np.random.RandomState(1).rand(37, 29, 3).astype(np.float32)
    gray = np.random.RandomState(2).rand(23, 31).astype(np.float32)
    t["rand.src"] = (rand, "F32")
    t["gray.src"] = (gray[:, :, None], "F32")
    for name, k in kernels.items():
        t["rand.%s" % name] = (cv2.filter2D(rand, -1, k, borderType=cv2.BORDER_REFLECT_101), "F32")
        t["gray.%s" % name] = (as3(cv2.filter2D(gray, -1, k, borderType=cv2.BORDER_REFLECT_101)), "F32")

    face = face_f32(load_face_u8())
    rng = np.random.RandomState(3)
    rows, cols = pick(128, rng), pick(128, rng)
    for name in ("iso", "aniso"):
        full = cv2.filter2D(face, -1, kernels[name], borderType=cv2.BORDER_REFLECT_101)
        put_sampled(t, "face_%s.out" % name, full, rows, cols, "F32")

    meta = base_meta("imgproc_filter2d")
    meta["call"] = "cv2.filter2D(src, -1, kern, borderType=cv2.BORDER_REFLECT_101) on float32"
    meta["kernels"] = "iso: 13x13 sigma 2.1; aniso: 15x15 sigmas 3.0/1.2 angle 0.6 rad; rect: 5x9 uniform(-0.5,1)"
    write_safetensors(os.path.join(out, "imgproc_filter2d.safetensors"), t, meta)


def make_resize_face(out):
    u8 = load_face_u8()
    f32 = face_f32(u8)
    for iname, flag in INTERPS:
        t = {}
        rng = np.random.RandomState(100 + flag)
        for tag, s in SCALES:
            n = int(round(128 * s))
            rows, cols = pick(n, rng), pick(n, rng)
            t["s%s.size" % tag] = (np.array([n, n], np.float32), "F32")
            put_sampled(t, "s%s.f32" % tag, cv2.resize(f32, (n, n), interpolation=flag), rows, cols, "F32")
            t["s%s.u8" % tag] = (cv2.resize(u8, (n, n), interpolation=flag)[np.ix_(rows, cols)], "F16")
        meta = base_meta("imgproc_resize_" + iname)
        meta["call"] = "cv2.resize(face, (n, n), interpolation=cv2.INTER_%s), n = int(round(128*s))" % iname.upper()
        meta["scales"] = ",".join(tag for tag, _ in SCALES)
        meta["note"] = "s<tag>.f32 from the float32 face, s<tag>.u8 from the uint8 face (F16-stored integers)"
        write_safetensors(os.path.join(out, "imgproc_resize_%s.safetensors" % iname), t, meta)


def make_resize_rand(out):
    t = {}
    rgb = np.random.RandomState(4).rand(37, 29, 3).astype(np.float32)
    gray = np.random.RandomState(5).rand(36, 28).astype(np.float32)
    t["rgb.src"] = (rgb, "F32")
    t["gray.src"] = (gray[:, :, None], "F32")
    # (h, w) targets: mixed up/down and non-integer factors for rgb; for gray the exact integer
    # factors (2x2, 3x4, 4x4, 1x2) that take OpenCV's fast paths, a mixed case and an exact 2x up.
    cases = {"rgb": [(50, 17), (12, 10), (37, 11), (20, 45)],
             "gray": [(18, 14), (12, 7), (9, 7), (36, 14), (25, 60), (72, 56)]}
    for iname, flag in INTERPS:
        for src_name, sizes in cases.items():
            src = rgb if src_name == "rgb" else gray
            for h, w in sizes:
                t["%s.%s.%dx%d" % (iname, src_name, h, w)] = (as3(cv2.resize(src, (w, h), interpolation=flag)), "F32")
    meta = base_meta("imgproc_resize_rand")
    meta["call"] = "cv2.resize(src, (w, h), interpolation=flag) on float32; key <interp>.<src>.<h>x<w>"
    write_safetensors(os.path.join(out, "imgproc_resize_rand.safetensors"), t, meta)


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------


def check(out):
    names = ["imgproc_face", "imgproc_filter2d", "imgproc_resize_rand"] + ["imgproc_resize_" + n for n, _ in INTERPS]
    total = 0
    for name in names:
        path = os.path.join(out, name + ".safetensors")
        size = os.path.getsize(path)
        total += size
        if size > MAX_FILE_BYTES:
            raise SystemExit("%s is %d bytes, over %d" % (path, size, MAX_FILE_BYTES))
        tensors, meta = read_safetensors(path)
        if meta.get("fixture") != name:
            raise SystemExit("%s: metadata fixture=%r" % (path, meta.get("fixture")))
        for k, v in tensors.items():
            if not np.all(np.isfinite(v)):
                raise SystemExit("%s: %s has non-finite values" % (path, k))
        print("%-36s %7d bytes, %2d tensors" % (name, size, len(tensors)))
    # Spot-check one stored value against a fresh OpenCV call, so a stale file is noticed.
    tensors, _ = read_safetensors(os.path.join(out, "imgproc_resize_cubic.safetensors"))
    fresh = cv2.resize(face_f32(load_face_u8()), (448, 448), interpolation=cv2.INTER_CUBIC)
    r, c = tensors["s3.5.rows"].astype(int), tensors["s3.5.cols"].astype(int)
    if not np.array_equal(fresh[np.ix_(r, c)].astype(np.float64), tensors["s3.5.f32"]):
        raise SystemExit("imgproc_resize_cubic: stored s3.5.f32 differs from a fresh cv2.resize")
    print("total %d bytes; all checks passed" % total)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="testdata/cvref")
    ap.add_argument("--check", action="store_true", help="only re-read and verify existing files")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    if not args.check:
        os.makedirs(args.out, exist_ok=True)
        make_face(args.out)
        make_filter2d(args.out)
        make_resize_face(args.out)
        make_resize_rand(args.out)
    check(args.out)


if __name__ == "__main__":
    main()
