"""Storages (a checkpoint's raw typed bytes, read now or later) and the tensor views on them
that the pickle builds, each checked against its storage before any data is copied."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_limits as limits  # noqa: E402
from checkpoint_errors import BoundedRepr, CheckpointError, describe  # noqa: E402


class _Storage(BoundedRepr):
    """A storage whose bytes may not have been read yet (legacy format reads
    them after the main pickle). ``base``/``offset`` describe legacy views."""

    def __init__(self, dtype: str, key: str, numel: int,
                 base: "_Storage | None" = None, offset: int = 0):
        self.dtype = dtype
        self.key = key
        self.numel = numel
        self.base = base
        self.offset = offset
        self.array: np.ndarray | None = None  # 1-D, filled for root storages

    def __setstate__(self, state: Any) -> None:
        raise CheckpointError(f"the checkpoint tries to change {self!r} (pickle BUILD); "
                              "the file is corrupt or hostile")

    def __repr__(self) -> str:
        return f"storage {self.key!r}"

    def data(self) -> np.ndarray:
        if self.base is not None:
            return self.base.data()[self.offset:self.offset + self.numel]
        if self.array is None:
            raise CheckpointError(
                f"storage {self.key!r} is used by a tensor but its data was "
                "never found in the file; the checkpoint is corrupt or truncated")
        return self.array


def _int_arg(v: Any, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise CheckpointError(f"tensor {what} is {describe(v)}, not an integer; the checkpoint is corrupt")
    return v


def _int_tuple(v: Any, what: str) -> tuple[int, ...]:
    if not isinstance(v, (tuple, list)):
        raise CheckpointError(f"tensor {what} is {describe(v)}, not a tuple of integers; "
                              "the checkpoint is corrupt")
    if len(v) > limits.MAX_NDIM:
        raise CheckpointError(f"tensor {what} has {len(v)} dimensions, more than {limits.MAX_NDIM}; "
                              "the checkpoint is corrupt")
    out = tuple(_int_arg(x, what) for x in v)
    if any(x < 0 for x in out):
        raise CheckpointError(f"tensor {what} {describe(list(out))} has a negative entry; "
                              "the checkpoint is corrupt")
    return out


class _LazyTensor(BoundedRepr):
    """A tensor to build once all storage bytes are known. The view is checked
    here, when the pickle makes it, against the storage's declared length
    (the data itself must later have exactly that length)."""

    def __init__(self, storage: Any, offset: Any, size: Any, stride: Any):
        if not isinstance(storage, _Storage):
            raise CheckpointError(
                f"tensor refers to {describe(storage)} instead of a storage; "
                "the checkpoint layout is not supported")
        self.storage = storage
        self.offset = _int_arg(offset, "storage offset")
        if self.offset < 0:
            raise CheckpointError(f"tensor storage offset {self.offset} is negative; the checkpoint is corrupt")
        self.size = _int_tuple(size, "size")
        self.stride = _int_tuple(stride, "stride")
        if len(self.size) != len(self.stride):
            raise CheckpointError(
                f"tensor size {describe(list(self.size))} and stride "
                f"{describe(list(self.stride))} differ in length")
        self.numel = math.prod(self.size)
        if self.numel > 0:
            have = storage.numel - self.offset
            last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
            if last >= storage.numel:
                raise CheckpointError(
                    f"tensor of size {describe(list(self.size))}, stride "
                    f"{describe(list(self.stride))}, offset {self.offset} reaches element "
                    f"{describe(last)}, past its storage of {storage.numel} "
                    "elements; the checkpoint is corrupt")
            if self.numel > have:
                raise CheckpointError(
                    f"tensor of size {describe(list(self.size))} has {describe(self.numel)} "
                    f"elements but its storage holds {max(have, 0)} from offset {self.offset}: "
                    "the view repeats elements (stride 0 or overlapping strides), which a "
                    "state dict does not need (save tensor.clone()), or the checkpoint is corrupt")

    def __setstate__(self, state: Any) -> None:
        raise CheckpointError("the checkpoint tries to change a tensor after building it "
                              "(pickle BUILD); the file is corrupt or hostile")

    def __repr__(self) -> str:
        return f"tensor of size {describe(list(self.size))}"

    def materialize(self, budget: "restricted_pickle._Budget") -> np.ndarray:
        data = self.storage.data()
        out_dtype = data.dtype.newbyteorder("=")
        budget.tensor_bytes(self.numel * out_dtype.itemsize, repr(self))
        if self.numel > 0:
            if self.offset + self.numel > data.shape[0]:  # data shorter than declared
                raise CheckpointError(
                    f"{self!r} at offset {self.offset} reaches past its storage of "
                    f"{data.shape[0]} elements; the checkpoint is corrupt")
            view = np.lib.stride_tricks.as_strided(
                data[self.offset:],
                shape=self.size,
                strides=tuple(s * data.itemsize for s in self.stride),
                writeable=False)
        else:
            view = np.zeros(self.size, dtype=data.dtype)
        # Copy: detach from the shared storage and make it C-contiguous and
        # native-endian, so callers never see surprising aliasing. (Not
        # np.ascontiguousarray: it turns 0-d tensors into shape (1,).)
        return np.array(view, dtype=out_dtype, order="C", copy=True)



def _np_dtype(dtype: str, little_endian: bool) -> np.dtype:
    order = "<" if little_endian else ">"
    if dtype == "bfloat16":
        return np.dtype(order + "u2")
    return np.dtype(order + dtype)


def _storage_array(raw: bytes, dtype: str, numel: int, little_endian: bool,
                   key: str) -> np.ndarray:
    """Turn a storage's raw bytes into a 1-D array (bfloat16 -> float32)."""
    npd = _np_dtype(dtype, little_endian)
    need = numel * npd.itemsize
    if len(raw) < need:
        raise CheckpointError(
            f"storage {key!r} needs {need} bytes but only {len(raw)} are present; "
            "the file is truncated — download or save it again")
    arr = np.frombuffer(raw, dtype=npd, count=numel)
    if dtype == "bfloat16":
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return arr


def _storage_key(key: Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        key = str(key)
    if not isinstance(key, str) or not key or len(key) > limits.MAX_KEY_CHARS:
        raise CheckpointError(f"storage key {describe(key)} is not a short string; the checkpoint is corrupt")
    return key


def _storage_numel(numel: Any, key: str) -> int:
    if not isinstance(numel, int) or isinstance(numel, bool) or numel < 0:
        raise CheckpointError(f"storage {key!r} has {describe(numel)} elements; the checkpoint is corrupt")
    return numel
