"""Tests for the converter's format-2 graph templates (tools/graph_arch.py), and the SNGAN and
DCGAN fixtures torch wrote (tests/fixtures/onnx/, made by tools/make_onnx_fixtures.py)
(numpy only, no torch).

    python3 -m unittest discover -s tests/tools -t .
"""

from __future__ import annotations

import collections
import json
import os
import unittest

import numpy as np

from tests.tools.convert_graph_helpers import (  # puts tools/ on sys.path
    ONNX_FIXTURES, sn_state, zip_file, read_weights, TempDirMixin,
)
import convert  # noqa: E402
import reference_forward  # noqa: E402


# ------------------------------------------------------------ graph templates

def graph_state():
    """A tiny conditional generator's state dict: nn.Embedding(3, 2) concatenated with z [4],
    a spectral-normed Linear(6, 8) (classic hook), BatchNorm1d, a weight-normed
    ConvTranspose2d(2, 3, 2) (parametrization), Tanh."""
    rng = np.random.default_rng(11)
    emb = rng.standard_normal((3, 2)).astype(np.float32)
    fc_w = rng.standard_normal((8, 6)).astype(np.float32)
    sn, fc_want = sn_state("fc", fc_w, 0)
    t_v = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    t_g = rng.uniform(0.5, 2, (2, 1, 1, 1)).astype(np.float32)
    v64 = t_v.astype(np.float64)
    t_want = t_g * v64 / np.sqrt((v64 ** 2).reshape(2, -1).sum(1)).reshape(2, 1, 1, 1)
    state = collections.OrderedDict([("embed.weight", emb)] + sn + [
        ("fc.bias", rng.standard_normal(8).astype(np.float32)),
        ("bn.weight", rng.uniform(0.5, 1.5, 8).astype(np.float32)),
        ("bn.bias", rng.standard_normal(8).astype(np.float32)),
        ("bn.running_mean", rng.standard_normal(8).astype(np.float32)),
        ("bn.running_var", rng.uniform(0.5, 2, 8).astype(np.float32)),
        ("bn.num_batches_tracked", np.array(3, np.int64)),
        ("up.parametrizations.weight.original0", t_g),
        ("up.parametrizations.weight.original1", t_v),
        ("up.bias", rng.standard_normal(3).astype(np.float32)),
    ])
    template = collections.OrderedDict([
        ("format", "webgan-model/2"),
        ("description", "a test graph"),
        ("class_names", ["a", "b", "c"]),
        ("inputs", [{"name": "z", "role": "latent", "shape": [4]},
                    {"name": "k", "role": "class", "classes": 3}]),
        ("nodes", [
            {"name": "e", "op": "embedding", "inputs": ["k"], "classes": 3, "dim": 2,
             "weight": "embed.weight"},
            {"name": "h", "op": "concat", "inputs": ["z", "e"], "axis": 0},
            {"name": "fc", "op": "linear", "inputs": ["h"], "in_features": 6, "out_features": 8,
             "weight": "fc.weight", "bias": "fc.bias"},
            {"name": "bn", "op": "batch_norm", "inputs": ["fc"], "channels": 8, "eps": 1e-5,
             "weight": "bn.weight", "bias": "bn.bias", "running_mean": "bn.running_mean",
             "running_var": "bn.running_var"},
            {"name": "r", "op": "relu", "inputs": ["bn"]},
            {"name": "img", "op": "reshape", "inputs": ["r"], "shape": [2, 2, 2],
             "order": "channels_first"},
            {"name": "up", "op": "conv_transpose2d", "inputs": ["img"], "in_channels": 2,
             "out_channels": 3, "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0, 0, 0],
             "output_padding": [0, 0], "weight": "up.weight", "bias": "up.bias"},
            {"name": "out", "op": "tanh", "inputs": ["up"]},
        ]),
        ("output", "out"),
    ])
    return state, template, {"fc.weight": fc_want, "up.weight": t_want}


class GraphTemplateTest(TempDirMixin, unittest.TestCase):
    def write(self, template, state=None, name="g"):
        arch = self.path(f"{name}.json")
        with open(arch, "w") as fh:
            json.dump(template, fh)
        src = zip_file(self.tmp.name, f"{name}.pt", state if state is not None else graph_state()[0])
        return src, arch

    def test_converts_folds_and_keeps_the_graph(self):
        state, template, want = graph_state()
        src, arch = self.write(template, state)
        for dtype in ("f32", "f16"):
            with self.subTest(dtype=dtype):
                out = self.path(f"out-{dtype}")
                rc, stdout, err = self.cli(src, out, "--arch", arch, "--dtype", dtype,
                                           "--license", "MIT")
                self.assertEqual(rc, 0, err)
                self.assertIn("a graph of 8 nodes, output 'out'", stdout)
                with open(os.path.join(out, "model.json"), encoding="utf-8") as fh:
                    text = fh.read()
                model = json.loads(text, object_pairs_hook=collections.OrderedDict)
                self.assertEqual(list(model), ["format", "name", "description", "license", "source",
                                               "weights", "inputs", "nodes", "output"])
                self.assertEqual(model["format"], "webgan-model/2")
                self.assertEqual(model["description"], "a test graph")   # from the template
                self.assertEqual(model["license"], "MIT")                 # the flag wins
                self.assertEqual(model["name"], f"out-{dtype}")
                self.assertEqual(model["nodes"], template["nodes"])
                self.assertEqual(model["inputs"], template["inputs"])
                self.assertIn('\n    {"name": "fc", "op": "linear"', text)
                with open(os.path.join(out, "class_names.json")) as fh:
                    self.assertEqual(json.load(fh), ["a", "b", "c"])
                got = read_weights(out)
                self.assertEqual(sorted(got), sorted(["embed.weight", "fc.weight", "fc.bias", "bn.weight",
                                                      "bn.bias", "bn.running_mean", "bn.running_var",
                                                      "up.weight", "up.bias"]))
                tol = 1e-6 if dtype == "f32" else 1e-3
                for k, w in want.items():
                    self.assertEqual(got[k].dtype, np.float32 if dtype == "f32" else np.float16)
                    np.testing.assert_allclose(got[k], w, rtol=tol, atol=tol, err_msg=k)
                np.testing.assert_array_equal(got["embed.weight"],
                                              state["embed.weight"].astype(got["embed.weight"].dtype))
        # The graph runs (numpy reference) and the folded weights are what a torch forward
        # would use: compare with a forward written out by hand on the eval weights.
        model, tensors = reference_forward.load_model(self.path("out-f32"))
        z = np.random.default_rng(1).standard_normal((2, 4))
        k = np.array([2, 0])
        got = reference_forward.forward_graph(model, tensors, {"z": z, "k": k})
        h = np.concatenate([z, state["embed.weight"][k]], 1) @ want["fc.weight"].T + state["fc.bias"]
        h = (h - state["bn.running_mean"]) / np.sqrt(state["bn.running_var"] + 1e-5) \
            * state["bn.weight"] + state["bn.bias"]
        h = np.maximum(h, 0).reshape(2, 2, 2, 2)
        y = np.einsum("nchw,cokl->nohkwl", h, want["up.weight"]).reshape(2, 3, 4, 4) \
            + state["up.bias"].reshape(1, 3, 1, 1)
        np.testing.assert_allclose(got, np.tanh(y), atol=1e-6)

    def test_errors(self):
        state, template, _ = graph_state()

        def case(edit=None, state_edit=None):
            t = json.loads(json.dumps(template))
            s = collections.OrderedDict(state)
            if edit:
                edit(t)
            if state_edit:
                state_edit(s)
            return t, s

        def node(t, name):
            return next(n for n in t["nodes"] if n["name"] == name)

        cases = [
            ("weights given", lambda t: t.update(weights={}), None, "has no 'weights'"),
            ("unknown field", lambda t: t.update(layers=[]), None, r"unknown fields \['layers'\]"),
            ("no nodes", lambda t: t.update(nodes=[]), None, "non-empty list 'nodes'"),
            ("missing tensor", lambda t: node(t, "fc").update(bias="fcx.bias"), None,
             r"node 'fc' \(linear\): tensor 'fcx.bias' is not in the state dict \(similar"),
            ("wrong shape", lambda t: node(t, "fc").update(out_features=9), None,
             r"'fc.weight' has shape \[8, 6\], expected \[9, 6\]"),
            ("conv shape", lambda t: node(t, "up").update(kernel=[3, 3]), None,
             r"'up.weight' has shape \[2, 3, 2, 2\], expected \[2, 3, 3, 3\]"),
            ("a piece", lambda t: node(t, "fc").update(weight="fc.weight_orig"), None,
             "name 'fc.weight', which the converter folds"),
            ("tensor on a fieldless op", lambda t: node(t, "r").update(weight="fc.bias"), None,
             "a relu node reads none there"),
            ("non-integer size", lambda t: node(t, "e").update(classes="3"), None,
             "'classes' must be a positive integer"),
            ("unused tensor", None, lambda s: s.update(extra=np.ones(2, np.float32)),
             r"1 tensors no node reads: \['extra'\]"),
            ("unused spectral norm", None,
             lambda s: s.update([("other.weight_orig", np.ones((2, 2), np.float32)),
                                 ("other.weight_u", np.ones(2, np.float32)),
                                 ("other.weight_v", np.ones(2, np.float32))]),
             r"3 tensors no node reads: \['other.weight_orig', 'other.weight_u'"),
            ("int tensor", lambda t: node(t, "bn").update(running_mean="bn.num_batches_tracked"),
             None, "dtype int64, expected floats"),
            ("class names", lambda t: t.update(class_names=["a"]), None, "one string per class"),
        ]
        for what, edit, state_edit, pattern in cases:
            with self.subTest(what):
                t, s = case(edit, state_edit)
                src, arch = self.write(t, s, name=what.replace(" ", "_"))
                with self.assertRaisesRegex(convert.ConvertError, pattern):
                    convert.convert(src, self.path("x"), arch=arch)
                self.assertFalse(os.path.exists(self.path("x")))


# ------------------------------------------------------- fixtures from torch

SNGAN = os.path.join(ONNX_FIXTURES, "sngan")
DCGAN64 = os.path.join(ONNX_FIXTURES, "dcgan64")


@unittest.skipUnless(os.path.exists(os.path.join(SNGAN, "model.pt")), "tests/fixtures/onnx not generated")
class TorchFixtureTest(TempDirMixin, unittest.TestCase):
    """State dicts written by torch.save / safetensors (tools/make_onnx_fixtures.py): the
    converted folder, run by the numpy reference, reproduces the torch output out.npy."""

    def test_sngan_pt_and_safetensors(self):
        z, y = np.load(os.path.join(SNGAN, "z.npy")), np.load(os.path.join(SNGAN, "y.npy"))
        want = np.load(os.path.join(SNGAN, "out.npy"))
        blobs = []
        for src in ("model.pt", "model.safetensors"):
            for dtype, tol in (("f32", 1e-5), ("f16", 2e-2)):
                with self.subTest(src=src, dtype=dtype):
                    out = self.path(f"{src}-{dtype}")
                    rc, _, err = self.cli(os.path.join(SNGAN, src), out, "--arch",
                                          os.path.join(SNGAN, "arch.json"), "--dtype", dtype)
                    self.assertEqual(rc, 0, err)
                    model, tensors = reference_forward.load_model(out)
                    self.assertEqual(model["format"], "webgan-model/2")
                    self.assertNotIn("linear.weight_orig", tensors)
                    got = reference_forward.forward_graph(model, tensors, {"z": z, "y": y})
                    err_max = float(np.max(np.abs(got - want)))
                    self.assertLess(err_max, tol, f"max |numpy - torch| = {err_max}")
                    if dtype == "f32":
                        with open(os.path.join(out, "weights.safetensors"), "rb") as fh:
                            blobs.append(fh.read())
        self.assertEqual(blobs[0], blobs[1], "the .pt and the .safetensors give other weights")

    def test_dcgan64_needs_and_takes_arch_dcgan(self):
        src = os.path.join(DCGAN64, "model.pt")
        rc, _, err = self.cli(src, self.path("x"))
        self.assertEqual(rc, 1)
        self.assertIn("--arch dcgan", err)
        rc, _, err = self.cli(src, self.path("d"), "--arch", "dcgan", "--dtype", "f32")
        self.assertEqual(rc, 0, err)
        model, tensors = reference_forward.load_model(self.path("d"))
        z = np.load(os.path.join(DCGAN64, "z.npy"))
        got = reference_forward.forward(model, tensors, z.reshape(len(z), -1))
        np.testing.assert_allclose(got, np.load(os.path.join(DCGAN64, "out.npy")), atol=1e-5)


if __name__ == "__main__":
    unittest.main()
