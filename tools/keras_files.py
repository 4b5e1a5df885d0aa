"""Opening a Keras model file, ``.keras`` zip or legacy ``.h5``, as a model config and a
weight lookup, with every zip member and weight dataset checked (size, storage, type)
before it is read."""

from __future__ import annotations

import io
import math
import os
import stat
import sys
import zipfile
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_checkpoint  # noqa: E402 - for its bounded zip opening
from keras_config import MAX_CONFIG_BYTES, KerasImportError, _json  # noqa: E402

try:
    import h5py
except ImportError:  # reported when a Keras file is actually read
    h5py = None

# Caps on what a file may make us read (far above any GAN generator).
MAX_WEIGHTS_BYTES = 2 << 30     # model.weights.h5 in a .keras zip, and all weights read


def _child(group: Any, name: str, what: str) -> Any:
    """group[name], refusing an external link (it would open another file on this machine)."""
    link = group.get(name, getlink=True)
    if isinstance(link, h5py.ExternalLink):
        raise KerasImportError(f"{what} is a link to another file ({link.filename}); webgan "
                               "reads weights stored in the file only")
    return group[name]


def _read_dataset(ds: Any, what: str, budget: list[int]) -> np.ndarray:
    """A weight dataset's values, after checking (without reading) that it is a
    plain float dataset inside this file whose size fits the budget."""
    if h5py is None or not isinstance(ds, h5py.Dataset):
        raise KerasImportError(f"{what} is not a dataset (the file is corrupt)")
    if ds.shape is None or ds.dtype.kind != "f":
        raise KerasImportError(f"{what} holds {ds.dtype} values of shape {ds.shape}, not floats")
    # Data kept in other files (external storage, virtual datasets) would
    # copy whatever file it names into the model: refuse it.
    if ds.external or ds.is_virtual:
        raise KerasImportError(f"{what} keeps its data outside the file (external or virtual "
                               "dataset); webgan reads weights stored in the file only")
    nbytes = math.prod(ds.shape) * ds.dtype.itemsize
    budget[0] += nbytes
    if budget[0] > MAX_WEIGHTS_BYTES:
        raise KerasImportError(f"{what} of shape {list(ds.shape)} brings the weights past "
                               f"{MAX_WEIGHTS_BYTES} bytes; the file is corrupt or not a generator")
    try:
        return np.asarray(ds[()])
    except Exception as e:  # HDF5 errors of damaged data or unknown filters
        raise KerasImportError(f"cannot read {what} ({e}); the file is corrupt") from e

class _Weights:
    """Looks up a layer's weights (in Keras' order) in one of the two HDF5 layouts."""

    def __init__(self, h5: Any, layout: str):
        self.h5 = h5
        self.budget = [0]  # bytes read so far, against MAX_WEIGHTS_BYTES
        self.layout = layout  # "keras3" (model.weights.h5) or "legacy" (model_weights/...)
        self.keras3_paths: dict[str, str] = {}
        if layout == "keras3":
            root = None
            for key in ("layers", "_layer_checkpoint_dependencies"):
                if key in h5:
                    root = h5[key]
                    break
            self.root = root
            if root is not None:
                # Groups are named after the class (dense, dense_1, ...), not the layer; the
                # vars group carries the layer's name, so map by that when present.
                if not isinstance(root, h5py.Group):
                    raise KerasImportError(f"model.weights.h5: {key} is not a group")
                for path in root:
                    group = root[path]
                    vars_ = group.get("vars") if isinstance(group, h5py.Group) else None
                    if isinstance(vars_, h5py.Group) and "name" in vars_.attrs:
                        self.keras3_paths.setdefault(_str(vars_.attrs["name"]), path)

    def get(self, layer_name: str, class_path: str) -> list[np.ndarray]:
        if self.layout == "keras3":
            if self.root is None:
                return []
            path = self.keras3_paths.get(layer_name, class_path)
            if path not in self.root:
                return []
            group = self.root[path]
            vars_ = group.get("vars") if isinstance(group, h5py.Group) else None
            if vars_ is None:
                return []
            where = f"weights of layer {layer_name!r} ({self.root.name}/{path}/vars)"
            if not isinstance(vars_, h5py.Group):
                raise KerasImportError(f"{where} are not a group; the file is corrupt")
            keys = list(vars_.keys())
            if not all(k.isdigit() and len(k) < 10 for k in keys):
                raise KerasImportError(f"{where}: variables named {keys[:8]}, expected 0, 1, ...")
            keys.sort(key=int)
            return [_read_dataset(_child(vars_, k, f"{where}/{k}"), f"{where}/{k}", self.budget)
                    for k in keys]
        group = self.h5["model_weights"] if "model_weights" in self.h5 else self.h5
        if not isinstance(group, h5py.Group) or layer_name not in group:
            return []
        g = group[layer_name]
        if not isinstance(g, h5py.Group):
            raise KerasImportError(f"weights of layer {layer_name!r} are not a group; the file is corrupt")
        names = [_str(n) for n in np.atleast_1d(g.attrs.get("weight_names", []))]
        out = []
        for n in names:
            if n not in g:
                raise KerasImportError(
                    f"layer {layer_name!r}: weight dataset {n!r} (listed in weight_names) is "
                    "missing from the file; the file is corrupt or was not saved completely")
            what = f"layer {layer_name!r} weight {n!r}"
            out.append(_read_dataset(_child(g, n, what), what, self.budget))
        return out


def _str(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _read_member(zf: zipfile.ZipFile, name: str, cap: int, archive_size: int) -> bytes:
    """Member ``name`` of a .keras zip, after checking the size its header
    claims against ``cap`` and the archive's real size (a zip bomb, or a
    header that lies, fails before anything is decompressed)."""
    info = zf.getinfo(name)
    if info.file_size > cap:
        raise KerasImportError(f"{name} claims {info.file_size} bytes, more than the {cap} "
                               "webgan reads; the file is corrupt or not a generator")
    if (info.header_offset + info.compress_size > archive_size
            or (info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size)
            or info.file_size > 1100 * max(info.compress_size, 1)):  # deflate: at most ~1032:1
        raise KerasImportError(f"{name} claims {info.file_size} bytes ({info.compress_size} "
                               f"compressed) in an archive of {archive_size}; the file is "
                               "truncated or corrupt")
    with zf.open(info) as m:
        data = m.read(cap + 1)
    if len(data) != info.file_size:
        raise KerasImportError(f"{name} holds {len(data)} bytes, not the {info.file_size} its "
                               "header says; the file is corrupt")
    return data


def _open_zip(fh: Any) -> zipfile.ZipFile:
    try:
        return torch_checkpoint.open_zip(fh)
    except torch_checkpoint.CheckpointError as e:
        raise KerasImportError(str(e)) from None


def _open(path: str) -> tuple[dict, _Weights, dict[str, str], list]:
    """(model config, weights, info, objects to close)."""
    if h5py is None:
        raise KerasImportError("reading Keras files needs h5py: pip install -r tools/requirements.txt")
    try:
        # stat before open: opening a FIFO blocks until someone writes to it.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise KerasImportError(f"{path} is not a regular file")
        with open(path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise KerasImportError(f"{path} is not a regular file")
            head = fh.read(8)
            archive_size = os.fstat(fh.fileno()).st_size
    except OSError as e:
        raise KerasImportError(f"cannot read {path}: {e.strerror}") from e
    if head.startswith(b"PK"):
        try:
            with open(path, "rb") as zfh, _open_zip(zfh) as zf:
                names = set(zf.namelist())
                if "config.json" not in names or "model.weights.h5" not in names:
                    raise KerasImportError(
                        f"{path}: a zip without config.json and model.weights.h5 is not a "
                        ".keras model file")
                config = _json(_read_member(zf, "config.json", MAX_CONFIG_BYTES, archive_size),
                               "config.json")
                meta = (_json(_read_member(zf, "metadata.json", MAX_CONFIG_BYTES, archive_size),
                              "metadata.json") if "metadata.json" in names else {})
                blob = _read_member(zf, "model.weights.h5", MAX_WEIGHTS_BYTES, archive_size)
        except KerasImportError:
            raise
        except Exception as e:  # BadZipFile, zlib errors, ... of a damaged archive
            raise KerasImportError(f"{path}: damaged zip file: {e}") from e
        try:
            h5 = h5py.File(io.BytesIO(blob), "r")
        except Exception as e:
            raise KerasImportError(f"{path}: model.weights.h5 is not a readable HDF5 file ({e})") from e
        if not isinstance(config, dict):
            h5.close()
            raise KerasImportError(f"{path}: config.json is not a JSON object")
        version = meta.get("keras_version", "unknown") if isinstance(meta, dict) else "unknown"
        info = {"format": ".keras", "keras_version": str(version)[:40]}
        return config, _Weights(h5, "keras3"), info, [h5]
    try:
        h5 = h5py.File(path, "r")
    except OSError as e:
        raise KerasImportError(f"{path}: not an HDF5 or .keras file ({e})") from e
    try:
        raw = h5.attrs.get("model_config")
        if raw is None:
            raise KerasImportError(
                f"{path}: this HDF5 file holds weights only (no model_config), so the layers are "
                "unknown; save the whole model (model.save('generator.keras') or .h5)")
        if not isinstance(raw, (str, bytes)):
            raise KerasImportError(f"{path}: model_config is not a string")
        config = _json(raw, "model_config")
        if not isinstance(config, dict):
            raise KerasImportError(f"{path}: model_config is not a JSON object")
        info = {"format": "legacy .h5",
                "keras_version": _str(h5.attrs.get("keras_version", "unknown"))[:40],
                "backend": _str(h5.attrs.get("backend", "unknown"))[:40]}
        return config, _Weights(h5, "legacy"), info, [h5]
    except BaseException:
        h5.close()
        raise
