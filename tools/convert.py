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
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import sys
import zipfile
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_import  # noqa: E402
import safetensors_np  # noqa: E402
import torch_checkpoint  # noqa: E402

FORMAT = "webgan-model/1"
WEIGHTS_FILE = "weights.safetensors"
CLASS_NAMES_FILE = "class_names.json"

# PyTorch BatchNorm2d's default eps. It is a constructor argument, not part of
# the state dict, so a checkpoint cannot tell us; every known DCGAN uses it.
TORCH_BATCH_NORM_EPS = 1e-5

# Largest finite float16; larger weights would become inf in an f16 file.
F16_MAX = 65504.0


class ConvertError(Exception):
    """A problem with the input or options; the message says what to do."""


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
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
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


# ----------------------------------------------------------- architectures

def _group_by_module(state: dict[str, np.ndarray]) -> list[tuple[str, dict[str, str]]]:
    """Group keys 'a.b.weight' by module prefix 'a.b', in first-seen order.
    Values map the parameter name ('weight') to the full key."""
    groups: "collections.OrderedDict[str, dict[str, str]]" = collections.OrderedDict()
    for full in state:
        prefix, _, leaf = full.rpartition(".")
        groups.setdefault(prefix, {})[leaf] = full
    return list(groups.items())


def dcgan_architecture(state: dict[str, np.ndarray]) -> dict[str, Any]:
    """Infer a DCGAN generator from a state dict.

    Layer roles come from shapes and key order, not names, so both
    ``convTr1 / batchNorm1`` (generateme) and ``main.0 / main.1``
    (nn.Sequential, e.g. gan-face-generate) work. The structure is
    ConvTranspose2d (k4 s1 p0: 1x1 -> 4x4), then repeated
    [BatchNorm2d, ReLU, ConvTranspose2d (k4 s2 p1: doubles H and W)],
    then Tanh.
    """
    convs: list[dict[str, str]] = []
    norms: list[dict[str, str]] = []
    order: list[str] = []  # "conv"/"bn" in key order
    for prefix, params in _group_by_module(state):
        params = {k: v for k, v in params.items() if k != "num_batches_tracked"}
        where = prefix or "(top level)"
        if "running_mean" in params or "running_var" in params:
            if set(params) - {"weight", "bias", "running_mean", "running_var"} or \
                    not {"running_mean", "running_var"} <= set(params):
                raise ConvertError(
                    f"module {where}: has {sorted(params)}; a BatchNorm2d needs "
                    "running_mean and running_var (and optionally weight, bias)")
            norms.append(params)
            order.append("bn")
        elif "weight" in params and state[params["weight"]].ndim == 4:
            if set(params) - {"weight", "bias"}:
                raise ConvertError(f"module {where}: unexpected tensors {sorted(params)}")
            convs.append(params)
            order.append("conv")
        else:
            shapes = {k: tuple(state[v].shape) for k, v in params.items()}
            raise ConvertError(
                f"module {where} with tensors {shapes} is neither a ConvTranspose2d "
                "nor a BatchNorm2d, so this is not a plain DCGAN generator; "
                "describe the network in an --arch JSON file")
    if not convs:
        raise ConvertError("no 4-D ConvTranspose2d weights found; not a DCGAN generator")
    expected = ["conv"] + ["bn", "conv"] * (len(convs) - 1)
    if order != expected:
        raise ConvertError(
            f"module order {order} does not match a DCGAN generator "
            "(ConvTranspose2d, then BatchNorm2d + ConvTranspose2d pairs); use --arch JSON")

    latent_dim = int(state[convs[0]["weight"]].shape[0])
    layers: list[dict[str, Any]] = [
        {"op": "reshape", "shape": [latent_dim, 1, 1], "order": "channels_first"}]
    for i, conv in enumerate(convs):
        w = state[conv["weight"]]
        cin, cout, kh, kw = (int(d) for d in w.shape)
        if (kh, kw) != (4, 4):
            raise ConvertError(
                f"{conv['weight']}: kernel {kh}x{kw}, but DCGAN uses 4x4; use --arch JSON")
        first = i == 0
        layers.append({
            "op": "conv_transpose2d", "in_channels": cin, "out_channels": cout,
            "kernel": [4, 4],
            "stride": [1, 1] if first else [2, 2],
            "padding": [0, 0, 0, 0] if first else [1, 1, 1, 1],
            "output_padding": [0, 0],
            "weight": conv["weight"], "bias": conv.get("bias"),
        })
        if i < len(norms):
            bn = norms[i]
            layers.append({
                "op": "batch_norm", "channels": cout, "eps": TORCH_BATCH_NORM_EPS,
                "weight": bn.get("weight"), "bias": bn.get("bias"),
                "running_mean": bn["running_mean"], "running_var": bn["running_var"],
            })
            layers.append({"op": "relu"})
    layers.append({"op": "tanh"})
    return {"latent_dim": latent_dim, "num_classes": None, "output_shape": None,
            "layers": layers}


def load_arch_json(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            arch = json.load(fh)
    except OSError as e:
        raise ConvertError(f"cannot read --arch file {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise ConvertError(f"--arch file {path} is not valid JSON: {e}") from e
    if not isinstance(arch, dict) or not isinstance(arch.get("layers"), list):
        raise ConvertError(f"--arch file {path} needs an object with a 'layers' list")
    if not isinstance(arch.get("latent_dim"), int) or arch["latent_dim"] <= 0:
        raise ConvertError(f"--arch file {path} needs a positive integer 'latent_dim'")
    names = arch.get("class_names")
    if names is not None and (not isinstance(names, list)
                              or not all(isinstance(n, str) for n in names)
                              or len(names) != arch.get("num_classes")):
        raise ConvertError(f"--arch file {path}: 'class_names' must list num_classes strings")
    return {"latent_dim": arch["latent_dim"], "num_classes": arch.get("num_classes"),
            "output_shape": arch.get("output_shape"), "layers": arch["layers"],
            "class_names": names}


# ------------------------------------------------------- layer validation

# Canonical field order per op (the order written to model.json).
LAYER_FIELDS: dict[str, list[str]] = {
    "linear": ["in_features", "out_features", "weight", "bias"],
    "conv_transpose2d": ["in_channels", "out_channels", "kernel", "stride", "padding",
                         "output_padding", "weight", "bias"],
    "conv2d": ["in_channels", "out_channels", "kernel", "stride", "padding", "weight", "bias"],
    "batch_norm": ["channels", "eps", "weight", "bias", "running_mean", "running_var"],
    "relu": [],
    "leaky_relu": ["slope"],
    "tanh": [],
    "sigmoid": [],
    "reshape": ["shape", "order"],
    "upsample": ["scale"],
    "concat_one_hot": ["classes"],
}


def _pair(value: Any, what: str) -> list[int]:
    """An int or [a, b] -> [a, b] of non-negative ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)):
        raise ConvertError(f"{what} must be an integer or a list of 2 integers, got {value!r}")
    return list(value)


def _padding4(value: Any, what: str) -> list[int]:
    """Padding as [top, bottom, left, right]. Also accepts an int or PyTorch's
    [ph, pw] (symmetric), which are unambiguous."""
    if isinstance(value, int) or (isinstance(value, list) and len(value) == 2):
        ph, pw = _pair(value, what)
        return [ph, ph, pw, pw]
    if (not isinstance(value, list) or len(value) != 4
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)):
        raise ConvertError(f"{what} must be [top, bottom, left, right], got {value!r}")
    return list(value)


class _Walker:
    """Walks the layers, normalising each and tracking the activation shape:
    [n] for a vector, [C, H, W] for an image-like tensor (always logical
    channels-first, whatever the memory layout in the browser)."""

    def __init__(self, state: dict[str, np.ndarray]):
        self.state = state
        self.used: list[str] = []

    def tensor(self, where: str, name: Any, shape: tuple[int, ...], optional: bool = False) -> Any:
        if name is None:
            if optional:
                return None
            raise ConvertError(f"{where}: a tensor name is required")
        if not isinstance(name, str):
            raise ConvertError(f"{where}: tensor name must be a string, got {name!r}")
        if name not in self.state:
            near = [k for k in self.state if k.split(".")[-1] == name.split(".")[-1]][:8]
            raise ConvertError(f"{where}: tensor {name!r} is not in the checkpoint"
                               + (f" (similar: {near})" if near else ""))
        arr = self.state[name]
        if tuple(arr.shape) != tuple(shape):
            raise ConvertError(
                f"{where}: tensor {name!r} has shape {list(arr.shape)}, expected {list(shape)}")
        if arr.dtype.kind != "f":
            raise ConvertError(f"{where}: tensor {name!r} has dtype {arr.dtype}, expected floats")
        if name not in self.used:
            self.used.append(name)
        return name

    def _lookup(self, name: Any) -> np.ndarray | None:
        # For inferring omitted sizes; tensor() reports bad names properly.
        return self.state.get(name) if isinstance(name, str) else None

    @staticmethod
    def _int(layer: dict, key: str, where: str, default: Any = None) -> int:
        v = layer.get(key, default)
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ConvertError(f"{where}: '{key}' must be a positive integer, got {v!r}")
        return v

    def _channels_from_weight(self, layer: dict, where: str, key: str, axis: int) -> int:
        # Channel counts may be omitted in an arch file; take them from the weight.
        if key in layer:
            return self._int(layer, key, where)
        w = self._lookup(layer.get("weight"))
        if w is None or w.ndim != 4:
            raise ConvertError(f"{where}: '{key}' missing and no 4-D weight to infer it from")
        return int(w.shape[axis])

    def step(self, i: int, layer: Any, shape: list[int]) -> tuple[dict[str, Any], list[int]]:
        if not isinstance(layer, dict) or layer.get("op") not in LAYER_FIELDS:
            raise ConvertError(
                f"layer {i}: unknown op {layer.get('op') if isinstance(layer, dict) else layer!r}; "
                f"known ops: {', '.join(LAYER_FIELDS)}")
        op = layer["op"]
        where = f"layer {i} ({op})"
        extra = set(layer) - {"op"} - set(LAYER_FIELDS[op])
        if extra:
            raise ConvertError(f"{where}: unknown fields {sorted(extra)}")
        out: dict[str, Any] = {"op": op}

        def need_image() -> tuple[int, int, int]:
            if len(shape) != 3:
                raise ConvertError(f"{where}: needs a [C, H, W] input, got {shape}; add a reshape")
            return shape[0], shape[1], shape[2]

        if op == "linear":
            if len(shape) != 1:
                raise ConvertError(f"{where}: needs a vector input, got {shape}")
            w = self._lookup(layer.get("weight"))
            fin = layer.get("in_features", shape[0])
            fout = layer.get("out_features", int(w.shape[0]) if w is not None and w.ndim == 2 else None)
            out["in_features"] = self._int({"v": fin}, "v", where + " in_features")
            out["out_features"] = self._int({"v": fout}, "v", where + " out_features")
            if out["in_features"] != shape[0]:
                raise ConvertError(f"{where}: in_features {fin} but the input has {shape[0]}")
            out["weight"] = self.tensor(where, layer.get("weight"), (fout, fin))
            out["bias"] = self.tensor(where, layer.get("bias"), (fout,), optional=True)
            return out, [fout]

        if op in ("conv_transpose2d", "conv2d"):
            c, h, w_ = need_image()
            transposed = op == "conv_transpose2d"
            # PyTorch weight layouts: ConvTranspose2d [in, out, kh, kw], Conv2d [out, in, kh, kw].
            cin = self._channels_from_weight(layer, where, "in_channels", 0 if transposed else 1)
            cout = self._channels_from_weight(layer, where, "out_channels", 1 if transposed else 0)
            if cin != c:
                raise ConvertError(f"{where}: in_channels {cin} but the input has {c} channels")
            if "kernel" in layer:
                kh, kw = _pair(layer["kernel"], where + " kernel")
            else:
                wt = self._lookup(layer.get("weight"))
                if wt is None or wt.ndim != 4:
                    raise ConvertError(f"{where}: 'kernel' missing and no 4-D weight to infer it from")
                kh, kw = int(wt.shape[2]), int(wt.shape[3])
            sh, sw = _pair(layer.get("stride", 1), where + " stride")
            if sh == 0 or sw == 0 or kh == 0 or kw == 0:
                raise ConvertError(f"{where}: kernel and stride must be positive")
            pad = _padding4(layer.get("padding", 0), where + " padding")
            out.update(in_channels=cin, out_channels=cout, kernel=[kh, kw], stride=[sh, sw],
                       padding=pad)
            if transposed:
                oph, opw = _pair(layer.get("output_padding", 0), where + " output_padding")
                if oph >= sh or opw >= sw:
                    raise ConvertError(f"{where}: output_padding must be smaller than stride")
                out["output_padding"] = [oph, opw]
                # Full transposed output is (H-1)*s + k; padding crops it,
                # output_padding adds rows/columns at the bottom/right.
                ho = (h - 1) * sh + kh - pad[0] - pad[1] + oph
                wo = (w_ - 1) * sw + kw - pad[2] - pad[3] + opw
                wshape = (cin, cout, kh, kw)
            else:
                ho = (h + pad[0] + pad[1] - kh) // sh + 1
                wo = (w_ + pad[2] + pad[3] - kw) // sw + 1
                wshape = (cout, cin, kh, kw)
            if ho <= 0 or wo <= 0:
                raise ConvertError(f"{where}: output would be {ho}x{wo}")
            out["weight"] = self.tensor(where, layer.get("weight"), wshape)
            out["bias"] = self.tensor(where, layer.get("bias"), (cout,), optional=True)
            return out, [cout, ho, wo]

        if op == "batch_norm":
            if not shape:
                raise ConvertError(f"{where}: empty input")
            ch = self._int(layer, "channels", where, default=shape[0])
            if ch != shape[0]:
                raise ConvertError(f"{where}: channels {ch} but the input has {shape[0]}")
            eps = layer.get("eps", TORCH_BATCH_NORM_EPS)
            if not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps <= 0:
                raise ConvertError(f"{where}: eps must be a positive number")
            out.update(channels=ch, eps=float(eps),
                       weight=self.tensor(where, layer.get("weight"), (ch,), optional=True),
                       bias=self.tensor(where, layer.get("bias"), (ch,), optional=True),
                       running_mean=self.tensor(where, layer.get("running_mean"), (ch,)),
                       running_var=self.tensor(where, layer.get("running_var"), (ch,)))
            return out, shape

        if op in ("relu", "tanh", "sigmoid"):
            return out, shape

        if op == "leaky_relu":
            slope = layer.get("slope")
            if not isinstance(slope, (int, float)) or isinstance(slope, bool):
                raise ConvertError(f"{where}: 'slope' must be a number")
            out["slope"] = float(slope)
            return out, shape

        if op == "reshape":
            new = layer.get("shape")
            if (not isinstance(new, list) or not new
                    or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in new)):
                raise ConvertError(f"{where}: 'shape' must be a list of positive integers")
            order = layer.get("order", "channels_first")
            if order not in ("channels_first", "channels_last"):
                raise ConvertError(f"{where}: 'order' must be channels_first or channels_last")
            if int(np.prod(new)) != int(np.prod(shape)):
                raise ConvertError(f"{where}: cannot reshape {shape} ({int(np.prod(shape))} values) to {new}")
            out.update(shape=list(new), order=order)
            # `shape` is always the logical target ([C, H, W] or [F]); `order` only says
            # how the flat elements map (channels_last: index (h*W + w)*C + c).
            return out, list(new)

        if op == "upsample":
            c, h, w_ = need_image()
            sh, sw = _pair(layer.get("scale"), where + " scale")
            if sh == 0 or sw == 0:
                raise ConvertError(f"{where}: scale must be positive")
            out["scale"] = [sh, sw]
            return out, [c, h * sh, w_ * sw]

        if op == "concat_one_hot":
            if len(shape) != 1:
                raise ConvertError(f"{where}: needs a vector input, got {shape}")
            classes = self._int(layer, "classes", where)
            out["classes"] = classes
            return out, [shape[0] + classes]

        raise AssertionError(op)


def resolve_architecture(arch: dict[str, Any], state: dict[str, np.ndarray]) -> tuple[list[dict], list[int], list[str]]:
    """Validate and normalise the layers; returns (layers, output_shape, tensor names used)."""
    walker = _Walker(state)
    shape = [arch["latent_dim"]]
    layers = []
    for i, layer in enumerate(arch["layers"]):
        norm, shape = walker.step(i, layer, shape)
        layers.append(norm)
    if not layers:
        raise ConvertError("the architecture has no layers")
    if len(shape) not in (1, 3):
        raise ConvertError(f"the model's output has shape {shape}; it must be an image "
                           "[C, H, W] or a score vector [F] (end with a reshape)")
    num_classes = arch.get("num_classes")
    one_hot = [l["classes"] for l in layers if l["op"] == "concat_one_hot"]
    if num_classes is None and one_hot:
        raise ConvertError("concat_one_hot layer present but num_classes is null")
    if num_classes is not None and (not isinstance(num_classes, int) or one_hot != [num_classes]):
        raise ConvertError(f"num_classes {num_classes!r} needs exactly one concat_one_hot "
                           "layer with that many classes")
    declared = arch.get("output_shape")
    if declared is not None and list(declared) != shape:
        raise ConvertError(f"output_shape {declared} in the architecture, but the layers give {shape}")
    return layers, shape, walker.used


# ------------------------------------------------------------------ output

def to_dtype(arr: np.ndarray, dtype: str, name: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ConvertError(f"tensor {name!r} has NaN or infinite values")
    if dtype == "f16":
        peak = float(np.max(np.abs(arr))) if arr.size else 0.0
        if peak > F16_MAX:
            raise ConvertError(f"tensor {name!r} has values up to {peak:g}, beyond float16; "
                               "use --dtype f32")
        # Round to nearest even, like torch's Tensor.half().
        return arr.astype("<f2")
    return arr.astype("<f4")


def format_model_json(model: "collections.OrderedDict[str, Any]") -> str:
    """2-space indented JSON with one layer per line, so diffs stay readable."""
    def dump(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))

    lines = ["{"]
    items = list(model.items())
    for idx, (k, v) in enumerate(items):
        comma = "," if idx < len(items) - 1 else ""
        if k == "layers":
            lines.append(f"  {dump(k)}: [")
            for j, layer in enumerate(v):
                lines.append(f"    {dump(layer)}" + ("," if j < len(v) - 1 else ""))
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {dump(k)}: {dump(v)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
        fh.write(format_model_json(model))
    return model


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
    except ConvertError as e:
        print(f"convert.py: error: {e}", file=sys.stderr)
        return 1
    w = model["weights"]
    print(f"wrote {a.output}: {len(model['layers'])} layers, output {model['output_shape']}, "
          f"{w['file']} {w['bytes']} bytes ({w['dtype']}) sha256 {w['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
