"""The ``--arch dcgan`` architecture: a standard DCGAN generator inferred from a PyTorch
state dict's tensor shapes and key order."""

from __future__ import annotations

import collections
import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_errors import ConvertError  # noqa: E402
from layer_validation import TORCH_BATCH_NORM_EPS  # noqa: E402


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
