#!/usr/bin/env python3
"""Check that the PyTorch-trained emoji56 generator IS the design notes' Keras model: load its
weights into the Keras generator of tools/make_keras_fixtures.py, run Keras, and compare with
webgan's conversion of the PyTorch checkpoint; then save the Keras model as .keras and convert
that through the Keras importer too.

    /opt/kerasenv/bin/python tools/check_emoji_keras.py build/emoji/emoji56_generator.pt [OUT_DIR]

Needs keras (JAX backend), h5py and numpy; the checkpoint is read without torch. Prints the
max differences; exits 1 if any exceeds 1e-4.
"""

from __future__ import annotations

import os
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import convert  # noqa: E402
import make_keras_fixtures  # noqa: E402
import reference_forward  # noqa: E402
import torch_checkpoint  # noqa: E402


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    pt = argv[0]
    out = argv[1] if len(argv) > 1 else tempfile.mkdtemp(prefix="emoji56-keras-")
    sd = torch_checkpoint.load_state_dict(pt, None)
    g = make_keras_fixtures.generator((128, 256, 512))
    bn = iter(["bn0", "bn1", "bn2", "bn3"])
    ct = iter(["ct1", "ct2", "ct3", "ct4"])
    import keras
    for layer in g.layers:
        if isinstance(layer, keras.layers.Dense):
            layer.set_weights([sd["dense.weight"].T])
        elif isinstance(layer, keras.layers.BatchNormalization):
            b = next(bn)
            layer.set_weights([sd[f"{b}.{k}"] for k in ("weight", "bias", "running_mean",
                                                         "running_var")])
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            w = sd[f"{next(ct)}.conv.weight"]               # [in, out, kh, kw]
            layer.set_weights([w.transpose(2, 3, 1, 0)])      # (kh, kw, out, in)
    z = np.random.default_rng(7).standard_normal((4, 100)).astype(np.float32)
    keras_out = np.asarray(g(z, training=False)).transpose(0, 3, 1, 2)

    torch_dir = os.path.join(out, "from_pytorch")
    convert.convert(pt, torch_dir, arch=os.path.join(ROOT, "tools", "arch", "emoji56.json"),
                    dtype="f32")
    m, t = reference_forward.load_model(torch_dir)
    d1 = float(np.abs(reference_forward.forward(m, t, z) - keras_out).max())

    path = os.path.join(out, "emoji56.keras")
    g.save(path)
    keras_dir = os.path.join(out, "from_keras")
    convert.convert(path, keras_dir, dtype="f32")
    m2, t2 = reference_forward.load_model(keras_dir)
    d2 = float(np.abs(reference_forward.forward(m2, t2, z) - keras_out).max())
    print(f"Keras {keras.__version__} with the trained weights vs webgan (PyTorch checkpoint "
          f"converted with tools/arch/emoji56.json): max |diff| {d1:.3g}")
    print(f"the same Keras model saved as .keras and converted by the Keras importer: "
          f"max |diff| {d2:.3g}; files in {out}")
    return 0 if max(d1, d2) < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
