#!/usr/bin/env python3
"""Build the design notes' Keras DCGAN with Keras itself and record what Keras computes, so the
Keras importer (tools/keras_import.py) and the engine are checked against Keras, not memory.

    /opt/kerasenv/bin/python tools/make_keras_fixtures.py            # small fixtures, committed
    /opt/kerasenv/bin/python tools/make_keras_fixtures.py --full build/keras_full
                                                                     # real widths, not committed

Needs keras (3.x, any backend; JAX on the CPU was used), h5py and numpy. Every
BatchNormalization gets random gamma, beta, moving mean and (positive) moving variance, so
epsilon, layouts and inference mode all matter. Outputs are ``model(x, training=False)``.

Writes into tests/fixtures/ (see tests/fixtures/README.md):

* ``keras_generator.keras`` / ``.h5``: the notes' generator (Dense(7*7*W0, no bias) -> BN(0.8)
  -> LeakyReLU -> Reshape(7, 7, W0) -> Conv2DTranspose(W0, 5, s1, same, no bias) -> BN ->
  LeakyReLU -> Conv2DTranspose(W1, 5, s2) -> BN -> LeakyReLU -> Conv2DTranspose(W2, 5, s2) ->
  BN -> LeakyReLU -> Conv2DTranspose(3, 5, s2, same, no bias, tanh)), widths 16/16/8 instead
  of 128/256/512 so each file stays under 1 MB; shape for shape otherwise (100 -> 56x56x3).
  ``keras_generator_z.npy`` [4, 100] and ``keras_generator_out.npy`` [4, 3, 56, 56] (NCHW).
* ``keras_discriminator.keras``: Conv2D(W, 5, s2, same) -> LeakyReLU -> Dropout(0.3) ->
  Conv2D(2W, 5, s2, same) -> LeakyReLU -> Dropout(0.3) -> Flatten -> Dense(1), W = 8 instead
  of 64. ``keras_discriminator_x.npy`` [4, 3*56*56]: the images flattened NCHW (webgan's
  input), ``keras_discriminator_out.npy`` [4, 1]: the logits.
* ``keras_misc.keras``: a Functional chain with the other supported layers and odd sizes
  (fused relu, UpSampling2D, 'valid' and strided Conv2D, Conv2DTranspose with output_padding
  and with kernel < stride, BatchNormalization without beta, ReLU, LeakyReLU(0.1),
  Activation), with
  ``keras_misc_z.npy`` / ``keras_misc_out.npy``.
* ``keras_unsupported.keras``: Input(5, 3) -> LSTM(4) -> Dense(2), which webgan must refuse.
* ``keras_generator/`` and ``keras_discriminator/``: the two models converted to webgan
  folders (f32) by tools/convert.py, which tests/keras_golden.rs loads.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import convert  # noqa: E402
import reference_forward  # noqa: E402

SEED = 20261130


def generator(widths=(128, 256, 512), z_dim=100) -> keras.Model:
    w0, w1, w2 = widths
    return keras.Sequential([
        keras.Input((z_dim,)),
        layers.Dense(7 * 7 * w0, use_bias=False),
        layers.BatchNormalization(momentum=0.8),
        layers.LeakyReLU(),
        layers.Reshape((7, 7, w0)),
        layers.Conv2DTranspose(w0, (5, 5), strides=(1, 1), padding="same", use_bias=False),
        layers.BatchNormalization(momentum=0.8),
        layers.LeakyReLU(),
        layers.Conv2DTranspose(w1, (5, 5), strides=(2, 2), padding="same", use_bias=False),
        layers.BatchNormalization(momentum=0.8),
        layers.LeakyReLU(),
        layers.Conv2DTranspose(w2, (5, 5), strides=(2, 2), padding="same", use_bias=False),
        layers.BatchNormalization(momentum=0.8),
        layers.LeakyReLU(),
        layers.Conv2DTranspose(3, (5, 5), strides=(2, 2), padding="same", use_bias=False,
                               activation="tanh"),
    ], name="generator")


def discriminator(width=64) -> keras.Model:
    return keras.Sequential([
        keras.Input((56, 56, 3)),
        layers.Conv2D(width, (5, 5), strides=(2, 2), padding="same"),
        layers.LeakyReLU(),
        layers.Dropout(0.3),
        layers.Conv2D(2 * width, (5, 5), strides=(2, 2), padding="same"),
        layers.LeakyReLU(),
        layers.Dropout(0.3),
        layers.Flatten(),
        layers.Dense(1),
    ], name="discriminator")


def misc() -> keras.Model:
    z = keras.Input((12,), name="z")
    x = layers.Dense(3 * 5 * 6, activation="relu", name="fc")(z)
    x = layers.Reshape((3, 5, 6), name="to_image")(x)
    x = layers.UpSampling2D((2, 1), name="up")(x)                               # 6x5x6
    x = layers.Conv2D(7, (3, 2), strides=(2, 1), padding="valid", name="conv_valid")(x)  # 2x4x7
    x = layers.Conv2D(5, (4, 3), strides=(1, 2), padding="same", name="conv_same")(x)   # 2x2x5
    x = layers.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1,
                               name="convt_op")(x)                              # 4x4x4
    x = layers.BatchNormalization(center=False, epsilon=0.01, name="bn_nobeta")(x)
    x = layers.ReLU(name="relu")(x)
    x = layers.Conv2DTranspose(3, 2, strides=3, padding="valid", name="convt_k2s3")(x)  # 12x12x3
    x = layers.LeakyReLU(negative_slope=0.1, name="lrelu")(x)
    x = layers.Activation("sigmoid", name="sigmoid")(x)
    x = layers.Conv2DTranspose(2, (4, 3), strides=(2, 3), padding="same",
                               name="convt_same_odd")(x)                        # 24x36x2
    return keras.Model(z, x, name="misc")


def unsupported() -> keras.Model:
    return keras.Sequential([keras.Input((5, 3)), layers.LSTM(4), layers.Dense(2)],
                            name="unsupported")


def randomize(model: keras.Model, rng: np.random.Generator, kernels: bool = False) -> None:
    """Non-trivial BatchNormalization statistics and biases (and, with ``kernels``, kernels
    of standard deviation 1.5/sqrt(fan-in), so that activations stay large)."""
    for layer in model.layers:
        if kernels and getattr(layer, "kernel", None) is not None:
            ws = layer.get_weights()
            k = ws[0]
            fan_in = int(np.prod(k.shape[:-2])) * (k.shape[-1] if "Transpose" in
                                                      type(layer).__name__ else k.shape[-2])
            if k.ndim == 2:
                fan_in = k.shape[0]
            ws[0] = (rng.standard_normal(k.shape) * 1.5 / np.sqrt(fan_in)).astype(np.float32)
            layer.set_weights(ws)
        if isinstance(layer, layers.BatchNormalization):
            new = []
            for v in layer.weights:
                shape = tuple(v.shape)
                kind = v.path.rsplit("/", 1)[-1]  # the layer's own name may contain "beta"
                if kind == "gamma":
                    new.append(rng.uniform(0.5, 1.5, shape))
                elif kind == "beta":
                    new.append(rng.normal(0.0, 0.2, shape))
                elif kind == "moving_mean":
                    new.append(rng.normal(0.0, 0.3, shape))
                elif kind == "moving_variance":
                    new.append(rng.uniform(0.2, 2.0, shape))
                else:
                    raise AssertionError(v.path)
            layer.set_weights([a.astype(np.float32) for a in new])
        elif getattr(layer, "use_bias", False) and getattr(layer, "bias", None) is not None:
            ws = layer.get_weights()
            ws[1] = rng.normal(0.0, 0.1, ws[1].shape).astype(np.float32)
            layer.set_weights(ws)


def run(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x, training=False), dtype=np.float32)


def nchw(y: np.ndarray) -> np.ndarray:
    return y.transpose(0, 3, 1, 2) if y.ndim == 4 else y


def check(folder: str, z: np.ndarray, want: np.ndarray, label: str) -> float:
    model, tensors = reference_forward.load_model(folder)
    got = reference_forward.forward(model, tensors, z)
    diff = float(np.max(np.abs(got - want)))
    print(f"{label}: numpy reference vs Keras max |diff| = {diff:.3g} "
          f"(output {list(want.shape)}, |out| max {float(np.max(np.abs(want))):.3g})")
    return diff


def make(out: str, widths, dwidth, committed: bool) -> None:
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    version = f"Keras {keras.__version__}, {keras.backend.backend()} backend"

    g = generator(widths)
    randomize(g, rng)
    z = rng.standard_normal((4, 100)).astype(np.float32)
    gy = nchw(run(g, z))
    g.save(os.path.join(out, "keras_generator.keras"))
    np.save(os.path.join(out, "keras_generator_z.npy"), z)
    np.save(os.path.join(out, "keras_generator_out.npy"), gy)

    d = discriminator(dwidth)
    randomize(d, rng)
    images = np.tanh(rng.standard_normal((4, 56, 56, 3))).astype(np.float32)  # NHWC for Keras
    dy = run(d, images)
    d.save(os.path.join(out, "keras_discriminator.keras"))
    x = images.transpose(0, 3, 1, 2).reshape(4, -1)  # webgan's input: flattened NCHW
    np.save(os.path.join(out, "keras_discriminator_x.npy"), x)
    np.save(os.path.join(out, "keras_discriminator_out.npy"), dy)

    desc = {"keras_generator": f"Test fixture: the design notes' Keras generator "
                               f"(widths {'/'.join(map(str, widths))}) with random weights and "
                               f"BatchNormalization statistics, saved by {version}.",
            "keras_discriminator": f"Test fixture: the design notes' Keras discriminator "
                                   f"(widths {dwidth}/{2 * dwidth}) with random weights, saved "
                                   f"by {version}; input: the flattened NCHW image, output: "
                                   "the logit."}
    for stem, zz, want in (("keras_generator", z, gy), ("keras_discriminator", x, dy)):
        folder = os.path.join(out, stem)
        convert.convert(os.path.join(out, stem + ".keras"), folder, dtype="f32", name=stem,
                        description=desc[stem], license="MIT (test fixture, random weights)",
                        source=f"tools/make_keras_fixtures.py ({version})")
        check(folder, zz, want, stem)

    if committed:
        # Keras 3 still writes the legacy HDF5 layout; the importer reads both.
        g.save(os.path.join(out, "keras_generator.h5"))
        m = misc()
        randomize(m, rng, kernels=True)
        mz = rng.standard_normal((3, 12)).astype(np.float32)
        my = nchw(run(m, mz))
        m.save(os.path.join(out, "keras_misc.keras"))
        np.save(os.path.join(out, "keras_misc_z.npy"), mz)
        np.save(os.path.join(out, "keras_misc_out.npy"), my)
        u = unsupported()
        u.save(os.path.join(out, "keras_unsupported.keras"))

    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        if os.path.isfile(path) and name.startswith("keras_"):
            print(f"  {name}: {os.path.getsize(path)} bytes")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--full", metavar="DIR",
                   help="build the real widths (128/256/512, 64) into DIR instead")
    a = p.parse_args(argv)
    if a.full:
        make(a.full, (128, 256, 512), 64, committed=False)
    else:
        make(os.path.join(ROOT, "tests", "fixtures"), (16, 16, 8), 8, committed=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
