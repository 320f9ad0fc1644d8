"""Makes generated/*.png and generated.csv: edge cases for Ronda's PDQ tests.

Random smooth images (no real content) at sizes the ThreatExchange vectors
miss, hashed with PyPI pdqhash 0.2.8 (Meta's C++), which is the reference:

    python -m venv venv && venv/bin/pip install pdqhash==0.2.8 numpy pillow
    venv/bin/python generate.py

Columns: png, width, height, quality and pdq from pdqhash.compute; the
quality and 8 hashes from pdqhash.compute_dihedral; float_quality and pdqf
(the 256 coefficients of pdqhash.compute_float, row-major, as f32 bit
patterns in hex). The two 64x64 images are ones where compute and
compute_dihedral disagree, because only compute skips the blur at 64x64.
"""

import csv
import os

import numpy as np
import pdqhash
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def hex_hash(vector):
    bits = vector[::-1]
    words = [0] * 16
    for k in range(256):
        if bits[k]:
            words[k // 16] |= 1 << (k % 16)
    return "".join("%04x" % words[15 - i] for i in range(16))


def smooth(rng, h, w):
    low = rng.integers(0, 256, (4, 4, 3)).astype(np.float64)
    ys = np.linspace(0, 3, h)
    xs = np.linspace(0, 3, w)
    y0 = np.clip(np.floor(ys).astype(int), 0, 2)
    x0 = np.clip(np.floor(xs).astype(int), 0, 2)
    fy = (ys - y0)[:, None, None]
    fx = (xs - x0)[None, :, None]
    a = low[y0][:, x0]
    b = low[y0][:, x0 + 1]
    c = low[y0 + 1][:, x0]
    d = low[y0 + 1][:, x0 + 1]
    img = (a * (1 - fy) * (1 - fx) + b * (1 - fy) * fx + c * fy * (1 - fx) + d * fy * fx)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def near_flat_64(seed_trial):
    rng = np.random.default_rng(7)
    for trial in range(seed_trial + 1):
        amp = [1, 2, 4, 8, 30][trial % 5]
        base = rng.integers(0, 256 - amp)
        img = (base + rng.integers(0, amp + 1, (64, 64, 3))).astype(np.uint8)
    return img


def main():
    rng = np.random.default_rng(2024)
    cases = []
    for (h, w) in [(1, 1), (3, 2), (10, 4), (5, 5), (65, 63), (300, 7), (7, 300), (257, 129), (129, 383)]:
        cases.append(("smooth-%dx%d" % (w, h), smooth(rng, h, w)))
    cases.append(("flat-64x64-a", near_flat_64(106)))
    cases.append(("flat-64x64-b", near_flat_64(338)))

    os.makedirs(os.path.join(HERE, "generated"), exist_ok=True)
    rows = []
    for name, img in cases:
        path = "generated/%s.png" % name
        Image.fromarray(img, "RGB").save(os.path.join(HERE, path), optimize=True)
        img = np.asarray(Image.open(os.path.join(HERE, path)).convert("RGB"))
        h, w = img.shape[:2]
        vec, quality = pdqhash.compute(img)
        dih, dquality = pdqhash.compute_dihedral(img)
        floats, fquality = pdqhash.compute_float(img)
        floats = np.asarray(floats, dtype=np.float32)[::-1]
        pdqf = "".join("%08x" % v for v in floats.view(np.uint32))
        rows.append([path, w, h, quality, hex_hash(vec), dquality] + [hex_hash(v) for v in dih] + [fquality, pdqf])

    with open(os.path.join(HERE, "generated.csv"), "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["png", "width", "height", "quality", "pdq", "dihedral_quality", "original", "rotate90",
                      "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1", "float_quality", "pdqf"])
        out.writerows(rows)


if __name__ == "__main__":
    main()
