#!/usr/bin/python3
"""Reference fixtures for MedSsl.Tests.Data, written by independent tools (sklearn, numpy, zlib, struct).
Run with Debian's python3 (sklearn 1.2.1):  /usr/bin/python3 make_fixtures.py   (from this folder)."""
import gzip, struct, zlib
import numpy as np
from sklearn.datasets import make_moons

# make_moons without noise or shuffle: our construction must equal it exactly.
for n in (7, 200):
    X, y = make_moons(n, noise=0.0, shuffle=False)
    with open(f"moons_n{n}.csv", "w") as f:
        f.write("x0,x1,label\n")
        for (a, b), c in zip(X, y):
            f.write(f"{a!r},{b!r},{c}\n")

# make_moons(1000, noise=0.1): per-class means and stds of each coordinate, averaged over 20 seeds.
stats = np.mean([[np.r_[X[y == c].mean(0), X[y == c].std(0)] for c in (0, 1)]
                 for X, y in (make_moons(1000, noise=0.1, random_state=s) for s in range(20))], axis=0)
with open("moons_noise0.1_stats.csv", "w") as f:
    f.write("label,mean0,mean1,std0,std1\n")
    for c in (0, 1):
        f.write(f"{c}," + ",".join(repr(float(v)) for v in stats[c]) + "\n")

# PNGs written by hand: one file per colour type, bit depth and row filter. Sample (x, y, c) of a W×H image is
# (x*7 + y*13 + c*50) % 256 at 8 bits, (x*997 + y*4099 + c*12345) % 65536 at 16 bits.
def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)

def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

def png(path, w, h, channels, depth, filt):
    xs, ys, cs = np.meshgrid(np.arange(w), np.arange(h), np.arange(channels))
    if depth == 8:
        samples = ((xs * 7 + ys * 13 + cs * 50) % 256).astype(">u1")
    else:
        samples = ((xs * 997 + ys * 4099 + cs * 12345) % 65536).astype(">u2")
    rows = samples.reshape(h, -1).view(np.uint8).reshape(h, -1).astype(int)
    bpp = channels * depth // 8
    out = bytearray()
    for r in range(h):
        cur, prev = rows[r], rows[r - 1] if r > 0 else np.zeros_like(rows[r])
        out.append(filt)
        for i in range(len(cur)):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][filt]
            out.append((cur[i] - pred) % 256)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, 0 if channels == 1 else 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b""))

for channels, name in ((1, "gray"), (3, "rgb")):
    for depth in (8, 16):
        for filt in range(5):
            png(f"png_{name}{depth}_f{filt}.png", 5, 4, channels, depth, filt)

# NIfTI-1, big-endian int16, scl_slope 2, scl_inter -10, qform (quaternion b=c=0, d=1: 180° about z; qfac −1),
# gzipped. Voxel (x, y, z) of the 3×4×2 volume stores x + 10*y + 100*z, so its value is 2*(x + 10y + 100z) − 10.
def nifti(path, dims, dtype_code, np_type, data, endian, slope, inter, qform=None, sform=None, opener=open):
    e = endian
    hdr = bytearray(348)
    struct.pack_into(e + "i", hdr, 0, 348)
    struct.pack_into(e + "8h", hdr, 40, 3, *dims, 1, 1, 1, 1)
    struct.pack_into(e + "hh", hdr, 70, dtype_code, np.dtype(np_type).itemsize * 8)
    struct.pack_into(e + "8f", hdr, 76, -1.0 if qform else 1.0, 1.5, 2.0, 3.0, 1, 1, 1, 1)
    struct.pack_into(e + "f", hdr, 108, 352.0)
    struct.pack_into(e + "ff", hdr, 112, slope, inter)
    if qform:
        struct.pack_into(e + "h", hdr, 252, 1)
        struct.pack_into(e + "6f", hdr, 256, *qform)
    if sform:
        struct.pack_into(e + "h", hdr, 254, 2)
        struct.pack_into(e + "12f", hdr, 280, *sform)
    hdr[344:348] = b"n+1\x00"
    with opener(path, "wb") as f:
        f.write(bytes(hdr) + b"\x00" * 4 + data.astype((">" if e == ">" else "<") + np_type).tobytes(order="F"))

x, y, z = np.meshgrid(np.arange(3), np.arange(4), np.arange(2), indexing="ij")
stored = x + 10 * y + 100 * z
nifti("nifti_be_int16_qform.nii.gz", (3, 4, 2), 4, "i2", stored, ">", 2.0, -10.0,
      qform=(0.0, 0.0, 1.0, 5.0, 6.0, 7.0), opener=gzip.open)
# little-endian float64 with an sform and no scaling (slope 0 means none)
nifti("nifti_le_float64_sform.nii", (3, 4, 2), 64, "f8", stored * 0.5, "<", 0.0, 0.0,
      sform=(0, 0, 3.0, -1, 1.5, 0, 0, -2, 0, 2.0, 0, -3))

# MNIST IDX: 3 images 2×3 of unsigned bytes (value 10*i + pixel), labels 7, 0, 9; gzipped images, raw labels.
images = np.array([[10 * i + p for p in range(6)] for i in range(3)], dtype=np.uint8)
with gzip.open("mnist-images-idx3-ubyte.gz", "wb") as f:
    f.write(bytes([0, 0, 8, 3]) + struct.pack(">3i", 3, 2, 3) + images.tobytes())
with open("mnist-labels-idx1-ubyte", "wb") as f:
    f.write(bytes([0, 0, 8, 1]) + struct.pack(">i", 3) + bytes([7, 0, 9]))
