"""Keras layers -> webgan layers: ``_Builder`` appends the webgan layers and PyTorch-layout
tensors for each Keras layer, tracking the shape, with Keras' defaults and TF's 'same' and
transposed-convolution padding rules."""

from __future__ import annotations

import collections
import math
import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_config import IDENTITY_LAYERS, KerasImportError  # noqa: E402

KERAS_BN_EPSILON = 1e-3
LEAKY_RELU_LAYER_SLOPE = 0.3      # keras.layers.LeakyReLU() in tf.keras 2 and Keras 3
LEAKY_RELU_FUNCTION_SLOPE = 0.2   # keras.activations.leaky_relu (activation='leaky_relu')


def _pair(v: Any, what: str, minimum: int = 1) -> tuple[int, int]:
    if isinstance(v, int) and not isinstance(v, bool):
        v = [v, v]
    if isinstance(v, (list, tuple)) and len(v) == 2 \
            and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        if min(v) < minimum:
            raise KerasImportError(f"{what} must be at least {minimum}, got {list(v)}")
        return int(v[0]), int(v[1])
    raise KerasImportError(f"{what} must be an integer or a pair, got {str(v)[:80]}")


def _same_pad(n: int, k: int, s: int) -> tuple[int, int]:
    """TF 'same' padding of a convolution: (before, after)."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _transpose_crop(n: int, k: int, s: int, padding: str, output_padding: int | None) -> tuple[int, int, int]:
    """Keras Conv2DTranspose along one axis: (crop before, crop after, extension after)."""
    if output_padding is None:
        out = n * s if padding == "same" else (n - 1) * s + max(k, s)
    else:
        pad = k // 2 if padding == "same" else 0
        out = (n - 1) * s + k - 2 * pad + output_padding
    total = (n - 1) * s + k - out
    if total >= 0:
        return total // 2, total - total // 2, 0
    return 0, 0, -total


class _Builder:
    """Appends webgan layers for Keras layers, tracking the logical shape ([F] or [C, H, W])."""

    def __init__(self, data_format: str):
        self.fmt = data_format
        self.order = data_format  # reshape element order of this model's images
        self.state: "collections.OrderedDict[str, np.ndarray]" = collections.OrderedDict()
        self.layers: list[dict[str, Any]] = []
        self.shape: list[int] = []

    def where(self, name: str, cls: str) -> str:
        return f"layer {name!r} ({cls})"

    def image(self, name: str, cls: str) -> tuple[int, int, int]:
        if len(self.shape) != 3:
            raise KerasImportError(f"{self.where(name, cls)} needs an image input but gets "
                                   f"a vector of {self.shape}")
        return self.shape[0], self.shape[1], self.shape[2]

    def put(self, name: str, arr: np.ndarray) -> str:
        if name in self.state:
            raise KerasImportError(f"two layers are both called {name.rsplit('.', 1)[0]!r}")
        arr = np.asarray(arr)
        if arr.dtype.kind != "f":
            raise KerasImportError(f"tensor {name} has dtype {arr.dtype}, expected floats")
        self.state[name] = np.ascontiguousarray(arr.astype(np.float32) if arr.dtype != np.float64
                                                else arr)
        return name

    def activation(self, act: Any, name: str, cls: str) -> None:
        if isinstance(act, dict):  # Keras 3 may serialize a function as a dict
            inner = act.get("config")
            act = inner if isinstance(inner, str) else act.get("class_name")
        if act in (None, "linear"):
            return
        if act == "relu":
            self.layers.append({"op": "relu"})
        elif act == "tanh":
            self.layers.append({"op": "tanh"})
        elif act == "sigmoid":
            self.layers.append({"op": "sigmoid"})
        elif act == "leaky_relu":
            self.layers.append({"op": "leaky_relu", "slope": LEAKY_RELU_FUNCTION_SLOPE})
        else:
            raise KerasImportError(
                f"{self.where(name, cls)}: activation {act!r} is not supported by webgan "
                "(supported: linear, relu, tanh, sigmoid, leaky_relu)")

    def check_format(self, cfg: dict, name: str, cls: str) -> None:
        df = cfg.get("data_format") or "channels_last"
        if df != self.fmt:
            raise KerasImportError(f"{self.where(name, cls)}: data_format {df!r}, but the model "
                                   f"uses {self.fmt!r}; mixed formats are not supported")

    def logical(self, keras_shape: list[int]) -> list[int]:
        """A Keras per-sample image shape -> webgan's [C, H, W]."""
        if self.fmt == "channels_last":
            h, w, c = keras_shape
            return [c, h, w]
        return list(keras_shape)

    def add(self, cls: str, cfg: dict, name: str, ws: list[np.ndarray]) -> None:
        where = self.where(name, cls)

        def expect(n: int) -> None:
            if len(ws) != n:
                raise KerasImportError(f"{where}: expected {n} weight arrays, the file has "
                                       f"{len(ws)} ({[list(w.shape) for w in ws]})")

        if cls == "Dense":
            if len(self.shape) != 1:
                raise KerasImportError(f"{where}: webgan applies Dense to vectors only, but the "
                                       f"input is {self.shape}; add a Flatten before it")
            use_bias = cfg.get("use_bias", True)
            expect(2 if use_bias else 1)
            kernel = ws[0]
            if kernel.ndim != 2 or kernel.shape[0] != self.shape[0]:
                raise KerasImportError(f"{where}: kernel {list(kernel.shape)} does not take "
                                       f"{self.shape[0]} inputs")
            units = int(kernel.shape[1])
            self.layers.append({
                "op": "linear", "in_features": self.shape[0], "out_features": units,
                "weight": self.put(f"{name}.weight", kernel.T),
                "bias": self.put(f"{name}.bias", ws[1]) if use_bias else None})
            self.shape = [units]
            self.activation(cfg.get("activation"), name, cls)

        elif cls == "BatchNormalization":
            axis = cfg.get("axis", -1)
            if isinstance(axis, list):
                if len(axis) != 1:
                    raise KerasImportError(f"{where}: normalizing over axes {axis} is not supported")
                axis = axis[0]
            rank = len(self.shape) + 1
            axis = axis + rank if axis < 0 else axis
            channel_axis = 1 if (rank == 2 or self.fmt == "channels_first") else rank - 1
            if axis != channel_axis:
                raise KerasImportError(f"{where}: normalizes axis {axis} of a rank-{rank} "
                                       "tensor; webgan normalizes channels only")
            scale, center = cfg.get("scale", True), cfg.get("center", True)
            expect(2 + int(scale) + int(center))
            ch = self.shape[0]
            it = iter(ws)
            gamma = next(it) if scale else None
            beta = next(it) if center else None
            mean, var = next(it), next(it)
            for a in (gamma, beta, mean, var):
                if a is not None and a.shape != (ch,):
                    raise KerasImportError(f"{where}: a variable has shape {list(a.shape)}, "
                                           f"expected [{ch}]")
            self.layers.append({
                "op": "batch_norm", "channels": ch,
                "eps": float(cfg.get("epsilon", KERAS_BN_EPSILON)),
                "weight": self.put(f"{name}.weight", gamma) if scale else None,
                "bias": self.put(f"{name}.bias", beta) if center else None,
                "running_mean": self.put(f"{name}.running_mean", mean),
                "running_var": self.put(f"{name}.running_var", var)})

        elif cls == "LeakyReLU":
            slope = cfg.get("negative_slope", cfg.get("alpha", LEAKY_RELU_LAYER_SLOPE))
            self.layers.append({"op": "leaky_relu", "slope": float(slope)})

        elif cls == "ReLU":
            if cfg.get("max_value") is not None or float(cfg.get("threshold", 0) or 0) != 0:
                raise KerasImportError(f"{where}: max_value/threshold (e.g. ReLU6) are not "
                                       "supported by webgan")
            slope = float(cfg.get("negative_slope", 0) or 0)
            self.layers.append({"op": "leaky_relu", "slope": slope} if slope else {"op": "relu"})

        elif cls == "Activation":
            self.activation(cfg.get("activation"), name, cls)

        elif cls in IDENTITY_LAYERS:
            pass  # identity at inference

        elif cls == "Reshape":
            raw = cfg.get("target_shape") or []
            if not isinstance(raw, list) or len(raw) > 3 \
                    or not all(isinstance(d, int) and not isinstance(d, bool) for d in raw):
                raise KerasImportError(f"{where}: target_shape {str(raw)[:80]} is not a list of "
                                       "at most 3 integers")
            target = list(raw)
            total = math.prod(self.shape)
            if target.count(-1) == 1:
                known = math.prod([d for d in target if d != -1])
                target[target.index(-1)] = total // known if known > 0 else 0
            if not target or any(d <= 0 for d in target) or math.prod(target) != total:
                raise KerasImportError(f"{where}: cannot reshape {total} values to {raw}")
            if len(target) == 1:
                if len(self.shape) == 3:
                    self.layers.append({"op": "reshape", "shape": target, "order": self.order})
                self.shape = target
            elif len(target) == 3:
                self.shape = self.logical(target)
                self.layers.append({"op": "reshape", "shape": self.shape, "order": self.order})
            else:
                raise KerasImportError(f"{where}: target shape {target} is neither a vector nor "
                                       "an image (H, W, C)")

        elif cls == "Flatten":
            if len(self.shape) == 3:
                df = cfg.get("data_format") or "channels_last"
                if self.fmt == "channels_last" and df == "channels_first":
                    raise KerasImportError(f"{where}: data_format 'channels_first' on a "
                                           "channels_last model is not supported")
                # Flatten(data_format='channels_first') moves channels last before flattening.
                order = "channels_last" if df == "channels_first" else self.order
                self.shape = [math.prod(self.shape)]
                self.layers.append({"op": "reshape", "shape": self.shape, "order": order})

        elif cls in ("Conv2D", "Conv2DTranspose"):
            c, h, w = self.image(name, cls)
            self.check_format(cfg, name, cls)
            transposed = cls == "Conv2DTranspose"
            if _pair(cfg.get("dilation_rate", 1), where + " dilation_rate", 0) != (1, 1):
                raise KerasImportError(f"{where}: dilation_rate {cfg.get('dilation_rate')} is "
                                       "not supported by webgan")
            if int(cfg.get("groups", 1) or 1) != 1:
                raise KerasImportError(f"{where}: grouped convolution is not supported by webgan")
            kh, kw = _pair(cfg.get("kernel_size"), where + " kernel_size")
            sh, sw = _pair(cfg.get("strides", 1), where + " strides")
            padding = str(cfg.get("padding", "valid")).lower()
            if padding not in ("same", "valid"):
                raise KerasImportError(f"{where}: padding {padding!r} is not supported")
            use_bias = cfg.get("use_bias", True)
            expect(2 if use_bias else 1)
            kernel = ws[0]
            cin = int(kernel.shape[3] if transposed else kernel.shape[2])
            cout = int(kernel.shape[2] if transposed else kernel.shape[3])
            if kernel.shape[:2] != (kh, kw) or cin != c:
                raise KerasImportError(f"{where}: kernel {list(kernel.shape)} does not fit a "
                                       f"{kh}x{kw} convolution of {c} input channels")
            # (kh, kw, in, out) -> [out, in, kh, kw] and (kh, kw, out, in) -> [in, out, kh, kw].
            weight = kernel.transpose(3, 2, 0, 1)
            layer: dict[str, Any] = {"op": "conv_transpose2d" if transposed else "conv2d",
                                     "in_channels": cin, "out_channels": cout,
                                     "kernel": [kh, kw], "stride": [sh, sw]}
            if transposed:
                op = cfg.get("output_padding")
                oph, opw = (None, None) if op is None else _pair(op, where + " output_padding", 0)
                t, b, ext_h = _transpose_crop(h, kh, sh, padding, oph)
                lft, r, ext_w = _transpose_crop(w, kw, sw, padding, opw)
                if ext_h >= sh or ext_w >= sw:
                    raise KerasImportError(f"{where}: output_padding {op} would extend the output "
                                           "by the stride or more; webgan needs less")
                layer["padding"] = [t, b, lft, r]
                layer["output_padding"] = [ext_h, ext_w]
                ho = (h - 1) * sh + kh - t - b + ext_h
                wo = (w - 1) * sw + kw - lft - r + ext_w
            else:
                if padding == "same":
                    t, b = _same_pad(h, kh, sh)
                    lft, r = _same_pad(w, kw, sw)
                else:
                    t = b = lft = r = 0
                layer["padding"] = [t, b, lft, r]
                ho = (h + t + b - kh) // sh + 1
                wo = (w + lft + r - kw) // sw + 1
            if ho <= 0 or wo <= 0:
                raise KerasImportError(f"{where}: the output would be {ho}x{wo}")
            layer["weight"] = self.put(f"{name}.weight", weight)
            layer["bias"] = self.put(f"{name}.bias", ws[1]) if use_bias else None
            self.layers.append(layer)
            self.shape = [cout, ho, wo]
            self.activation(cfg.get("activation"), name, cls)

        elif cls == "UpSampling2D":
            c, h, w = self.image(name, cls)
            self.check_format(cfg, name, cls)
            interp = cfg.get("interpolation", "nearest")
            if interp != "nearest":
                raise KerasImportError(f"{where}: interpolation {interp!r} is not supported "
                                       "(webgan upsamples nearest-neighbour only)")
            sh, sw = _pair(cfg.get("size", 2), where + " size")
            self.layers.append({"op": "upsample", "scale": [sh, sw]})
            self.shape = [c, h * sh, w * sw]

        else:  # pragma: no cover - filtered by the caller
            raise AssertionError(cls)

