"""Checking an architecture's layers against the state dict: ``resolve_architecture`` walks
the layers in the model.json schema (``LAYER_FIELDS``), normalises each, checks every tensor
name and shape and every size against the loader's caps, and computes the output shape."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_errors import ConvertError, _short  # noqa: E402
from loader_limits import (MAX_CLASSES, MAX_DIM, MAX_ELEMENTS, MAX_KERNEL,  # noqa: E402
                           MAX_LATENT_DIM, MAX_LAYERS, MAX_PADDING)

# PyTorch BatchNorm2d's default eps. It is a constructor argument, not part of
# the state dict, so a checkpoint cannot tell us; every known DCGAN uses it.
TORCH_BATCH_NORM_EPS = 1e-5

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


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _pair(value: Any, what: str, cap: int = MAX_KERNEL) -> list[int]:
    """An int or [a, b] -> [a, b] of non-negative ints, at most ``cap``."""
    if _is_int(value):
        value = [value, value]
    if (not isinstance(value, list) or len(value) != 2
            or not all(_is_int(v) and v >= 0 for v in value)):
        raise ConvertError(f"{what} must be an integer or a list of 2 integers, got {_short(value)}")
    if max(value) > cap:
        raise ConvertError(f"{what} {value} is larger than {cap}, webgan's limit")
    return list(value)


def _padding4(value: Any, what: str) -> list[int]:
    """Padding as [top, bottom, left, right]. Also accepts an int or PyTorch's
    [ph, pw] (symmetric), which are unambiguous."""
    if _is_int(value) or (isinstance(value, list) and len(value) == 2):
        ph, pw = _pair(value, what, MAX_PADDING)
        return [ph, ph, pw, pw]
    if (not isinstance(value, list) or len(value) != 4
            or not all(_is_int(v) and v >= 0 for v in value)):
        raise ConvertError(f"{what} must be [top, bottom, left, right], got {_short(value)}")
    if max(value) > MAX_PADDING:
        raise ConvertError(f"{what} {value} is larger than {MAX_PADDING}, webgan's limit")
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
            raise ConvertError(f"{where}: tensor name must be a string, got {_short(name)}")
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
        if not _is_int(v) or v <= 0:
            raise ConvertError(f"{where}: '{key}' must be a positive integer, got {_short(v)}")
        if v > MAX_DIM:
            raise ConvertError(f"{where}: '{key}' is {v}, larger than {MAX_DIM}, webgan's limit")
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
        if not isinstance(layer, dict) or not isinstance(layer.get("op"), str) \
                or layer["op"] not in LAYER_FIELDS:
            raise ConvertError(
                f"layer {i}: unknown op {_short(layer.get('op') if isinstance(layer, dict) else layer)}; "
                f"known ops: {', '.join(LAYER_FIELDS)}")
        op = layer["op"]
        where = f"layer {i} ({op})"
        extra = set(layer) - {"op"} - set(LAYER_FIELDS[op])
        if extra:
            raise ConvertError(f"{where}: unknown fields {sorted(str(k)[:80] for k in extra)}")
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
            # The Rust loader folds BN with 1/sqrt(var + eps): it needs eps > 0 and var >= 0.
            if not isinstance(eps, (int, float)) or isinstance(eps, bool) \
                    or not math.isfinite(eps) or eps <= 0:
                raise ConvertError(f"{where}: eps must be a positive number, got {_short(eps)}")
            out.update(channels=ch, eps=float(eps),
                       weight=self.tensor(where, layer.get("weight"), (ch,), optional=True),
                       bias=self.tensor(where, layer.get("bias"), (ch,), optional=True),
                       running_mean=self.tensor(where, layer.get("running_mean"), (ch,)),
                       running_var=self.tensor(where, layer.get("running_var"), (ch,)))
            var = self.state[out["running_var"]]
            if np.any(var < 0):
                raise ConvertError(
                    f"{where}: running_var {out['running_var']!r} has negative values (the "
                    f"smallest is {float(np.min(var)):g}); a variance cannot be negative, "
                    "so the model file is corrupt")
            return out, shape

        if op in ("relu", "tanh", "sigmoid"):
            return out, shape

        if op == "leaky_relu":
            slope = layer.get("slope")
            if not isinstance(slope, (int, float)) or isinstance(slope, bool) \
                    or not math.isfinite(slope):
                raise ConvertError(f"{where}: 'slope' must be a finite number, got {_short(slope)}")
            out["slope"] = float(slope)
            return out, shape

        if op == "reshape":
            new = layer.get("shape")
            if (not isinstance(new, list) or not new or len(new) > 3
                    or not all(_is_int(v) and v > 0 for v in new)):
                raise ConvertError(f"{where}: 'shape' must be a list of 1 to 3 positive integers")
            order = layer.get("order", "channels_first")
            if order not in ("channels_first", "channels_last"):
                raise ConvertError(f"{where}: 'order' must be channels_first or channels_last")
            if math.prod(new) != math.prod(shape):
                raise ConvertError(f"{where}: cannot reshape {shape} ({math.prod(shape)} values) to {_short(new)}")
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
    latent_dim = arch["latent_dim"]
    if not _is_int(latent_dim) or not 0 < latent_dim <= MAX_LATENT_DIM:
        raise ConvertError(f"latent_dim {_short(latent_dim)} must be a positive integer of at most "
                           f"{MAX_LATENT_DIM}, webgan's limit")
    if len(arch["layers"]) > MAX_LAYERS:
        raise ConvertError(f"the architecture has {len(arch['layers'])} layers, more than "
                           f"{MAX_LAYERS}, webgan's limit")
    shape = [latent_dim]
    layers = []
    for i, layer in enumerate(arch["layers"]):
        norm, shape = walker.step(i, layer, shape)
        where = f"layer {i} ({norm['op']})"
        if "kernel" in norm and max(norm["kernel"]) > MAX_KERNEL:
            raise ConvertError(f"{where}: kernel {norm['kernel']} is larger than {MAX_KERNEL}, "
                               "webgan's limit")
        if max(shape) > MAX_DIM or math.prod(shape) > MAX_ELEMENTS:
            raise ConvertError(f"{where}: its output {shape} is larger than webgan's limits "
                               f"({MAX_DIM} per dimension, {MAX_ELEMENTS} values)")
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
    if num_classes is not None and (not _is_int(num_classes) or one_hot != [num_classes]):
        raise ConvertError(f"num_classes {_short(num_classes)} needs exactly one concat_one_hot "
                           "layer with that many classes")
    if num_classes is not None and num_classes > MAX_CLASSES:
        raise ConvertError(f"num_classes {num_classes} is more than {MAX_CLASSES}, webgan's limit")
    declared = arch.get("output_shape")
    if declared is not None and (not isinstance(declared, list) or declared != shape):
        raise ConvertError(f"output_shape {declared} in the architecture, but the layers give {shape}")
    return layers, shape, walker.used

