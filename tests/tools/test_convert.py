"""Tests for the Python model pipeline (tools/): checkpoint readers,
safetensors writer, architecture inference and the converter.

    python3 -m unittest discover -s tests/tools -t .

Needs only numpy. Checkpoints are built by hand here (real pickles with
fake ``torch`` modules standing in for the globals), and tiny checkpoints
written once by real torch live in tests/fixtures (tools/make_tiny_checkpoints.py).
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import tempfile
import types
import unittest
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import convert  # noqa: E402
import reference_forward  # noqa: E402
import safetensors_np  # noqa: E402
import torch_checkpoint  # noqa: E402
from torch_checkpoint import CheckpointError  # noqa: E402


# --------------------------------------------------- hand-made checkpoints

STORAGE_DTYPES = {"FloatStorage": "<f4", "HalfStorage": "<f2", "LongStorage": "<i8",
                  "DoubleStorage": "<f8", "BFloat16Storage": "<u2"}


@contextlib.contextmanager
def fake_torch():
    """Temporarily install stand-in ``torch`` modules so the standard pickler
    can emit the same GLOBAL opcodes as torch.save (pickle looks globals up by
    module and name to check they round-trip)."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    for name in STORAGE_DTYPES:
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    try:
        yield torch
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


class FakeStorage:
    def __init__(self, kind: str, key: str, values):
        self.kind = kind
        self.key = key
        self.array = np.asarray(values, dtype=STORAGE_DTYPES[kind]).ravel()


class FakeTensor:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (sys.modules["torch._utils"]._rebuild_tensor_v2, self.args)


def tensor(storage, offset=0, size=None, stride=None):
    if size is None:
        size = (storage.array.size,)
    if stride is None:
        stride = tuple(int(np.prod(size[i + 1:])) for i in range(len(size)))
    return FakeTensor(storage, offset, size, stride)


class _Pickler(pickle.Pickler):
    def __init__(self, f, legacy: bool):
        super().__init__(f, protocol=2)
        self.legacy = legacy
        self.storages: "collections.OrderedDict[str, FakeStorage]" = collections.OrderedDict()

    def persistent_id(self, obj):
        if not isinstance(obj, FakeStorage):
            return None
        self.storages[obj.key] = obj
        cls = getattr(sys.modules["torch"], obj.kind)
        if self.legacy:
            return ("storage", cls, obj.key, "cpu", obj.array.size, None)
        return ("storage", cls, obj.key, "cpu", obj.array.size)


def make_zip(obj, folder="archive", byteorder=b"little") -> bytes:
    with fake_torch():
        buf = io.BytesIO()
        p = _Pickler(buf, legacy=False)
        p.dump(obj)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{folder}/data.pkl", buf.getvalue())
        if byteorder is not None:
            zf.writestr(f"{folder}/byteorder", byteorder)
        for key, st in p.storages.items():
            zf.writestr(f"{folder}/data/{key}", st.array.tobytes())
        zf.writestr(f"{folder}/version", b"3\n")
    return out.getvalue()


def make_legacy(obj, little_endian=True, main_pickle: bytes | None = None) -> bytes:
    out = io.BytesIO()
    pickle.dump(torch_checkpoint.LEGACY_MAGIC_NUMBER, out, protocol=2)
    pickle.dump(torch_checkpoint.LEGACY_PROTOCOL_VERSION, out, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": little_endian,
                 "type_sizes": {"short": 2, "int": 4, "long": 8}}, out, protocol=2)
    with fake_torch():
        p = _Pickler(out, legacy=True)
        if main_pickle is None:
            p.dump(obj)
        else:
            out.write(main_pickle)
    keys = list(p.storages)
    pickle.dump(keys, out, protocol=2)
    order = "<" if little_endian else ">"
    for key in keys:
        arr = p.storages[key].array
        out.write(struct.pack(order + "q", arr.size))
        out.write(arr.astype(arr.dtype.newbyteorder(order)).tobytes())
    return out.getvalue()


def load_bytes(data: bytes):
    with tempfile.NamedTemporaryFile(suffix=".pt", delete=False) as f:
        f.write(data)
    try:
        return torch_checkpoint.load(f.name)
    finally:
        os.unlink(f.name)


def sample_checkpoint():
    """A state dict exercising offsets, strides, shared storage and dtypes."""
    base = FakeStorage("FloatStorage", "0", np.arange(24, dtype=np.float32))
    half = FakeStorage("HalfStorage", "1", [0.5, -1.25, 3.0])
    long_ = FakeStorage("LongStorage", "2", [9518])
    bf16 = FakeStorage("BFloat16Storage", "3",
                       (np.array([1.5, -2.0], np.float32).view(np.uint32) >> 16).astype(np.uint16))
    return collections.OrderedDict([
        ("w", tensor(base, 0, (4, 6), (6, 1))),
        ("row", tensor(base, 6, (6,), (1,))),
        ("t", tensor(base, 0, (6, 4), (1, 6))),
        ("block", tensor(base, 7, (2, 2), (6, 2))),
        ("h", tensor(half)),
        ("n", tensor(long_, 0, (), ())),
        ("b", tensor(bf16)),
    ])


def check_sample(tc: unittest.TestCase, sd):
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    tc.assertEqual(list(sd), ["w", "row", "t", "block", "h", "n", "b"])
    np.testing.assert_array_equal(sd["w"], a)
    np.testing.assert_array_equal(sd["row"], a[1])
    np.testing.assert_array_equal(sd["t"], a.T)
    np.testing.assert_array_equal(sd["block"], a[1:3, 1::2][:, :2])
    tc.assertTrue(sd["t"].flags.c_contiguous)
    tc.assertEqual(sd["h"].dtype, np.float16)
    np.testing.assert_array_equal(sd["h"], [0.5, -1.25, 3.0])
    tc.assertEqual(sd["n"].shape, ())
    tc.assertEqual(int(sd["n"]), 9518)
    tc.assertEqual(sd["b"].dtype, np.float32)
    np.testing.assert_array_equal(sd["b"], [1.5, -2.0])
    # The copies must not alias each other.
    sd["w"][0, 0] = 100
    tc.assertEqual(sd["t"][0, 0], 0)


# ------------------------------------------------------------------- tests

class SafetensorsTest(unittest.TestCase):
    def test_round_trip_and_layout(self):
        tensors = {
            "zeta": np.arange(5, dtype=np.float16),
            "alpha.weight": np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4),
            "mid": np.array([1.0], np.float32),
        }
        blob = safetensors_np.encode(tensors)
        (n,) = struct.unpack("<Q", blob[:8])
        self.assertEqual(n % 8, 0, "data must start 8-byte aligned")
        header_text = blob[8:8 + n].decode("utf-8")
        self.assertEqual(header_text, header_text.rstrip(" ") + " " * (len(header_text) - len(header_text.rstrip(" "))))
        self.assertTrue(header_text.startswith('{"__metadata__":{"format":"pt"},'))
        header = json.loads(header_text, object_pairs_hook=collections.OrderedDict)
        names = [k for k in header if k != "__metadata__"]
        self.assertEqual(names, sorted(tensors))
        pos = 0
        for name in names:
            info = header[name]
            begin, end = info["data_offsets"]
            self.assertEqual(begin, pos)
            arr = tensors[name]
            self.assertEqual(info["shape"], list(arr.shape))
            self.assertEqual(info["dtype"], {"float16": "F16", "float32": "F32"}[arr.dtype.name])
            self.assertEqual(blob[8 + n + begin:8 + n + end], arr.astype(arr.dtype.newbyteorder("<")).tobytes())
            pos = end
        self.assertEqual(8 + n + pos, len(blob))
        decoded, meta = safetensors_np.decode(blob)
        self.assertEqual(meta, {"format": "pt"})
        for name, arr in tensors.items():
            np.testing.assert_array_equal(decoded[name], arr)
            self.assertEqual(decoded[name].dtype, arr.dtype)

    def test_deterministic_and_order_independent(self):
        a = {"b": np.ones(3, np.float16), "a": np.zeros((2, 2), np.float16)}
        b = {"a": np.zeros((2, 2), np.float16), "b": np.ones(3, np.float16)}
        self.assertEqual(safetensors_np.encode(a), safetensors_np.encode(b))

    def test_little_endian_bytes(self):
        blob = safetensors_np.encode({"x": np.array([1.0], np.float16)})
        self.assertEqual(blob[-2:], b"\x00\x3c")  # 1.0 in f16 is 0x3c00

    def test_decode_rejects_bad_offsets(self):
        blob = bytearray(safetensors_np.encode({"x": np.zeros(4, np.float32)}))
        with self.assertRaises(safetensors_np.SafetensorsError):
            safetensors_np.decode(bytes(blob[:-1]))


class HandWrittenCheckpointTest(unittest.TestCase):
    def test_zip(self):
        check_sample(self, load_bytes(make_zip(sample_checkpoint())))

    def test_zip_other_folder_name_and_no_byteorder(self):
        # torch uses the file's stem as the folder; torch < 1.10 wrote no byteorder.
        data = make_zip(sample_checkpoint(), folder="dcGanGeneratorModel", byteorder=None)
        check_sample(self, load_bytes(data))

    def test_legacy(self):
        check_sample(self, load_bytes(make_legacy(sample_checkpoint())))

    def test_legacy_big_endian(self):
        check_sample(self, load_bytes(make_legacy(sample_checkpoint(), little_endian=False)))

    def test_nested_state_dict(self):
        g = collections.OrderedDict([("main.0.weight", tensor(FakeStorage("FloatStorage", "0", np.ones(4))))])
        d = collections.OrderedDict([("main.0.weight", tensor(FakeStorage("FloatStorage", "1", np.zeros(2))))])
        obj = {"netD_state_dict": d, "netG_state_dict": g, "epoch": 7, "note": "x"}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "weights.tar")  # gan-face-generate's naming: a zip called .tar
            with open(path, "wb") as fh:
                fh.write(make_zip(obj))
            sd = torch_checkpoint.load_state_dict(path)
            np.testing.assert_array_equal(sd["main.0.weight"], np.ones(4, np.float32))
            sd = torch_checkpoint.load_state_dict(path, key="netD_state_dict")
            np.testing.assert_array_equal(sd["main.0.weight"], np.zeros(2, np.float32))
            with self.assertRaisesRegex(CheckpointError, "not found"):
                torch_checkpoint.load_state_dict(path, key="nope")

    def test_ambiguous_nested_state_dicts(self):
        a = {"w": tensor(FakeStorage("FloatStorage", "0", np.ones(1)))}
        b = {"w": tensor(FakeStorage("FloatStorage", "1", np.ones(1)))}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "c.pt")
            with open(path, "wb") as fh:
                fh.write(make_zip({"first": a, "second": b}))
            with self.assertRaisesRegex(CheckpointError, "--key"):
                torch_checkpoint.load_state_dict(path)

    def test_tar_wrapping_a_checkpoint(self):
        import tarfile
        data = make_zip(sample_checkpoint())
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            info = tarfile.TarInfo("model/generator.pt")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        check_sample(self, load_bytes(buf.getvalue()))


called = []


def _must_not_run(*args):
    called.append(args)


class BadInputTest(unittest.TestCase):
    def assert_error(self, data: bytes, pattern: str):
        with self.assertRaisesRegex(CheckpointError, pattern):
            load_bytes(data)

    def test_not_a_checkpoint(self):
        self.assert_error(b"hello, this is text\n" * 40, "not a PyTorch checkpoint")
        self.assert_error(b"", "empty")
        self.assert_error(pickle.dumps({"a": 1}, protocol=2), "not a PyTorch checkpoint")
        self.assert_error(b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "HDF5")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("readme.txt", "hi")
        self.assert_error(buf.getvalue(), "data.pkl")

    def _foreign_pickle(self) -> bytes:
        # GLOBAL of a function in this module, called by REDUCE: an unpickler
        # that did not restrict globals would call it.
        return (b"\x80\x02c" + __name__.encode() + b"\n_must_not_run\nq\x00"
                b"X\x03\x00\x00\x00argq\x01\x85q\x02Rq\x03.")

    def test_foreign_class_zip(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("archive/data.pkl", self._foreign_pickle())
        self.assert_error(buf.getvalue(), "not on the whitelist")
        self.assertEqual(called, [])

    def test_foreign_class_legacy(self):
        self.assert_error(make_legacy(None, main_pickle=self._foreign_pickle()), "not on the whitelist")
        self.assertEqual(called, [])

    def test_foreign_class_os_system(self):
        evil = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
        self.assert_error(make_legacy(None, main_pickle=evil), "os.system")

    def test_pickled_module(self):
        mod = b"\x80\x02(X\x06\x00\x00\x00moduleq\x00NNtQ."  # persistent id ('module', None, None)
        self.assert_error(make_legacy(None, main_pickle=mod), "state_dict")

    def test_truncated_everywhere(self):
        for name, data in (("zip", make_zip(sample_checkpoint())),
                           ("legacy", make_legacy(sample_checkpoint()))):
            for cut in sorted(set([1, 2, 10, 20, 50, 100, 200, len(data) // 2,
                                   len(data) - 40, len(data) - 8, len(data) - 1])):
                with self.subTest(fmt=name, cut=cut):
                    with self.assertRaises(CheckpointError):
                        load_bytes(data[:cut])

    def test_truncated_legacy_data_message(self):
        data = make_legacy(sample_checkpoint())
        self.assert_error(data[:-3], "truncated")

    def test_zip_missing_storage(self):
        good = make_zip(sample_checkpoint())
        src = zipfile.ZipFile(io.BytesIO(good))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for n in src.namelist():
                if n != "archive/data/2":
                    zf.writestr(n, src.read(n))
        self.assert_error(buf.getvalue(), "missing")


@unittest.skipUnless(os.path.exists(os.path.join(FIXTURES, "tiny_views_zip.pt")),
                     "tiny torch fixtures not generated")
class RealTorchFilesTest(unittest.TestCase):
    """Files written by real torch.save (tools/make_tiny_checkpoints.py)."""

    def test_views_both_formats(self):
        a = np.arange(24, dtype=np.float32).reshape(4, 6)
        for fmt in ("legacy", "zip"):
            with self.subTest(fmt=fmt):
                d = torch_checkpoint.load(os.path.join(FIXTURES, f"tiny_views_{fmt}.pt"))
                np.testing.assert_array_equal(d["base"], a)
                np.testing.assert_array_equal(d["row"], a[1])
                np.testing.assert_array_equal(d["col"], a[:, 2])
                np.testing.assert_array_equal(d["t"], a.T)
                np.testing.assert_array_equal(d["block"], a[1:3, ::2])
                self.assertEqual(d["half"].dtype, np.float16)
                np.testing.assert_array_equal(d["half"], [1.5, -2.0, 65504.0])
                np.testing.assert_array_equal(d["bf16"], np.array([1.0, -3.140625, 256.0], np.float32))
                self.assertEqual(d["long"].dtype, np.int64)
                np.testing.assert_array_equal(d["long"], [-5, 7, 2**40])
                np.testing.assert_array_equal(d["flag"], [True, False])
                self.assertEqual(d["scalar"].shape, ())
                self.assertEqual(float(d["scalar"]), 3.25)
                self.assertEqual(d["empty"].shape, (0, 3))

    def test_legacy_and_nested_zip_agree(self):
        legacy = torch_checkpoint.load_state_dict(os.path.join(FIXTURES, "tiny_dcgan_legacy.pt"))
        nested = torch_checkpoint.load_state_dict(os.path.join(FIXTURES, "tiny_dcgan_nested.pt"))
        self.assertEqual(list(legacy), list(nested))
        for k in legacy:
            np.testing.assert_array_equal(legacy[k], nested[k])
        self.assertEqual(int(legacy["1.num_batches_tracked"]), 42)


# ------------------------------------------------------------ architecture

def synthetic_dcgan(names: str, nz=6, ngf=2, bias_last=False):
    """A random DCGAN state dict: nz -> 4x4 -> 8x8 -> 16x16 (3 convs)."""
    rng = np.random.default_rng(0)
    chans = [nz, ngf * 4, ngf * 2, 3]
    sd = collections.OrderedDict()
    for i in range(3):
        conv = f"convTr{i + 1}" if names == "named" else f"main.{3 * i}"
        sd[f"{conv}.weight"] = rng.standard_normal((chans[i], chans[i + 1], 4, 4)).astype(np.float32)
        if i == 2 and bias_last:
            sd[f"{conv}.bias"] = rng.standard_normal(3).astype(np.float32)
        if i < 2:
            bn = f"batchNorm{i + 1}" if names == "named" else f"main.{3 * i + 1}"
            c = chans[i + 1]
            sd[f"{bn}.weight"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
            sd[f"{bn}.bias"] = rng.uniform(-0.5, 0.5, c).astype(np.float32)
            sd[f"{bn}.running_mean"] = rng.uniform(-0.5, 0.5, c).astype(np.float32)
            sd[f"{bn}.running_var"] = rng.uniform(0.5, 2, c).astype(np.float32)
            sd[f"{bn}.num_batches_tracked"] = np.array(5, np.int64)
    return sd


class DcganArchTest(unittest.TestCase):
    def test_both_naming_schemes(self):
        for names, conv1, bn1 in (("named", "convTr1", "batchNorm1"), ("seq", "main.0", "main.1")):
            with self.subTest(names=names):
                sd = synthetic_dcgan(names)
                spec = convert.dcgan_architecture(sd)
                layers, out_shape, used = convert.resolve_architecture(spec, sd)
                self.assertEqual(spec["latent_dim"], 6)
                self.assertEqual(out_shape, [3, 16, 16])
                self.assertEqual([l["op"] for l in layers],
                                 ["reshape", "conv_transpose2d", "batch_norm", "relu",
                                  "conv_transpose2d", "batch_norm", "relu", "conv_transpose2d", "tanh"])
                self.assertEqual(layers[0], {"op": "reshape", "shape": [6, 1, 1], "order": "channels_first"})
                self.assertEqual(layers[1]["weight"], f"{conv1}.weight")
                self.assertEqual(layers[1]["stride"], [1, 1])
                self.assertEqual(layers[1]["padding"], [0, 0, 0, 0])
                self.assertEqual(layers[4]["stride"], [2, 2])
                self.assertEqual(layers[4]["padding"], [1, 1, 1, 1])
                self.assertIsNone(layers[1]["bias"])
                self.assertEqual(layers[2]["running_var"], f"{bn1}.running_var")
                self.assertEqual(layers[2]["eps"], 1e-5)
                self.assertEqual(list(layers[1]), ["op"] + convert.LAYER_FIELDS["conv_transpose2d"])
                self.assertFalse(any("num_batches_tracked" in u for u in used))

    def test_bias_on_last_conv(self):
        sd = synthetic_dcgan("seq", bias_last=True)
        layers, _, used = convert.resolve_architecture(convert.dcgan_architecture(sd), sd)
        self.assertEqual(layers[7]["bias"], "main.6.bias")
        self.assertIn("main.6.bias", used)

    def test_rejects_non_dcgan(self):
        sd = synthetic_dcgan("named")
        bad = collections.OrderedDict(sd)
        bad["fc.weight"] = np.zeros((3, 3), np.float32)
        with self.assertRaisesRegex(convert.ConvertError, "--arch"):
            convert.dcgan_architecture(bad)
        missing_bn = collections.OrderedDict((k, v) for k, v in sd.items() if not k.startswith("batchNorm2"))
        with self.assertRaisesRegex(convert.ConvertError, "order"):
            convert.dcgan_architecture(missing_bn)
        k3 = collections.OrderedDict(sd)
        k3["convTr2.weight"] = np.zeros((8, 4, 3, 3), np.float32)
        with self.assertRaisesRegex(convert.ConvertError, "kernel 3x3"):
            convert.dcgan_architecture(k3)
        wrong_ch = collections.OrderedDict(sd)
        wrong_ch["convTr2.weight"] = np.zeros((7, 4, 4, 4), np.float32)
        with self.assertRaisesRegex(convert.ConvertError, "in_channels 7"):
            convert.resolve_architecture(convert.dcgan_architecture(wrong_ch), wrong_ch)


class ArchJsonTest(unittest.TestCase):
    def linear_gan(self):
        rng = np.random.default_rng(1)
        sd = collections.OrderedDict([
            ("fc1.weight", rng.standard_normal((8, 5)).astype(np.float32)),
            ("fc1.bias", rng.standard_normal(8).astype(np.float32)),
            ("fc2.weight", rng.standard_normal((16, 8)).astype(np.float32)),
            ("fc2.bias", rng.standard_normal(16).astype(np.float32)),
        ])
        arch = {"latent_dim": 5, "num_classes": None, "output_shape": [1, 4, 4], "layers": [
            {"op": "linear", "in_features": 5, "out_features": 8, "weight": "fc1.weight", "bias": "fc1.bias"},
            {"op": "leaky_relu", "slope": 0.2},
            {"op": "linear", "in_features": 8, "out_features": 16, "weight": "fc2.weight", "bias": "fc2.bias"},
            {"op": "tanh"},
            {"op": "reshape", "shape": [1, 4, 4], "order": "channels_first"},
        ]}
        return sd, arch

    def test_linear_gan(self):
        sd, arch = self.linear_gan()
        layers, shape, used = convert.resolve_architecture(arch, sd)
        self.assertEqual(shape, [1, 4, 4])
        self.assertEqual(used, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])

    def test_errors(self):
        sd, arch = self.linear_gan()
        bad = json.loads(json.dumps(arch))
        bad["layers"][0]["weight"] = "fc9.weight"
        with self.assertRaisesRegex(convert.ConvertError, "not in the checkpoint"):
            convert.resolve_architecture(bad, sd)
        bad = json.loads(json.dumps(arch))
        bad["layers"][2]["out_features"] = 12
        with self.assertRaisesRegex(convert.ConvertError, r"shape \[16, 8\], expected \[12, 8\]"):
            convert.resolve_architecture(bad, sd)
        bad = json.loads(json.dumps(arch))
        bad["output_shape"] = [1, 2, 8]
        with self.assertRaisesRegex(convert.ConvertError, "output_shape"):
            convert.resolve_architecture(bad, sd)
        bad = json.loads(json.dumps(arch))
        bad["layers"].pop()
        with self.assertRaisesRegex(convert.ConvertError, r"output_shape \[1, 4, 4\].*give \[16\]"):
            convert.resolve_architecture(bad, sd)
        bad["output_shape"] = None  # a flat score vector is a valid output (discriminators)
        self.assertEqual(convert.resolve_architecture(bad, sd)[1], [16])
        bad = json.loads(json.dumps(arch))
        bad["layers"][1] = {"op": "gelu"}
        with self.assertRaisesRegex(convert.ConvertError, "unknown op"):
            convert.resolve_architecture(bad, sd)

    def test_conv_upsample_one_hot_shapes(self):
        sd = {"emb.weight": np.zeros((8, 7), np.float32),
              "c.weight": np.zeros((5, 2, 3, 3), np.float32),
              "c.bias": np.zeros(5, np.float32),
              "bn.running_mean": np.zeros(5, np.float32),
              "bn.running_var": np.ones(5, np.float32),
              "t.weight": np.zeros((5, 3, 3, 3), np.float32)}
        arch = {"latent_dim": 4, "num_classes": 3, "layers": [
            {"op": "concat_one_hot", "classes": 3},
            {"op": "linear", "weight": "emb.weight", "bias": None},
            {"op": "reshape", "shape": [2, 2, 2], "order": "channels_last"},   # C, H, W
            {"op": "upsample", "scale": [2, 3]},                              # 2x4x6
            {"op": "conv2d", "kernel": 3, "stride": 1, "padding": 1, "weight": "c.weight", "bias": "c.bias"},
            {"op": "batch_norm", "channels": 5, "weight": None, "bias": None,
             "running_mean": "bn.running_mean", "running_var": "bn.running_var"},
            {"op": "sigmoid"},
            {"op": "conv_transpose2d", "stride": [2, 2], "padding": [1, 0, 0, 1],
             "output_padding": [1, 0], "weight": "t.weight"},
        ]}
        layers, shape, _ = convert.resolve_architecture(arch, sd)
        # conv2d keeps 4x6; transposed: H = 3*2+3-1-0+1 = 9, W = 5*2+3-0-1 = 12
        self.assertEqual(shape, [3, 9, 12])
        self.assertEqual(layers[4]["padding"], [1, 1, 1, 1])
        self.assertEqual(layers[5]["eps"], 1e-5)
        self.assertEqual(layers[7]["in_channels"], 5)
        self.assertIsNone(layers[7]["bias"])
        arch["num_classes"] = None
        with self.assertRaisesRegex(convert.ConvertError, "num_classes"):
            convert.resolve_architecture(arch, sd)

    def test_reference_ops_match_shape_walk(self):
        # The numpy reference implementation and the shape walk must agree.
        rng = np.random.default_rng(2)
        sd = {"c.weight": rng.standard_normal((4, 3, 3, 2)).astype(np.float32),
              "t.weight": rng.standard_normal((4, 2, 4, 3)).astype(np.float32),
              "t.bias": rng.standard_normal(2).astype(np.float32)}
        arch = {"latent_dim": 30, "num_classes": None, "layers": [
            {"op": "reshape", "shape": [3, 2, 5], "order": "channels_first"},
            {"op": "conv2d", "stride": [2, 1], "padding": [1, 2, 0, 1], "weight": "c.weight", "bias": None},
            {"op": "conv_transpose2d", "stride": [3, 2], "padding": [2, 1, 0, 1],
             "output_padding": [2, 1], "weight": "t.weight", "bias": "t.bias"},
        ]}
        layers, shape, _ = convert.resolve_architecture(arch, sd)
        y = reference_forward.forward({"layers": layers}, sd, rng.standard_normal((2, 30)))
        self.assertEqual(list(y.shape[1:]), shape)


class ReferenceOpsTest(unittest.TestCase):
    def test_reshape_orders(self):
        # `shape` is the logical target; `order` maps flat index to (c, h, w).
        c, h, w = 3, 2, 4
        flat = np.arange(c * h * w, dtype=np.float64)[None]
        last = {"layers": [{"op": "reshape", "shape": [c, h, w], "order": "channels_last"}]}
        first = {"layers": [{"op": "reshape", "shape": [c, h, w], "order": "channels_first"}]}
        y = reference_forward.forward(last, {}, flat)
        self.assertEqual(y.shape, (1, c, h, w))
        for ci, hi, wi in [(0, 0, 0), (2, 1, 3), (1, 0, 2)]:
            self.assertEqual(y[0, ci, hi, wi], (hi * w + wi) * c + ci)
        y = reference_forward.forward(first, {}, flat)
        self.assertEqual(y[0, 2, 1, 3], (2 * h + 1) * w + 3)
        # image -> flat (Keras Flatten of NHWC) inverts it
        img = reference_forward.forward(last, {}, flat)
        back = reference_forward.forward(
            {"layers": [{"op": "reshape", "shape": [c * h * w], "order": "channels_last"}]}, {}, img)
        np.testing.assert_array_equal(back, flat)
        # image -> image goes through the flat vector in the given order
        y = reference_forward.forward(
            {"layers": [{"op": "reshape", "shape": [4, 3, 2], "order": "channels_last"}]}, {}, img)
        np.testing.assert_array_equal(y[0, 3, 1, 0], (1 * 2 + 0) * 4 + 3)
        # the converter's shape walk keeps the logical shape
        _, shape, _ = convert.resolve_architecture(
            {"latent_dim": 24, "layers": last["layers"]}, {})
        self.assertEqual(shape, [c, h, w])

    def test_conv_transpose_is_adjoint_of_conv(self):
        # <conv_transpose(x), y> == <x, conv(y)> for the same weight, stride and padding
        # (without output_padding), which pins down the transposed-conv semantics.
        rng = np.random.default_rng(3)
        w = rng.standard_normal((3, 2, 4, 3))      # convT [in=3, out=2]; conv2d [out=3, in=2]
        x = rng.standard_normal((1, 3, 5, 4))
        pad = [1, 2, 0, 1]
        yt = reference_forward.conv_transpose2d(x, w, None, (2, 2), pad, (0, 0))
        y = rng.standard_normal(yt.shape)
        cy = reference_forward.conv2d(y, w, None, (2, 2), pad)
        self.assertEqual(cy.shape, x.shape)
        self.assertAlmostEqual(float((yt * y).sum()), float((x * cy).sum()), places=9)


# ------------------------------------------------------------- end to end

@unittest.skipUnless(os.path.exists(os.path.join(FIXTURES, "tiny_dcgan_out.npy")),
                     "tiny torch fixtures not generated")
class ConvertEndToEndTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def run_convert(self, src, out, *args):
        # A state dict records no activations: these are standard DCGANs (ReLU, Tanh).
        with contextlib.redirect_stdout(io.StringIO()):
            rc = convert.main([os.path.join(FIXTURES, src), out, "--arch", "dcgan", *args])
        self.assertEqual(rc, 0)
        return reference_forward.load_model(out)

    def test_tiny_dcgan_matches_pytorch(self):
        z = np.load(os.path.join(FIXTURES, "tiny_dcgan_z.npy"))
        want = np.load(os.path.join(FIXTURES, "tiny_dcgan_out.npy"))
        for src, dtype, tol in (("tiny_dcgan_legacy.pt", "f32", 1e-5),
                                ("tiny_dcgan_nested.pt", "f32", 1e-5),
                                ("tiny_dcgan_legacy.pt", "f16", 1e-2)):
            with self.subTest(src=src, dtype=dtype):
                out = os.path.join(self.tmp.name, f"{src}-{dtype}")
                model, tensors = self.run_convert(src, out, "--dtype", dtype)
                self.assertEqual(model["output_shape"], [3, 16, 16])
                self.assertEqual(model["latent_dim"], 8)
                self.assertEqual(model["weights"]["dtype"], dtype)
                self.assertFalse(any("num_batches_tracked" in k for k in tensors))
                got = reference_forward.forward(model, tensors, z)
                np.testing.assert_allclose(got, want, atol=tol, rtol=0)

    def test_output_is_deterministic_and_self_consistent(self):
        a, b = os.path.join(self.tmp.name, "a"), os.path.join(self.tmp.name, "b")
        for out in (a, b):
            self.run_convert("tiny_dcgan_legacy.pt", out, "--name", "tiny", "--license", "MIT")
        for f in ("model.json", "weights.safetensors"):
            with open(os.path.join(a, f), "rb") as fa, open(os.path.join(b, f), "rb") as fb:
                self.assertEqual(fa.read(), fb.read(), f)
        check_model_folder(self, a)
        with open(os.path.join(a, "model.json"), encoding="utf-8") as fh:
            text = fh.read()
        model = json.loads(text, object_pairs_hook=collections.OrderedDict)
        self.assertEqual(list(model), ["format", "name", "description", "license", "source",
                                       "latent_dim", "num_classes", "output_shape", "weights", "layers"])
        self.assertEqual(list(model["weights"]), ["file", "bytes", "sha256", "dtype"])
        self.assertTrue(text.endswith("}\n"))
        self.assertIn('\n  "format": "webgan-model/1",\n', text)
        self.assertEqual(model["name"], "tiny")
        self.assertIn("sha256", model["source"])

    def test_cli_errors(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            with tempfile.NamedTemporaryFile(suffix=".keras") as f:
                self.assertEqual(convert.main([f.name, os.path.join(self.tmp.name, "k")]), 1)
        self.assertIn("not an HDF5 or .keras file", err.getvalue())
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(convert.main([__file__, os.path.join(self.tmp.name, "x")]), 1)
        self.assertIn("not a PyTorch checkpoint", err.getvalue())


def check_model_folder(tc: unittest.TestCase, folder: str):
    """model.json's weights entry matches the file, and every layer tensor is
    in it with the dtype announced."""
    model, tensors = reference_forward.load_model(folder)
    path = os.path.join(folder, model["weights"]["file"])
    with open(path, "rb") as fh:
        blob = fh.read()
    tc.assertEqual(model["format"], "webgan-model/1")
    tc.assertEqual(model["weights"]["bytes"], len(blob))
    tc.assertEqual(model["weights"]["sha256"], hashlib.sha256(blob).hexdigest())
    want = {"f16": np.float16, "f32": np.float32}[model["weights"]["dtype"]]
    referenced = set()
    for layer in model["layers"]:
        for key in ("weight", "bias", "running_mean", "running_var"):
            if layer.get(key) is not None:
                referenced.add(layer[key])
    tc.assertEqual(referenced, set(tensors))
    for t in tensors.values():
        tc.assertEqual(t.dtype, want)


FACES = os.path.join(ROOT, "www", "models", "faces64")


@unittest.skipUnless(os.path.exists(os.path.join(FACES, "model.json"))
                     and os.path.exists(os.path.join(FIXTURES, "faces64_golden_out_f16.npy")),
                     "faces64 model or golden fixtures missing")
class Faces64Test(unittest.TestCase):
    """The shipped model, run by the numpy reference, reproduces PyTorch."""

    def test_shipped_model_matches_pytorch_golden(self):
        check_model_folder(self, FACES)
        model, tensors = reference_forward.load_model(FACES)
        self.assertEqual(model["name"], "faces64")
        self.assertEqual(model["output_shape"], [3, 64, 64])
        z = np.load(os.path.join(FIXTURES, "faces64_golden_z.npy"))
        got = reference_forward.forward(model, tensors, z)
        np.testing.assert_allclose(got, np.load(os.path.join(FIXTURES, "faces64_golden_out_f16.npy")),
                                   atol=1e-4, rtol=0)

    @unittest.skipUnless(os.path.exists(os.path.join(ROOT, "build", "models", "faces64-f32", "model.json")),
                         "build/models/faces64-f32 not built (tools/make_models.sh)")
    def test_f32_build_matches_pytorch_golden(self):
        folder = os.path.join(ROOT, "build", "models", "faces64-f32")
        check_model_folder(self, folder)
        model, tensors = reference_forward.load_model(folder)
        z = np.load(os.path.join(FIXTURES, "faces64_golden_z.npy"))
        got = reference_forward.forward(model, tensors, z)
        np.testing.assert_allclose(got, np.load(os.path.join(FIXTURES, "faces64_golden_out.npy")),
                                   atol=1e-4, rtol=0)


if __name__ == "__main__":
    unittest.main()
