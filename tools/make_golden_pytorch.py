#!/usr/bin/env python3
"""Golden outputs for faces64, computed by real PyTorch from the ORIGINAL .pt.

    tools/make_models.sh build
    /opt/torchenv/bin/python tools/make_golden_pytorch.py build/generateme/dcGanGeneratorModel.pt

(any Python with torch and numpy will do). This deliberately does not use
our converter: it loads the checkpoint with ``torch.load`` into generateme's
own Generator class, so the fixtures check the converter and the browser
implementation against an independent reference.

Writes to tests/fixtures/:
  faces64_golden_z.npy        [4, 100] float32 latents
  faces64_golden_out.npy      [4, 3, 64, 64] float32, the float32 model
  faces64_golden_out_f16.npy  [4, 3, 64, 64] float32, the model after every
                              floating parameter and buffer is rounded to
                              float16 and back (what an f16 weights file holds)
  faces64_golden.png          2x2 grid of the float32 outputs, 2x nearest upscale
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PT_SHA256 = "9837db49baa6f8ab5c36b138278218603ece4c0e69ea7202fb730834dd0992e8"
SEED = 20261130
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")


# Copied from generateme 0.1.2 (PyPI wheel generateme-0.1.2-py3-none-any.whl,
# file generateme/DCGan.py, MIT license, author Nikolay Valkov). Only the
# architecture is copied; the module-level loading and device code is not.
class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.convTr1 = nn.ConvTranspose2d(100, 64 * 8, 4, 1, 0, bias = False)
        self.batchNorm1 = nn.BatchNorm2d(64 * 8)
        self.convTr2 = nn.ConvTranspose2d(64 * 8, 64 * 4, 4, 2, 1, bias = False)
        self.batchNorm2 = nn.BatchNorm2d(64 * 4)
        self.convTr3 = nn.ConvTranspose2d(64 * 4, 64 * 2, 4, 2, 1, bias = False)
        self.batchNorm3 = nn.BatchNorm2d(64 * 2)
        self.convTr4 = nn.ConvTranspose2d(64 * 2, 64, 4, 2, 1, bias = False)
        self.batchNorm4 = nn.BatchNorm2d(64)
        self.convTr5 = nn.ConvTranspose2d(64, 3, 4, 2, 1, bias = False)

    def forward(self, x):
        x = F.relu_(self.batchNorm1(self.convTr1(x)))
        x = F.relu_(self.batchNorm2(self.convTr2(x)))
        x = F.relu_(self.batchNorm3(self.convTr3(x)))
        x = F.relu_(self.batchNorm4(self.convTr4(x)))
        x = self.convTr5(x)

        return torch.tanh(x)


def round_to_f16(model: nn.Module) -> nn.Module:
    """A copy whose floating parameters and buffers went through float16."""
    m = copy.deepcopy(model)
    with torch.no_grad():
        for p in list(m.parameters()) + list(m.buffers()):
            if p.is_floating_point():  # num_batches_tracked is int64: leave it
                p.data = p.data.half().float()
    return m


def write_png(path: str, rgb: np.ndarray) -> None:
    """Write an [H, W, 3] uint8 image as PNG with zlib only (no PIL needed)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))  # filter 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9))
           + chunk(b"IEND", b""))
    with open(path, "wb") as fh:
        fh.write(png)


def image_grid(images: np.ndarray, cols: int = 2, scale: int = 2, gap: int = 2) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] (C = 1 or 3) -> [H', W', 3] uint8 grid on a white background."""
    n, channels, h, w = images.shape
    rows = (n + cols - 1) // cols
    th, tw = h * scale, w * scale
    grid = np.full((rows * th + (rows + 1) * gap, cols * tw + (cols + 1) * gap, 3), 255, np.uint8)
    for i, img in enumerate(images):
        tile = np.clip((img.transpose(1, 2, 0) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        if channels == 1:
            tile = np.repeat(tile, 3, axis=2)
        tile = tile.repeat(scale, axis=0).repeat(scale, axis=1)
        r, c = divmod(i, cols)
        y, x = gap + r * (th + gap), gap + c * (tw + gap)
        grid[y:y + th, x:x + tw] = tile
    return grid


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pt", help="generateme's dcGanGeneratorModel.pt (from tools/make_models.sh)")
    ap.add_argument("--out", default=FIXTURES, help="output folder (default tests/fixtures)")
    a = ap.parse_args()

    with open(a.pt, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    if digest != PT_SHA256:
        print(f"{a.pt}: sha256 {digest}, expected {PT_SHA256}", file=sys.stderr)
        return 1

    torch.set_grad_enabled(False)
    net = Generator()
    net.load_state_dict(torch.load(a.pt, map_location="cpu", weights_only=True))
    net = net.float().eval()  # eval: BatchNorm uses the running statistics
    net16 = round_to_f16(net).eval()

    z = np.random.default_rng(SEED).standard_normal((4, 100)).astype(np.float32)
    zt = torch.from_numpy(z).reshape(4, 100, 1, 1)
    out = net(zt).numpy().astype(np.float32)
    out16 = net16(zt).numpy().astype(np.float32)

    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "faces64_golden_z.npy"), z)
    np.save(os.path.join(a.out, "faces64_golden_out.npy"), out)
    np.save(os.path.join(a.out, "faces64_golden_out_f16.npy"), out16)
    write_png(os.path.join(a.out, "faces64_golden.png"), image_grid(out))
    print(f"torch {torch.__version__}: out {out.shape} range [{out.min():.4f}, {out.max():.4f}], "
          f"max |out - out_f16| = {float(np.abs(out - out16).max()):.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
