"""Read a Keras model (``.keras`` zip of Keras 3, or legacy ``.h5`` of tf.keras 2 / Keras 3)
into webgan layers and tensors, with h5py and numpy only (no TensorFlow or Keras).

    state, spec, info = keras_import.load("generator.keras")

``state`` maps tensor names (``<keras layer name>.weight`` etc.) to float arrays already in
webgan's (PyTorch's) layouts, ``spec`` is an architecture in the model.json layer schema
(``latent_dim``, ``num_classes``, ``output_shape``, ``layers``) that ``convert.py`` validates,
and ``info`` says which Keras wrote the file.

Supported: Sequential models and Functional models whose layers form a single chain, made of
InputLayer, Dense, BatchNormalization, LeakyReLU, ReLU, Activation, Reshape, Flatten, Dropout
(and the other layers that are the identity at inference), Conv2D, Conv2DTranspose and
UpSampling2D (nearest). Anything else raises :class:`KerasImportError` naming the layer.

What each Keras detail becomes (each checked against Keras 3.15.1 itself by
``tools/make_keras_fixtures.py`` and ``tests/keras_golden.rs``):

* Kernels. Dense ``(in, out)`` -> linear ``[out, in]``. Conv2D ``(kh, kw, in, out)`` ->
  ``[out, in, kh, kw]``. Conv2DTranspose stores ``(kh, kw, out, in)`` -> ``[in, out, kh, kw]``;
  both are ``transpose(3, 2, 0, 1)`` and no spatial flip is needed: Keras' transposed
  convolution, like PyTorch's, is the gradient of the convolution with the same kernel.
* Element order. Keras tensors are NHWC (``data_format='channels_last'``): ``Reshape((7, 7,
  128))`` reads the flat vector in (h, w, c) order, so it becomes ``reshape [128, 7, 7]
  channels_last``, and ``Flatten`` of an NHWC tensor becomes ``reshape [C*H*W]
  channels_last``. Models written entirely in ``channels_first`` map to ``channels_first``.
* TF 'same' padding (Conv2D): the output is ceil(in / s); the total padding
  max((out - 1)·s + k - in, 0) is split with the smaller half before (top/left).
* Conv2DTranspose: the output length is Keras' ``in·s`` ('same'), ``(in-1)·s + max(k, s)``
  ('valid') or ``(in-1)·s + k - 2·pad + output_padding`` with pad = k // 2 ('same') or 0 when
  ``output_padding`` is set. The full transposed output ``(in-1)·s + k`` is cropped by
  total = full - out, the smaller half at the top/left, as TF's conv2d_backprop_input and
  Keras' JAX backend do (5x5, stride 2, 'same' crops 1 before and 2 after); when total < 0
  the output is extended at the bottom/right (webgan's ``output_padding``).
* Defaults the stored config may omit: BatchNormalization epsilon 1e-3 (PyTorch's is 1e-5),
  the LeakyReLU *layer*'s slope 0.3 (tf.keras 2 ``alpha`` and Keras 3 ``negative_slope``
  alike), and 0.2 for the *activation function* ``activation='leaky_relu'`` (Keras 3).
* A fused ``activation=`` of Dense/Conv2D/Conv2DTranspose becomes a separate layer.
* A model whose input is an image (a discriminator) gets latent_dim = C·H·W and a first
  ``reshape [C, H, W] channels_first``: its input is the flattened NCHW image.
"""

from __future__ import annotations

import collections
import io
import json
import re
import zipfile
from typing import Any, Callable

import numpy as np

try:
    import h5py
except ImportError:  # reported when a Keras file is actually read
    h5py = None

__all__ = ["load", "KerasImportError", "SUPPORTED_LAYERS"]

# Layers that are the identity at inference.
IDENTITY_LAYERS = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                   "GaussianDropout", "GaussianNoise", "AlphaDropout", "ActivityRegularization")
SUPPORTED_LAYERS = ("InputLayer", "Dense", "BatchNormalization", "LeakyReLU", "ReLU",
                    "Activation", "Reshape", "Flatten", "Conv2D", "Conv2DTranspose",
                    "UpSampling2D") + IDENTITY_LAYERS
# Aliases that older tf.keras versions wrote as class names.
CLASS_ALIASES = {"Convolution2D": "Conv2D", "Conv2DTranspose": "Conv2DTranspose",
                 "Deconvolution2D": "Conv2DTranspose", "Deconv2D": "Conv2DTranspose"}
MODEL_CLASSES = ("Sequential", "Functional", "Model")

KERAS_BN_EPSILON = 1e-3
LEAKY_RELU_LAYER_SLOPE = 0.3      # keras.layers.LeakyReLU() in tf.keras 2 and Keras 3
LEAKY_RELU_FUNCTION_SLOPE = 0.2   # keras.activations.leaky_relu (activation='leaky_relu')


class KerasImportError(ValueError):
    """The file is not a Keras model webgan can run; the message says why and where."""


# ------------------------------------------------------------------ files

class _Weights:
    """Looks up a layer's weights (in Keras' order) in one of the two HDF5 layouts."""

    def __init__(self, h5: Any, layout: str):
        self.h5 = h5
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
                for path in root:
                    vars_ = root[path].get("vars")
                    if vars_ is not None and "name" in vars_.attrs:
                        self.keras3_paths.setdefault(_str(vars_.attrs["name"]), path)

    def get(self, layer_name: str, class_path: str) -> list[np.ndarray]:
        if self.layout == "keras3":
            if self.root is None:
                return []
            path = self.keras3_paths.get(layer_name, class_path)
            if path not in self.root:
                return []
            vars_ = self.root[path].get("vars")
            if vars_ is None:
                return []
            keys = sorted(vars_.keys(), key=int)
            return [np.asarray(vars_[k][()]) for k in keys]
        group = self.h5["model_weights"] if "model_weights" in self.h5 else self.h5
        if layer_name not in group:
            return []
        g = group[layer_name]
        names = [_str(n) for n in g.attrs.get("weight_names", [])]
        return [np.asarray(g[n][()]) for n in names]


def _str(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _open(path: str) -> tuple[dict, _Weights, dict[str, str], list]:
    """(model config, weights, info, objects to close)."""
    if h5py is None:
        raise KerasImportError("reading Keras files needs h5py: pip install -r tools/requirements.txt")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                if "config.json" not in names or "model.weights.h5" not in names:
                    raise KerasImportError(
                        f"{path}: a zip without config.json and model.weights.h5 is not a "
                        ".keras model file")
                config = json.loads(zf.read("config.json"))
                meta = json.loads(zf.read("metadata.json")) if "metadata.json" in names else {}
                blob = zf.read("model.weights.h5")
        except zipfile.BadZipFile as e:
            raise KerasImportError(f"{path}: damaged zip file: {e}") from e
        h5 = h5py.File(io.BytesIO(blob), "r")
        info = {"format": ".keras", "keras_version": str(meta.get("keras_version", "unknown"))}
        return config, _Weights(h5, "keras3"), info, [h5]
    try:
        h5 = h5py.File(path, "r")
    except OSError as e:
        raise KerasImportError(f"{path}: not an HDF5 or .keras file ({e})") from e
    raw = h5.attrs.get("model_config")
    if raw is None:
        h5.close()
        raise KerasImportError(
            f"{path}: this HDF5 file holds weights only (no model_config), so the layers are "
            "unknown; save the whole model (model.save('generator.keras') or .h5)")
    config = json.loads(_str(raw))
    info = {"format": "legacy .h5", "keras_version": _str(h5.attrs.get("keras_version", "unknown")),
            "backend": _str(h5.attrs.get("backend", "unknown"))}
    return config, _Weights(h5, "legacy"), info, [h5]


# ----------------------------------------------------------- model config

def _snake(name: str) -> str:
    # keras.src.utils.naming.to_snake_case: the weight-file group name of a layer class.
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _inbound_names(nodes: Any) -> list[str]:
    """Names of the layers a Functional layer reads, from either config dialect:
    Keras 3 ``{"args": [{"config": {"keras_history": [name, 0, 0]}}]}`` or tf.keras 2
    ``[[[name, 0, 0, {}]]]``."""
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if "keras_history" in v:
                found.append(str(v["keras_history"][0]))
                return
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            if len(v) >= 3 and isinstance(v[0], str) and isinstance(v[1], int) \
                    and isinstance(v[2], int):
                found.append(v[0])
                return
            for x in v:
                walk(x)

    walk(nodes)
    return found


def _layer_list(config: dict) -> tuple[list[dict], str]:
    """The model's layers in execution order, and the model class."""
    cls = config.get("class_name")
    body = config.get("config")
    if cls not in MODEL_CLASSES:
        raise KerasImportError(
            f"the file holds a {cls!r}, not a Sequential or Functional model; subclassed "
            "models have no stored architecture")
    if isinstance(body, list):  # Keras 2.0-2.2 Sequential: config is the layer list itself
        return body, cls
    if not isinstance(body, dict) or not isinstance(body.get("layers"), list):
        raise KerasImportError(f"{cls} config without a layer list")
    layers = body["layers"]
    if cls == "Sequential":
        return layers, cls
    # Functional: accept a single chain (each layer reads the one before it).
    prev = None
    for i, layer in enumerate(layers):
        name = layer.get("name") or layer.get("config", {}).get("name")
        inbound = _inbound_names(layer.get("inbound_nodes", []))
        if i == 0:
            if inbound:
                raise KerasImportError(f"layer {name!r}: the first layer must be the input")
        elif inbound != [prev]:
            raise KerasImportError(
                f"layer {name!r} ({layer.get('class_name')}) reads {inbound or 'nothing'}, "
                f"not just the layer before it ({prev!r}); only Functional models that are a "
                "single chain of layers can be converted")
        prev = name
    return layers, cls


def _input_shape(layers: list[dict], model_config: dict) -> list[int]:
    """Per-sample input shape (without the batch axis)."""
    candidates = []
    first = layers[0] if layers else {}
    fc = first.get("config", {})
    if first.get("class_name") == "InputLayer":
        candidates += [fc.get("batch_shape"), fc.get("batch_input_shape")]
        if fc.get("shape") is not None:
            candidates.append([None] + list(fc["shape"]))
    candidates += [fc.get("batch_input_shape"), fc.get("batch_shape")]
    body = model_config.get("config")
    if isinstance(body, dict):
        candidates.append(body.get("build_input_shape"))
    candidates.append((first.get("build_config") or {}).get("input_shape"))
    for c in candidates:
        if isinstance(c, list) and len(c) >= 2:
            dims = c[1:]
            if not all(isinstance(d, int) and d > 0 for d in dims):
                raise KerasImportError(f"input shape {c} has unknown dimensions; webgan needs "
                                       "a fixed input size")
            return list(dims)
    raise KerasImportError("cannot find the model's input shape (no InputLayer or "
                           "batch_input_shape in the config)")


# ----------------------------------------------------------- conversion

def _pair(v: Any, what: str) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return int(v[0]), int(v[1])
    raise KerasImportError(f"{what} must be an integer or a pair, got {v!r}")


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
            target = list(cfg.get("target_shape") or [])
            total = int(np.prod(self.shape))
            if target.count(-1) == 1:
                known = int(np.prod([d for d in target if d != -1]))
                target[target.index(-1)] = total // known if known else 0
            if not target or int(np.prod(target)) != total or any(d <= 0 for d in target):
                raise KerasImportError(f"{where}: cannot reshape {total} values to {cfg.get('target_shape')}")
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
                self.shape = [int(np.prod(self.shape))]
                self.layers.append({"op": "reshape", "shape": self.shape, "order": order})

        elif cls in ("Conv2D", "Conv2DTranspose"):
            c, h, w = self.image(name, cls)
            self.check_format(cfg, name, cls)
            transposed = cls == "Conv2DTranspose"
            if _pair(cfg.get("dilation_rate", 1), where + " dilation_rate") != (1, 1):
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
                oph, opw = (None, None) if op is None else _pair(op, where + " output_padding")
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


def _model_data_format(layers: list[dict]) -> str:
    for layer in layers:
        df = (layer.get("config") or {}).get("data_format")
        if df in ("channels_first", "channels_last") and layer.get("class_name") != "Flatten":
            return df
    return "channels_last"


def build(config: dict, weights_of: Callable[[str, str], list[np.ndarray]]) -> tuple[
        "collections.OrderedDict[str, np.ndarray]", dict[str, Any]]:
    """Model config + weight lookup -> (state, spec). ``weights_of(layer_name, class_path)``."""
    layers, model_cls = _layer_list(config)
    # Check every layer type first, so an unsupported layer is reported even when it is
    # not the first problem in the file.
    for layer in layers:
        cls = CLASS_ALIASES.get(layer.get("class_name"), layer.get("class_name"))
        name = (layer.get("config") or {}).get("name") or layer.get("name")
        if cls in MODEL_CLASSES:
            raise KerasImportError(
                f"layer {name!r} is a nested {cls} model; webgan converts one flat model: "
                "save the generator on its own (generator.save(...)), not a model containing it")
        if cls not in SUPPORTED_LAYERS:
            raise KerasImportError(
                f"layer {name!r} of type {cls} is not supported by webgan; supported layer "
                f"types: {', '.join(SUPPORTED_LAYERS)}")
    in_shape = _input_shape(layers, config)
    fmt = _model_data_format(layers)
    b = _Builder(fmt)
    if len(in_shape) == 1:
        latent_dim = in_shape[0]
        b.shape = [latent_dim]
    elif len(in_shape) == 3:
        # An image model (discriminator): its input is the flattened NCHW image.
        b.shape = b.logical(in_shape)
        latent_dim = int(np.prod(b.shape))
        b.layers.append({"op": "reshape", "shape": list(b.shape), "order": "channels_first"})
    else:
        raise KerasImportError(f"input shape {in_shape}: webgan models take a vector or an image")
    used: dict[str, int] = {}
    for index, layer in enumerate(layers):
        cls = CLASS_ALIASES.get(layer.get("class_name"), layer.get("class_name"))
        cfg = layer.get("config") or {}
        name = cfg.get("name") or layer.get("name") or f"layer{index}"
        # Weight-file group name: the snake-cased class, made unique in layer order (Keras 3
        # saving_lib); Sequential models do not count their InputLayer.
        skip_input = cls == "InputLayer" and model_cls == "Sequential"
        class_path = ""
        if not skip_input:
            base = _snake(layer.get("class_name", ""))
            if base in used:
                used[base] += 1
                class_path = f"{base}_{used[base]}"
            else:
                used[base] = 0
                class_path = base
        if cls == "InputLayer":
            if index != 0:
                raise KerasImportError(f"layer {name!r}: an InputLayer must come first")
            continue
        ws = weights_of(name, class_path)
        b.add(cls, cfg, name, ws)
    spec = {"latent_dim": latent_dim, "num_classes": None, "output_shape": None,
            "layers": b.layers}
    return b.state, spec


def load(path: str) -> tuple["collections.OrderedDict[str, np.ndarray]", dict[str, Any], dict[str, str]]:
    """Read ``path`` (.keras or legacy .h5); returns (state, spec, info)."""
    config, weights, info, handles = _open(path)
    try:
        state, spec = build(config, weights.get)
    finally:
        for h in handles:
            h.close()
    return state, spec, info
