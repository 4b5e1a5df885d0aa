"""Tests for tools/make_gallery.py (www/models/index.json) and the model folders it lists.

    python3 -m unittest discover -s tests/tools -t .
"""

from __future__ import annotations

import collections
import json
import os
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import convert  # noqa: E402
import make_gallery  # noqa: E402
import reference_forward  # noqa: E402

MODELS = os.path.join(ROOT, "www", "models")
# Fields the page reads (www/main.js, www/load.js); the faces64 entry defined them.
PAGE_FIELDS = ["id", "path", "name", "description", "size", "resolution", "channels",
               "latent_dim", "num_classes", "dtype", "sha256", "license", "source"]


class GalleryTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def conditional_folder(self, name: str) -> str:
        """A tiny conditional model folder made by convert.py from an arch with class_names."""
        rng = np.random.default_rng(0)
        state = collections.OrderedDict(
            [("fc.weight", rng.standard_normal((12, 5)).astype(np.float32))])
        arch = {"latent_dim": 3, "num_classes": 2, "class_names": ["cat", "dog"],
                "output_shape": [3, 2, 2], "layers": [
                    {"op": "concat_one_hot", "classes": 2},
                    {"op": "linear", "weight": "fc.weight", "bias": None},
                    {"op": "reshape", "shape": [3, 2, 2], "order": "channels_first"}]}
        return self.folder(os.path.join(self.tmp.name, "models", name), arch, state)

    def discriminator_folder(self, model: str, inputs: int) -> str:
        """A tiny discriminator (one linear layer: ``inputs`` values -> one logit) in
        ``model``/discriminator."""
        state = collections.OrderedDict(
            [("fc.weight", np.ones((1, inputs), np.float32)), ("fc.bias", np.zeros(1, np.float32))])
        arch = {"latent_dim": inputs, "output_shape": [1],
                "layers": [{"op": "linear", "weight": "fc.weight", "bias": "fc.bias"}]}
        return self.folder(os.path.join(self.tmp.name, "models", model, "discriminator"), arch, state)

    def folder(self, out: str, arch: dict, state: dict) -> str:
        """A model folder made by convert.py from ``arch`` and the tensors ``state``."""
        name = os.path.basename(out)
        arch_path = os.path.join(self.tmp.name, "arch.json")
        with open(arch_path, "w") as fh:
            json.dump(arch, fh)
        # Any readable checkpoint will do: patch the reader to return the state above.
        orig = convert.read_pytorch
        convert.read_pytorch = lambda path, key: (state, None)
        try:
            with open(os.path.join(self.tmp.name, "fake.pt"), "wb") as fh:
                fh.write(b"x")
            convert.convert(os.path.join(self.tmp.name, "fake.pt"), out, arch=arch_path,
                            dtype="f32", name=name, description="d", license="l", source="s")
        finally:
            convert.read_pytorch = orig
        return out

    def test_entries_and_default(self):
        models = os.path.join(self.tmp.name, "models")
        self.conditional_folder("zoo")
        self.conditional_folder("animals")
        with open(os.path.join(models, "zoo", "class_names.json")) as fh:
            self.assertEqual(json.load(fh), ["cat", "dog"])
        g = make_gallery.build(models, default="zoo")
        self.assertEqual(g["format"], "webgan-gallery/1")
        self.assertEqual(g["default"], "zoo")
        self.assertEqual([e["id"] for e in g["models"]], ["zoo", "animals"])
        e = g["models"][0]
        for field in PAGE_FIELDS:
            self.assertIn(field, e)
        self.assertEqual(e["path"], "zoo/")
        self.assertEqual(e["resolution"], "2x2")
        self.assertEqual(e["channels"], 3)
        self.assertTrue(e["conditional"])
        self.assertEqual(e["class_names"], ["cat", "dog"])
        self.assertEqual(e["size"], os.path.getsize(os.path.join(models, "zoo", "weights.safetensors")))
        # unknown default: faces64 if present, else the first name
        self.assertEqual(make_gallery.build(models, default="nope")["default"], "animals")
        self.assertNotIn("discriminator", e)

    def test_discriminator_is_listed_with_its_generator(self):
        models = os.path.join(self.tmp.name, "models")
        self.conditional_folder("zoo")
        critic = self.discriminator_folder("zoo", 12)  # zoo's images are 3x2x2
        g = make_gallery.build(models)
        self.assertEqual([e["id"] for e in g["models"]], ["zoo"])  # not a model of its own
        d = g["models"][0]["discriminator"]
        self.assertEqual(d["path"], "zoo/discriminator/")
        self.assertEqual(d["size"], os.path.getsize(os.path.join(critic, "weights.safetensors")))
        with open(os.path.join(critic, "model.json")) as fh:
            self.assertEqual(d["sha256"], json.load(fh)["weights"]["sha256"])
        # One that takes another image size is refused.
        self.discriminator_folder("zoo", 13)
        with self.assertRaises(SystemExit) as cm:
            make_gallery.build(models)
        self.assertIn("not a discriminator of zoo", str(cm.exception))

    def test_committed_index_is_current(self):
        # www/models/index.json must be what make_gallery.py writes for the committed folders.
        with open(os.path.join(MODELS, "index.json"), encoding="utf-8") as fh:
            committed = json.load(fh)
        fresh = json.loads(json.dumps(make_gallery.build(MODELS)))
        self.assertEqual(committed, fresh, "run python3 tools/make_gallery.py")
        for e in committed["models"]:
            for field in PAGE_FIELDS:
                self.assertIn(field, e, e["id"])
            self.assertTrue(os.path.isfile(os.path.join(MODELS, e["path"], "model.json")))


class ShippedTrainedModelsTest(unittest.TestCase):
    """The models webgan trained itself: the shipped f16 folders reproduce PyTorch (run in
    float64 on the same f16-rounded weights; tests/fixtures/README.md)."""

    def check(self, folder: str, z: str, out: str, classes: str | None = None):
        path = os.path.join(MODELS, folder)
        if not os.path.exists(os.path.join(path, "model.json")):
            self.skipTest(f"{folder} not present")
        f = os.path.join(ROOT, "tests", "fixtures")
        model, tensors = reference_forward.load_model(path)
        labels = np.load(os.path.join(f, classes)) if classes else None
        got = reference_forward.forward(model, tensors, np.load(os.path.join(f, z)), labels)
        want = np.load(os.path.join(f, out))
        self.assertLess(float(np.max(np.abs(got - want))), 1e-5)
        self.assertTrue(os.path.isfile(os.path.join(path, "samples.png")))

    def test_digits(self):
        self.check("digits", "digits_golden_z.npy", "digits_golden_out_f16.npy",
                   "digits_golden_classes.npy")

    def test_emoji56(self):
        self.check("emoji56", "emoji56_golden_z.npy", "emoji56_golden_out_f16.npy")

    def test_emoji56_discriminator(self):
        # Its logits for the golden generator images, as PyTorch computed them at export.
        f = os.path.join(ROOT, "tests", "fixtures")
        model, tensors = reference_forward.load_model(os.path.join(MODELS, "emoji56", "discriminator"))
        images = np.load(os.path.join(f, "emoji56_golden_out_f16.npy"))
        got = reference_forward.forward(model, tensors, images.reshape(len(images), -1))
        want = np.load(os.path.join(f, "emoji56_golden_d_logits.npy"))
        self.assertEqual(got.shape, want.shape)
        self.assertLess(float(np.max(np.abs(got - want))), 1e-5)


if __name__ == "__main__":
    unittest.main()
