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
nested) state dict as an ``OrderedDict[str, np.ndarray]``.

The reader is split by concept: checkpoint_errors.py (``CheckpointError``, ``describe``),
checkpoint_limits.py (the caps), pickle_whitelist.py (the globals a pickle may name),
torch_storage.py (storages and tensor views), restricted_pickle.py (the unpickler, the
budget and the walk of its result) and torch_formats.py (the zip, legacy and tar files).
This module is the API and re-exports the names callers use from those.
"""

from __future__ import annotations

import collections
import os
import stat
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_errors import CheckpointError, describe  # noqa: E402
from pickle_whitelist import _SAFE_GLOBALS, STORAGE_DTYPES, TORCH_DTYPE_NAMES  # noqa: E402,F401
from restricted_pickle import _Budget  # noqa: E402
from torch_formats import (HDF5_MAGIC, LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION,  # noqa: E402,F401
                           ZIP_MAGIC, _load_file, detect_format, open_zip)

__all__ = ["CheckpointError", "load", "load_state_dict", "find_state_dicts", "describe", "open_zip"]


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


def find_state_dicts(obj: Any, path: tuple = ()) -> list[tuple[tuple, dict]]:
    """All nested dicts mapping str -> array, with their key paths (each dict
    visited once, at most ``MAX_SEARCH_DEPTH`` levels down, in file order)."""
    found: list[tuple[tuple, dict]] = []
    seen: set[int] = set()
    stack = [(obj, path)]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if _is_state_dict(node):
            found.append((where, node))
        elif isinstance(node, dict) and len(where) < MAX_SEARCH_DEPTH:
            stack.extend(reversed([(v, where + (k,)) for k, v in node.items()]))
    return found


def _path_text(path: tuple) -> str:
    return ".".join(k if isinstance(k, str) else describe(k, 40) for k in path)


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
    return collections.OrderedDict(found[0][1])
