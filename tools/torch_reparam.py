"""Spectral norm and weight norm in a PyTorch state dict, folded to the weight eval mode uses.

A state dict saved from a module with a reparametrized weight holds the pieces, not the
weight the module multiplies by. Four forms exist, for a module ``X`` and its ``weight``:

* ``torch.nn.utils.spectral_norm``: ``X.weight_orig`` (the parameter) and the buffers
  ``X.weight_u``, ``X.weight_v``.
* ``torch.nn.utils.parametrizations.spectral_norm``: ``X.parametrizations.weight.original``
  and the buffers ``X.parametrizations.weight.0._u``, ``…0._v``.
* ``torch.nn.utils.weight_norm``: ``X.weight_g``, ``X.weight_v``.
* ``torch.nn.utils.parametrizations.weight_norm``: ``X.parametrizations.weight.original0``
  (g) and ``…original1`` (v).

Eval mode computes, in both spectral-norm forms (torch/nn/utils/spectral_norm.py
``compute_weight`` with ``do_power_iteration=False``, parametrizations.py
``_SpectralNorm.forward`` outside training): ``W = W_orig / σ`` with ``σ = u · (W_mat v)``,
the stored u and v as they are (no power iteration) and ``W_mat`` the weight with dimension
``dim`` moved first, reshaped to ``[shape[dim], -1]``. ``dim`` is a constructor argument the
state dict does not record: torch's default is 1 for ``ConvTranspose*`` and 0 for every other
module, so it comes from the kind of layer the architecture says reads the weight; u's and v's
lengths (``shape[dim]`` and the rest) must agree with it, and where they fit exactly one other
dimension, that one is what the model used. Weight norm is ``W = g · v / ‖v‖`` with the norm
over every dimension but ``dim`` (``torch._weight_norm``); g's shape (``shape[dim]`` on ``dim``,
1 elsewhere, or a scalar for ``dim=None``) tells ``dim``. Both are computed in float64 and cast
to the stored weight's dtype, so the result is torch's float32 weight to rounding.

``split(state)`` finds the groups and gives the *logical* state dict that the architecture
code sees (``X.weight`` in place of its pieces, with the un-normalized weight's shape and
dtype); ``fold(reparam, state, op)`` computes the weight for the layer kind ``op``.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_errors import ConvertError  # noqa: E402

SPECTRAL_NORM = "spectral_norm"
WEIGHT_NORM = "weight_norm"
UNSUPPORTED = "unsupported"  # a reparametrization webgan cannot fold: refused when read

# Layer/node ops whose module is a ConvTranspose: torch's spectral_norm defaults to dim 1.
TRANSPOSED_OPS = frozenset({"conv_transpose2d"})
# Ops that read a module's weight, so the module kind (and torch's default dim) is known.
MODULE_OPS = frozenset({"linear", "conv2d", "conv_transpose2d", "embedding"})

_PARAMETRIZED = re.compile(r"^(?:(?P<module>.*)\.)?parametrizations\.(?P<param>[^.]+)\.(?P<rest>.+)$")


@dataclasses.dataclass(frozen=True)
class Reparam:
    """One reparametrized tensor: ``target`` is the name the module sees (``X.weight``)."""

    kind: str            # SPECTRAL_NORM or WEIGHT_NORM
    form: str            # "torch.nn.utils.…" or "torch.nn.utils.parametrizations.…"
    target: str
    weight: str          # key of the un-normalized weight (weight_orig, original, v)
    u: str | None = None
    v: str | None = None
    g: str | None = None
    others: tuple[str, ...] = ()   # UNSUPPORTED: its other tensors
    why: str = ""                  # UNSUPPORTED: what to do

    @property
    def sources(self) -> tuple[str, ...]:
        keys = (self.weight, self.u, self.v, self.g) + self.others
        return tuple(dict.fromkeys(k for k in keys if k is not None))


def split(state: "collections.OrderedDict[str, np.ndarray]") -> tuple[
        "collections.OrderedDict[str, np.ndarray]", "dict[str, Reparam]"]:
    """(logical state, reparametrizations by target). The logical state lists ``X.weight``
    where its un-normalized weight was (same array: shapes and dtypes for the architecture
    code), drops u, v and g, and keeps every other key in order."""
    found: dict[str, Reparam] = {}
    by_group: "collections.OrderedDict[tuple[str, str], dict[str, str]]" = collections.OrderedDict()
    for key in state:
        m = _PARAMETRIZED.match(key)
        if m:
            by_group.setdefault((m.group("module") or "", m.group("param")), {})[m.group("rest")] = key
    for (module, param), parts in by_group.items():
        target = f"{module}.{param}" if module else param
        where = f"{module + '.' if module else ''}parametrizations.{param}"
        if set(parts) == {"original", "0._u", "0._v"}:
            found[target] = Reparam(SPECTRAL_NORM, "torch.nn.utils.parametrizations.spectral_norm",
                                    target, parts["original"], u=parts["0._u"], v=parts["0._v"])
        elif set(parts) == {"original0", "original1"}:
            found[target] = Reparam(WEIGHT_NORM, "torch.nn.utils.parametrizations.weight_norm",
                                    target, parts["original1"], g=parts["original0"])
        else:
            # Refused only if the architecture reads it (fold says why).
            found[target] = Reparam(
                UNSUPPORTED, "torch.nn.utils.parametrize", target,
                parts.get("original") or parts.get("original1") or next(iter(parts.values())),
                others=tuple(k for k in parts.values()),
                why=f"{where}: a parametrization with tensors {sorted(parts)}; webgan folds only "
                    "spectral_norm (original, 0._u, 0._v) and weight_norm (original0, "
                    "original1), one per tensor. Remove the others with torch.nn.utils."
                    "parametrize.remove_parametrizations and save the state dict again")
    for key in state:
        if _PARAMETRIZED.match(key):
            continue
        if key.endswith("_orig"):
            base = key[:-len("_orig")]
            has_u, has_v = base + "_u" in state, base + "_v" in state
            if has_u and has_v:
                found[base] = Reparam(SPECTRAL_NORM, "torch.nn.utils.spectral_norm", base, key,
                                      u=base + "_u", v=base + "_v")
            elif has_u:
                found[base] = Reparam(
                    UNSUPPORTED, "torch.nn.utils.spectral_norm", base, key, others=(base + "_u",),
                    why=f"{key} and {base}_u but no {base}_v: a spectral_norm state dict from "
                        "PyTorch < 1.1, whose v torch recomputes on load; load it with a "
                        "current PyTorch and save the state dict again")
        elif key.endswith("_g"):
            base = key[:-len("_g")]
            if base + "_v" in state and base + "_orig" not in state:
                found[base] = Reparam(WEIGHT_NORM, "torch.nn.utils.weight_norm", base, base + "_v",
                                      g=key)
    owner: dict[str, str] = {}
    for r in found.values():
        if r.target in state:
            raise ConvertError(f"the state dict has both {r.target!r} and its {r.kind} pieces "
                               f"{list(r.sources)}; it is not one torch saved")
        for s in r.sources:
            if s in owner:
                raise ConvertError(f"{s!r} belongs to two reparametrizations ({owner[s]!r} and "
                                   f"{r.target!r}); the state dict is not one torch saved")
            owner[s] = r.target
    logical: "collections.OrderedDict[str, np.ndarray]" = collections.OrderedDict()
    for key, arr in state.items():
        if key in owner:
            r = found[owner[key]]
            if key == r.weight:
                logical[r.target] = arr
        else:
            logical[key] = arr
    return logical, found


def source_of(name: str, reparams: "dict[str, Reparam]") -> Reparam | None:
    """The reparametrization ``name`` is a piece of (so an architecture must not name it)."""
    for r in reparams.values():
        if name in r.sources:
            return r
    return None


def refuse_piece(name: object, reparams: "dict[str, Reparam]", where: str) -> None:
    """An architecture that names a piece of a reparametrized weight (``X.weight_orig``)
    would get the weight before normalization: refuse it, naming what to write instead."""
    piece = source_of(name, reparams) if isinstance(name, str) else None
    if piece is not None:
        raise ConvertError(f"{where}: {name!r} is a piece of the {describe(piece)}; name "
                           f"{piece.target!r}, which the converter folds as eval mode does")


def _vector(state: dict, key: str, what: str) -> np.ndarray:
    a = state[key]
    if a.ndim != 1 or a.dtype.kind != "f":
        raise ConvertError(f"{key}: spectral norm's {what} must be a 1-D float vector, got "
                           f"shape {list(a.shape)} {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise ConvertError(f"{key}: spectral norm's {what} has NaN or infinite values")
    return a.astype(np.float64)


def spectral_dim(r: Reparam, shape: tuple[int, ...], n_u: int, n_v: int, op: str | None) -> int:
    """The ``dim`` the spectral norm used: the one dimension u and v fit, or where they fit
    several (a square matrix), torch's default for the module kind the op names."""
    numel = math.prod(shape)
    fits = [d for d in range(len(shape)) if shape[d] == n_u and shape[d] * n_v == numel]
    default = 1 if op in TRANSPOSED_OPS else 0
    if len(fits) == 1:
        return fits[0]
    if default in fits and op in MODULE_OPS:
        return default
    if not fits:
        raise ConvertError(
            f"{r.target}: spectral norm's u ({r.u}) has {n_u} values and v ({r.v}) {n_v}, which "
            f"fit no dimension of the weight's shape {list(shape)}; the state dict is corrupt")
    raise ConvertError(
        f"{r.target}: spectral norm's u and v fit dimensions {fits} of the weight's shape "
        f"{list(shape)}, and the layer reading it ({op or 'none'}) does not say which module "
        "kind it is; read it with a linear, conv2d, conv_transpose2d or embedding node")


def weight_norm_dim(r: Reparam, shape: tuple[int, ...], g_shape: tuple[int, ...]) -> int | None:
    """The ``dim`` weight norm keeps (None: the norm of the whole tensor), from g's shape."""
    if g_shape == ():
        return None
    if len(g_shape) == len(shape):
        for d in range(len(shape)):
            if all(g_shape[i] == (shape[i] if i == d else 1) for i in range(len(shape))):
                return d
    raise ConvertError(
        f"{r.target}: weight norm's g ({r.g}) has shape {list(g_shape)}, which matches no "
        f"dimension of v's shape {list(shape)} (it must be shape[dim] on dim and 1 elsewhere, "
        "or a scalar); the state dict is corrupt")


def fold(r: Reparam, state: dict, op: str | None, dim: int | None = None) -> np.ndarray:
    """The weight ``r.target`` as eval mode computes it, for a layer of kind ``op``, in the
    un-normalized weight's dtype. ``dim``: spectral norm's, where the file records it (a
    whole pickled module keeps its SpectralNorm hook)."""
    if r.kind == UNSUPPORTED:
        raise ConvertError(r.why)
    raw = state[r.weight]
    if raw.dtype.kind != "f":
        raise ConvertError(f"{r.weight}: dtype {raw.dtype}, expected floats")
    if not np.all(np.isfinite(raw)):
        raise ConvertError(f"tensor {r.weight!r} has NaN or infinite values")
    w = raw.astype(np.float64)
    if r.kind == SPECTRAL_NORM:
        if w.ndim < 2:
            raise ConvertError(f"{r.target}: spectral norm of a {w.ndim}-D weight has no u and v; "
                               "the state dict is corrupt")
        u = _vector(state, r.u, "u")
        v = _vector(state, r.v, "v")
        if dim is None:
            dim = spectral_dim(r, w.shape, u.shape[0], v.shape[0], op)
        elif not (0 <= dim < w.ndim and w.shape[dim] == u.shape[0]
                  and w.shape[dim] * v.shape[0] == w.size):
            raise ConvertError(f"{r.target}: its spectral norm says dim {dim}, which u "
                               f"({u.shape[0]} values) and v ({v.shape[0]}) do not fit for the "
                               f"weight's shape {list(w.shape)}; the file is corrupt")
        mat = np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)
        sigma = float(u @ (mat @ v))
        if not math.isfinite(sigma) or sigma == 0:
            raise ConvertError(f"{r.target}: spectral norm's sigma u·(W v) is {sigma:g}; the "
                               "weight would be infinite, so the state dict is corrupt")
        out = w / sigma
    else:
        g_raw = state[r.g]
        if g_raw.dtype.kind != "f" or not np.all(np.isfinite(g_raw)):
            raise ConvertError(f"{r.g}: weight norm's g must be finite floats")
        dim = weight_norm_dim(r, w.shape, tuple(g_raw.shape))
        g = g_raw.astype(np.float64)
        if dim is None:
            norm = np.sqrt(np.sum(w * w))
        else:
            axes = tuple(i for i in range(w.ndim) if i != dim)
            norm = np.sqrt(np.sum(w * w, axis=axes, keepdims=True))
        if np.any(norm == 0):
            raise ConvertError(f"{r.target}: weight norm's v ({r.weight}) has an all-zero slice; "
                               "the weight would be NaN")
        out = w * (g / norm)
    return out.astype(raw.dtype)


def describe(r: Reparam) -> str:
    return f"{r.form} of {r.target}"
