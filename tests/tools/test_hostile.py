"""Hostile inputs to the converters (issue 10): every one ends with a clean one-line error,
quickly and in bounded memory, never a traceback, a MemoryError, a hang or a crash.

    python3 -m unittest discover -s tests/tools -t .

Needs numpy (and h5py for the Keras cases). Every hostile file is made here, by hand: pickles
written opcode by opcode or with the fake torch modules of test_convert, zips whose headers
lie, HDF5 files with missing, huge or external datasets. The cases that could take the process
down if a check were missing (a deep tuple crashes CPython's hash, a zip bomb, a view that
expands to gigabytes) run tools/convert.py as a subprocess under RLIMIT_AS = 2 GiB, which also
checks the exit status and that stderr is one line naming the file.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import pickle
import resource
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

import numpy as np

try:
    import h5py
except ImportError:  # pragma: no cover
    h5py = None

from tests.tools.test_convert import (FakeStorage, _Pickler, fake_torch, make_legacy, make_zip,
                                      sample_checkpoint, synthetic_dcgan, tensor)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import convert  # noqa: E402
import safetensors_np  # noqa: E402
import checkpoint_limits  # noqa: E402
import torch_checkpoint  # noqa: E402
from torch_checkpoint import CheckpointError  # noqa: E402

CONVERT = os.path.join(ROOT, "tools", "convert.py")
MEMORY_LIMIT = 2 << 30  # RLIMIT_AS of the converter subprocesses
TIME_LIMIT = 30         # seconds; each case takes well under 5


# ------------------------------------------------------------- hand-made files

def u(text: str) -> bytes:
    """BINUNICODE opcode pushing ``text``."""
    b = text.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_with_pickle(pkl: bytes, storages: dict[str, bytes] | None = None) -> bytes:
    """A torch-style zip checkpoint whose data.pkl is ``pkl``."""
    members = {"archive/data.pkl": pkl, "archive/byteorder": b"little"}
    for key, data in (storages or {}).items():
        members[f"archive/data/{key}"] = data
    return zip_bytes(members)


def patch_sizes(data: bytes, member: str, file_size: int, compress_size: int | None = None) -> bytes:
    """Make the local and central headers of ``member`` claim other sizes."""
    out = bytearray(data)
    name = member.encode()
    # (signature, offset of the name length, of the name, of the compressed size, of the size):
    # central directory entries, then local headers.
    for sig, len_at, name_at, csize_at, size_at in ((b"PK\x01\x02", 28, 46, 20, 24),
                                                    (b"PK\x03\x04", 26, 30, 18, 22)):
        pos = out.find(sig)
        while pos >= 0:
            n = struct.unpack_from("<H", out, pos + len_at)[0]
            if out[pos + name_at:pos + name_at + n] == name:
                if compress_size is not None:
                    struct.pack_into("<I", out, pos + csize_at, compress_size)
                struct.pack_into("<I", out, pos + size_at, file_size)
            pos = out.find(sig, pos + 4)
    return bytes(out)


class ClaimedStorage(FakeStorage):
    """A storage whose persistent id claims ``numel`` elements, whatever its data."""

    def __init__(self, kind, key, values, numel):
        super().__init__(kind, key, values)
        self.numel = numel


class _ClaimingPickler(_Pickler):
    def persistent_id(self, obj):
        pid = super().persistent_id(obj)
        if pid is not None and isinstance(obj, ClaimedStorage):
            pid = pid[:4] + (obj.numel,) + pid[5:]
        return pid


def make_zip_claiming(obj) -> bytes:
    with fake_torch():
        buf = io.BytesIO()
        p = _ClaimingPickler(buf, legacy=False)
        p.dump(obj)
    return zip_with_pickle(buf.getvalue(), {k: s.array.tobytes() for k, s in p.storages.items()})


def one_tensor(size, stride, offset=0, values=(1.0,)) -> bytes:
    """A zip checkpoint holding {"w": a tensor view with these (unchecked) numbers}."""
    st = FakeStorage("FloatStorage", "0", np.asarray(values, np.float32))
    return make_zip(collections.OrderedDict([("w", tensor(st, offset, size, stride))]))


def deep_tuple_pickle(depth: int) -> bytes:
    # EMPTY_TUPLE then TUPLE1 `depth` times: a 1-byte-per-level nest that crashes CPython's
    # tuple hash (C recursion) when it becomes a dict key.
    return b"\x80\x02}" + b")" + b"\x85" * depth + b"K\x01s."


def shared_list_pickle() -> bytes:
    # 10 ** 30 elements if copied naively, under 1 KB as a pickle (memo references).
    a = [0.5] * 10
    for _ in range(30):
        a = [a] * 10
    return pickle.dumps({"netG": a}, protocol=2)


def write(folder: str, name: str, data: bytes) -> str:
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def _limit_memory():  # preexec_fn of the converter subprocesses
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_convert(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, CONVERT, *args], capture_output=True, text=True,
                          timeout=TIME_LIMIT, preexec_fn=_limit_memory, cwd=ROOT,
                          env={k: v for k, v in os.environ.items() if k != "WEBGAN_TRACEBACK"})


class CleanErrorMixin:
    """Assertions shared by the test classes."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def file(self, name: str, data: bytes) -> str:
        return write(self.tmp.name, name, data)

    def assert_cli_error(self, path: str, pattern: str, *extra: str) -> str:
        """convert.py on ``path``: exit 1 within the limits, stderr one line naming the file."""
        started = time.monotonic()
        p = run_convert(path, os.path.join(self.tmp.name, "out"), *extra)
        elapsed = time.monotonic() - started
        self.assertEqual(p.returncode, 1, f"stdout {p.stdout!r} stderr {p.stderr!r}")
        self.assertNotIn("Traceback", p.stderr)
        self.assertNotIn("MemoryError", p.stderr)
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("convert.py: error: "), lines[0])
        self.assertIn(path, lines[0])
        self.assertRegex(lines[0], pattern)
        self.assertLess(elapsed, 10, f"{path} took {elapsed:.1f} s")
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "out", "model.json")))
        return lines[0]

    def assert_load_error(self, data: bytes, pattern: str):
        path = self.file("c.pt", data)
        with self.assertRaisesRegex(CheckpointError, pattern):
            torch_checkpoint.load_state_dict(path)

    @contextlib.contextmanager
    def cap(self, module, name: str, value: int):
        old = getattr(module, name)
        setattr(module, name, value)
        try:
            yield
        finally:
            setattr(module, name, old)


# --------------------------------------------------------------------- pickles

class PickleTest(CleanErrorMixin, unittest.TestCase):
    def test_shared_lists_are_not_copied(self):
        data = zip_with_pickle(shared_list_pickle())
        self.assertLess(len(data), 2000)
        obj = torch_checkpoint.load(self.file("s.pt", data))
        a = obj["netG"]
        self.assertIs(a[0], a[1])  # shared in the result as in the file
        self.assert_load_error(data, "contains no dict of tensors")

    def test_shared_lists_cli(self):
        path = self.file("shared.pt", zip_with_pickle(shared_list_pickle()))
        self.assert_cli_error(path, "contains no dict of tensors")

    def test_self_referencing_containers(self):
        loop = []
        loop.append(loop)
        d = {}
        d["self"] = d
        data = zip_with_pickle(pickle.dumps({"a": loop, "b": d}, protocol=2))
        obj = torch_checkpoint.load(self.file("loop.pt", data))
        self.assertIs(obj["a"][0], obj["a"])
        self.assertIs(obj["b"]["self"], obj["b"])
        self.assert_load_error(data, "contains no dict of tensors")

    def test_cycle_through_a_tuple(self):
        inner = []
        t = (inner,)
        inner.append(t)
        data = zip_with_pickle(pickle.dumps({"t": t}, protocol=2))
        self.assert_load_error(data, "cycle through a tuple")

    def test_deep_lists_and_dicts(self):
        # 200,000 nested lists (EMPTY_LIST x n, then APPEND x n - 1): no RecursionError.
        n = 200_000
        data = zip_with_pickle(b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b".")
        self.assert_load_error(data, "contains no dict of tensors")
        # Dicts nested as deep as the state-dict search goes, and deeper.
        obj: dict = {"w": tensor(FakeStorage("FloatStorage", "0", [1.0]))}
        for i in range(200):  # (the pickler itself recurses)
            obj = {f"k{i}": obj}
        with self.assertRaisesRegex(CheckpointError, "contains no dict of tensors"):
            torch_checkpoint.load_state_dict(self.file("d.pt", make_zip(obj)))

    def test_deep_tuple_cli(self):
        # 1 MB of TUPLE1: CPython segfaults hashing it; refused at depth 100.
        path = self.file("deep.pt", zip_with_pickle(deep_tuple_pickle(1_000_000)))
        self.assert_cli_error(path, "nests tuples more than 100 deep")

    def test_opcode_and_node_budgets(self):
        data = zip_with_pickle(pickle.dumps({"x": list(range(300))}, protocol=2))
        with self.cap(checkpoint_limits, "MAX_PICKLE_OPS", 100):
            self.assert_load_error(data, "more than 100 operations")
        with self.cap(checkpoint_limits, "MAX_NODES", 50):
            self.assert_load_error(data, "more than 50 values")
        self.assert_load_error(data, "contains no dict of tensors")

    def test_string_longer_than_the_file(self):
        # BINUNICODE8 claiming 2**60 bytes, in a legacy file and in data.pkl.
        evil = b"\x80\x04\x8d" + struct.pack("<Q", 1 << 60) + b"abc."
        self.assert_load_error(make_legacy(None, main_pickle=evil), "asks for 1152921504606846976 bytes but only")
        self.assert_load_error(zip_with_pickle(evil), "asks for 1152921504606846976 bytes but only 4 remain")

    def test_build_on_whitelisted_objects_is_refused(self):
        storage_type = torch_checkpoint._SAFE_GLOBALS[("torch", "FloatStorage")]
        cases = {
            "storage class": b"ctorch\nFloatStorage\n}" + u("dtype") + u("f8") + b"sb.",
            "slot state": b"ctorch\nFloatStorage\nN}" + u("dtype") + u("f8") + b"s\x86b.",
            "function": b"ctorch._utils\n_rebuild_tensor_v2\n}" + u("__doc__") + u("x") + b"sb.",
            "OrderedDict class": b"ccollections\nOrderedDict\n}" + u("x") + u("y") + b"sb.",
            "dtype marker": b"ctorch\nfloat32\n}" + u("qualname") + u("os.system") + b"sb.",
        }
        for what, body in cases.items():
            with self.subTest(what):
                self.assert_load_error(zip_with_pickle(b"\x80\x02" + body), r"pickle BUILD")
        self.assertEqual(storage_type.dtype, "f4")
        self.assertEqual(repr(torch_checkpoint._SAFE_GLOBALS[("torch", "float32")]), "torch.float32")
        self.assertFalse(hasattr(collections.OrderedDict, "x"))
        # Nor can anything else change them.
        with self.assertRaises(CheckpointError):
            storage_type.dtype = "f8"
        with self.assertRaises(AttributeError):
            storage_type.__dict__  # noqa: B018 - slots only
        # A state dict's own BUILD (torch's _metadata on the OrderedDict) still loads.
        od = collections.OrderedDict([("x", 1)])
        od._metadata = {"": {"version": 1}}
        pkl = pickle.dumps(od, protocol=2)
        self.assertIn(b"b", pkl)  # OrderedDict.__reduce__ gives BUILD with the __dict__
        obj = torch_checkpoint.load(self.file("m.pt", zip_with_pickle(pkl)))
        self.assertEqual(obj, {"x": 1})

    def test_build_on_a_tensor_is_refused(self):
        good = make_zip(collections.OrderedDict([("w", tensor(FakeStorage("FloatStorage", "0", [1.0])))]))
        zf = zipfile.ZipFile(io.BytesIO(good))
        pkl = zf.read("archive/data.pkl")
        # The tensor (REDUCE result) is the last value set; BUILD it before SETITEMS.
        evil = pkl.replace(b"Rq", b"}" + u("size") + b"K\x05sbq", 1)
        self.assertNotEqual(evil, pkl)
        self.assert_load_error(zip_with_pickle(evil, {"0": np.float32(1).tobytes()}), "pickle BUILD")

    def test_globals_off_the_whitelist(self):
        # Still refused, named, and never called (test_convert covers more).
        self.assert_load_error(zip_with_pickle(b"\x80\x02cbuiltins\neval\n" + u("1") + b"\x85R."),
                               r"builtins\.eval.*not on the whitelist")

    def test_describe_is_bounded(self):
        a: list = []
        for _ in range(10_000):
            a = [a, a]
        self.assertLess(len(torch_checkpoint.describe(a)), 100)
        self.assertLess(len(torch_checkpoint.describe(1 << 100_000)), 100)


# ---------------------------------------------------------------- tensor views

class TensorViewTest(CleanErrorMixin, unittest.TestCase):
    def test_stride_zero_cli(self):
        # One float viewed as 10**9: 4 GB if built. Refused before allocating.
        path = self.file("stride0.pt", one_tensor((1_000_000_000,), (0,)))
        self.assert_cli_error(path, "repeats elements")

    def test_bad_views(self):
        four = (1.0, 2.0, 3.0, 4.0)
        cases = [
            ("stride 0", ((4,), (0,), 0, (1.0,)), "repeats elements"),
            ("overlapping", ((2, 3), (1, 1), 0, four), "repeats elements"),
            ("negative size", ((-1, 4), (4, 1), 0, four), "negative entry"),
            ("negative stride", ((4,), (-1,), 3, four), "negative entry"),
            ("negative offset", ((1,), (1,), -1, four), "offset -1 is negative"),
            ("absurd numel", ((1 << 40, 1 << 40), (1 << 40, 1), 0, four), "past its storage"),
            ("past the end", ((4,), (1,), 1, four), "past its storage"),
            ("rank mismatch", ((4,), (1, 1), 0, four), "differ in length"),
            ("too many dims", ((1,) * 65, (1,) * 65, 0, four), "65 dimensions"),
            ("float size", ((2.5,), (1,), 0, four), "not an integer"),
            ("string stride", ((4,), ("1",), 0, four), "not an integer"),
        ]
        for what, (size, stride, offset, values), pattern in cases:
            with self.subTest(what):
                self.assert_load_error(one_tensor(size, stride, offset, values), pattern)

    def test_storage_claims_more_than_the_file_has(self):
        st = ClaimedStorage("FloatStorage", "0", [1.0], numel=1 << 40)
        data = make_zip_claiming(collections.OrderedDict([("w", tensor(st, 0, (1,), (1,)))]))
        self.assert_load_error(data, "need more than")  # the 2 GiB cap, before reading
        st = ClaimedStorage("FloatStorage", "0", [1.0], numel=1000)
        data = make_zip_claiming(collections.OrderedDict([("w", tensor(st, 0, (1,), (1,)))]))
        self.assert_load_error(data, "has 4 bytes but 4000 are needed")
        st = ClaimedStorage("FloatStorage", "0", [1.0], numel=-5)
        data = make_zip_claiming(collections.OrderedDict([("w", tensor(st, 0, (1,), (1,)))]))
        self.assert_load_error(data, "has -5 elements")

    def test_legacy_storage_counts(self):
        # The data section's element count must match; a huge one is never read.
        data = bytearray(make_legacy(collections.OrderedDict(
            [("w", tensor(FakeStorage("FloatStorage", "0", [1.0, 2.0])))])))
        pos = len(data) - 8 - 8  # int64 count before the 8 data bytes
        self.assertEqual(struct.unpack_from("<q", data, pos)[0], 2)
        struct.pack_into("<q", data, pos, 1 << 60)
        self.assert_load_error(bytes(data), "the data section has 1152921504606846976 elements")

    def test_total_tensor_bytes_cap(self):
        data = make_zip(sample_checkpoint())
        with self.cap(checkpoint_limits, "MAX_TENSOR_BYTES", 100):
            self.assert_load_error(data, "need more than 100 bytes")
        # Many views of one storage count each copy: capped too.
        st = FakeStorage("FloatStorage", "0", np.zeros(100, np.float32))
        many = collections.OrderedDict((f"w{i}", tensor(st)) for i in range(10))
        with self.cap(checkpoint_limits, "MAX_TENSOR_BYTES", 2000):
            self.assert_load_error(make_zip(many), "need more than 2000 bytes")
        # The same tensor object referenced many times is built once.
        t = tensor(st)
        shared = collections.OrderedDict((f"w{i}", t) for i in range(10))
        with self.cap(checkpoint_limits, "MAX_TENSOR_BYTES", 1000):
            sd = torch_checkpoint.load_state_dict(self.file("shared.pt", make_zip(shared)))
        self.assertEqual(len(sd), 10)


# ----------------------------------------------------------------------- zips

class ZipTest(CleanErrorMixin, unittest.TestCase):
    def storage_zip(self, n_floats: int) -> bytes:
        st = FakeStorage("FloatStorage", "0", np.zeros(n_floats, np.float32))
        return make_zip(collections.OrderedDict([("w", tensor(st))]))

    def test_member_claims_3_gib_cli(self):
        # A 3 MB zip whose storage member claims 3 GiB: refused before reading it.
        data = patch_sizes(self.storage_zip(750_000), "archive/data/0", 3 << 30, 3 << 30)
        self.assertLess(len(data), 4 << 20)
        path = self.file("bomb.pt", data)
        self.assert_cli_error(path, r"archive/data/0 claims 3221225472 bytes, more than the 2147483648")

    def test_member_sizes_against_the_archive(self):
        good = self.storage_zip(1000)
        cases = [
            ("stored member longer than the archive",
             patch_sizes(good, "archive/data/0", 100_000, 100_000), "archive has only"),
            ("stored sizes disagree", patch_sizes(good, "archive/data/0", 8000), "archive has only"),
            ("shorter than the storage", patch_sizes(good, "archive/data/0", 400, 400),
             "has 400 bytes but 4000 are needed"),
            ("data.pkl claims 1 GiB", patch_sizes(good, "archive/data.pkl", 1 << 30, 1 << 30),
             "data.pkl claims 1073741824 bytes, more than"),
        ]
        for what, data, pattern in cases:
            with self.subTest(what):
                self.assert_load_error(data, pattern)

    def test_deflate_bomb_reads_only_what_the_storage_needs(self):
        # A 20 MB deflated member (20 KB in the file) behind a 4-element storage: read 16 bytes.
        st = ClaimedStorage("FloatStorage", "0", [1.0, 2.0, 3.0, 4.0], numel=4)
        with fake_torch():
            buf = io.BytesIO()
            _Pickler(buf, legacy=False).dump(collections.OrderedDict([("w", tensor(st))]))
        data = zip_bytes({"archive/data.pkl": buf.getvalue(),
                          "archive/data/0": st.array.tobytes() + bytes(20 << 20)},
                         zipfile.ZIP_DEFLATED)
        self.assertLess(len(data), 100_000)
        sd = torch_checkpoint.load_state_dict(self.file("z.pt", data))
        np.testing.assert_array_equal(sd["w"], [1, 2, 3, 4])
        # A member claiming more than deflate can expand is lying.
        lie = patch_sizes(data, "archive/data/0", 2 << 30)
        self.assert_load_error(lie, "archive has only|claims")

    def test_too_many_members(self):
        # Counted from the end record, before zipfile parses the central directory.
        with self.cap(checkpoint_limits, "MAX_ZIP_MEMBERS", 3):
            self.assert_load_error(self.storage_zip(4), "lists 4 members, more than 3")

    def test_not_a_regular_file(self):
        fifo = os.path.join(self.tmp.name, "fifo.pt")
        os.mkfifo(fifo)
        with self.assertRaisesRegex(CheckpointError, "not a regular file"):
            torch_checkpoint.load(fifo)
        self.assert_cli_error(fifo, "does not exist or is not a file")


# ---------------------------------------------------------------------- Keras

def keras_config(*layers, shape=(4,)):
    return {"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [None, *shape]}},
        *layers]}}


@unittest.skipIf(h5py is None, "h5py is not installed (pip install -r tools/requirements.txt)")
class KerasTest(CleanErrorMixin, unittest.TestCase):
    def legacy_h5(self, config: dict | str, weights: dict | None = None, name="m.h5",
                  weight_names: dict | None = None) -> str:
        """A tf.keras-style .h5: model_config plus model_weights/<layer>/<dataset>."""
        path = os.path.join(self.tmp.name, name)
        with h5py.File(path, "w") as f:
            f.attrs["model_config"] = config if isinstance(config, str) else json.dumps(config)
            mw = f.create_group("model_weights")
            for layer, datasets in (weights or {}).items():
                g = mw.create_group(layer)
                names = (weight_names or {}).get(layer, list(datasets))
                g.attrs["weight_names"] = np.array([n.encode() for n in names], dtype="S")
                for n, make in datasets.items():
                    make(g, n)
        return path

    @staticmethod
    def data(arr):
        return lambda g, n: g.create_dataset(n, data=np.asarray(arr, np.float32))

    def dense_weights(self):
        return {"d": {"d/kernel:0": self.data(np.ones((4, 2))), "d/bias:0": self.data(np.zeros(2))}}

    def test_valid_file_converts(self):  # the baseline the cases below break
        path = self.legacy_h5(keras_config({"class_name": "Dense", "config": {"name": "d", "units": 2}}),
                              self.dense_weights())
        convert.convert(path, os.path.join(self.tmp.name, "ok"))

    def test_deeply_nested_config_cli(self):
        path = self.legacy_h5("[" * 100_000 + "]" * 100_000)
        self.assert_cli_error(path, "nested too deeply")

    def test_deep_inbound_nodes(self):
        nest: list = ["in", 0, 0]
        for _ in range(900):  # within json's depth, deep for a recursive walk
            nest = [nest, 1]
        config = {"class_name": "Functional", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "name": "in", "config": {"name": "in", "batch_shape": [None, 4]},
             "inbound_nodes": []},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2},
             "inbound_nodes": nest}]}}
        path = self.legacy_h5(config, self.dense_weights())
        convert.convert(path, os.path.join(self.tmp.name, "deep"))  # a chain after all

    def test_missing_kernel_cli(self):
        path = self.legacy_h5(keras_config({"class_name": "Dense", "config": {"name": "d", "units": 2}}),
                              {"d": {"d/bias:0": self.data(np.zeros(2))}},
                              weight_names={"d": ["d/kernel:0", "d/bias:0"]})
        self.assert_cli_error(path, r"weight dataset 'd/kernel:0' .* is missing")

    def test_negative_and_bad_sizes(self):
        conv = {"name": "c", "filters": 1, "kernel_size": 1, "padding": "valid"}
        w = {"c": {"c/kernel:0": self.data(np.ones((1, 1, 1, 1))), "c/bias:0": self.data(np.zeros(1))}}
        cases = [
            ("upsampling size", keras_config({"class_name": "UpSampling2D",
                                              "config": {"name": "u", "size": [-2, 2]}}, shape=(2, 2, 1)),
             None, "size must be at least 1"),
            ("reshape target", keras_config({"class_name": "Reshape",
                                             "config": {"name": "r", "target_shape": [-2, -2, 1]}}),
             None, "cannot reshape 4 values"),
            ("reshape strings", keras_config({"class_name": "Reshape",
                                              "config": {"name": "r", "target_shape": ["2", 2]}}),
             None, "not a list of at most 3 integers"),
            ("input shape", keras_config(shape=(-5,)), None, "unknown dimensions"),
            ("conv strides", keras_config({"class_name": "Conv2D", "config": {**conv, "strides": -1}},
                                          shape=(2, 2, 1)), w, "strides must be at least 1"),
            ("config types", {"class_name": "Sequential", "config": {"layers": [5]}}, None,
             "malformed model config"),
            ("duplicate keys", '{"class_name": "Sequential", "class_name": "Functional"}', None,
             "duplicate key 'class_name'"),
            ("NaN", '{"class_name": NaN}', None, "NaN is not valid JSON"),
        ]
        for what, config, weights, pattern in cases:
            with self.subTest(what):
                path = self.legacy_h5(config, weights, name=f"{what.replace(' ', '_')}.h5")
                with self.assertRaisesRegex(convert.ConvertError, pattern):
                    convert.convert(path, os.path.join(self.tmp.name, "x"))

    def test_bad_batch_norm(self):
        def bn_file(eps, var):
            return self.legacy_h5(
                keras_config({"class_name": "BatchNormalization", "config": {"name": "b", "epsilon": eps}}),
                {"b": {"b/gamma:0": self.data(np.ones(4)), "b/beta:0": self.data(np.zeros(4)),
                       "b/moving_mean:0": self.data(np.zeros(4)), "b/moving_variance:0": self.data(var)}},
                name=f"bn{eps}.h5")
        with self.assertRaisesRegex(convert.ConvertError, "eps must be a positive number, got 0.0"):
            convert.convert(bn_file(0, np.ones(4)), os.path.join(self.tmp.name, "x"))
        with self.assertRaisesRegex(convert.ConvertError, "running_var 'b.running_var' has negative"):
            convert.convert(bn_file(1e-3, [1, -1, 1, 1]), os.path.join(self.tmp.name, "x"))

    def test_huge_and_external_datasets(self):
        config = keras_config({"class_name": "Dense", "config": {"name": "d", "units": 100_000}},
                              shape=(100_000,))
        # 40 GB declared, nothing stored (HDF5 allocates late): refused without reading.
        huge = self.legacy_h5(config, {"d": {
            "d/kernel:0": lambda g, n: g.create_dataset(n, shape=(100_000, 100_000), dtype="f4"),
            "d/bias:0": self.data(np.zeros(100_000))}}, name="huge.h5")
        self.assertLess(os.path.getsize(huge), 1 << 20)
        self.assert_cli_error(huge, "brings the weights past 2147483648 bytes")
        # Data in another file (here: one the converter could otherwise copy into the model).
        secret = self.file("secret.bin", b"\x00" * 32)
        ext = self.legacy_h5(
            keras_config({"class_name": "Dense", "config": {"name": "d", "units": 2}}),
            {"d": {"d/kernel:0": lambda g, n: g.create_dataset(n, shape=(4, 2), dtype="f4",
                                                                external=[(secret, 0, 32)]),
                   "d/bias:0": self.data(np.zeros(2))}}, name="ext.h5")
        with self.assertRaisesRegex(convert.ConvertError, "outside the file"):
            convert.convert(ext, os.path.join(self.tmp.name, "x"))
        # A link to a dataset in another HDF5 file on this machine.
        other = os.path.join(self.tmp.name, "other.h5")
        with h5py.File(other, "w") as f:
            f.create_dataset("k", data=np.ones((4, 2), np.float32))
        link = self.legacy_h5(
            keras_config({"class_name": "Dense", "config": {"name": "d", "units": 2}}),
            {"d": {"d/kernel:0": lambda g, n: g.__setitem__(n, h5py.ExternalLink(other, "k")),
                   "d/bias:0": self.data(np.zeros(2))}}, name="link.h5")
        with self.assertRaisesRegex(convert.ConvertError, "is a link to another file"):
            convert.convert(link, os.path.join(self.tmp.name, "x"))

    def test_keras_zip_members(self):
        config = json.dumps(keras_config({"class_name": "Dense", "config": {"name": "d", "units": 2}}))
        data = zip_bytes({"config.json": config.encode(), "model.weights.h5": b"\x89HDF" + bytes(1000)})
        bomb = self.file("bomb.keras", patch_sizes(data, "model.weights.h5", 3 << 30, 3 << 30))
        self.assert_cli_error(bomb, "model.weights.h5 claims 3221225472 bytes, more than")
        dup = self.file("dup.keras", zip_bytes({"config.json": b'{"a": 1, "a": 2}',
                                                "model.weights.h5": b""}))
        self.assert_cli_error(dup, "config.json: duplicate key 'a'")
        bad_h5 = self.file("badh5.keras", data)
        self.assert_cli_error(bad_h5, "model.weights.h5 is not a readable HDF5 file")


# ------------------------------------------------- converter rules (Rust loader)

class StrictnessTest(CleanErrorMixin, unittest.TestCase):
    """What the Rust loader refuses, the converter refuses first, with a clear message."""

    def arch_case(self, arch_text: str, state=None) -> str:
        arch = self.file("arch.json", arch_text.encode())
        ckpt = self.file("c.pt", make_zip(state or collections.OrderedDict(
            [("w", tensor(FakeStorage("FloatStorage", "0", np.ones(8))))])))
        return ckpt, arch

    def test_arch_json(self):
        cases = [
            ('{"latent_dim": 4, "latent_dim": 8, "layers": [{"op": "relu"}]}', "duplicate key 'latent_dim'"),
            ('{"latent_dim": 4, "layers": [{"op": "relu", "slope": 0.1}]}', r"unknown fields \['slope'\]"),
            ('{"latent_dim": 4, "layers": [{"op": "tanh", "op": "relu"}]}', "duplicate key 'op'"),
            ('{"latent_dim": 4, "layers": [{"op": "leaky_relu", "slope": NaN}]}', "NaN is not valid JSON"),
            ('{"latent_dim": 4, "layers": [{"op": ["relu"]}]}', r"unknown op \['relu'\]"),
            ('{"latent_dim": 4, "layers": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
            ('{"latent_dim": 4, "layers": [' + ", ".join(['{"op": "relu"}'] * 1001) + "]}",
             "1001 layers, more than 1000"),
            ('{"latent_dim": 4, "output_shape": 4, "layers": [{"op": "relu"}]}', "'output_shape' must be"),
            ('{"latent_dim": 100000, "layers": [{"op": "relu"}]}', "at most 65536"),
            ('{"latent_dim": 4, "layers": [{"op": "reshape", "shape": [4, 1, 1]}, '
             '{"op": "upsample", "scale": [100000, 1]}]}', "larger than 64"),
            ('{"latent_dim": 4, "layers": [{"op": "reshape", "shape": [4, 1, 1]}, '
             '{"op": "upsample", "scale": [64, 64]}, {"op": "upsample", "scale": [64, 64]}, '
             '{"op": "upsample", "scale": [64, 64]}]}', "larger than webgan's limits"),
        ]
        for text, pattern in cases:
            with self.subTest(text[:60]):
                ckpt, arch = self.arch_case(text)
                with self.assertRaisesRegex(convert.ConvertError, pattern):
                    convert.convert(ckpt, os.path.join(self.tmp.name, "x"), arch=arch)

    def test_duplicate_key_cli(self):
        ckpt, arch = self.arch_case('{"latent_dim": 4, "latent_dim": 8, "layers": [{"op": "relu"}]}')
        self.assert_cli_error(ckpt, f"--arch file {arch}: duplicate key 'latent_dim'", "--arch", arch)

    def test_batch_norm_eps_and_variance(self):
        sd = synthetic_dcgan("named")
        sd["batchNorm1.running_var"] = sd["batchNorm1.running_var"].copy()
        sd["batchNorm1.running_var"][1] = -0.5
        spec = convert.dcgan_architecture(sd)
        with self.assertRaisesRegex(convert.ConvertError,
                                    r"layer 2 \(batch_norm\): running_var 'batchNorm1.running_var' "
                                    r"has negative values \(the smallest is -0.5\)"):
            convert.resolve_architecture(spec, sd)
        sd = synthetic_dcgan("named")
        for eps in (0, -1e-5, float("nan"), float("inf")):
            with self.subTest(eps=eps):
                spec = convert.dcgan_architecture(sd)
                spec["layers"][2]["eps"] = eps
                with self.assertRaisesRegex(convert.ConvertError, "eps must be a positive number"):
                    convert.resolve_architecture(spec, sd)

    def test_negative_variance_cli(self):
        sd = synthetic_dcgan("seq")
        var = sd["main.1.running_var"].copy()
        var[0] = -1
        state = collections.OrderedDict()
        for i, (k, v) in enumerate(sd.items()):
            if k == "main.1.running_var":
                v = var
            kind = "LongStorage" if v.dtype == np.int64 else "FloatStorage"
            state[k] = tensor(FakeStorage(kind, str(i), v.ravel()), 0, v.shape)
        path = self.file("negvar.pt", make_zip(state))
        self.assert_cli_error(path, "running_var 'main.1.running_var' has negative values",
                              "--arch", "dcgan")

    def test_manifest_size(self):
        sd = synthetic_dcgan("named")
        path = self.file("g.pt", make_zip(collections.OrderedDict(
            (k, tensor(FakeStorage("LongStorage" if v.dtype == np.int64 else "FloatStorage", str(i),
                                   v.ravel()), 0, v.shape)) for i, (k, v) in enumerate(sd.items()))))
        with self.assertRaisesRegex(convert.ConvertError, "model.json would be .* more than 4194304"):
            convert.convert(path, os.path.join(self.tmp.name, "x"), arch="dcgan",
                            description="x" * (5 << 20))
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "x")))

    def test_unexpected_errors_are_one_line(self):
        line = convert.error_line("in.pt", KeyError("a\nb"))
        self.assertTrue(line.startswith("in.pt: unexpected KeyError"), line)
        self.assertNotIn("\n", line)
        self.assertEqual(convert.error_line("in.pt", MemoryError()),
                         "in.pt: out of memory while reading it; the file is corrupt or too large")
        self.assertEqual(convert.error_line("in.pt", CheckpointError("in.pt is empty")), "in.pt is empty")

    def test_safetensors_decode(self):
        good = safetensors_np.encode({"x": np.zeros(2, np.float32)})
        n = struct.unpack("<Q", good[:8])[0]
        cases = [
            (struct.pack("<Q", 1 << 62) + good[8:], "more than"),
            (good[:8] + b'{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}'.ljust(n), "non-negative"),
            (good[:8] + b'{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"x":{}}'.ljust(n)
             + good[8 + n:], "duplicate key"),
            (good[:8] + b"[1]".ljust(n) + good[8 + n:], "not a JSON object"),
        ]
        for blob, pattern in cases:
            with self.subTest(pattern):
                with self.assertRaisesRegex(safetensors_np.SafetensorsError, pattern):
                    safetensors_np.decode(blob)


if __name__ == "__main__":
    unittest.main()
