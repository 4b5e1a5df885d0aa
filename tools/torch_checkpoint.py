"""Read PyTorch checkpoints (state dicts) with numpy only, without PyTorch.

A PyTorch checkpoint is a pickle in which every tensor is a call to
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` and
every storage is a *persistent id* that points at raw bytes kept outside the
pickle. Two container layouts exist and both are supported:

* zip (``torch.save`` since torch 1.6): a zip archive with one top folder
  (its name varies, often the file's stem) holding ``data.pkl`` and one file
  ``data/<key>`` per storage. Persistent ids are
  ``('storage', storage_type, key, location, numel)``.
* legacy (before 1.6, or ``_use_new_zipfile_serialization=False``): five
  pickles back to back (magic number, protocol version, sys info, the main
  object, the list of storage keys), then for each key in that list an int64
  element count followed by the storage's raw bytes. Persistent ids are
  ``('storage', storage_type, root_key, location, size, view_metadata)``.

Unpickling runs code named by the file, so the unpickler only resolves a small
whitelist of globals (``OrderedDict``, the tensor rebuild functions, storage
classes, dtypes); anything else is refused with a ``CheckpointError``. This
means full pickled ``nn.Module`` objects cannot be read: save a state dict.

Tensors are returned as C-contiguous numpy arrays in the file's byte order
converted to native. bfloat16 storages, which numpy cannot hold, are widened
to float32 (exactly: bfloat16 is the top half of a float32).

Public API: ``load(path)`` returns the unpickled object with numpy arrays in
place of tensors; ``load_state_dict(path, key=None)`` returns the (possibly
nested) state dict as an ``OrderedDict[str, np.ndarray]``.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import tarfile
import zipfile
from typing import Any, BinaryIO

import numpy as np

__all__ = ["CheckpointError", "load", "load_state_dict", "find_state_dicts"]


class CheckpointError(ValueError):
    """The file is not a readable PyTorch checkpoint; the message says why."""


# Legacy format constants from torch/serialization.py.
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

# torch storage class name -> numpy dtype (without byte order). "bfloat16" is
# a marker handled specially because numpy has no such dtype.
STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "f8",
    "FloatStorage": "f4",
    "HalfStorage": "f2",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "b1",
    "ComplexFloatStorage": "c8",
    "ComplexDoubleStorage": "c16",
    # torch >= 2 pickles an untyped storage when one was saved on its own;
    # its "elements" are bytes.
    "UntypedStorage": "u1",
}

# torch dtype objects pickle as globals named after the dtype ("torch.float32").
# They are never needed to rebuild a state dict, but harmless to accept.
TORCH_DTYPE_NAMES = frozenset(
    "float64 double float32 float float16 half bfloat16 int64 long int32 int "
    "int16 short int8 uint8 bool complex64 complex128".split()
)


class _StorageType:
    """Stands in for a ``torch.XStorage`` class inside the pickle."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _TorchMarker:
    """Stands in for an inert torch global (a dtype, ``torch.Tensor``, ...)."""

    def __init__(self, qualname: str):
        self.qualname = qualname

    def __repr__(self) -> str:
        return self.qualname


class _Storage:
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

    def data(self) -> np.ndarray:
        if self.base is not None:
            return self.base.data()[self.offset:self.offset + self.numel]
        if self.array is None:
            raise CheckpointError(
                f"storage {self.key!r} is used by a tensor but its data was "
                "never found in the file; the checkpoint is corrupt or truncated")
        return self.array


class _LazyTensor:
    """A tensor to build once all storage bytes are known."""

    def __init__(self, storage: Any, offset: int, size: Any, stride: Any):
        if not isinstance(storage, _Storage):
            raise CheckpointError(
                f"tensor refers to {storage!r} instead of a storage; "
                "the checkpoint layout is not supported")
        self.storage = storage
        self.offset = int(offset)
        self.size = tuple(int(s) for s in size)
        self.stride = tuple(int(s) for s in stride)
        if len(self.size) != len(self.stride):
            raise CheckpointError(
                f"tensor size {self.size} and stride {self.stride} differ in length")

    def materialize(self) -> np.ndarray:
        data = self.storage.data()
        numel = int(np.prod(self.size, dtype=np.int64))
        if numel > 0:
            # The last element the view touches must be inside the storage.
            last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
            if self.offset < 0 or min(self.stride, default=0) < 0 or last >= data.shape[0]:
                raise CheckpointError(
                    f"tensor of size {self.size}, stride {self.stride}, offset "
                    f"{self.offset} reaches past its storage of {data.shape[0]} "
                    "elements; the checkpoint is corrupt")
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
        return np.array(view, dtype=data.dtype.newbyteorder("="), order="C", copy=True)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    # requires_grad, hooks and metadata do not matter for inference weights.
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


def _rebuild_parameter_with_state(data, requires_grad=False, backward_hooks=None, state=None):
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    # Used when a tensor has Python attributes; the attributes are dropped.
    return func(*args)


_SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Tensor"): _TorchMarker("torch.Tensor"),
    ("torch.nn.parameter", "Parameter"): _TorchMarker("torch.nn.parameter.Parameter"),
}
for _name in STORAGE_DTYPES:
    _SAFE_GLOBALS[("torch", _name)] = _StorageType(_name)
for _name in TORCH_DTYPE_NAMES:
    _SAFE_GLOBALS[("torch", _name)] = _TorchMarker(f"torch.{_name}")


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only whitelisted globals and turns persistent
    ids into ``_Storage`` objects through ``storage_for``."""

    def __init__(self, file: BinaryIO, storage_for):
        super().__init__(file)
        self._storage_for = storage_for

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise CheckpointError(
                f"the checkpoint refers to {module}.{name}, which is not on the "
                "whitelist of types allowed in a state dict. If the file holds a "
                "whole pickled model (torch.save(model)), load it with PyTorch and "
                "save model.state_dict() instead") from None

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid:
            raise CheckpointError(f"unexpected persistent id {pid!r} in the checkpoint")
        if pid[0] == "module":
            raise CheckpointError(
                "the checkpoint contains a whole pickled nn.Module (legacy format); "
                "load it with PyTorch and save model.state_dict() instead")
        if pid[0] != "storage":
            raise CheckpointError(f"unexpected persistent id kind {pid[0]!r}")
        return self._storage_for(pid)


def _unpickle(data: bytes, storage_for, what: str) -> Any:
    try:
        return _RestrictedUnpickler(io.BytesIO(data), storage_for).load()
    except CheckpointError:
        raise
    except (EOFError, pickle.UnpicklingError, struct.error, ValueError,
            TypeError, IndexError, KeyError, AttributeError) as e:
        raise CheckpointError(
            f"cannot unpickle {what}: {e}. The file is truncated or corrupt; "
            "download or save it again") from e


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


# ---------------------------------------------------------------- zip format

def _load_zip(data: bytes) -> Any:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise CheckpointError(
            f"the file starts like a zip archive but cannot be read as one ({e}); "
            "it is truncated or corrupt — download or save it again") from e
    pkls = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pkls) != 1:
        if any(n.endswith((".h5", "model.weights.h5", "config.json")) for n in names):
            raise CheckpointError(
                "this zip archive looks like a Keras model, not a PyTorch checkpoint")
        raise CheckpointError(
            "zip archive without exactly one <folder>/data.pkl: not a PyTorch "
            "checkpoint (torch.save >= 1.6 writes one)")
    prefix = pkls[0][: -len("data.pkl")]  # "<folder>/"
    little_endian = True
    if prefix + "byteorder" in names:  # absent in files from torch < 1.10: little
        little_endian = zf.read(prefix + "byteorder").strip() != b"big"

    storages: dict[str, _Storage] = {}

    def storage_for(pid: tuple) -> _Storage:
        if len(pid) != 5:
            raise CheckpointError(f"unexpected zip-format storage id {pid!r}")
        _, stype, key, _location, numel = pid
        if not isinstance(stype, _StorageType):
            raise CheckpointError(f"unsupported storage type {stype!r}")
        key = str(key)
        if key not in storages:
            member = f"{prefix}data/{key}"
            try:
                raw = zf.read(member)
            except KeyError:
                raise CheckpointError(
                    f"storage file {member} is missing from the archive; "
                    "the checkpoint is incomplete") from None
            except Exception as e:  # zlib/zip errors of a damaged member
                raise CheckpointError(
                    f"cannot read {member} ({e}); the file is truncated or corrupt") from e
            st = _Storage(stype.dtype, key, int(numel))
            st.array = _storage_array(raw, stype.dtype, int(numel), little_endian, key)
            storages[key] = st
        return storages[key]

    try:
        pkl = zf.read(pkls[0])
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise CheckpointError(f"cannot read {pkls[0]} ({e}); the file is corrupt") from e
    return _unpickle(pkl, storage_for, pkls[0])


# ------------------------------------------------------------- legacy format

def _load_legacy(data: bytes) -> Any:
    f = io.BytesIO(data)

    def plain_pickle(what: str) -> Any:
        # The header pickles hold only ints and dicts; refuse any global.
        try:
            return _RestrictedUnpickler(f, _no_storage).load()
        except CheckpointError:
            raise
        except Exception as e:
            raise CheckpointError(
                f"cannot read the {what} of a legacy checkpoint ({e}); "
                "the file is truncated or not a PyTorch checkpoint") from e

    magic = plain_pickle("magic number")
    if magic != LEGACY_MAGIC_NUMBER:
        raise CheckpointError(
            "the file is a pickle but not a PyTorch checkpoint (wrong magic "
            "number); only torch.save files are supported")
    version = plain_pickle("protocol version")
    if version != LEGACY_PROTOCOL_VERSION:
        raise CheckpointError(f"unsupported legacy protocol version {version!r}")
    sys_info = plain_pickle("system info")
    little_endian = bool(sys_info.get("little_endian", True)) if isinstance(sys_info, dict) else True

    roots: dict[str, _Storage] = {}
    views: dict[str, _Storage] = {}

    def storage_for(pid: tuple) -> _Storage:
        if len(pid) != 6:
            raise CheckpointError(f"unexpected legacy storage id {pid!r}")
        _, stype, root_key, _location, size, view_metadata = pid
        if not isinstance(stype, _StorageType):
            raise CheckpointError(f"unsupported storage type {stype!r}")
        root_key = str(root_key)
        if root_key not in roots:
            roots[root_key] = _Storage(stype.dtype, root_key, int(size))
        root = roots[root_key]
        if view_metadata is None:
            return root
        # A storage slice saved by old torch: (view_key, offset, view_size).
        view_key, offset, view_size = view_metadata
        view_key = str(view_key)
        if view_key not in views:
            if int(offset) + int(view_size) > root.numel:
                raise CheckpointError(f"storage view {view_key!r} exceeds its root storage")
            views[view_key] = _Storage(stype.dtype, view_key, int(view_size),
                                       base=root, offset=int(offset))
        return views[view_key]

    # The main pickle: find where it ends by unpickling straight from f.
    try:
        obj = _RestrictedUnpickler(f, storage_for).load()
    except CheckpointError:
        raise
    except Exception as e:
        raise CheckpointError(
            f"cannot unpickle the legacy checkpoint's main object ({e}); "
            "the file is truncated or corrupt") from e
    keys = plain_pickle("storage key list")
    if not isinstance(keys, list):
        raise CheckpointError("legacy checkpoint: storage key list is not a list")

    # Raw data: for each key, int64 element count then the bytes (torch's
    # Storage._write_file). Sizes are in the file's byte order.
    count_fmt = "<q" if little_endian else ">q"
    for key in keys:
        key = str(key)
        if key not in roots:
            raise CheckpointError(
                f"legacy checkpoint lists storage {key!r} that no tensor uses; "
                "the file is corrupt")
        st = roots[key]
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(
                f"the file ends before the data of storage {key!r}; it is "
                "truncated — download or save it again")
        (numel,) = struct.unpack(count_fmt, head)
        if numel != st.numel:
            raise CheckpointError(
                f"storage {key!r}: the data section has {numel} elements but the "
                f"pickle says {st.numel}; the file is corrupt")
        itemsize = _np_dtype(st.dtype, little_endian).itemsize
        raw = f.read(numel * itemsize)
        st.array = _storage_array(raw, st.dtype, numel, little_endian, key)
    return obj


def _no_storage(pid: tuple) -> Any:
    raise CheckpointError("unexpected tensor data in a legacy checkpoint header pickle")


# ---------------------------------------------------------------- tar files

def _load_tar(data: bytes, name: str) -> Any:
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data))
        members = [m for m in tf.getmembers() if m.isfile()]
    except (tarfile.TarError, EOFError, OSError) as e:
        raise CheckpointError(f"cannot read tar archive {name} ({e}); it is truncated or corrupt") from e
    basenames = {os.path.basename(m.name) for m in members}
    if {"pickle", "storages", "tensors"} <= basenames:
        raise CheckpointError(
            "this is the tar-based format of torch < 0.4, which is not supported; "
            "load it with an old PyTorch and save it again")
    # A tar that merely wraps a checkpoint file: accept exactly one such member.
    found = []
    for m in members:
        fobj = tf.extractfile(m)
        head = fobj.read(8) if fobj else b""
        if head.startswith(ZIP_MAGIC) or head[:1] == b"\x80":
            found.append(m)
    if len(found) != 1:
        raise CheckpointError(
            f"tar archive {name} holds {len(found)} files that look like PyTorch "
            "checkpoints; extract the one you want and convert it directly")
    inner = tf.extractfile(found[0]).read()
    return _load_bytes(inner, f"{name}:{found[0].name}", allow_tar=False)


# --------------------------------------------------------------- dispatching

def _materialize(obj: Any) -> Any:
    """Replace every _LazyTensor in dicts/lists/tuples by a numpy array,
    keeping container types and order."""
    if isinstance(obj, _LazyTensor):
        return obj.materialize()
    if isinstance(obj, dict):
        out = type(obj)() if isinstance(obj, collections.OrderedDict) else {}
        for k, v in obj.items():
            out[k] = _materialize(v)
        return out
    if isinstance(obj, list):
        return [_materialize(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_materialize(v) for v in obj)
    return obj


def detect_format(head: bytes) -> str:
    """'zip', 'legacy', 'hdf5' or 'unknown' from a file's first bytes."""
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(HDF5_MAGIC):
        return "hdf5"
    # Legacy files start with a protocol-2 pickle: PROTO 2 then LONG1 magic.
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "legacy"
    return "unknown"


def _load_bytes(data: bytes, name: str, allow_tar: bool = True) -> Any:
    kind = detect_format(data[:16])
    if kind == "zip":
        return _materialize(_load_zip(data))
    if kind == "legacy":
        return _materialize(_load_legacy(data))
    if kind == "hdf5":
        raise CheckpointError(
            f"{name} is an HDF5 file (Keras .h5?), not a PyTorch checkpoint")
    if allow_tar and len(data) >= 512:
        try:
            is_tar = tarfile.is_tarfile(io.BytesIO(data))  # type: ignore[arg-type]
        except Exception:
            is_tar = False
        if is_tar:
            return _load_tar(data, name)
    if not data:
        raise CheckpointError(f"{name} is empty; download or save it again")
    raise CheckpointError(
        f"{name} is not a PyTorch checkpoint (neither a zip archive from "
        "torch.save >= 1.6 nor a legacy torch.save pickle)")


def load(path: str | os.PathLike) -> Any:
    """Unpickle a checkpoint; tensors become numpy arrays.

    The whole file is read into memory: GAN generators are small, and it keeps
    format detection and the zip/tar readers simple.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    return _load_bytes(data, os.fspath(path))


def _is_state_dict(obj: Any) -> bool:
    return (isinstance(obj, dict) and len(obj) > 0
            and all(isinstance(k, str) for k in obj)
            and all(isinstance(v, np.ndarray) for v in obj.values()))


def find_state_dicts(obj: Any, path: tuple = ()) -> list[tuple[tuple, dict]]:
    """All nested dicts mapping str -> array, with their key paths."""
    if _is_state_dict(obj):
        return [(path, obj)]
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            found.extend(find_state_dicts(v, path + (k,)))
    return found


def load_state_dict(path: str | os.PathLike, key: str | None = None) -> "collections.OrderedDict[str, np.ndarray]":
    """Load the state dict in a checkpoint, in file order.

    A checkpoint may be a bare state dict or a dict that nests one (for
    example ``{'netG_state_dict': {...}, 'netD_state_dict': {...}, 'epoch': 5}``).
    ``key`` picks a nested entry (dotted path for deeper nesting). Without it,
    a lone nested state dict is taken; among several, the one whose key names
    the generator (contains "netg", "generator" or "gen") is taken.
    """
    obj = load(path)
    if key is not None:
        for part in key.split("."):
            if not isinstance(obj, dict) or part not in obj:
                raise CheckpointError(
                    f"key {key!r} not found in {os.fspath(path)}; top-level keys: "
                    f"{list(obj)[:20] if isinstance(obj, dict) else type(obj).__name__}")
            obj = obj[part]
    found = find_state_dicts(obj)
    if not found:
        raise CheckpointError(
            f"{os.fspath(path)} contains no dict of tensors (a state dict)")
    if len(found) > 1:
        gen = [f for f in found
               if any(t in ".".join(map(str, f[0])).lower() for t in ("netg", "generator", "gen"))]
        if len(gen) != 1:
            choices = ", ".join(repr(".".join(map(str, p))) for p, _ in found)
            raise CheckpointError(
                f"{os.fspath(path)} holds several state dicts ({choices}); "
                "choose one with --key")
        found = gen
    return collections.OrderedDict(found[0][1])
