#!/usr/bin/env python3
"""Slow, plain numpy reference implementation of a webgan model folder.

It runs model.json's layers on weights.safetensors exactly as the format
defines them, in float64, and serves as the executable specification of the
ops: the tests compare it with PyTorch's own output (tests/fixtures), and it
can be used to debug the browser implementation layer by layer.

    python3 tools/reference_forward.py MODEL_DIR Z.npy OUT.npy [--labels L.npy]

Semantics (activations are logically [N, C, H, W] or [N, features]):

* ``linear``: y = x @ W.T + b, W is [out, in].
* ``conv_transpose2d``: PyTorch ConvTranspose2d, W is [in, out, kh, kw]; the
  full output ((H-1)*s + k) is cropped by padding [top, bottom, left, right];
  output_padding extends it at the bottom/right (with zeros where the full
  output has no values).
* ``conv2d``: PyTorch Conv2d (cross-correlation), W is [out, in, kh, kw],
  zero padding [top, bottom, left, right].
* ``batch_norm``: (x - running_mean) / sqrt(running_var + eps) * weight + bias
  over the channel axis (weight 1 and bias 0 when null).
* ``reshape``: ``shape`` is the per-sample logical target, [C, H, W] or [F];
  ``order`` says how the flat elements map. ``channels_first``: flat index
  (c*H + h)*W + w (PyTorch ``view``). ``channels_last``: (h*W + w)*C + c, so
  Keras ``Reshape((7, 7, 128))`` is ``shape [128, 7, 7], channels_last`` and
  Keras ``Flatten`` of an NHWC [C, H, W] is ``shape [C*H*W], channels_last``.
  An image input is first flattened in the same order; image to image goes
  through that flat vector.
* ``upsample``: nearest neighbour, integer scale [sh, sw].
* ``concat_one_hot``: appends one_hot(label, classes) to the vector.

``forward_graph`` runs a format-2 graph (docs/model-format-2.md) of these ops and
``embedding``, ``concat`` and the binary broadcasts: the converter tests' check that a graph
template reproduces PyTorch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402


def conv_transpose2d(x, w, b, stride, padding, output_padding):
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    sh, sw = stride
    full_h, full_w = (h - 1) * sh + kh, (wd - 1) * sw + kw
    full = np.zeros((n, cout, full_h + output_padding[0], full_w + output_padding[1]))
    for ky in range(kh):
        for kx in range(kw):
            # Each input pixel (i, j) adds w[:, :, ky, kx] at (i*s + ky, j*s + kx).
            full[:, :, ky:ky + (h - 1) * sh + 1:sh, kx:kx + (wd - 1) * sw + 1:sw] += \
                np.einsum("nchw,co->nohw", x, w[:, :, ky, kx])
    top, bottom, left, right = padding
    ho = full_h - top - bottom + output_padding[0]
    wo = full_w - left - right + output_padding[1]
    y = full[:, :, top:top + ho, left:left + wo]
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def conv2d(x, w, b, stride, padding):
    n, cin, h, wd = x.shape
    cout, _, kh, kw = w.shape
    top, bottom, left, right = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    sh, sw = stride
    ho = (h + top + bottom - kh) // sh + 1
    wo = (wd + left + right - kw) // sw + 1
    y = np.zeros((n, cout, ho, wo))
    for ky in range(kh):
        for kx in range(kw):
            patch = xp[:, :, ky:ky + (ho - 1) * sh + 1:sh, kx:kx + (wo - 1) * sw + 1:sw]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, ky, kx])
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def _channel_view(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def layer_forward(layer: dict, x: np.ndarray, t, labels: np.ndarray | None = None) -> np.ndarray:
    """One layer (format 1, or the same op as a graph node) on ``x``; ``t(name)`` gives a
    tensor as float64 (None for None)."""
    n = x.shape[0]
    op = layer["op"]
    if op == "linear":
        x = x @ t(layer["weight"]).T
        if layer.get("bias") is not None:
            x = x + t(layer["bias"])
    elif op == "conv_transpose2d":
        x = conv_transpose2d(x, t(layer["weight"]), t(layer.get("bias")), layer["stride"],
                             layer["padding"], layer["output_padding"])
    elif op == "conv2d":
        x = conv2d(x, t(layer["weight"]), t(layer.get("bias")), layer["stride"], layer["padding"])
    elif op == "batch_norm":
        c = layer["channels"]
        scale = t(layer["weight"]) if layer.get("weight") is not None else np.ones(c)
        shift = t(layer["bias"]) if layer.get("bias") is not None else np.zeros(c)
        inv = 1.0 / np.sqrt(t(layer["running_var"]) + layer["eps"])
        x = (x - _channel_view(t(layer["running_mean"]), x.ndim)) \
            * _channel_view(inv * scale, x.ndim) + _channel_view(shift, x.ndim)
    elif op == "relu":
        x = np.maximum(x, 0.0)
    elif op == "leaky_relu":
        x = np.where(x >= 0, x, x * layer["slope"])
    elif op == "tanh":
        x = np.tanh(x)
    elif op == "sigmoid":
        x = 1.0 / (1.0 + np.exp(-x))
    elif op == "reshape":
        shape = list(layer["shape"])
        if layer["order"] == "channels_last":
            if x.ndim == 4:  # logical [N, C, H, W] -> flat in (h, w, c) order
                x = x.transpose(0, 2, 3, 1)
            x = x.reshape(n, -1)
            if len(shape) == 3:  # flat (h, w, c) -> [N, C, H, W]
                c, h, w = shape
                x = x.reshape(n, h, w, c).transpose(0, 3, 1, 2)
            else:
                x = x.reshape([n] + shape)
        else:
            x = x.reshape([n] + shape)
    elif op == "upsample":
        if layer.get("mode", "nearest") != "nearest":
            raise ValueError("the reference runs nearest upsampling only")
        sh, sw = layer["scale"]
        x = np.repeat(np.repeat(x, sh, axis=2), sw, axis=3)
    elif op == "concat_one_hot":
        if labels is None:
            raise ValueError("this model is conditional: pass labels")
        x = np.concatenate([x, np.eye(layer["classes"])[np.asarray(labels)]], axis=1)
    else:
        raise ValueError(f"unknown op {op!r}")
    return x


def forward(model: dict, tensors: dict, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Run the layers on latents ``z`` [N, latent_dim]; returns float64."""
    def t(name):
        return None if name is None else np.asarray(tensors[name], dtype=np.float64)

    x = np.asarray(z, dtype=np.float64)
    for layer in model["layers"]:
        x = layer_forward(layer, x, t, labels)
    return x


def forward_graph(model: dict, tensors: dict, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """Run a format-2 graph on ``feeds`` (input name -> [N, ...] array; class ids as integers);
    float64. Covers the layer ops above plus embedding, concat, add/sub/mul/div; nodes run in
    the order they can (a node once all its inputs exist)."""
    def t(name):
        return None if name is None else np.asarray(tensors[name], dtype=np.float64)

    roles = {i["name"]: i for i in model["inputs"]}
    values: dict[str, np.ndarray] = {}
    for name, v in feeds.items():
        values[name] = np.asarray(v) if roles[name]["role"] == "class" else np.asarray(v, np.float64)
    pending = list(model["nodes"])
    while pending:
        ready = [nd for nd in pending if all(i in values for i in nd["inputs"])]
        if not ready:
            raise ValueError(f"nodes {[nd['name'] for nd in pending][:5]} wait on missing values")
        for nd in ready:
            pending.remove(nd)
            op, xs = nd["op"], [values[i] for i in nd["inputs"]]
            if op == "embedding":
                y = t(nd["weight"])[np.asarray(xs[0])]
            elif op == "concat":
                y = np.concatenate(xs, axis=1 + nd["axis"])
            elif op in ("add", "sub", "mul", "div"):
                y = {"add": np.add, "sub": np.subtract, "mul": np.multiply,
                     "div": np.divide}[op](xs[0], xs[1])
            elif op == "concat_one_hot":
                y = layer_forward(nd, xs[0], t, xs[1])
            else:
                y = layer_forward(nd, xs[0], t)
            values[nd["name"]] = y
    return values[model["output"]]


def load_model(model_dir: str) -> tuple[dict, dict]:
    with open(os.path.join(model_dir, "model.json"), encoding="utf-8") as fh:
        model = json.load(fh)
    with open(os.path.join(model_dir, model["weights"]["file"]), "rb") as fh:
        tensors, _ = safetensors_np.decode(fh.read())
    return model, tensors


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="numpy reference forward pass of a webgan model")
    p.add_argument("model_dir")
    p.add_argument("z", help=".npy of latents [N, latent_dim]")
    p.add_argument("out", help=".npy to write, float32 [N, C, H, W]")
    p.add_argument("--labels", help=".npy of integer class labels [N] (conditional models)")
    a = p.parse_args(argv)
    model, tensors = load_model(a.model_dir)
    labels = np.load(a.labels) if a.labels else None
    y = forward(model, tensors, np.load(a.z), labels)
    np.save(a.out, y.astype(np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main())
