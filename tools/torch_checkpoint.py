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
whitelist of globals (``OrderedDict``, ``set``, the tensor rebuild functions, storage
classes, dtypes). Any other global is kept as a name that cannot be called
(pickled_modules.py): calling it is refused with a ``CheckpointError``, and all a
pickle can make of it is an inert record with a ``__dict__`` of plain data, which
is how ``torch.save(model)`` stores a whole module. So a whole pickled module is
read as data: its state dict, and the attributes of an ``nn.Sequential`` chain.

A safetensors state dict (``.safetensors``, or a file laid out as one) is read
by ``load_safetensors`` through safetensors_np.py, within the same caps.

Tensors are returned as C-contiguous numpy arrays in the file's byte order
converted to native. bfloat16 storages, which numpy cannot hold, are widened
to float32 (exactly: bfloat16 is the top half of a float32).

The file is untrusted input, so every size in it is checked before anything is
allocated and the whole read is bounded (the caps, in checkpoint_limits.py, are far above
any GAN generator): the pickle is run by the pure-Python unpickler with an opcode
budget, tuples nested at most ``MAX_NESTING`` deep (hashing a deeper one
overflows the C stack), BUILD refused except torch's harmless
``OrderedDict._metadata``, and every whitelisted object immutable; zip members
are checked against the archive's real size and read with bounded reads;
every tensor view (size, stride, offset) must stay inside its storage and hold
no more elements than it; the tensors may total at most ``MAX_TENSOR_BYTES``.
Walking the result is iterative, visits each shared object once and stops
after ``MAX_NODES`` elements, so self-referencing or heavily shared containers
neither loop nor multiply.

Public API: ``load(path)`` returns the unpickled object with numpy arrays in
place of tensors; ``load_state_dict(path, key=None)`` returns the (possibly
nested) state dict as an ``OrderedDict[str, np.ndarray]``, and ``load_generator``
also the pickled module it came from, if the file holds one.

The reader is split by concept: checkpoint_errors.py (``CheckpointError``, ``describe``),
checkpoint_limits.py (the caps), pickle_whitelist.py (the globals a pickle may name),
torch_storage.py (storages and tensor views), restricted_pickle.py (the unpickler, the
budget and the walk of its result) and torch_formats.py (the zip, legacy and tar files).
This module is the API and re-exports the names callers use from those.
"""

from __future__ import annotations

import collections
import os
import re
import stat
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_limits as limits  # noqa: E402
import pickled_modules  # noqa: E402
import safetensors_np  # noqa: E402
from checkpoint_errors import CheckpointError, describe  # noqa: E402
from pickle_whitelist import _SAFE_GLOBALS, STORAGE_DTYPES, TORCH_DTYPE_NAMES  # noqa: E402,F401
from restricted_pickle import _Budget  # noqa: E402
from torch_formats import (HDF5_MAGIC, LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION,  # noqa: E402,F401
                           ZIP_MAGIC, _load_file, detect_format, open_zip)

__all__ = ["CheckpointError", "load", "load_state_dict", "load_generator", "load_safetensors",
           "find_state_dicts", "describe", "open_zip"]


def load(path: str | os.PathLike) -> Any:
    """Unpickle a checkpoint; tensors become numpy arrays.

    Only a regular file is read (a FIFO or device would block or never end),
    and only the parts the checkpoint needs, within the caps above.
    """
    name = os.fspath(path)
    try:
        # stat before open: opening a FIFO blocks until someone writes to it.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise CheckpointError(f"{name} is not a regular file")
        fh = open(path, "rb")
    except OSError as e:
        raise CheckpointError(f"cannot read {name}: {e.strerror}") from e
    with fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise CheckpointError(f"{name} is not a regular file")
        return _load_file(fh, name, _Budget())


def _is_state_dict(obj: Any) -> bool:
    return (isinstance(obj, dict) and len(obj) > 0
            and all(isinstance(k, str) for k in obj)
            and all(isinstance(v, np.ndarray) for v in obj.values()))


# State dicts nested deeper than this in a checkpoint are not looked for.
MAX_SEARCH_DEPTH = 32


def find_state_dicts(obj: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """All nested dicts mapping str -> array, and whole pickled modules
    (pickled_modules.ObjectRecord), with their key paths (each visited once, at most
    ``MAX_SEARCH_DEPTH`` levels down, in file order)."""
    found: list[tuple[tuple, Any]] = []
    seen: set[int] = set()
    stack = [(obj, path)]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if _is_state_dict(node) or pickled_modules.is_module(node):
            found.append((where, node))
        elif isinstance(node, dict) and len(where) < MAX_SEARCH_DEPTH:
            stack.extend(reversed([(v, where + (k,)) for k, v in node.items()]))
    return found


def _path_text(path: tuple) -> str:
    return ".".join(k if isinstance(k, str) else describe(k, 40) for k in path)


def _natural_key(name: str) -> list:
    # "main.2.weight" before "main.10.weight": digits compare as numbers.
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name)]


def is_safetensors(path: str | os.PathLike) -> bool:
    """By extension, or by content (a header length that fits the file, then '{')."""
    if os.fspath(path).lower().endswith(".safetensors"):
        return True
    try:
        with open(path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return False
            return safetensors_np.looks_like(fh.read(9), os.fstat(fh.fileno()).st_size)
    except OSError:
        return False


def load_safetensors(path: str | os.PathLike, key: str | None = None) -> "collections.OrderedDict[str, np.ndarray]":
    """A state dict saved as safetensors (``safetensors.torch.save_file(model.state_dict())``),
    in natural key order: the header is sorted by name, and registration order is lost, so
    ``main.2`` comes before ``main.10``. ``key`` keeps the tensors under that prefix
    (``netG`` keeps ``netG.*``, without the prefix). Read within the caps of
    checkpoint_limits.py; see safetensors_np.read_file."""
    name = os.fspath(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise CheckpointError(f"{name} is not a regular file")
        fh = open(path, "rb")
    except OSError as e:
        raise CheckpointError(f"cannot read {name}: {e.strerror}") from e
    with fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise CheckpointError(f"{name} is not a regular file")
        try:
            tensors, _ = safetensors_np.read_file(fh, st.st_size, limits.MAX_TENSOR_BYTES, name)
        except safetensors_np.SafetensorsError as e:
            msg = str(e)
            raise CheckpointError(msg if name in msg else f"{name}: {msg}") from None
    for k in tensors:
        if len(k) > limits.MAX_KEY_CHARS:
            raise CheckpointError(f"{name}: a tensor name of {len(k)} characters, more than "
                                  f"{limits.MAX_KEY_CHARS}; the file is corrupt")
    if key is not None:
        prefix = key + "."
        tensors = collections.OrderedDict(
            (k[len(prefix):], v) for k, v in tensors.items() if k.startswith(prefix))
        if not tensors:
            raise CheckpointError(f"no tensor of {name} starts with {prefix!r} (--key)")
    if not tensors:
        raise CheckpointError(f"{name} holds no tensors")
    return collections.OrderedDict(
        (k, np.ascontiguousarray(tensors[k]).astype(tensors[k].dtype.newbyteorder("="), copy=False))
        for k in sorted(tensors, key=_natural_key))


def load_state_dict(path: str | os.PathLike, key: str | None = None) -> "collections.OrderedDict[str, np.ndarray]":
    """Load the state dict in a checkpoint, in file order (a safetensors file: see
    ``load_safetensors``; a whole pickled module: its ``state_dict()``). See
    ``load_generator``."""
    return load_generator(path, key)[0]


def load_generator(path: str | os.PathLike, key: str | None = None) -> tuple[
        "collections.OrderedDict[str, np.ndarray]", "pickled_modules.ObjectRecord | None"]:
    """(state dict, the pickled module it came from or None) of a checkpoint.

    A checkpoint may be a bare state dict or a dict that nests one (for
    example ``{'netG_state_dict': {...}, 'netD_state_dict': {...}, 'epoch': 5}``).
    ``key`` picks a nested entry (dotted path for deeper nesting). Without it,
    a lone nested state dict is taken; among several, the one whose key names
    the generator (contains "netg", "generator" or "gen") is taken.
    """
    if is_safetensors(path):
        return load_safetensors(path, key), None
    obj = load(path)
    if key is not None:
        for part in key.split("."):
            if not isinstance(obj, dict) or part not in obj:
                top = ([describe(k, 40) if not isinstance(k, str) else k for k in list(obj)[:20]]
                       if isinstance(obj, dict) else type(obj).__name__)
                raise CheckpointError(
                    f"key {key!r} not found in {os.fspath(path)}; top-level keys: {top}")
            obj = obj[part]
    found = find_state_dicts(obj)
    if not found:
        raise CheckpointError(
            f"{os.fspath(path)} contains no dict of tensors (a state dict)")
    if len(found) > 1:
        gen = [f for f in found
               if any(t in _path_text(f[0]).lower() for t in ("netg", "generator", "gen"))]
        if len(gen) != 1:
            choices = ", ".join(repr(_path_text(p)) for p, _ in found[:10])
            more = f" and {len(found) - 10} more" if len(found) > 10 else ""
            raise CheckpointError(
                f"{os.fspath(path)} holds several state dicts ({choices}{more}); "
                "choose one with --key")
        found = gen
    obj = found[0][1]
    if pickled_modules.is_module(obj):
        state = pickled_modules.state_dict(obj)
        if not state:
            raise CheckpointError(f"the pickled module in {os.fspath(path)} has no tensors")
        return collections.OrderedDict(state), obj
    return collections.OrderedDict(obj), None
