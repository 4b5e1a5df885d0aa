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

The file is untrusted: zip members are checked against the archive's real size before they
are read, configs are parsed as strict JSON (no duplicate keys or NaN, bounded size and
nesting) and walked without recursion, and each weight dataset must be a float dataset stored
in the file itself (no external storage, virtual datasets or external links) whose declared
size fits ``MAX_WEIGHTS_BYTES`` before it is read. A config of the wrong shape is a
:class:`KerasImportError`, not a Python traceback.

Parts: keras_config.py (the config: layer chain, input shape), keras_files.py (the .keras
and .h5 files and their weights), keras_layers.py (each Keras layer as webgan layers); this
module joins them and re-exports their public names.
"""

from __future__ import annotations

import collections
import math
import os
import sys
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_config import (CLASS_ALIASES, IDENTITY_LAYERS, MAX_CONFIG_BYTES,  # noqa: E402,F401
                          MAX_CONFIG_NODES, MODEL_CLASSES, SUPPORTED_LAYERS, KerasImportError,
                          _input_shape, _layer_list, _model_data_format, _snake)
from keras_files import MAX_WEIGHTS_BYTES, _open  # noqa: E402,F401
from keras_layers import (KERAS_BN_EPSILON, LEAKY_RELU_FUNCTION_SLOPE,  # noqa: E402,F401
                          LEAKY_RELU_LAYER_SLOPE, _Builder, _same_pad, _transpose_crop)

__all__ = ["load", "KerasImportError", "SUPPORTED_LAYERS"]


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
        latent_dim = math.prod(b.shape)
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
    except KerasImportError:
        raise
    except RecursionError:
        raise KerasImportError("the model config is nested too deeply") from None
    except (AttributeError, TypeError, KeyError, IndexError, ValueError, OverflowError) as e:
        # A config whose values have the wrong types (a list where a dict
        # belongs, a string for a size): not something Keras writes.
        raise KerasImportError(f"malformed model config ({type(e).__name__}: {str(e)[:200]}); "
                               "the file was not written by Keras or is corrupt") from e
    finally:
        for h in handles:
            h.close()
    return state, spec, info
