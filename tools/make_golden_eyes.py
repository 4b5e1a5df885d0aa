#!/usr/bin/env python3
"""Golden outputs for eyes128, computed by real PyTorch from the ORIGINAL checkpoint.

    tools/make_models.sh build
    /opt/torchenv/bin/python tools/make_golden_eyes.py build/omniart

(any Python with torch and numpy will do). ``build/omniart`` is where tools/make_models.sh
unpacks the PyPI wheel omniart-eye-generator 0.1. The package's own ``Generator`` class
(omniart_eye_generator/generator.py, loaded from the unpacked wheel, not copied) loads
``generator_model_state.pth`` with ``torch.load(map_location="cpu")`` (it was saved on CUDA)
and runs in eval mode, so the fixtures check our converter and engine against an
independent reference. The package's ``eye_generator.py`` (which loads the model at import
time onto CUDA when there is one) is not imported.

Writes to tests/fixtures/:
  eyes128_golden_z.npy        [4, 100] float32 latents
  eyes128_golden_classes.npy  [4] int64 class indices (amber, blue, ... red: see
                              tools/arch/eyes128.json); the package's one-hot labels
  eyes128_golden_out.npy      [4, 3, 128, 128] float32, the float32 model
  eyes128_golden_out_f16.npy  [4, 3, 128, 128] float32, after every floating parameter and
                              buffer is rounded to float16 and back (what the f16 folder holds)
  eyes128_golden.png          2x2 grid of the float32 outputs
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden_pytorch import image_grid, round_to_f16, write_png  # noqa: E402

PTH_SHA256 = "dd486abbd738bfe3d28ddd46987bec11e3842ddcc8c28ccc5251b52c6ecf4da0"
SEED = 20261130
CLASSES = [0, 1, 4, 7]  # amber, blue, grayscale, red
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("unpacked", help="folder holding the unpacked omniart_eye_generator package")
    ap.add_argument("--out", default=FIXTURES, help="output folder (default tests/fixtures)")
    a = ap.parse_args()

    pth = os.path.join(a.unpacked, "omniart_eye_generator", "generator_model_state.pth")
    with open(pth, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    if digest != PTH_SHA256:
        print(f"{pth}: sha256 {digest}, expected {PTH_SHA256}", file=sys.stderr)
        return 1

    # Load generator.py as a module of its own: the package's __init__ imports
    # eye_generator.py, which torch.loads the CUDA checkpoint without map_location.
    spec = importlib.util.spec_from_file_location(
        "omniart_generator", os.path.join(a.unpacked, "omniart_eye_generator", "generator.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    Generator, label_count, latent_space_size = gen.Generator, gen.label_count, gen.latent_space_size

    torch.set_grad_enabled(False)
    net = Generator()
    net.load_state_dict(torch.load(pth, map_location="cpu", weights_only=True))
    net = net.float().eval()  # eval: BatchNorm running statistics, Dropout off
    net16 = round_to_f16(net).eval()

    n = len(CLASSES)
    z = np.random.default_rng(SEED).standard_normal((n, latent_space_size)).astype(np.float32)
    classes = np.array(CLASSES, dtype=np.int64)
    zt = torch.from_numpy(z).reshape(n, latent_space_size, 1, 1)  # as the package's __get_noise
    labels = torch.nn.functional.one_hot(torch.from_numpy(classes), label_count).float()
    out = net(zt, labels).numpy().astype(np.float32)
    out16 = net16(zt, labels).numpy().astype(np.float32)

    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "eyes128_golden_z.npy"), z)
    np.save(os.path.join(a.out, "eyes128_golden_classes.npy"), classes)
    np.save(os.path.join(a.out, "eyes128_golden_out.npy"), out)
    np.save(os.path.join(a.out, "eyes128_golden_out_f16.npy"), out16)
    write_png(os.path.join(a.out, "eyes128_golden.png"), image_grid(out, cols=2, scale=1))
    print(f"torch {torch.__version__}: {pth} sha256 {digest}; out {out.shape} range "
          f"[{out.min():.4f}, {out.max():.4f}], max |out - out_f16| = "
          f"{float(np.abs(out - out16).max()):.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
