#!/usr/bin/env python3
"""Convert a trained GAN generator into a webgan model folder.

    python3 tools/convert.py IN OUT [--arch dcgan|ARCH.json] [--dtype f16|f32]
        [--name N] [--description D] [--license L] [--source S] [--key K]

OUT receives ``model.json`` (format "webgan-model/1": metadata plus the list
of layers the browser runs) and ``weights.safetensors`` (only the tensors the
layers reference, stored as f16 or f32). Both files are byte-for-byte
deterministic for the same inputs.

Input formats are detected from the file, with one reader function per
format (``IMPORTERS``):

* PyTorch checkpoints (zip, legacy pickle, or either inside a tar) are read
  with numpy only by ``torch_checkpoint.py``.
* Keras models, ``.keras`` (Keras 3) or legacy ``.h5`` (tf.keras 2, Keras 3),
  are read with h5py and numpy by ``keras_import.py``. They store their
  architecture, so ``--arch`` is not used; see that module for how each Keras
  layer, default and layout maps to webgan.

The architecture is not stored in a PyTorch state dict, so it comes from ``--arch``:

* ``dcgan`` (default): the standard DCGAN generator (Radford et al. 2015, as
  in the PyTorch DCGAN tutorial), inferred from tensor shapes and key order.
* a path to a JSON file with ``latent_dim``, ``num_classes``,
  ``output_shape`` and ``layers`` in the model.json layer schema, whose
  tensor names are the checkpoint's state-dict keys (examples in tools/arch/).
  Optional ``class_names`` (one per class) are written to OUT/class_names.json
  for the gallery.

Class conditioning: webgan's ``concat_one_hot`` appends one_hot(k) after the
latent z. A generator that concatenates a one-hot itself maps directly (e.g.
tools/arch/eyes128.json). One that concatenates a learned embedding E[k]
(nn.Embedding, [classes, e]) before a linear or 1x1-input transposed
convolution with weight W = [W_z; W_e] folds offline, because
z ‖ E[k] = [z ‖ onehot(k)] · blockdiag(I, E): the layer becomes one with
in_features z + classes whose rows for the classes are E · W_e (and those for
z stay W_z), preceded by ``concat_one_hot``.

Every referenced tensor is checked to exist with the shape the layer needs,
and the output shape is computed by walking the layers.

The output obeys the Rust loader's rules (src/limits.rs, mirrored in
loader_limits.py): at most 1000 layers, a model.json of at most 4 MiB, capped
dimensions, kernels and paddings, batch norm with eps > 0 and running_var >= 0,
no unknown fields; a model that breaks one is refused here with the reason. JSON inputs are read
strictly (tools/strict_json.py: no duplicate keys, no NaN). The input file is
untrusted: the readers check every size before allocating (see
torch_checkpoint.py and keras_import.py), and ``main`` turns every failure,
foreseen or not, into one line ``convert.py: error: IN: what is wrong`` and
exit status 1 (``WEBGAN_TRACEBACK=1`` shows the traceback instead).

This file reads the input and writes OUT; the steps live beside it: dcgan_arch.py and
arch_json.py (the two kinds of --arch), layer_validation.py (checking the layers),
manifest_writer.py (the output formats), loader_limits.py and convert_errors.py. Their
public names are re-exported here.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_import  # noqa: E402
import safetensors_np  # noqa: E402
import torch_checkpoint  # noqa: E402
from arch_json import MAX_ARCH_BYTES, load_arch_json, parse_json  # noqa: E402,F401
from convert_errors import ConvertError  # noqa: E402
from dcgan_arch import dcgan_architecture  # noqa: E402
from layer_validation import LAYER_FIELDS, TORCH_BATCH_NORM_EPS, resolve_architecture  # noqa: E402,F401
from loader_limits import (MAX_CLASSES, MAX_DIM, MAX_ELEMENTS, MAX_KERNEL,  # noqa: E402,F401
                           MAX_LATENT_DIM, MAX_LAYERS, MAX_MANIFEST_BYTES, MAX_PADDING,
                           MAX_WEIGHTS_BYTES)
from manifest_writer import (CLASS_NAMES_FILE, F16_MAX, FORMAT, WEIGHTS_FILE,  # noqa: E402,F401
                             format_model_json, sha256_file, to_dtype)


# ------------------------------------------------------------------ readers

KERAS_EXTENSIONS = (".keras", ".h5", ".hdf5")


def detect_format(path: str) -> str:
    """'pytorch' or 'keras', from the extension and the file's first bytes."""
    if path.lower().endswith(KERAS_EXTENSIONS):
        return "keras"
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as e:
        raise ConvertError(f"cannot read {path}: {e.strerror}") from e
    if head.startswith(torch_checkpoint.HDF5_MAGIC):
        return "keras"
    if head.startswith(torch_checkpoint.ZIP_MAGIC):
        # Both torch.save (>= 1.6) and Keras 3 .keras files are zip archives.
        try:
            with open(path, "rb") as fh, torch_checkpoint.open_zip(fh) as zf:
                names = set(zf.namelist())
        except (torch_checkpoint.CheckpointError, OSError):
            return "pytorch"  # let the PyTorch reader report the damage
        if {"config.json", "model.weights.h5"} <= names:
            return "keras"
    # Legacy pickles, tars and anything unknown go to the PyTorch reader,
    # which explains what it found if it is not a checkpoint.
    return "pytorch"


def read_pytorch(path: str, key: str | None) -> "collections.OrderedDict[str, np.ndarray]":
    try:
        return torch_checkpoint.load_state_dict(path, key)
    except torch_checkpoint.CheckpointError as e:
        raise ConvertError(str(e)) from e


def read_keras(path: str) -> "tuple[collections.OrderedDict[str, np.ndarray], dict[str, Any], dict[str, str]]":
    """(state, architecture, info): a Keras file carries its own layers."""
    try:
        return keras_import.load(path)
    except keras_import.KerasImportError as e:
        raise ConvertError(f"{path}: {e}") from e


IMPORTERS = {"pytorch": read_pytorch, "keras": read_keras}

def convert(inp: str, out_dir: str, arch: str | None = None, dtype: str = "f16",
            name: str | None = None, description: str | None = None,
            license: str | None = None, source: str | None = None,
            key: str | None = None) -> "collections.OrderedDict[str, Any]":
    """Convert ``inp`` into ``out_dir``; returns the model.json contents.

    ``arch`` (PyTorch only) is 'dcgan' (the default) or an architecture JSON path."""
    if dtype not in ("f16", "f32"):
        raise ConvertError(f"--dtype must be f16 or f32, got {dtype!r}")
    if not os.path.isfile(inp):
        raise ConvertError(f"input {inp} does not exist or is not a file")
    fmt = detect_format(inp)
    origin = ""
    if fmt == "keras":
        if arch is not None or key is not None:
            raise ConvertError(f"{inp} is a Keras model, which stores its own architecture; "
                               "drop --arch/--key")
        state, spec, info = read_keras(inp)
        origin = f"Keras {info.get('keras_version', 'unknown')} {info.get('format', '')}".strip()
    else:
        state = read_pytorch(inp, key)
        arch = arch or "dcgan"
        if arch == "dcgan":
            spec = dcgan_architecture(state)
        elif arch.lower().endswith(".json"):
            spec = load_arch_json(arch)
        else:
            raise ConvertError(
                f"--arch must be 'dcgan' or a path to an architecture .json, got {arch!r}")
        origin = f"arch {os.path.basename(arch)}"
    layers, output_shape, used = resolve_architecture(spec, state)

    tensors = {n: to_dtype(state[n], dtype, n) for n in used}
    total = sum(t.nbytes for t in tensors.values())
    if total > MAX_WEIGHTS_BYTES:
        raise ConvertError(f"the weights take {total} bytes as {dtype}, more than "
                           f"{MAX_WEIGHTS_BYTES}, webgan's limit" +
                           (" (try --dtype f16)" if dtype == "f32" else ""))
    blob = safetensors_np.encode(tensors, {"format": "pt"})

    src_sha = sha256_file(inp)
    if name is None:
        name = os.path.basename(os.path.normpath(out_dir))
    if description is None:
        description = f"Generator converted from {os.path.basename(inp)} ({origin})."
    if license is None:
        license = "unknown: check the license of the original weights and training data"
    if source is None:
        source = f"{os.path.basename(inp)} (sha256 {src_sha})"

    model: "collections.OrderedDict[str, Any]" = collections.OrderedDict()
    model["format"] = FORMAT
    model["name"] = name
    model["description"] = description
    model["license"] = license
    model["source"] = source
    model["latent_dim"] = spec["latent_dim"]
    model["num_classes"] = spec.get("num_classes")
    model["output_shape"] = output_shape
    model["weights"] = collections.OrderedDict([
        ("file", WEIGHTS_FILE), ("bytes", len(blob)),
        ("sha256", hashlib.sha256(blob).hexdigest()), ("dtype", dtype)])
    model["layers"] = layers
    text = format_model_json(model)
    if len(text.encode("utf-8")) > MAX_MANIFEST_BYTES:
        raise ConvertError(f"model.json would be {len(text.encode('utf-8'))} bytes, more than "
                           f"{MAX_MANIFEST_BYTES}, webgan's limit (shorten --description?)")

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, WEIGHTS_FILE), "wb") as fh:
        fh.write(blob)
    # model.json has no field for class names (the engine needs only the count); the
    # gallery (tools/make_gallery.py) picks them up from here.
    names_path = os.path.join(out_dir, CLASS_NAMES_FILE)
    if spec.get("class_names"):
        with open(names_path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(json.dumps(spec["class_names"], ensure_ascii=False) + "\n")
    elif os.path.exists(names_path):
        os.remove(names_path)
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return model


def error_line(inp: str, e: BaseException) -> str:
    """One line naming the input file and what is wrong with it. Errors the
    converter does not foresee (a bug, or a corrupt file that trips a
    library) are reported as such, with the exception's type; set
    WEBGAN_TRACEBACK=1 for the traceback."""
    if isinstance(e, (ConvertError, torch_checkpoint.CheckpointError, keras_import.KerasImportError)):
        msg = str(e)
    elif isinstance(e, MemoryError):
        msg = "out of memory while reading it; the file is corrupt or too large"
    elif isinstance(e, RecursionError):
        msg = "it is nested too deeply to read"
    elif isinstance(e, OSError) and e.strerror:
        msg = f"{e.strerror}" + (f": {e.filename}" if e.filename else "")
    else:
        msg = (f"unexpected {type(e).__name__}: {e} (the file is corrupt, or this is a bug in "
               "the converter: run with WEBGAN_TRACEBACK=1 and report it)")
    msg = " ".join(msg.split())  # one line
    if len(msg) > 1000:
        msg = msg[:999] + "…"
    return msg if inp in msg else f"{inp}: {msg}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="IN",
                   help="PyTorch checkpoint (.pt/.pth/.tar) or Keras model (.keras/.h5)")
    p.add_argument("output", metavar="OUT", help="model folder to write (created if needed)")
    p.add_argument("--arch", default=None,
                   help="PyTorch only: 'dcgan' (default) or a path to an architecture JSON file")
    p.add_argument("--dtype", default="f16", choices=["f16", "f32"],
                   help="weight storage type (default f16)")
    p.add_argument("--name", help="model name (default: OUT's folder name)")
    p.add_argument("--description", help="one-line description")
    p.add_argument("--license", help="license of the weights and notes on the training data")
    p.add_argument("--source", help="where the weights come from (default: file name and sha256)")
    p.add_argument("--key", help="entry of a checkpoint dict that holds the state dict "
                                 "(dotted for nesting); default: found automatically")
    a = p.parse_args(argv)
    try:
        model = convert(a.input, a.output, a.arch, a.dtype, a.name, a.description,
                        a.license, a.source, a.key)
    except Exception as e:  # noqa: BLE001 - every failure is reported the same way
        if os.environ.get("WEBGAN_TRACEBACK"):
            raise
        print(f"convert.py: error: {error_line(a.input, e)}", file=sys.stderr)
        return 1
    w = model["weights"]
    print(f"wrote {a.output}: {len(model['layers'])} layers, output {model['output_shape']}, "
          f"{w['file']} {w['bytes']} bytes ({w['dtype']}) sha256 {w['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
