"""Minimal safetensors writer and reader with numpy only.

The format (https://github.com/huggingface/safetensors): an 8-byte
little-endian unsigned header length N, N bytes of JSON header, then the raw
little-endian tensor data. The header maps each tensor name to
``{"dtype", "shape", "data_offsets": [begin, end]}`` with offsets relative to
the start of the data section, plus an optional ``"__metadata__"`` dict of
strings.

The writer is deterministic so that re-running the converter reproduces the
same bytes: ``__metadata__`` first, tensors sorted by name, contiguous data
in that order, compact JSON, header padded with spaces to a multiple of 8
bytes (so the data section starts 8-byte aligned, as the reference
implementation does).
"""

from __future__ import annotations

import collections
import json
import struct

import numpy as np

__all__ = ["encode", "decode", "SafetensorsError", "DTYPES"]

# safetensors dtype name <-> numpy dtype (little-endian).
DTYPES = {
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NAME_OF = {v.newbyteorder("<") if v.itemsize > 1 else v: k for k, v in DTYPES.items()}


class SafetensorsError(ValueError):
    pass


# Largest header accepted by decode (the Rust loader's cap is of the same order).
MAX_HEADER_BYTES = 100 << 20


def _dtype_name(dtype: np.dtype) -> str:
    key = dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype
    try:
        return _NAME_OF[key]
    except KeyError:
        raise SafetensorsError(f"dtype {dtype} has no safetensors equivalent here") from None


def encode(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """Serialize ``tensors`` (name -> array) to safetensors bytes."""
    if metadata is None:
        metadata = {"format": "pt"}
    header: dict[str, object] = {"__metadata__": dict(metadata)} if metadata else {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise SafetensorsError("a tensor cannot be called __metadata__")
        arr = np.asarray(tensors[name])
        dtype_name = _dtype_name(arr.dtype)
        data = np.ascontiguousarray(arr, dtype=DTYPES[dtype_name]).tobytes()
        header[name] = {
            "dtype": dtype_name,
            "shape": [int(d) for d in arr.shape],
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def decode(blob: bytes) -> tuple["collections.OrderedDict[str, np.ndarray]", dict[str, str]]:
    """Parse safetensors bytes; returns (tensors in header order, metadata).

    Validates what a strict reader (like the browser loader) must: header
    bounds, dtypes, that offsets match shapes and tile the data section
    without gaps or overlaps.
    """
    if len(blob) < 8:
        raise SafetensorsError("file shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER_BYTES:
        raise SafetensorsError(f"header length {n} is more than {MAX_HEADER_BYTES}")
    if 8 + n > len(blob):
        raise SafetensorsError(f"header length {n} exceeds the file size {len(blob)}")

    def no_duplicates(pairs):
        out = collections.OrderedDict()
        for k, v in pairs:
            if k in out:
                raise SafetensorsError(f"duplicate key {k[:80]!r} in the header")
            out[k] = v
        return out

    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise SafetensorsError(f"bad header JSON: {e}") from e
    if not isinstance(header, dict):
        raise SafetensorsError("the header is not a JSON object")
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    spans = []
    tensors: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()

    def ints(v, what, name):
        if not isinstance(v, list) or not all(type(x) is int and x >= 0 for x in v):
            raise SafetensorsError(f"{name}: {what} must be a list of non-negative integers")
        return v

    for name, info in header.items():
        if not isinstance(info, dict):
            raise SafetensorsError(f"{name}: entry is not an object")
        dt = DTYPES.get(info.get("dtype")) if isinstance(info.get("dtype"), str) else None
        if dt is None:
            raise SafetensorsError(f"{name}: unsupported dtype {str(info.get('dtype'))[:40]}")
        shape = tuple(ints(info.get("shape"), "shape", name))
        offsets = ints(info.get("data_offsets"), "data_offsets", name)
        if len(offsets) != 2:
            raise SafetensorsError(f"{name}: data_offsets must be [begin, end]")
        begin, end = offsets
        count = 1
        for d in shape:  # Python ints: no overflow
            count *= d
        if end - begin != count * dt.itemsize or begin < 0 or end > len(data):
            raise SafetensorsError(f"{name}: data_offsets {begin},{end} do not match shape {shape}")
        spans.append((begin, end, name))
        tensors[name] = np.frombuffer(data, dtype=dt, count=count, offset=begin).reshape(shape)
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise SafetensorsError(f"{name}: data does not start where the previous tensor ends")
        pos = end
    if pos != len(data):
        raise SafetensorsError(f"{len(data) - pos} trailing bytes after the last tensor")
    return tensors, dict(metadata)
