#!/usr/bin/env python3
"""Train the design notes' Keras DCGAN (SEED_NOTES.md) on the Noto emoji, in PyTorch, on the CPU.

    /opt/torchenv/bin/python tools/train_emoji.py EMOJI_PNG_DIR WORK_DIR \
        [--minutes 120] [--batch 32] [--bf16] [--channels-last] [--ema 0.999] [--resume WORK_DIR/last.pt]
    /opt/torchenv/bin/python tools/train_emoji.py EMOJI_PNG_DIR WORK_DIR --score WORK_DIR/g_*.pt
    /opt/torchenv/bin/python tools/train_emoji.py --export WORK_DIR/g_NNNNNN.pt \
        --samples WORK_DIR/samples_NNNNNN.png --note "how far it got"

EMOJI_PNG_DIR is ``package/img/google/64`` of ``npm pack emoji-datasource-google@16.0.0``
(3,786 RGBA 64x64 PNGs, Apache-2.0). Each is composited on white and resized to 56x56 (Lanczos).

The networks reproduce Keras' semantics layer for layer, so that the trained generator is the
design notes' Keras model and exports to webgan exactly (``tools/export_emoji.py``):

* generator: Dense(7*7*128, no bias) -> BN -> LeakyReLU -> Reshape(7, 7, 128) (channels-last
  element order) -> Conv2DTranspose(128, 5, s1, same, no bias) -> BN -> LeakyReLU ->
  Conv2DTranspose(256, 5, s2, same, no bias) -> BN -> LeakyReLU -> Conv2DTranspose(512, 5, s2,
  same, no bias) -> BN -> LeakyReLU -> Conv2DTranspose(3, 5, s2, same, no bias) -> tanh.
* TF's 'same' padding of a stride-2, 5x5 (transposed) convolution is asymmetric: 1 before,
  2 after. The transposed convolutions therefore run unpadded and crop [1:-2] (PyTorch's
  symmetric padding plus output_padding would shift the image by one pixel), and the
  discriminator's Conv2D pads (left 1, right 2, top 1, bottom 2) explicitly.
* BatchNormalization(momentum=0.8) = PyTorch momentum 0.2; Keras' epsilon 1e-3.
* LeakyReLU slope 0.3: the notes write ``LeakyReLU()``, and the default of the LeakyReLU *layer*
  is 0.3 in tf.keras 2 (``alpha``) and in Keras 3 (``negative_slope``, checked in 3.15.1);
  only the function ``keras.activations.leaky_relu`` defaults to 0.2.
* discriminator: Conv2D(64, 5, s2, same) -> LeakyReLU -> Dropout(0.3) -> Conv2D(128, 5, s2,
  same) -> LeakyReLU -> Dropout(0.3) -> Flatten (channels-last order) -> Dense(1) logit.

Speed on the CPU: --bf16 autocast runs the convolutions in bfloat16 through oneDNN; on this
project's 2-core AMD EPYC (AVX-512 BF16) a step of batch 32 takes 0.84 s instead of 1.81 s in
float32 (--bench 4). --ema keeps an exponential moving average of the generator's weights (the
usual remedy for a GAN generator that oscillates around a good solution); its BN statistics are
recomputed for the averaged weights at each snapshot (recalibrate_bn), and ema_*.pt exports like
g_*.pt.

Loss: binary cross-entropy on logits (as the TensorFlow DCGAN tutorial the notes follow), Adam
2e-4, beta1 0.5. It trains until --minutes of wall time have passed, logs to WORK_DIR/train.log
(and stdout), writes a sample grid of 64 fixed latents in inference mode (running BN statistics,
what webgan runs) every --sample-every steps, and keeps WORK_DIR/last.pt (generator state dict,
keys as in tools/arch/emoji56.json) and WORK_DIR/samples_*.png.

--export converts a generator state dict with tools/arch/emoji56.json to www/models/emoji56
(f16), writes samples.png there (64 fixed latents rendered from the shipped f16 folder by the
numpy reference implementation, not copied from training) and the golden fixtures
tests/fixtures/emoji56_golden_{z,out_f16}.npy (PyTorch's own output, computed in float64, with
the f16-rounded weights).
"""

from __future__ import annotations

import argparse
import copy
import glob
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden_pytorch import image_grid, round_to_f16, write_png  # noqa: E402

LATENT_DIM = 100
SLOPE = 0.3  # the default of Keras' LeakyReLU layer (tf.keras 2 `alpha` and Keras 3 `negative_slope`)
BN_EPS = 1e-3
BN_MOMENTUM = 0.2  # Keras momentum 0.8


def load_emoji(png_dir: str, size: int = 56, cache: str | None = None) -> np.ndarray:
    """All PNGs as [N, 3, size, size] float32 in [-1, 1], on white."""
    if cache and os.path.exists(cache):
        return np.load(cache)
    files = sorted(glob.glob(os.path.join(png_dir, "*.png")))
    if not files:
        raise SystemExit(f"no PNGs in {png_dir}")
    out = np.empty((len(files), 3, size, size), np.float32)
    for i, f in enumerate(files):
        im = Image.open(f).convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(bg, im).convert("RGB").resize((size, size), Image.LANCZOS)
        out[i] = np.asarray(rgb, np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    if cache:
        np.save(cache, out)
    return out


class KerasConvTranspose(nn.Module):
    """Conv2DTranspose(padding='same') with TF's asymmetric crop; weight [in, out, k, k]."""

    def __init__(self, cin: int, cout: int, k: int, stride: int):
        super().__init__()
        self.conv = nn.ConvTranspose2d(cin, cout, k, stride, padding=0, bias=False)
        # TF 'same': output = in * stride; the full output (in-1)*s + k is cropped by
        # total = k - s (when k >= s), before = total // 2, after = total - before.
        total = k - stride
        self.before, self.after = total // 2, total - total // 2

    def forward(self, x):
        y = self.conv(x)
        h, w = y.shape[-2:]
        return y[:, :, self.before:h - self.after, self.before:w - self.after]


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(LATENT_DIM, 7 * 7 * 128, bias=False)
        self.bn0 = nn.BatchNorm1d(7 * 7 * 128, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.ct1 = KerasConvTranspose(128, 128, 5, 1)
        self.bn1 = nn.BatchNorm2d(128, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.ct2 = KerasConvTranspose(128, 256, 5, 2)
        self.bn2 = nn.BatchNorm2d(256, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.ct3 = KerasConvTranspose(256, 512, 5, 2)
        self.bn3 = nn.BatchNorm2d(512, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.ct4 = KerasConvTranspose(512, 3, 5, 2)

    def forward(self, z):
        x = F.leaky_relu(self.bn0(self.dense(z)), SLOPE)
        # Keras Reshape((7, 7, 128)): the flat vector is in (h, w, c) order.
        x = x.view(-1, 7, 7, 128).permute(0, 3, 1, 2)
        x = F.leaky_relu(self.bn1(self.ct1(x)), SLOPE)
        x = F.leaky_relu(self.bn2(self.ct2(x)), SLOPE)
        x = F.leaky_relu(self.bn3(self.ct3(x)), SLOPE)
        return torch.tanh(self.ct4(x))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 64, 5, 2)
        self.c2 = nn.Conv2d(64, 128, 5, 2)
        self.fc = nn.Linear(14 * 14 * 128, 1)

    def forward(self, x):
        x = F.dropout(F.leaky_relu(self.c1(F.pad(x, (1, 2, 1, 2))), SLOPE), 0.3, self.training)
        x = F.dropout(F.leaky_relu(self.c2(F.pad(x, (1, 2, 1, 2))), SLOPE), 0.3, self.training)
        return self.fc(x.permute(0, 2, 3, 1).reshape(x.shape[0], -1))  # Keras Flatten on NHWC


def export(a) -> int:
    import convert
    import reference_forward

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    torch.set_grad_enabled(False)
    g = Generator()
    g.load_state_dict(torch.load(a.export, map_location="cpu", weights_only=True))
    g.eval()
    pt = os.path.join(os.path.dirname(os.path.abspath(a.export)), "emoji56_generator.pt")
    torch.save({k: v.clone() for k, v in g.state_dict().items()}, pt)
    www = os.path.join(root, "www", "models", "emoji56")
    desc = ("56x56 RGB emoji: the design notes' Keras DCGAN generator (Dense -> 4 "
            "Conv2DTranspose, 128/256/512 channels, LeakyReLU 0.3, Keras BN epsilon) trained by "
            "webgan from scratch on the CPU on the 3,786 Noto emoji of npm "
            "emoji-datasource-google@16.0.0 (tools/train_emoji.py). " + a.note)
    lic = ("Weights: MIT (webgan). Training images: Noto Emoji via emoji-datasource-google "
           "16.0.0, Apache-2.0 (Google).")
    src = ("Trained by tools/train_emoji.py (webgan) from " + os.path.basename(a.export)
           + ", exported with tools/convert.py --arch tools/arch/emoji56.json")
    convert.convert(pt, www, arch=os.path.join(root, "tools", "arch", "emoji56.json"),
                    dtype="f16", name="emoji56", description=desc, license=lic, source=src)

    z = np.random.default_rng(a.seed).standard_normal((4, LATENT_DIM)).astype(np.float32)
    # PyTorch in float64 on the f16-rounded weights: the exact value of what the f16 folder
    # holds (PyTorch's own float32 run differs from it by up to ~5e-5 on this model).
    g16 = round_to_f16(g).eval()
    out16 = g16.double()(torch.from_numpy(z).double()).numpy().astype(np.float32)
    out16_f32 = g16.float()(torch.from_numpy(z)).numpy()
    print(f"PyTorch float32 vs float64 on the same weights: max |diff| "
          f"{np.abs(out16_f32 - out16).max():.3g}")
    fdir = os.path.join(root, "tests", "fixtures")
    np.save(os.path.join(fdir, "emoji56_golden_z.npy"), z)
    np.save(os.path.join(fdir, "emoji56_golden_out_f16.npy"), out16)
    m, t = reference_forward.load_model(www)
    got = reference_forward.forward(m, t, z)
    print(f"{www}: numpy reference vs PyTorch (f16-rounded) max |diff| {np.abs(got - out16).max():.3g}")

    # The shipped model's own samples (the same 64 fixed latents as the training grids).
    fixed = np.random.default_rng(a.seed).standard_normal((64, LATENT_DIM)).astype(np.float32)
    imgs = reference_forward.forward(m, t, fixed)
    write_png(os.path.join(www, "samples.png"), image_grid(imgs, cols=8, scale=2))
    if a.discriminator:
        export_discriminator(a, root, out16)
    if a.samples:
        train_grid = np.asarray(Image.open(a.samples).convert("RGB"), np.float32)
        mine = os.path.join(www, "samples_1x.png")
        write_png(mine, image_grid(imgs, cols=8, scale=1))
        diff = np.abs(np.asarray(Image.open(mine).convert("RGB"), np.float32) - train_grid).max()
        os.remove(mine)
        print(f"samples.png vs the training grid {a.samples}: max pixel diff {diff:.0f}/255 "
              "(f16 weights, float64 reference)")
    print(f"wrote {www} (+ samples.png), tests/fixtures/emoji56_golden_*.npy")
    return 0


def recalibrate_bn(g: nn.Module, ctx, batches: int = 4, batch: int = 64) -> None:
    """Running BN statistics for averaged weights: the moving averages tracked during training
    belong to the live weights, so run the averaged generator on fresh latents in training mode
    with a cumulative average (momentum None), then leave it in inference mode."""
    bns = [m for m in g.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    g.train()
    with torch.no_grad(), ctx():
        for _ in range(batches):
            g(torch.randn(batch, LATENT_DIM))
    for m in bns:
        m.momentum = BN_MOMENTUM
    g.eval()


def export_discriminator(a, root: str, images: np.ndarray) -> None:
    """The discriminator of a full checkpoint (last.pt: {"d": ...}) to
    www/models/emoji56/discriminator (f16), and tests/fixtures/emoji56_golden_d_logits.npy:
    PyTorch's logits (float64, f16-rounded weights, inference: no dropout) for the golden
    generator output ``images``."""
    import convert
    import reference_forward

    ck = torch.load(a.discriminator, map_location="cpu", weights_only=True)
    d = Discriminator()
    d.load_state_dict(ck["d"] if "d" in ck else ck)
    d.eval()
    pt = os.path.join(os.path.dirname(os.path.abspath(a.discriminator)), "emoji56_discriminator.pt")
    torch.save({k: v.clone() for k, v in d.state_dict().items()}, pt)
    out = os.path.join(root, "www", "models", "emoji56", "discriminator")
    convert.convert(
        pt, out, arch=os.path.join(root, "tools", "arch", "emoji56_discriminator.json"), dtype="f16",
        name="emoji56_discriminator",
        description=("The discriminator trained with the emoji56 generator (the design notes' "
                     "Keras discriminator: Conv2D 64 -> Conv2D 128 -> Dense(1)); input: one "
                     "56x56 RGB image in [-1, 1], flattened NCHW; output: a logit, higher = more "
                     "like the training emoji. The page sorts a batch by it."),
        license="Weights: MIT (webgan). Training images: Noto Emoji via "
                "emoji-datasource-google 16.0.0, Apache-2.0 (Google).",
        source="Trained by tools/train_emoji.py (webgan) with the generator; "
               + os.path.basename(a.discriminator) + ", exported with tools/convert.py --arch "
               "tools/arch/emoji56_discriminator.json")
    d16 = round_to_f16(d).eval().double()
    with torch.no_grad():
        logits = d16(torch.from_numpy(images).double()).numpy().astype(np.float32)
    np.save(os.path.join(root, "tests", "fixtures", "emoji56_golden_d_logits.npy"), logits)
    m, t = reference_forward.load_model(out)
    got = reference_forward.forward(m, t, images.reshape(len(images), -1))
    print(f"{out}: numpy reference vs PyTorch logits {logits.ravel()} max |diff| "
          f"{np.abs(got - logits).max():.3g}")


def features(x: np.ndarray) -> np.ndarray:
    """[N, 3, 56, 56] -> [N, 192]: 8x8-pixel block means (a crude, fast image descriptor)."""
    n = x.shape[0]
    return x.reshape(n, 3, 7, 8, 7, 8).mean((3, 5)).reshape(n, -1)


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (as FID, on pixels)."""
    ma, mb = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(ca)
    sa = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    root = np.sqrt(np.clip(np.linalg.eigvalsh(sa @ cb @ sa), 0, None)).sum()
    return float(((ma - mb) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * root)


def score(a) -> int:
    """Rank checkpoints: Fréchet distance of 256 samples (inference mode) to the data set on
    8x8 block means, plus the spread of the samples (mode collapse shows as a small spread)."""
    torch.set_grad_enabled(False)
    data = load_emoji(a.png_dir, cache=os.path.join(a.work, "emoji56.npy")) if a.png_dir else \
        np.load(os.path.join(a.work, "emoji56.npy"))
    fr = features(data)
    print(f"real vs real (even/odd halves): {frechet(fr[::2], fr[1::2]):.2f}; "
          f"real spread {fr.std(0).mean():.3f}")
    z = torch.from_numpy(np.random.default_rng(1).standard_normal((256, LATENT_DIM)).astype(np.float32))
    for path in a.score:
        g = Generator()
        g.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        g.eval()
        x = np.concatenate([g(z[i:i + 64]).numpy() for i in range(0, 256, 64)])
        f = features(x)
        print(f"{os.path.basename(path)}: Fréchet(8x8 block means) {frechet(f, fr):.2f}, "
              f"spread {f.std(0).mean():.3f}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("png_dir", nargs="?")
    p.add_argument("work", nargs="?")
    p.add_argument("--export", help="generator state dict (g_*.pt) to export; skips training")
    p.add_argument("--samples", help="with --export: the training grid of that checkpoint, to compare")
    p.add_argument("--discriminator", metavar="LAST_PT",
                   help="with --export: also export the discriminator of this full checkpoint")
    p.add_argument("--note", default="", help="with --export: how far training got, for the description")
    p.add_argument("--score", nargs="+", metavar="G_PT",
                   help="rank these checkpoints against the data in WORK_DIR (see score())")
    p.add_argument("--minutes", type=float, default=42.0)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--bf16", action="store_true", help="bf16 autocast for the convolutions")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format (faster on CPU)")
    p.add_argument("--sample-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=20261130)
    p.add_argument("--bench", type=int, default=0, help="time this many steps and exit")
    p.add_argument("--resume", help="last.pt-style full checkpoint to continue from")
    p.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                   help="also keep an exponential moving average of the generator's weights "
                        "(e.g. 0.999), snapshot as ema_*.pt with recalibrated BN statistics")
    a = p.parse_args(argv)
    if a.export:
        return export(a)
    if a.score:
        return score(a)
    if not (a.png_dir and a.work):
        p.error("give EMOJI_PNG_DIR and WORK_DIR, or --export")

    torch.manual_seed(a.seed)
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    os.makedirs(a.work, exist_ok=True)
    log_path = os.path.join(a.work, "train.log")
    log_fh = open(log_path, "a", encoding="utf-8")

    def log(msg: str) -> None:
        print(msg, flush=True)
        log_fh.write(msg + "\n")
        log_fh.flush()

    data = torch.from_numpy(load_emoji(a.png_dir, cache=os.path.join(a.work, "emoji56.npy")))
    g, d = Generator(), Discriminator()
    if a.channels_last:
        g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
        data = data.contiguous(memory_format=torch.channels_last)
    opt_g = torch.optim.Adam(g.parameters(), a.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), a.lr, betas=(0.5, 0.999))
    step, epoch, elapsed0 = 0, 0, 0.0
    if a.resume:
        ck = torch.load(a.resume, map_location="cpu")
        g.load_state_dict(ck["g"]), d.load_state_dict(ck["d"])
        opt_g.load_state_dict(ck["opt_g"]), opt_d.load_state_dict(ck["opt_d"])
        step, epoch, elapsed0 = ck["step"], ck["epoch"], ck["elapsed"]
    ema = None
    if a.ema:
        ema = copy.deepcopy(g)
        if a.resume and "ema" in ck:
            ema.load_state_dict(ck["ema"])
        ema.requires_grad_(False)
    fixed_z = torch.from_numpy(
        np.random.default_rng(a.seed).standard_normal((64, LATENT_DIM)).astype(np.float32))
    bce = nn.BCEWithLogitsLoss()
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.bf16 else \
        (lambda: torch.autocast("cpu", enabled=False))
    log(f"# {len(data)} images {tuple(data.shape[1:])}, batch {a.batch}, lr {a.lr}, "
        f"bf16 {a.bf16}, channels_last {a.channels_last}, ema {a.ema}, step {step}, threads {torch.get_num_threads()}, budget {a.minutes} min, "
        f"G params {sum(t.numel() for t in g.parameters())}, "
        f"D params {sum(t.numel() for t in d.parameters())}")

    def snapshot(tag: str) -> None:
        g.eval()
        with torch.no_grad():
            s = g(fixed_z).numpy()
        g.train()
        write_png(os.path.join(a.work, f"samples_{tag}.png"), image_grid(s, cols=8, scale=1))
        state = {"g": g.state_dict(), "d": d.state_dict(), "opt_g": opt_g.state_dict(),
                 "opt_d": opt_d.state_dict(), "step": step, "epoch": epoch,
                 "elapsed": elapsed0 + time.time() - t0}
        if ema is not None:
            recalibrate_bn(ema, ctx)
            with torch.no_grad():
                write_png(os.path.join(a.work, f"ema_samples_{tag}.png"),
                          image_grid(ema(fixed_z).numpy(), cols=8, scale=1))
            torch.save(ema.state_dict(), os.path.join(a.work, f"ema_{tag}.pt"))
            state["ema"] = ema.state_dict()
        torch.save(state, os.path.join(a.work, "last.pt"))
        torch.save(g.state_dict(), os.path.join(a.work, f"g_{tag}.pt"))

    t0 = time.time()
    budget = a.minutes * 60
    n = len(data)
    sums = np.zeros(4)
    count = 0
    done = False
    while not done:
        perm = torch.randperm(n)
        for i in range(0, n - a.batch + 1, a.batch):
            real = data[perm[i:i + a.batch]]
            flip = torch.rand(a.batch) < 0.5
            real = torch.where(flip[:, None, None, None], real.flip(3), real)
            z = torch.randn(a.batch, LATENT_DIM)
            with ctx():
                fake = g(z)
                # Discriminator step (real labels smoothed to 0.9).
                lr_ = d(real).float()
                lf_ = d(fake.detach()).float()
                loss_d = bce(lr_, torch.full_like(lr_, 0.9)) + bce(lf_, torch.zeros_like(lf_))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            with ctx():
                lg_ = d(fake).float()
                loss_g = bce(lg_, torch.ones_like(lg_))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if ema is not None:
                with torch.no_grad():
                    torch._foreach_lerp_(list(ema.parameters()), list(g.parameters()), 1 - a.ema)
            step += 1
            sums += [loss_d.item(), loss_g.item(), torch.sigmoid(lr_).mean().item(),
                     torch.sigmoid(lf_).mean().item()]
            count += 1
            el = time.time() - t0
            if a.bench and step >= a.bench:
                log(f"bench: {step} steps in {el:.1f} s = {el / step:.2f} s/step "
                    f"({a.batch * step / el:.1f} img/s)")
                return 0
            if step % 20 == 0:
                m = sums / count
                log(f"step {step} epoch {epoch} t {elapsed0 + el:.0f}s loss_d {m[0]:.4f} "
                    f"loss_g {m[1]:.4f} D(real) {m[2]:.3f} D(fake) {m[3]:.3f}")
                sums[:] = 0
                count = 0
            if step % a.sample_every == 0:
                snapshot(f"{step:06d}")
            if el > budget:
                done = True
                break
        epoch += 1
    snapshot(f"{step:06d}")
    log(f"# finished: {step} steps, {epoch} epochs, {elapsed0 + time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
