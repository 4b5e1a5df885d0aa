#!/usr/bin/env python3
"""Convert a trained GAN generator into a webgan model folder.

    python3 tools/convert.py IN OUT [--arch dcgan|ARCH.json] [--dtype f16|f32]
        [--name N] [--description D] [--license L] [--source S] [--key K]

OUT receives ``model.json`` (format "webgan-model/1": metadata plus the list of layers the
browser runs; or "webgan-model/2", a graph, when --arch is a graph template) and
``weights.safetensors`` (only the tensors the model reads, stored as f16 or f32). Both files
are byte-for-byte deterministic for the same inputs.

Input formats are detected from the file, with one reader function per
format (``IMPORTERS``):

* PyTorch checkpoints (zip, legacy pickle, or either inside a tar) are read
  with numpy only by ``torch_checkpoint.py``, and so are safetensors state dicts
  (``.safetensors``, bounded reads in safetensors_np.py; ``--key P`` keeps the
  tensors under prefix ``P.``).
* Keras models, ``.keras`` (Keras 3) or legacy ``.h5`` (tf.keras 2, Keras 3),
  are read with h5py and numpy by ``keras_import.py``. They store their
  architecture, so ``--arch`` is not used; see that module for how each Keras
  layer, default and layout maps to webgan.

A PyTorch state dict holds tensors, not the network: no activation, slope, stride or
padding. So a state dict needs ``--arch`` (a file whose sha256 is in
``KNOWN_ARCHITECTURES``, whose architecture webgan has read from its source, excepted);
without it the converter stops and says which to pass:

* ``dcgan``: the standard DCGAN generator (Radford et al. 2015, as in the PyTorch
  DCGAN tutorial: ConvTranspose2d 4x4, BatchNorm2d + ReLU, Tanh), inferred from tensor
  shapes and key order.
* a path to a JSON file with ``latent_dim``, ``num_classes``, ``output_shape`` and
  ``layers`` in the model.json layer schema, whose tensor names are the checkpoint's
  state-dict keys (examples in tools/arch/). Optional ``class_names`` (one per class)
  are written to OUT/class_names.json for the gallery.
* a path to a format-2 graph template (``"format": "webgan-model/2"``: model.json of
  docs/model-format-2.md without ``weights``), whose nodes name state-dict keys; see
  graph_arch.py. Every tensor of the state dict must be read by a node (BatchNorm's
  ``num_batches_tracked`` aside), as format 2 requires.

A whole pickled module (``torch.save(model)``) is read as data, never run
(pickled_modules.py): its state dict, and, without --arch or with ``--arch dcgan``, the
layers of its ``nn.Sequential`` chain from the modules' own attributes (LeakyReLU slopes,
BatchNorm eps, strides, padding), so nothing is assumed.

Spectral norm (``torch.nn.utils.spectral_norm``: ``X.weight_orig/_u/_v``, and
``parametrizations.spectral_norm``: ``X.parametrizations.weight.original/0._u/0._v``)
and weight norm (``X.weight_g/_v``, ``…original0/original1``) are folded to the weight
eval mode uses (torch_reparam.py); architectures name the weight as the module sees it,
``X.weight``. Spectral norm's ``dim`` follows the layer kind (1 for conv_transpose2d, 0
otherwise, torch's defaults), or a pickled module's SpectralNorm hook.

Class conditioning: webgan's ``concat_one_hot`` appends one_hot(k) after the latent z; a
format-2 ``embedding`` node reads an nn.Embedding weight [classes, dim] directly. A
generator that concatenates a one-hot itself maps directly (e.g. tools/arch/eyes128.json).
In a format-1 layer list, one that concatenates a learned embedding E[k] (nn.Embedding,
[classes, e]) before a linear or 1x1-input transposed convolution with weight W = [W_z; W_e]
folds offline, because z ‖ E[k] = [z ‖ onehot(k)] · blockdiag(I, E): the layer becomes one
with in_features z + classes whose rows for the classes are E · W_e (and those for z stay
W_z), preceded by ``concat_one_hot``.

Every referenced tensor is checked to exist with the shape the layer needs, and for format 1
the output shape is computed by walking the layers (a format-2 graph is checked by the Rust
loader; the converter checks names, shapes and that every tensor is used).

The output obeys the Rust loader's rules (src/limits.rs, mirrored in
loader_limits.py): at most 1000 layers, a model.json of at most 4 MiB, capped
dimensions, kernels and paddings, batch norm with eps > 0 and running_var >= 0,
no unknown fields; a model that breaks one is refused here with the reason. JSON inputs are read
strictly (tools/strict_json.py: no duplicate keys, no NaN). The input file is
untrusted: the readers check every size before allocating (see
torch_checkpoint.py and keras_import.py), and ``main`` turns every failure,
foreseen or not, into one line ``convert.py: error: IN: what is wrong`` and
exit status 1 (``WEBGAN_TRACEBACK=1`` shows the traceback instead).

This file reads the input and writes OUT; the steps live beside it: dcgan_arch.py,
arch_json.py and graph_arch.py (the kinds of --arch), pickled_modules.py (whole pickled
modules), torch_reparam.py (spectral and weight norm), layer_validation.py (checking the
layers), manifest_writer.py (the output formats), loader_limits.py and convert_errors.py.
Their public names are re-exported here.
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
import graph_arch  # noqa: E402
import keras_import  # noqa: E402
import pickled_modules  # noqa: E402
import safetensors_np  # noqa: E402
import torch_checkpoint  # noqa: E402
import torch_reparam  # noqa: E402
from arch_json import MAX_ARCH_BYTES, load_arch_json, parse_json  # noqa: E402,F401
from convert_errors import ConvertError, _short  # noqa: E402
from dcgan_arch import dcgan_architecture  # noqa: E402
from layer_validation import LAYER_FIELDS, TORCH_BATCH_NORM_EPS, resolve_architecture  # noqa: E402,F401
from loader_limits import (MAX_CLASSES, MAX_DIM, MAX_ELEMENTS, MAX_KERNEL,  # noqa: E402,F401
                           MAX_LATENT_DIM, MAX_LAYERS, MAX_MANIFEST_BYTES, MAX_PADDING,
                           MAX_WEIGHTS_BYTES)
from manifest_writer import (CLASS_NAMES_FILE, F16_MAX, FORMAT, FORMAT2, WEIGHTS_FILE,  # noqa: E402,F401
                             format_model_json, sha256_file, to_dtype)


# ------------------------------------------------------------------ readers

KERAS_EXTENSIONS = (".keras", ".h5", ".hdf5")


def detect_format(path: str) -> str:
    """'pytorch' or 'keras', from the extension and the file's first bytes (a safetensors
    state dict is 'pytorch')."""
    if path.lower().endswith(KERAS_EXTENSIONS):
        return "keras"
    if path.lower().endswith(".safetensors"):
        return "pytorch"
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


def read_pytorch(path: str, key: str | None) -> tuple[
        "collections.OrderedDict[str, np.ndarray]", "pickled_modules.ObjectRecord | None"]:
    """(state dict, the whole pickled module it came from or None)."""
    try:
        return torch_checkpoint.load_generator(path, key)
    except torch_checkpoint.CheckpointError as e:
        raise ConvertError(str(e)) from e


def read_keras(path: str) -> "tuple[collections.OrderedDict[str, np.ndarray], dict[str, Any], dict[str, str]]":
    """(state, architecture, info): a Keras file carries its own layers."""
    try:
        return keras_import.load(path)
    except keras_import.KerasImportError as e:
        raise ConvertError(f"{path}: {e}") from e


IMPORTERS = {"pytorch": read_pytorch, "keras": read_keras}

# Checkpoints whose architecture webgan has read from their published source, by the sha256 of
# the file: these convert without --arch (every other state dict needs one). Paths are
# relative to this folder.
KNOWN_ARCHITECTURES = {
    # generateme 0.1.2 (faces64): generateme/static/Models/dcGanGeneratorModel.pt, the standard
    # DCGAN of its dcgan.py (ConvTranspose2d k4, BatchNorm2d, ReLU, Tanh).
    "9837db49baa6f8ab5c36b138278218603ece4c0e69ea7202fb730834dd0992e8": "dcgan",
    # omniart-eye-generator 0.1 (eyes128): generator_model_state.pth, conditional.
    "dd486abbd738bfe3d28ddd46987bec11e3842ddcc8c28ccc5251b52c6ecf4da0": "arch/eyes128.json",
}


def _arch_needed(inp: str, logical: dict[str, np.ndarray]) -> ConvertError:
    """The error for a state dict without --arch: it holds tensors, not the network."""
    try:
        dcgan_architecture(logical)
        dcgan_like = True
    except Exception:  # noqa: BLE001 - only chooses the message
        dcgan_like = False
    if dcgan_like:
        return ConvertError(
            f"{inp} is a state dict shaped like a DCGAN generator, but a state dict records no "
            "activations, strides or padding: pass --arch dcgan if it is the standard DCGAN "
            "(ConvTranspose2d 4x4 stride 2 padding 1, BatchNorm2d + ReLU, Tanh output), or "
            "--arch arch.json to describe it (examples in tools/arch/)")
    return ConvertError(
        f"{inp} is a state dict, which records no architecture: describe the network with "
        "--arch arch.json (a layer list, or a webgan-model/2 graph template; examples in "
        "tools/arch/ and docs/model-format-2.md)")


def _weight(name: str, logical: dict, state: dict, reparams: dict, op: str | None,
            sn_dims: dict[str, int]) -> np.ndarray:
    """A tensor as the model uses it: folded when spectral or weight norm made it."""
    if name in reparams:
        return torch_reparam.fold(reparams[name], state, op, sn_dims.get(name))
    return logical[name]


def _encode(arrays: "dict[str, np.ndarray]", dtype: str) -> bytes:
    tensors = {n: to_dtype(a, dtype, n) for n, a in arrays.items()}
    total = sum(t.nbytes for t in tensors.values())
    if total > MAX_WEIGHTS_BYTES:
        raise ConvertError(f"the weights take {total} bytes as {dtype}, more than "
                           f"{MAX_WEIGHTS_BYTES}, webgan's limit" +
                           (" (try --dtype f16)" if dtype == "f32" else ""))
    return safetensors_np.encode(tensors, {"format": "pt"})


def convert(inp: str, out_dir: str, arch: str | None = None, dtype: str = "f16",
            name: str | None = None, description: str | None = None,
            license: str | None = None, source: str | None = None,
            key: str | None = None) -> "collections.OrderedDict[str, Any]":
    """Convert ``inp`` into ``out_dir``; returns the model.json contents.

    ``arch`` (PyTorch only) is 'dcgan' or an architecture JSON path (a format-1 layer list or
    a format-2 graph template); a state dict needs one unless it is in KNOWN_ARCHITECTURES."""
    if dtype not in ("f16", "f32"):
        raise ConvertError(f"--dtype must be f16 or f32, got {dtype!r}")
    if not os.path.isfile(inp):
        raise ConvertError(f"input {inp} does not exist or is not a file")
    fmt = detect_format(inp)
    origin = ""
    reparams: "dict[str, torch_reparam.Reparam]" = {}
    sn_dims: dict[str, int] = {}  # spectral norm's dim where a pickled module says it
    src_sha = None
    if fmt == "keras":
        if arch is not None or key is not None:
            raise ConvertError(f"{inp} is a Keras model, which stores its own architecture; "
                               "drop --arch/--key")
        state, spec, info = read_keras(inp)
        logical = state
        origin = f"Keras {info.get('keras_version', 'unknown')} {info.get('format', '')}".strip()
    else:
        state, module = read_pytorch(inp, key)
        logical, reparams = torch_reparam.split(state)
        if module is not None:
            sn_dims = pickled_modules.spectral_norm_dims(module)
        if arch is None and module is None:
            src_sha = sha256_file(inp)
            arch = KNOWN_ARCHITECTURES.get(src_sha)
            if arch is None:
                raise _arch_needed(inp, logical)
            if arch != "dcgan":
                arch = os.path.join(os.path.dirname(os.path.abspath(__file__)), arch)
        if arch is not None and arch != "dcgan" and not arch.lower().endswith(".json"):
            raise ConvertError(
                f"--arch must be 'dcgan' or a path to an architecture .json, got {arch!r}")
        if module is not None and arch in (None, "dcgan"):
            # The modules say what each layer is: read the chain, assume nothing.
            try:
                spec, origin = pickled_modules.sequential_architecture(module)
            except torch_checkpoint.CheckpointError as e:
                raise ConvertError(str(e)) from e
        elif arch == "dcgan":
            spec = dcgan_architecture(logical)
            origin = "arch dcgan"
        else:
            spec = load_arch_json(arch)
            origin = f"arch {os.path.basename(arch)}"
    if reparams:
        origin += f"; {len(reparams)} spectral/weight-normed weights folded"

    if graph_arch.is_template(spec):
        reads = graph_arch.tensor_reads(spec, logical, reparams)
        graph_arch.check_all_used(state, reads, reparams)
        blob = _encode({n: _weight(n, logical, state, reparams, op, sn_dims)
                        for n, op in reads.items()}, dtype)
        head = {k: spec[k] for k in ("name", "description", "license", "source") if k in spec}
        class_names = spec.get("class_names")
    else:
        for i, layer in enumerate(spec["layers"]):
            if isinstance(layer, dict):
                for f in ("weight", "bias", "running_mean", "running_var"):
                    torch_reparam.refuse_piece(layer.get(f), reparams,
                                               f"layer {i} ({_short(layer.get('op'))})")
        layers, output_shape, used = resolve_architecture(spec, logical)
        ops: dict[str, str] = {}
        for layer in layers:
            if layer.get("weight") is not None:
                ops.setdefault(layer["weight"], layer["op"])
        blob = _encode({n: _weight(n, logical, state, reparams, ops.get(n), sn_dims)
                        for n in used}, dtype)
        head = {}
        class_names = spec.get("class_names")

    if name is None:
        name = head.get("name") or os.path.basename(os.path.normpath(out_dir))
    if description is None:
        description = head.get("description") or \
            f"Generator converted from {os.path.basename(inp)} ({origin})."
    if license is None:
        license = head.get("license") or \
            "unknown: check the license of the original weights and training data"
    if source is None:
        source = head.get("source") or \
            f"{os.path.basename(inp)} (sha256 {src_sha or sha256_file(inp)})"

    model: "collections.OrderedDict[str, Any]" = collections.OrderedDict()
    model["format"] = FORMAT2 if graph_arch.is_template(spec) else FORMAT
    model["name"] = name
    model["description"] = description
    model["license"] = license
    model["source"] = source
    weights = collections.OrderedDict([
        ("file", WEIGHTS_FILE), ("bytes", len(blob)),
        ("sha256", hashlib.sha256(blob).hexdigest()), ("dtype", dtype)])
    if graph_arch.is_template(spec):
        model["weights"] = weights
        model["inputs"] = spec["inputs"]
        model["nodes"] = spec["nodes"]
        model["output"] = spec["output"]
    else:
        model["latent_dim"] = spec["latent_dim"]
        model["num_classes"] = spec.get("num_classes")
        model["output_shape"] = output_shape
        model["weights"] = weights
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
    if class_names:
        with open(names_path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(json.dumps(class_names, ensure_ascii=False) + "\n")
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
                   help="PyTorch checkpoint (.pt/.pth/.tar), safetensors state dict "
                        "(.safetensors) or Keras model (.keras/.h5)")
    p.add_argument("output", metavar="OUT", help="model folder to write (created if needed)")
    p.add_argument("--arch", default=None,
                   help="PyTorch and safetensors: 'dcgan' (the standard DCGAN generator) or "
                        "a path to an architecture JSON file (a format-1 layer list or a "
                        "webgan-model/2 graph template); required for a state dict, optional "
                        "for a whole pickled nn.Sequential model")
    p.add_argument("--dtype", default="f16", choices=["f16", "f32"],
                   help="weight storage type (default f16)")
    p.add_argument("--name", help="model name (default: OUT's folder name)")
    p.add_argument("--description", help="one-line description")
    p.add_argument("--license", help="license of the weights and notes on the training data")
    p.add_argument("--source", help="where the weights come from (default: file name and sha256)")
    p.add_argument("--key", help="entry of a checkpoint dict that holds the state dict "
                                 "(dotted for nesting; for safetensors, the key prefix to keep); "
                                 "default: found automatically")
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
    what = (f"{len(model['layers'])} layers, output {model['output_shape']}" if "layers" in model
            else f"a graph of {len(model['nodes'])} nodes, output {model['output']!r}")
    print(f"wrote {a.output}: {what}, "
          f"{w['file']} {w['bytes']} bytes ({w['dtype']}) sha256 {w['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
