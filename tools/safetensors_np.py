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

__all__ = ["encode", "decode", "read_file", "looks_like", "SafetensorsError", "DTYPES"]

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
# Dimensions per tensor, and the size of one, that decode accepts (far above any model's).
MAX_NDIM = 64
MAX_DIM = 1 << 40


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
    without gaps or overlaps. BF16 tensors (which numpy cannot hold) are
    widened to float32 exactly; the others are read-only views of ``blob``.
    """
    blob = memoryview(blob)  # slices below are views, not copies of the data
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
        header = json.loads(bytes(blob[8:8 + n]).decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise SafetensorsError(f"bad header JSON: {e}") from e
    if not isinstance(header, dict):
        raise SafetensorsError("the header is not a JSON object")
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    if not isinstance(metadata, dict):
        raise SafetensorsError("__metadata__ is not a JSON object")
    spans = []
    tensors: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()

    def ints(v, what, name):
        if not isinstance(v, list) or not all(type(x) is int and x >= 0 for x in v):
            raise SafetensorsError(f"{name}: {what} must be a list of non-negative integers")
        return v

    for name, info in header.items():
        if not isinstance(info, dict):
            raise SafetensorsError(f"{name[:80]}: entry is not an object")
        bf16 = info.get("dtype") == "BF16"
        dt = (np.dtype("<u2") if bf16 else
              DTYPES.get(info.get("dtype")) if isinstance(info.get("dtype"), str) else None)
        if dt is None:
            raise SafetensorsError(f"{name[:80]}: unsupported dtype {str(info.get('dtype'))[:40]}")
        shape = tuple(ints(info.get("shape"), "shape", name))
        if len(shape) > MAX_NDIM or any(d > MAX_DIM for d in shape):
            raise SafetensorsError(f"{name[:80]}: shape {list(shape)[:8]} has more than {MAX_NDIM} "
                                   f"dimensions or one larger than {MAX_DIM}")
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
        arr = np.frombuffer(data, dtype=dt, count=count, offset=begin).reshape(shape)
        if bf16:  # numpy has no bfloat16: widen exactly (it is the top half of a float32)
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = arr
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise SafetensorsError(f"{name}: data does not start where the previous tensor ends")
        pos = end
    if pos != len(data):
        raise SafetensorsError(f"{len(data) - pos} trailing bytes after the last tensor")
    return tensors, dict(metadata)


def looks_like(head: bytes, size: int) -> bool:
    """Whether a file of ``size`` bytes starting with ``head`` (at least 9 bytes) is laid out
    as safetensors: a header length that fits the file, then a JSON object."""
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return head[8:9] == b"{" and 2 <= n <= MAX_HEADER_BYTES and 8 + n <= size


def read_file(fh, size: int, max_data_bytes: int, name: str) -> tuple[
        "collections.OrderedDict[str, np.ndarray]", dict[str, str]]:
    """Decode the safetensors file open as ``fh`` (``size`` bytes, from its stat). The header
    length and every offset are the file's claims: the length is checked against the file's
    size and ``MAX_HEADER_BYTES`` and the data section against ``max_data_bytes`` before
    anything past the 8-byte length is read, and ``decode`` checks every offset."""
    head = fh.read(8)
    if len(head) < 8:
        raise SafetensorsError(f"{name} is shorter than the 8-byte header length of a "
                               "safetensors file; it is truncated")
    (n,) = struct.unpack("<Q", head)
    if n > MAX_HEADER_BYTES:
        raise SafetensorsError(f"{name}: header length {n} is more than {MAX_HEADER_BYTES}; "
                               "the file is corrupt or not safetensors")
    if 8 + n > size:
        raise SafetensorsError(f"{name}: header length {n} exceeds the file size {size}; "
                               "the file is truncated or not safetensors")
    if size - 8 - n > max_data_bytes:
        raise SafetensorsError(f"{name}: {size - 8 - n} bytes of tensor data, more than the "
                               f"{max_data_bytes} webgan reads")
    buf = bytearray(size)
    buf[:8] = head
    view = memoryview(buf)
    got = 8
    while got < size:
        k = fh.readinto(view[got:])
        if not k:
            raise SafetensorsError(f"{name} became shorter while it was read")
        got += k
    return decode(buf)
