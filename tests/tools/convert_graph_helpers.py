"""Shared helpers for the converter's PyTorch-input tests (test_convert_reparam.py,
test_convert_graph.py, test_convert_pickled.py): spectral-norm state built with an independent
power iteration, hand-made torch.save zips and safetensors files, and a temp-dir/CLI mixin.
Not a test module (no TestCase here), so nothing is collected twice.

The expected folded weights are computed here independently of the converter: σ = u·(W_mat v)
from the stored u and v, and a plain power iteration (no SVD) checks what σ means.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ONNX_FIXTURES = os.path.join(ROOT, "tests", "fixtures", "onnx")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import convert  # noqa: E402
import safetensors_np  # noqa: E402
from tests.tools.test_convert import FakeStorage, make_zip, tensor  # noqa: E402

RNG = np.random.default_rng(20260)


def normalize(x):
    return x / max(np.linalg.norm(x), 1e-12)


def power_iteration(mat: np.ndarray, steps: int, u: np.ndarray | None = None):
    """torch's spectral-norm update (train mode), from a random u: v = W^T u / |.|,
    u = W v / |.|. Returns (u, v)."""
    u = normalize(RNG.standard_normal(mat.shape[0]) if u is None else u)
    v = None
    for _ in range(steps):
        v = normalize(mat.T @ u)
        u = normalize(mat @ v)
    return u, v


def as_matrix(w: np.ndarray, dim: int) -> np.ndarray:
    return np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)


def sn_state(prefix: str, w: np.ndarray, dim: int, steps: int = 3, form: str = "hook"):
    """A spectral-normed weight's state-dict entries, with u and v after ``steps`` train-mode
    power iterations, and the eval-mode weight W / (u·W_mat v) computed here."""
    u, v = power_iteration(as_matrix(w.astype(np.float64), dim), steps)
    f = np.float32
    if form == "hook":
        entries = [(f"{prefix}.weight_orig", w.astype(f)), (f"{prefix}.weight_u", u.astype(f)),
                   (f"{prefix}.weight_v", v.astype(f))]
    else:
        entries = [(f"{prefix}.parametrizations.weight.original", w.astype(f)),
                   (f"{prefix}.parametrizations.weight.0._u", u.astype(f)),
                   (f"{prefix}.parametrizations.weight.0._v", v.astype(f))]
    # The expected value from the float32 u, v the file holds, as torch reads them.
    u32, v32 = entries[1][1].astype(np.float64), entries[2][1].astype(np.float64)
    want = w.astype(np.float32).astype(np.float64) / float(u32 @ as_matrix(
        w.astype(np.float32).astype(np.float64), dim) @ v32)
    return entries, want


def zip_file(folder: str, name: str, state: "collections.OrderedDict[str, np.ndarray]") -> str:
    """``state`` as a torch.save zip checkpoint (hand-made pickle, see test_convert)."""
    obj = collections.OrderedDict()
    for i, (k, v) in enumerate(state.items()):
        v = np.asarray(v)
        kind = {"f": "FloatStorage", "i": "LongStorage"}[v.dtype.kind]
        obj[k] = tensor(FakeStorage(kind, str(i), v.ravel()), 0, v.shape)
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(make_zip(obj))
    return path


def st_file(folder: str, name: str, state: dict, metadata=None) -> str:
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(safetensors_np.encode(state, metadata))
    return path


def read_weights(folder: str) -> "collections.OrderedDict[str, np.ndarray]":
    with open(os.path.join(folder, "weights.safetensors"), "rb") as fh:
        return safetensors_np.decode(fh.read())[0]


class TempDirMixin:
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def path(self, name: str) -> str:
        return os.path.join(self.tmp.name, name)

    def cli(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = convert.main(list(args))
        return rc, out.getvalue(), err.getvalue()

