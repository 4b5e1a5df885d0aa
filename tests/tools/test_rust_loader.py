"""Every converter output loads in the Rust engine: each fixture checkpoint (tests/fixtures/*.pt,
*.keras, *.h5) and a hand-made --arch model that uses every op are converted to a temporary
folder at test time and run by the release CLI (`webgan generate --backend cpu`), whose output
must match the numpy reference (tools/reference_forward.py) on the same latents. So a converter
change that writes a manifest the Rust loader refuses (an unknown field, a cap, a BN rule) fails
here, not in a user's browser. The fixtures that are not generators must fail to convert with a
clean error.

    python3 -m unittest discover -s tests/tools -t .

The CLI is target/release/webgan (or $CARGO_TARGET_DIR/release/webgan);
setUpClass builds it with `cargo build --release --bin webgan` every run (a few minutes the
first time, a no-op when current).
There is no skip: without cargo or a building tree this test fails and says why.
"""

from __future__ import annotations

import collections
import contextlib
import glob
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import convert  # noqa: E402
import reference_forward  # noqa: E402
from tests.tools.test_convert import FakeStorage, make_zip, tensor  # noqa: E402

TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
WEBGAN = os.path.join(TARGET, "release", "webgan")

# Fixtures that are deliberately not convertible generators, with the converter's error.
NOT_GENERATORS = {
    "tiny_views_legacy.pt": "neither a ConvTranspose2d nor a BatchNorm2d",
    "tiny_views_zip.pt": "neither a ConvTranspose2d nor a BatchNorm2d",
    "keras_unsupported.keras": "of type LSTM is not supported",
}


def every_op_checkpoint(folder: str) -> tuple[str, str]:
    """A conditional --arch model using every op (and f32 batch-norm folding), as a zip checkpoint
    and an architecture file."""
    rng = np.random.default_rng(7)
    shapes = collections.OrderedDict([
        ("fc.weight", (8, 7)), ("fc.bias", (8,)),
        ("c.weight", (5, 2, 3, 3)), ("c.bias", (5,)),
        ("bn.weight", (5,)), ("bn.bias", (5,)), ("bn.running_mean", (5,)), ("bn.running_var", (5,)),
        ("t.weight", (5, 3, 3, 3)),
    ])
    state = collections.OrderedDict()
    for i, (name, shape) in enumerate(shapes.items()):
        values = rng.standard_normal(shape).astype(np.float32) * 0.5
        if name == "bn.running_var":
            values = np.abs(values) + 0.1
        state[name] = tensor(FakeStorage("FloatStorage", str(i), values.ravel()), 0, shape)
    arch = {"latent_dim": 4, "num_classes": 3, "output_shape": [3, 9, 12], "layers": [
        {"op": "concat_one_hot", "classes": 3},
        {"op": "linear", "weight": "fc.weight", "bias": "fc.bias"},
        {"op": "leaky_relu", "slope": 0.2},
        {"op": "reshape", "shape": [2, 2, 2], "order": "channels_last"},
        {"op": "upsample", "scale": [2, 3]},
        {"op": "conv2d", "kernel": 3, "stride": 1, "padding": 1, "weight": "c.weight", "bias": "c.bias"},
        {"op": "batch_norm", "channels": 5, "eps": 1e-3, "weight": "bn.weight", "bias": "bn.bias",
         "running_mean": "bn.running_mean", "running_var": "bn.running_var"},
        {"op": "relu"},
        {"op": "sigmoid"},
        {"op": "conv_transpose2d", "stride": [2, 2], "padding": [1, 0, 0, 1],
         "output_padding": [1, 0], "weight": "t.weight"},
        {"op": "tanh"},
    ]}
    ckpt = os.path.join(folder, "every_op.pt")
    with open(ckpt, "wb") as fh:
        fh.write(make_zip(state))
    arch_path = os.path.join(folder, "every_op.json")
    with open(arch_path, "w") as fh:
        json.dump(arch, fh)
    return ckpt, arch_path


class RustLoaderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Built (or found current: a no-op) every run, so the loader tested is never older
        # than the tree.
        build = subprocess.run(["cargo", "build", "--release", "--bin", "webgan"], cwd=ROOT,
                               capture_output=True, text=True)
        if build.returncode != 0 or not os.path.exists(WEBGAN):
            raise AssertionError(f"cannot build {WEBGAN} for the Rust loader test:\n"
                                 + build.stderr[-3000:])
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def convert(self, src: str, out: str, *args: str) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            rc = convert.main([src, out, *args])
        self.assertEqual(rc, 0, src)

    def run_rust(self, folder: str, label: str) -> None:
        """webgan generate on 2 latents; compares with the numpy reference."""
        model, tensors = reference_forward.load_model(folder)
        z = np.random.default_rng(1).standard_normal((2, model["latent_dim"])).astype(np.float32)
        zpath, ypath = os.path.join(folder, "z.npy"), os.path.join(folder, "y.npy")
        np.save(zpath, z)
        cmd = [WEBGAN, "generate", "--model", folder, "--latents", zpath, "--out", ypath,
               "--backend", "cpu"]
        classes = None
        if model.get("num_classes"):
            cmd += ["--class", "1"]
            classes = np.array([1, 1])
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, f"{label}: the Rust loader refused the converter's "
                                          f"output:\n{p.stderr}")
        got = np.load(ypath)
        want = reference_forward.forward(model, tensors, z.astype(np.float64), classes)
        self.assertEqual(got.shape, want.shape, label)
        err = float(np.max(np.abs(got - want)))
        self.assertLess(err, 1e-3, f"{label}: max |rust - numpy| = {err}")
        # The seed path too, as the brief's command runs it.
        p = subprocess.run([WEBGAN, "generate", "--model", folder, "--seed", "1", "--count", "1",
                            "--out", ypath, "--backend", "cpu"] + (["--class", "0"] if classes is not None else []),
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, f"{label}: {p.stderr}")

    def test_every_fixture_checkpoint(self):
        sources = sorted(glob.glob(os.path.join(FIXTURES, "*.pt"))
                         + glob.glob(os.path.join(FIXTURES, "*.keras"))
                         + glob.glob(os.path.join(FIXTURES, "*.h5")))
        self.assertGreaterEqual(len(sources), 8, "fixture checkpoints missing")
        converted = 0
        for src in sources:
            name = os.path.basename(src)
            with self.subTest(name):
                out = os.path.join(self.tmp.name, name.replace(".", "_"))
                # A state dict records no activations: the .pt fixtures are standard DCGANs.
                arch = ["--arch", "dcgan"] if name.endswith(".pt") else []
                if name in NOT_GENERATORS:
                    with self.assertRaisesRegex(convert.ConvertError, NOT_GENERATORS[name]):
                        convert.convert(src, out, arch=arch[1] if arch else None)
                    continue
                dtypes = ("f16", "f32") if name.endswith(".pt") else ("f16",)
                for dtype in dtypes:
                    self.convert(src, out + dtype, "--dtype", dtype, *arch)
                    self.run_rust(out + dtype, f"{name} {dtype}")
                converted += 1
        self.assertGreaterEqual(converted, 6)

    def test_arch_json_with_every_op(self):
        ckpt, arch = every_op_checkpoint(self.tmp.name)
        out = os.path.join(self.tmp.name, "every_op")
        self.convert(ckpt, out, "--arch", arch, "--dtype", "f32")
        with open(os.path.join(out, "model.json")) as fh:
            ops = {layer["op"] for layer in json.load(fh)["layers"]}
        self.assertEqual(ops, set(convert.LAYER_FIELDS))
        self.run_rust(out, "every_op.json")

    def test_graph_template_sngan(self):
        # A format-2 folder from a state dict with spectral norm (both forms), nn.Embedding
        # and residual blocks (tests/fixtures/onnx/sngan/arch.json): the Rust engine
        # reproduces torch's own output.
        src = os.path.join(FIXTURES, "onnx", "sngan")
        for name in ("model.pt", "model.safetensors"):
            with self.subTest(name):
                out = os.path.join(self.tmp.name, "sngan_" + name.replace(".", "_"))
                self.convert(os.path.join(src, name), out, "--arch", os.path.join(src, "arch.json"),
                             "--dtype", "f32")
                ypath = os.path.join(out, "y.npy")
                p = subprocess.run([WEBGAN, "generate", "--model", out, "--latents",
                                    os.path.join(src, "z.npy"), "--classes", os.path.join(src, "y.npy"),
                                    "--out", ypath, "--backend", "cpu"],
                                   capture_output=True, text=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr)
                err = float(np.max(np.abs(np.load(ypath) - np.load(os.path.join(src, "out.npy")))))
                self.assertLess(err, 1e-5, f"{name}: max |rust - torch| = {err}")


if __name__ == "__main__":
    unittest.main()
