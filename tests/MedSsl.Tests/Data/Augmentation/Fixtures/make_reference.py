#!/usr/bin/python3
"""PIL reference outputs for MedSsl.Tests.Augmentation (FixMatch's RandAugment calls these PIL functions).

Run from this folder:  /usr/bin/python3 make_reference.py   (writes reference.json beside it)
Images are 8-bit grey; the C# side sees them as levels / 255 and is compared within one level.
"""
import json
import os

import numpy as np
import PIL
from PIL import Image, ImageEnhance, ImageOps

rng = np.random.default_rng(7)
images = [rng.integers(30, 220, (16, 20), dtype=np.uint8),            # mid-range: autocontrast stretches it
          (rng.beta(0.6, 0.6, (16, 20)) * 255).astype(np.uint8)]      # skewed histogram: equalize changes it
params = {"brightness": 0.41, "contrast": 0.59, "sharpness": 0.32, "posterize_bits": 5, "solarize_level": 128}

cases = []
for a in images:
    img = Image.fromarray(a, mode="L")
    out = {
        "brightness": ImageEnhance.Brightness(img).enhance(params["brightness"]),
        "contrast": ImageEnhance.Contrast(img).enhance(params["contrast"]),
        "sharpness": ImageEnhance.Sharpness(img).enhance(params["sharpness"]),
        "posterize": ImageOps.posterize(img, params["posterize_bits"]),
        "solarize": ImageOps.solarize(img, params["solarize_level"]),
        "autocontrast": ImageOps.autocontrast(img),
        "equalize": ImageOps.equalize(img),
    }
    cases.append({"image": a.tolist(), **{k: np.asarray(v).tolist() for k, v in out.items()}})

with open("reference.json.tmp", "w") as fh:
    json.dump({"generator": f"PIL {PIL.__version__}", "params": params, "cases": cases}, fh)
os.replace("reference.json.tmp", "reference.json")
print("wrote reference.json")
