"""Tests for whole pickled modules (torch.save(model)) read as data by the converter
(tools/pickled_modules.py) (numpy only, no torch).

    python3 -m unittest discover -s tests/tools -t .
"""

from __future__ import annotations

import collections
import io
import json
import os
import sys
import unittest
import zipfile

import numpy as np

from tests.tools.convert_graph_helpers import (  # puts tools/ on sys.path
    RNG, ROOT, sn_state, read_weights, TempDirMixin,
)
from tests.tools.test_convert import synthetic_dcgan, FakeStorage, make_zip, tensor
import convert  # noqa: E402
import pickled_modules  # noqa: E402
import reference_forward  # noqa: E402
import torch_checkpoint  # noqa: E402
import torch_reparam  # noqa: E402
from torch_checkpoint import CheckpointError  # noqa: E402


# ------------------------------------------------------ whole pickled modules

FIXTURES = os.path.join(ROOT, "tests", "fixtures")


def record(qualname: str, **state):
    """A pickled module as the unpickler builds it: nn.Module's dicts plus ``state``."""
    module, _, name = qualname.rpartition(".")
    rec = pickled_modules.ObjectRecord(pickled_modules.ForeignClass(module, name), ())
    rec.state = {"training": False, "_parameters": {}, "_buffers": {}, "_modules": {},
                 "_forward_pre_hooks": {}, **state}
    return rec


def seq(*children):
    return record("torch.nn.modules.container.Sequential",
                  _modules={str(i): c for i, c in enumerate(children)})


@unittest.skipUnless(os.path.exists(os.path.join(FIXTURES, "tiny_module_zip.pt")),
                     "tiny torch fixtures not generated")
class PickledModuleTest(TempDirMixin, unittest.TestCase):
    """torch.save(model) files (tools/make_tiny_checkpoints.py): the layers are read from the
    pickled modules' attributes, never assumed."""

    def test_fixtures_convert_without_arch(self):
        z = np.load(os.path.join(FIXTURES, "tiny_module_z.npy"))
        want = np.load(os.path.join(FIXTURES, "tiny_module_out.npy"))
        for fmt in ("zip", "legacy"):
            for args, tol in (((), 1e-5), (("--arch", "dcgan"), 1e-5), (("--dtype", "f16"), 2e-2)):
                with self.subTest(fmt=fmt, args=args):
                    out = self.path(f"{fmt}{len(args)}")
                    rc, _, err = self.cli(os.path.join(FIXTURES, f"tiny_module_{fmt}.pt"), out,
                                          *(args if "--dtype" in args else args + ("--dtype", "f32")))
                    self.assertEqual(rc, 0, err)
                    model, tensors = reference_forward.load_model(out)
                    self.assertEqual([l["op"] for l in model["layers"]], [
                        "reshape", "conv_transpose2d", "batch_norm", "leaky_relu", "conv_transpose2d",
                        "batch_norm", "relu", "upsample", "conv2d", "tanh"])
                    self.assertEqual(model["layers"][2]["eps"], 1e-3)
                    self.assertAlmostEqual(model["layers"][3]["slope"], 0.2)
                    self.assertIn("__main__.Generator", model["description"])
                    got = reference_forward.forward(model, tensors, z)
                    self.assertLess(float(np.max(np.abs(got - want))), tol)

    def test_module_with_arch_json(self):
        # --arch JSON names the keys of the module's state dict.
        sd, module = torch_checkpoint.load_generator(os.path.join(FIXTURES, "tiny_module_zip.pt"))
        self.assertIn("main.3.weight_orig", sd)
        spec, _ = pickled_modules.sequential_architecture(module)
        arch = self.path("a.json")
        with open(arch, "w") as fh:
            json.dump(spec, fh)
        rc, _, err = self.cli(os.path.join(FIXTURES, "tiny_module_zip.pt"), self.path("j"),
                              "--arch", arch, "--dtype", "f32")
        self.assertEqual(rc, 0, err)
        rc, _, err = self.cli(os.path.join(FIXTURES, "tiny_module_zip.pt"), self.path("k"),
                              "--dtype", "f32")
        self.assertEqual(read_weights(self.path("j")).keys(), read_weights(self.path("k")).keys())

    def test_spectral_norm_dim_from_the_hook(self):
        # A square ConvTranspose2d normed with dim=0: only the hook object tells.
        w = RNG.standard_normal((4, 4, 3, 3)).astype(np.float32)
        entries, want0 = sn_state("t", w, 0)
        hook = pickled_modules.ObjectRecord(
            pickled_modules.ForeignClass("torch.nn.utils.spectral_norm", "SpectralNorm"), ())
        hook.state = {"name": "weight", "dim": 0, "n_power_iterations": 1, "eps": 1e-12}
        conv = record("torch.nn.modules.conv.ConvTranspose2d", _forward_pre_hooks={7: hook},
                      _parameters={"weight_orig": entries[0][1]},
                      _buffers={"weight_u": entries[1][1], "weight_v": entries[2][1]})
        root = record("__main__.G", _modules={"t": conv})
        self.assertEqual(pickled_modules.spectral_norm_dims(root), {"t.weight": 0})
        state = collections.OrderedDict(pickled_modules.state_dict(root))
        _, reparams = torch_reparam.split(state)
        got = torch_reparam.fold(reparams["t.weight"], state, "conv_transpose2d", 0)
        np.testing.assert_allclose(got, want0, rtol=1e-6)
        with self.assertRaisesRegex(convert.ConvertError, "says dim 3"):
            torch_reparam.fold(reparams["t.weight"], state, "conv_transpose2d", 3)

    def test_what_the_chain_reader_refuses(self):
        conv = record("torch.nn.modules.conv.ConvTranspose2d", in_channels=2, out_channels=3,
                      kernel_size=(4, 4), stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                      dilation=(1, 1), groups=1, padding_mode="zeros",
                      _parameters={"weight": np.ones((2, 3, 4, 4), np.float32), "bias": None})
        relu = record("torch.nn.modules.activation.ReLU", inplace=True)
        two = record("__main__.G", _modules={"a": seq(conv), "b": seq(relu)})
        cases = [
            ("two submodules", two, r"__main__\.G, whose forward\(\) is code the file does not contain"),
            ("own tensors", record("__main__.G", _modules={"main": seq(conv)},
                                   _parameters={"scale": np.ones(1, np.float32)}), "its own tensors"),
            ("unknown layer", seq(conv, record("mylib.layers.Swish")),
             r"1 is a mylib\.layers\.Swish, which webgan's reader"),
            ("starts with an activation", seq(relu, conv), "starts with a ReLU"),
            ("dilation", seq(record("torch.nn.modules.conv.Conv2d", **{**conv.state, "dilation": (2, 2)})),
             "dilation 1, groups 1"),
            ("bilinear", seq(conv, record("torch.nn.modules.upsampling.Upsample", mode="bilinear",
                                          scale_factor=2.0, size=None)), "nearest upsampling"),
            ("batch statistics", seq(conv, record("torch.nn.modules.batchnorm.BatchNorm2d",
                                                  num_features=3, eps=1e-5, track_running_stats=False)),
             "running statistics"),
        ]
        for what, root, pattern in cases:
            with self.subTest(what):
                with self.assertRaisesRegex(CheckpointError, pattern):
                    pickled_modules.sequential_architecture(root)
        # Cycles and sharing stay bounded.
        loop = record("__main__.G")
        loop.state["_modules"]["self"] = loop
        with self.assertRaisesRegex(CheckpointError, "nest more than"):
            pickled_modules.sequential_architecture(loop)
        self.assertEqual(len(pickled_modules.walk(loop)), 1)
        s = seq(relu)
        for _ in range(60):  # 2**60 paths if each were followed
            s = seq(s, s)
        with self.assertRaisesRegex(CheckpointError, "more than 1000 modules"):
            pickled_modules.sequential_architecture(s)

    def test_other_objects_beside_the_state_dict(self):
        # {'netG': state dict, 'args': argparse.Namespace(...)}: the Namespace is kept as an
        # inert record (named, not imported) and the state dict is found.
        import types
        fake = types.ModuleType("argparse_fake")

        class Namespace:
            pass

        Namespace.__module__, Namespace.__qualname__ = "argparse_fake", "Namespace"
        fake.Namespace = Namespace
        sys.modules["argparse_fake"] = fake
        try:
            ns = Namespace()
            ns.lr, ns.arch = 2e-4, "dcgan"
            sd = synthetic_dcgan("seq")
            obj = {"args": ns, "netG": collections.OrderedDict(
                (k, tensor(FakeStorage("LongStorage" if v.dtype.kind == "i" else "FloatStorage",
                                       str(i), v.ravel()), 0, v.shape))
                for i, (k, v) in enumerate(sd.items()))}
            data = make_zip(obj)
        finally:
            del sys.modules["argparse_fake"]
        self.assertIn(b"argparse_fake", data)
        path = self.path("with_args.pt")
        with open(path, "wb") as fh:
            fh.write(data)
        raw = torch_checkpoint.load(path)
        self.assertIsInstance(raw["args"], pickled_modules.ObjectRecord)
        self.assertEqual(raw["args"].state, {"lr": 2e-4, "arch": "dcgan"})
        self.assertEqual(list(torch_checkpoint.load_state_dict(path)), list(sd))

    def test_hostile_pickles(self):
        def zip_pickle(body: bytes) -> str:
            path = self.path(f"h{len(os.listdir(self.tmp.name))}.pt")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                zf.writestr("archive/data.pkl", b"\x80\x02" + body)
            with open(path, "wb") as fh:
                fh.write(buf.getvalue())
            return path

        cases = {
            "call a foreign class": (b"cos\nsystem\nX\x04\x00\x00\x00true\x85R.",
                                     r"refers to os\.system, which is not on the whitelist.*calls it"),
            "second BUILD": (b"c__main__\nG\n)\x81}b}b.", "pickle BUILD"),
            "BUILD with a list": (b"c__main__\nG\n)\x81]b.", "pickle BUILD"),
            "NEWOBJ of a storage class": (b"ctorch\nFloatStorage\n)\x81.", "NEWOBJ"),
            "NEWOBJ of a function": (b"ctorch._utils\n_rebuild_tensor_v2\n)\x81.", "NEWOBJ"),
            "a record alone": (b"c__main__\nG\n)\x81.", "no dict of tensors"),
            "a module without tensors": (b"c__main__\nG\n)\x81}(X\x0b\x00\x00\x00_parameters}"
                                         b"X\x08\x00\x00\x00_modules}ub.", "has no tensors"),
        }
        for what, (body, pattern) in cases.items():
            with self.subTest(what):
                path = zip_pickle(body)
                rc, _, err = self.cli(path, self.path("out"))
                self.assertEqual(rc, 1)
                self.assertEqual(len(err.splitlines()), 1, err)
                self.assertRegex(err, pattern)
                self.assertNotIn("unexpected", err)


if __name__ == "__main__":
    unittest.main()
