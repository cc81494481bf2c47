#!/usr/bin/python3
"""Convert OpenCV's BRISQUE LIVE model (opencv-data) to metrics/models/brisque_live.json.

    apt-get install -y opencv-data
    /usr/bin/python3 tools/metricsref/convert_brisque.py \
        /usr/share/opencv4/quality metrics/models/brisque_live.json

Support vectors and the feature range are float32 in OpenCV, written here as
the shortest decimal that round-trips to the same float32; alpha, rho and
gamma are float64 and kept at full precision.
"""
import json
import os
import sys

import cv2
import numpy as np


def f32(values):
    # repr of np.float32 is the shortest string that parses back to the same float32.
    return [float(repr(np.float32(v))) for v in np.asarray(values, np.float32).ravel()]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    svm = cv2.ml.SVM_load(os.path.join(src, "brisque_model_live.yml"))
    assert svm.getKernelType() == cv2.ml.SVM_RBF and svm.getType() == cv2.ml.SVM_EPS_SVR
    sv = svm.getSupportVectors()
    rho, alpha, idx = svm.getDecisionFunction(0)
    assert list(idx.ravel()) == list(range(sv.shape[0])), "support vectors used out of order"
    fs = cv2.FileStorage(os.path.join(src, "brisque_range_live.yml"), cv2.FILE_STORAGE_READ)
    rng = fs.getNode("range").mat()
    fs.release()
    out = {
        "source": "OpenCV 4.6.0 opencv_contrib quality module, Debian opencv-data 4.6.0+dfsg-12: "
                  "brisque_model_live.yml, brisque_range_live.yml",
        "gamma": svm.getGamma(),
        "rho": rho,
        "alpha": [float(a) for a in alpha.ravel()],
        "range_min": f32(rng[0]),
        "range_max": f32(rng[1]),
        "support_vectors": [f32(row) for row in sv],
    }
    with open(dst, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
