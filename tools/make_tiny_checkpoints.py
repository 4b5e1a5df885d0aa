#!/usr/bin/env python3
"""Tiny real PyTorch checkpoints for the converter tests (needs torch).

    /opt/torchenv/bin/python tools/make_tiny_checkpoints.py [modules]

The unit tests also build checkpoints by hand without torch; these files
check the readers against what torch.save really writes, in both formats.
Writes to tests/fixtures/ (each file is a few KB):

  tiny_dcgan_legacy.pt      bare state dict of a 3-layer DCGAN generator
                            (nz=8 -> 3x16x16, bare nn.Sequential so keys are
                            0.weight, 1.running_mean, ...; bias on the last
                            ConvTranspose2d), legacy format
  tiny_dcgan_nested.pt      {'netG_state_dict': same, 'netD_state_dict': a
                            small discriminator, 'epoch': 3}, zip format
  tiny_dcgan_z.npy          [2, 8] float32 latents
  tiny_dcgan_out.npy        [2, 3, 16, 16] float32 PyTorch output (eval mode)
  tiny_views_legacy.pt,     dict of tensors that share one storage through
  tiny_views_zip.pt         offsets and strides, plus f16, bf16, int64, bool,
                            0-d and empty tensors; values are listed in
                            tests/tools/test_convert.py
  tiny_module_zip.pt,       torch.save(model) of a whole module (``Generator``
  tiny_module_legacy.pt     below: LeakyReLU, BatchNorm eps 1e-3, spectral norm,
                            upsampling), zip and legacy format
  tiny_module_z.npy         [2, 8] float32 latents
  tiny_module_out.npy       [2, 3, 16, 16] its PyTorch output (eval mode)

``modules`` writes only the tiny_module_* files (torch 2.15 made them; the others
were made by an older torch and are left as they are).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures")


def tiny_generator() -> nn.Module:
    torch.manual_seed(7)
    g = nn.Sequential(
        nn.ConvTranspose2d(8, 16, 4, 1, 0, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(True),
        nn.ConvTranspose2d(16, 8, 4, 2, 1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(True),
        nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=True),
        nn.Tanh(),
    )
    with torch.no_grad():
        # Non-trivial BatchNorm statistics so a wrong formula shows up.
        for m in g:
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.2, 2.0)
                m.num_batches_tracked.fill_(42)
    return g.eval()


def tiny_discriminator() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
                         nn.Conv2d(4, 1, 8, 1, 0, bias=False), nn.Sigmoid())


def views() -> dict[str, torch.Tensor]:
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return {
        "base": base,
        "row": base[1],              # offset 6
        "col": base[:, 2],           # offset 2, stride 6
        "t": base.t(),               # strides (1, 6)
        "block": base[1:3, ::2],     # offset 6, strides (6, 2)
        "half": torch.tensor([1.5, -2.0, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.140625, 256.0], dtype=torch.bfloat16),
        "long": torch.tensor([-5, 7, 2**40], dtype=torch.int64),
        "flag": torch.tensor([True, False]),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 3),
    }


class Generator(nn.Module):
    """The PyTorch DCGAN tutorial's shape: a module whose only content is ``self.main``, an
    nn.Sequential; torch.save(model) pickles it as ``__main__.Generator``. Its layers are
    what a state dict cannot tell: LeakyReLU(0.2), BatchNorm eps 1e-3, nearest upsampling
    with a 3x3 Conv2d, spectral_norm on a square ConvTranspose2d (dim 1, from its hook)."""

    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(8, 16, 4, 1, 0, bias=False),
            nn.BatchNorm2d(16, eps=1e-3),
            nn.LeakyReLU(0.2, True),
            nn.utils.spectral_norm(nn.ConvTranspose2d(16, 16, 4, 2, 1)),
            nn.BatchNorm2d(16),
            nn.ReLU(True),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(16, 3, 3, 1, 1),
            nn.Dropout(0.3),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


def tiny_module() -> nn.Module:
    torch.manual_seed(11)
    g = Generator()
    g.train()
    with torch.no_grad():
        for _ in range(3):  # power iterations: u, v are not their random start
            g(torch.randn(4, 8, 1, 1))
        for m in g.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.2, 2.0)
    return g.eval()


def write_modules() -> None:
    """tiny_module_{zip,legacy}.pt: torch.save(model) of ``Generator`` (a whole pickled
    module, read by pickled_modules.py), with tiny_module_z.npy and tiny_module_out.npy."""
    g = tiny_module()
    z = np.random.default_rng(20261201).standard_normal((2, 8)).astype(np.float32)
    with torch.no_grad():
        out = g(torch.from_numpy(z).reshape(2, 8, 1, 1)).numpy().astype(np.float32)
    torch.save(g, os.path.join(OUT, "tiny_module_zip.pt"))
    torch.save(g, os.path.join(OUT, "tiny_module_legacy.pt"), _use_new_zipfile_serialization=False)
    np.save(os.path.join(OUT, "tiny_module_z.npy"), z)
    np.save(os.path.join(OUT, "tiny_module_out.npy"), out)


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[1:] == ["modules"]:  # only the whole-module files (the others stay as made)
        write_modules()
        print(f"torch {torch.__version__}: wrote tiny_module_* to {OUT}")
        return
    write_modules()
    g = tiny_generator()
    sd = g.state_dict()
    torch.save(sd, os.path.join(OUT, "tiny_dcgan_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save({"netG_state_dict": sd, "netD_state_dict": tiny_discriminator().state_dict(),
                "epoch": 3}, os.path.join(OUT, "tiny_dcgan_nested.pt"))
    z = np.random.default_rng(20261130).standard_normal((2, 8)).astype(np.float32)
    with torch.no_grad():
        out = g(torch.from_numpy(z).reshape(2, 8, 1, 1)).numpy().astype(np.float32)
    np.save(os.path.join(OUT, "tiny_dcgan_z.npy"), z)
    np.save(os.path.join(OUT, "tiny_dcgan_out.npy"), out)
    v = views()
    torch.save(v, os.path.join(OUT, "tiny_views_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(v, os.path.join(OUT, "tiny_views_zip.pt"))
    print(f"torch {torch.__version__}: wrote tiny checkpoints to {OUT}")


if __name__ == "__main__":
    main()
