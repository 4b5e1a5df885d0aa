"""The container formats of torch.save files: the zip archive (torch >= 1.6), the legacy
stream of pickles and raw storages, and a tar wrapping either; ``_load_file`` tells them
apart from the first bytes and reads each within the caps."""

from __future__ import annotations

import io
import os
import struct
import sys
import tarfile
import zipfile
from typing import Any, BinaryIO

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_limits as limits  # noqa: E402
from checkpoint_errors import CheckpointError, describe  # noqa: E402
from pickle_whitelist import _StorageType  # noqa: E402
from restricted_pickle import _BoundedReader, _Budget, _materialize, _RestrictedUnpickler, _run_pickle  # noqa: E402
from torch_storage import _np_dtype, _Storage, _storage_array, _storage_key, _storage_numel  # noqa: E402

# Legacy format constants from torch/serialization.py.
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _file_size(fh: BinaryIO) -> int:
    pos = fh.tell()
    end = fh.seek(0, os.SEEK_END)
    fh.seek(pos)
    return end



# ---------------------------------------------------------------- zip format

def open_zip(fh: BinaryIO) -> zipfile.ZipFile:
    """A zip archive, once its end record says it has at most
    ``limits.MAX_ZIP_MEMBERS`` members (zipfile would parse every entry of a huge
    central directory into memory first). Errors are CheckpointErrors."""
    try:
        endrec = zipfile._EndRecData(fh)  # type: ignore[attr-defined]
        total = endrec[zipfile._ECD_ENTRIES_TOTAL] if endrec else 0  # type: ignore[attr-defined]
        if total > limits.MAX_ZIP_MEMBERS:
            raise CheckpointError(
                f"the zip archive lists {total} members, more than {limits.MAX_ZIP_MEMBERS}; "
                "it is not a model file webgan can convert")
        fh.seek(0)
        return zipfile.ZipFile(fh)
    except CheckpointError:
        raise
    except Exception as e:  # BadZipFile, EOFError, OSError, struct.error, ...
        raise CheckpointError(
            f"the file starts like a zip archive but cannot be read as one ({describe(str(e), 200)}); "
            "it is truncated or corrupt — download or save it again") from e


def _load_zip(fh: BinaryIO, budget: _Budget) -> Any:
    archive_size = _file_size(fh)
    zf = open_zip(fh)
    names = zf.namelist()
    pkls = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pkls) != 1:
        if any(n.endswith((".h5", "model.weights.h5", "config.json")) for n in names):
            raise CheckpointError(
                "this zip archive looks like a Keras model, not a PyTorch checkpoint")
        raise CheckpointError(
            "zip archive without exactly one <folder>/data.pkl: not a PyTorch "
            "checkpoint (torch.save >= 1.6 writes one)")
    prefix = pkls[0][: -len("data.pkl")]  # "<folder>/"

    def read_member(name: str, need: int | None, cap: int) -> bytes:
        """The first ``need`` bytes of member ``name`` (all of it when ``need``
        is None), after checking what its header claims against ``cap`` and
        the archive's real size."""
        try:
            info = zf.getinfo(name)
        except KeyError:
            raise CheckpointError(
                f"storage file {name} is missing from the archive; "
                "the checkpoint is incomplete") from None
        if info.file_size > cap:
            raise CheckpointError(
                f"{name} claims {info.file_size} bytes, more than the {cap} webgan reads; "
                "the checkpoint is corrupt or not a generator")
        if (info.compress_size > archive_size
                or info.header_offset + info.compress_size > archive_size
                or (info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size)
                or info.file_size > limits.MAX_DEFLATE_RATIO * max(info.compress_size, 1)):
            raise CheckpointError(
                f"{name} claims {info.file_size} bytes ({info.compress_size} compressed) but the "
                f"archive has only {archive_size}; the file is truncated or corrupt")
        if need is None:
            need = info.file_size
        if info.file_size < need:
            raise CheckpointError(
                f"{name} has {info.file_size} bytes but {need} are needed; "
                "the file is truncated — download or save it again")
        try:
            with zf.open(info) as m:
                return m.read(need)
        except Exception as e:  # zlib/zip errors of a damaged member
            raise CheckpointError(
                f"cannot read {name} ({describe(str(e), 200)}); the file is truncated or corrupt") from e

    little_endian = True
    if prefix + "byteorder" in names:  # absent in files from torch < 1.10: little
        little_endian = read_member(prefix + "byteorder", None, 16).strip() != b"big"

    storages: dict[str, _Storage] = {}

    def storage_for(pid: tuple) -> _Storage:
        if len(pid) != 5:
            raise CheckpointError(f"unexpected zip-format storage id {describe(pid)}")
        _, stype, key, _location, numel = pid
        if not isinstance(stype, _StorageType):
            raise CheckpointError(f"unsupported storage type {describe(stype)}")
        key = _storage_key(key)
        numel = _storage_numel(numel, key)
        if key not in storages:
            member = f"{prefix}data/{key}"
            need = numel * _np_dtype(stype.dtype, little_endian).itemsize
            budget.storage_bytes(need, f"storage {key!r}")
            raw = read_member(member, need, limits.MAX_TENSOR_BYTES)
            st = _Storage(stype.dtype, key, numel)
            st.array = _storage_array(raw, stype.dtype, numel, little_endian, key)
            storages[key] = st
        st = storages[key]
        if st.numel != numel or st.dtype != stype.dtype:
            raise CheckpointError(f"storage {key!r} is used with two different types or sizes; "
                                  "the checkpoint is corrupt")
        return st

    pkl = read_member(pkls[0], None, limits.MAX_PICKLE_BYTES)
    return _run_pickle(io.BytesIO(pkl), len(pkl), storage_for, pkls[0])


# ------------------------------------------------------------- legacy format

def _load_legacy(f: BinaryIO, budget: _Budget) -> Any:
    file_size = _file_size(f)

    def left() -> int:
        return min(file_size - f.tell(), limits.MAX_PICKLE_BYTES)

    def plain_pickle(what: str) -> Any:
        # The header pickles hold only ints and dicts; refuse any global.
        try:
            return _RestrictedUnpickler(_BoundedReader(f, left(), what), _no_storage).load()
        except CheckpointError:
            raise
        except Exception as e:
            raise CheckpointError(
                f"cannot read the {what} of a legacy checkpoint ({type(e).__name__}: "
                f"{describe(str(e), 200)}); the file is truncated or not a PyTorch checkpoint") from e

    magic = plain_pickle("magic number")
    if type(magic) is not int or magic != LEGACY_MAGIC_NUMBER:
        raise CheckpointError(
            "the file is a pickle but not a PyTorch checkpoint (wrong magic "
            "number); only torch.save files are supported")
    version = plain_pickle("protocol version")
    if type(version) is not int or version != LEGACY_PROTOCOL_VERSION:
        raise CheckpointError(f"unsupported legacy protocol version {describe(version)}")
    sys_info = plain_pickle("system info")
    little_endian = bool(sys_info.get("little_endian", True)) if isinstance(sys_info, dict) else True

    roots: dict[str, _Storage] = {}
    views: dict[str, _Storage] = {}

    def storage_for(pid: tuple) -> _Storage:
        if len(pid) != 6:
            raise CheckpointError(f"unexpected legacy storage id {describe(pid)}")
        _, stype, root_key, _location, size, view_metadata = pid
        if not isinstance(stype, _StorageType):
            raise CheckpointError(f"unsupported storage type {describe(stype)}")
        root_key = _storage_key(root_key)
        size = _storage_numel(size, root_key)
        if root_key not in roots:
            budget.storage_bytes(size * _np_dtype(stype.dtype, little_endian).itemsize,
                                 f"storage {root_key!r}")
            roots[root_key] = _Storage(stype.dtype, root_key, size)
        root = roots[root_key]
        if root.dtype != stype.dtype:
            raise CheckpointError(f"storage {root_key!r} is used with two different types; "
                                  "the checkpoint is corrupt")
        if view_metadata is None:
            return root
        # A storage slice saved by old torch: (view_key, offset, view_size).
        if not isinstance(view_metadata, tuple) or len(view_metadata) != 3:
            raise CheckpointError(f"unexpected storage view {describe(view_metadata)}")
        view_key, offset, view_size = view_metadata
        view_key = _storage_key(view_key)
        offset = _storage_numel(offset, view_key)
        view_size = _storage_numel(view_size, view_key)
        if view_key not in views:
            if offset + view_size > root.numel:
                raise CheckpointError(f"storage view {view_key!r} exceeds its root storage")
            views[view_key] = _Storage(stype.dtype, view_key, view_size,
                                       base=root, offset=offset)
        return views[view_key]

    # The main pickle: the unpickler reads exactly up to its STOP opcode.
    obj = _run_pickle(f, left(), storage_for, "the legacy checkpoint's main object")
    keys = plain_pickle("storage key list")
    if not isinstance(keys, list):
        raise CheckpointError("legacy checkpoint: storage key list is not a list")

    # Raw data: for each key, int64 element count then the bytes (torch's
    # Storage._write_file). Sizes are in the file's byte order.
    count_fmt = "<q" if little_endian else ">q"
    seen: set[str] = set()
    for key in keys:
        key = _storage_key(key)
        if key not in roots:
            raise CheckpointError(
                f"legacy checkpoint lists storage {key!r} that no tensor uses; "
                "the file is corrupt")
        if key in seen:
            raise CheckpointError(f"legacy checkpoint lists storage {key!r} twice; the file is corrupt")
        seen.add(key)
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
        # Never ask read() for more than the file holds.
        raw = f.read(min(numel * itemsize, max(file_size - f.tell(), 0)))
        st.array = _storage_array(raw, st.dtype, numel, little_endian, key)
    return obj


def _no_storage(pid: tuple) -> Any:
    raise CheckpointError("unexpected tensor data in a legacy checkpoint header pickle")


# ---------------------------------------------------------------- tar files

def _load_tar(fh: BinaryIO, name: str, budget: _Budget) -> Any:
    try:
        tf = tarfile.open(fileobj=fh)
        members = []
        for m in tf:
            if m.isfile():
                members.append(m)
            if len(members) > limits.MAX_ZIP_MEMBERS:
                raise CheckpointError(f"tar archive {name} has more than {limits.MAX_ZIP_MEMBERS} files")
    except CheckpointError:
        raise
    except Exception as e:
        raise CheckpointError(f"cannot read tar archive {name} ({describe(str(e), 200)}); "
                              "it is truncated or corrupt") from e
    basenames = {os.path.basename(m.name) for m in members}
    if {"pickle", "storages", "tensors"} <= basenames:
        raise CheckpointError(
            "this is the tar-based format of torch < 0.4, which is not supported; "
            "load it with an old PyTorch and save it again")
    # A tar that merely wraps a checkpoint file: accept exactly one such member.
    found = []
    try:
        for m in members:
            fobj = tf.extractfile(m)
            head = fobj.read(8) if fobj else b""
            if head.startswith(ZIP_MAGIC) or head[:1] == b"\x80":
                found.append(m)
        if len(found) != 1:
            raise CheckpointError(
                f"tar archive {name} holds {len(found)} files that look like PyTorch "
                "checkpoints; extract the one you want and convert it directly")
        inner = tf.extractfile(found[0])
    except CheckpointError:
        raise
    except Exception as e:
        raise CheckpointError(f"cannot read tar archive {name} ({describe(str(e), 200)}); "
                              "it is truncated or corrupt") from e
    return _load_file(inner, f"{name}:{found[0].name}", budget, allow_tar=False)




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


def _load_file(fh: BinaryIO, name: str, budget: _Budget, allow_tar: bool = True) -> Any:
    """Read a checkpoint from a seekable binary file, reading only what it needs."""
    head = fh.read(16)
    fh.seek(0)
    kind = detect_format(head)
    if kind == "zip":
        return _materialize(_load_zip(fh, budget), budget)
    if kind == "legacy":
        return _materialize(_load_legacy(fh, budget), budget)
    if kind == "hdf5":
        raise CheckpointError(
            f"{name} is an HDF5 file (Keras .h5?), not a PyTorch checkpoint")
    if allow_tar and _file_size(fh) >= 512:
        try:
            tarfile.open(fileobj=fh).close()
            is_tar = True
        except Exception:
            is_tar = False
        fh.seek(0)
        if is_tar:
            return _load_tar(fh, name, budget)
    if not head:
        raise CheckpointError(f"{name} is empty; download or save it again")
    raise CheckpointError(
        f"{name} is not a PyTorch checkpoint (neither a zip archive from "
        "torch.save >= 1.6 nor a legacy torch.save pickle)")

