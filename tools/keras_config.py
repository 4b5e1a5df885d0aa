"""What a Keras model config says, read without Keras: the error type, the tables of layer
classes webgan knows, strict JSON parsing of the config, the chain of layers in execution
order, the model's input shape and its data format."""

from __future__ import annotations

import os
import re
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import strict_json  # noqa: E402

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

# Caps on what a config may make us read or walk (far above any GAN generator).
MAX_CONFIG_BYTES = 4 << 20      # config.json / metadata.json / model_config
MAX_CONFIG_NODES = 1_000_000    # values visited when walking a config


class KerasImportError(ValueError):
    """The file is not a Keras model webgan can run; the message says why and where."""


def _json(text: str | bytes, what: str) -> Any:
    if len(text) > MAX_CONFIG_BYTES:
        raise KerasImportError(f"{what} is {len(text)} bytes, more than {MAX_CONFIG_BYTES}; "
                               "a Keras model config is a few KB")
    try:
        return strict_json.loads(text)
    except strict_json.JsonError as e:
        raise KerasImportError(f"{what}: {e}") from None


def _snake(name: str) -> str:
    # keras.src.utils.naming.to_snake_case: the weight-file group name of a layer class.
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _inbound_names(nodes: Any) -> list[str]:
    """Names of the layers a Functional layer reads, from either config dialect:
    Keras 3 ``{"args": [{"config": {"keras_history": [name, 0, 0]}}]}`` or tf.keras 2
    ``[[[name, 0, 0, {}]]]``. Walked with an explicit stack (in document order),
    so deep nesting cannot overflow Python's."""
    found: list[str] = []
    stack = [nodes]
    visited = 0
    while stack:
        v = stack.pop()
        visited += 1
        if visited > MAX_CONFIG_NODES:
            raise KerasImportError("a layer's inbound_nodes are larger than any real model's")
        if isinstance(v, dict):
            history = v.get("keras_history")
            if history is not None:
                if not isinstance(history, list) or not history:
                    raise KerasImportError(f"keras_history {str(history)[:80]} is not [name, ...]")
                found.append(str(history[0])[:200])
                continue
            stack.extend(reversed(list(v.values())))
        elif isinstance(v, list):
            if len(v) >= 3 and isinstance(v[0], str) and isinstance(v[1], int) \
                    and isinstance(v[2], int):
                found.append(v[0])
                continue
            stack.extend(reversed(v))
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



def _model_data_format(layers: list[dict]) -> str:
    for layer in layers:
        df = (layer.get("config") or {}).get("data_format")
        if df in ("channels_first", "channels_last") and layer.get("class_name") != "Flatten":
            return df
    return "channels_last"
