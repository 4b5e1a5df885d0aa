"""Whole pickled modules (``torch.save(model)``) read without running them: inert stand-ins
for the classes a pickle names, the state dict and hooks of the module tree they describe,
and the layer list of an ``nn.Sequential`` chain read from its modules' own attributes.

Running a pickle safely means never calling or importing what it names. A global off the
whitelist (pickle_whitelist.py) becomes a ``ForeignClass``: its module and name as strings,
nothing imported. The only thing a pickle can do with one is what ``torch.save`` does with a
module class: ``NEWOBJ`` (``cls.__new__(cls)``) makes an ``ObjectRecord`` holding the class's
name, and one ``BUILD`` gives it its ``__dict__`` as a plain dict. Calling a ForeignClass
(``REDUCE``, the way a hostile pickle runs ``os.system``) is refused with the whitelist error,
as before. So a record is data only: webgan reads ``_parameters``, ``_buffers``, ``_modules``,
the forward-pre-hooks' spectral-norm ``dim`` and the layer attributes (strides, padding,
epsilon, negative slope) out of those dicts.

What a pickle cannot tell is a custom class's ``forward``: it is code, and the file only names
it. So the chain is read only from an ``nn.Sequential`` (whose forward is known), at the top
or as the only submodule of modules that hold nothing else (the PyTorch DCGAN tutorial's
``Generator`` wraps ``self.main``); anything else needs ``--arch``.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_errors import BoundedRepr, CheckpointError, describe  # noqa: E402

# Module trees nested deeper than this are refused (GAN generators nest a few levels).
MAX_MODULE_DEPTH = 100
# webgan's layer limit (src/limits.rs): a chain of more modules cannot be a model.
MAX_LAYERS = 1000


class ForeignClass(BoundedRepr):
    """A global off the whitelist, by name only: never imported, never called."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "name", name)

    def __setattr__(self, key: str, value: Any) -> None:
        raise CheckpointError(f"the checkpoint tries to change {self!r}; the file is corrupt or hostile")

    __delattr__ = __setattr__  # type: ignore[assignment]

    def __setstate__(self, state: Any) -> None:
        raise CheckpointError(f"the checkpoint tries to change {self!r} (pickle BUILD); "
                              "the file is corrupt or hostile")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise CheckpointError(
            f"the checkpoint refers to {self!r}, which is not on the whitelist of types allowed "
            "in a state dict, and calls it; webgan never runs code from a file. Save "
            "model.state_dict() instead")

    def __repr__(self) -> str:
        return f"{self.module[:60]}.{self.name[:60]}"

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


class ObjectRecord(BoundedRepr):
    """An instance of a ForeignClass as the pickle describes it: the class, NEWOBJ's
    arguments and the ``__dict__`` its one BUILD gave (None before)."""

    __slots__ = ("cls", "args", "state")

    def __init__(self, cls: ForeignClass, args: tuple):
        self.cls = cls
        self.args = args
        self.state: dict | None = None

    def __repr__(self) -> str:
        return f"a {self.cls!r} object"


# ------------------------------------------------------------------ module trees

TORCH_NN = "torch.nn.modules."


def is_module(obj: Any) -> bool:
    """An ObjectRecord with nn.Module's bookkeeping dicts."""
    return (isinstance(obj, ObjectRecord) and isinstance(obj.state, dict)
            and isinstance(obj.state.get("_modules"), dict)
            and isinstance(obj.state.get("_parameters"), dict))


def _kind(rec: ObjectRecord) -> str:
    """'ConvTranspose2d' for torch.nn's own classes, else the full name."""
    q = rec.cls.qualname
    return q.rsplit(".", 1)[1] if q.startswith(TORCH_NN) else q


def _named(d: Any, what: str, where: str) -> list[tuple[str, Any]]:
    if not isinstance(d, dict) or not all(isinstance(k, str) for k in d):
        raise CheckpointError(f"the pickled module {where or '(top)'} has a malformed {what}")
    return list(d.items())


def walk(root: ObjectRecord) -> list[tuple[str, ObjectRecord]]:
    """(prefix, module) for every module, in torch's ``named_modules`` order."""
    out: list[tuple[str, ObjectRecord]] = []
    seen: set[int] = set()
    stack: list[tuple[str, ObjectRecord, int]] = [("", root, 0)]
    while stack:
        prefix, rec, depth = stack.pop()
        if id(rec) in seen:
            continue  # torch lists a shared module once
        if depth > MAX_MODULE_DEPTH:
            raise CheckpointError(f"the pickled modules nest more than {MAX_MODULE_DEPTH} deep; "
                                  "the file is corrupt or hostile")
        seen.add(id(rec))
        out.append((prefix, rec))
        children = []
        for name, child in _named(rec.state.get("_modules"), "_modules", prefix):
            if child is None:
                continue
            if not is_module(child):
                raise CheckpointError(f"submodule {prefix + name} of the pickled module is "
                                      f"{describe(child)}, not a module; the file is corrupt")
            children.append((prefix + name + ".", child, depth + 1))
        stack.extend(reversed(children))
    return out


def state_dict(root: ObjectRecord) -> "dict[str, np.ndarray]":
    """What ``root.state_dict()`` would return: each module's parameters, then its persistent
    buffers, then its children's, skipping None (a module shared by two parents is listed
    once, under its first name, where torch repeats it under each)."""
    out: dict[str, np.ndarray] = {}
    for prefix, rec in walk(root):
        st = rec.state
        skip = st.get("_non_persistent_buffers_set") or frozenset()
        if not isinstance(skip, (set, frozenset)):
            raise CheckpointError(f"the pickled module {prefix or '(top)'} has a malformed "
                                  "_non_persistent_buffers_set")
        for what in ("_parameters", "_buffers"):
            for name, t in _named(st.get(what, {}), what, prefix):
                if t is None or (what == "_buffers" and name in skip):
                    continue
                if not isinstance(t, np.ndarray):
                    raise CheckpointError(f"{prefix + name} in the pickled module is "
                                          f"{describe(t)}, not a tensor; the file is corrupt")
                out[prefix + name] = t
    return out


def spectral_norm_dims(root: ObjectRecord) -> dict[str, int]:
    """``X.weight`` -> the ``dim`` of its torch.nn.utils.spectral_norm, from the SpectralNorm
    forward-pre-hook object the module keeps."""
    dims: dict[str, int] = {}
    for prefix, rec in walk(root):
        hooks = rec.state.get("_forward_pre_hooks")
        if not isinstance(hooks, dict):
            continue
        for hook in hooks.values():
            if (isinstance(hook, ObjectRecord) and isinstance(hook.state, dict)
                    and hook.cls.qualname == "torch.nn.utils.spectral_norm.SpectralNorm"):
                name, dim = hook.state.get("name"), hook.state.get("dim")
                if isinstance(name, str) and isinstance(dim, int) and not isinstance(dim, bool):
                    dims[prefix + name] = dim
    return dims


# ------------------------------------------------------------------ nn.Sequential chains

def _attr(rec: ObjectRecord, key: str, where: str) -> Any:
    if key not in rec.state:
        raise CheckpointError(f"{where}: the pickled {_kind(rec)} has no {key!r}; the file is "
                              "corrupt or from a PyTorch webgan does not know")
    return rec.state[key]


def _ints(v: Any, n: int, what: str, where: str) -> list[int]:
    if isinstance(v, int) and not isinstance(v, bool):
        v = (v,) * n
    if not isinstance(v, (tuple, list)) or len(v) != n or \
            not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v):
        raise CheckpointError(f"{where}: {what} is {describe(v)}, not {n} integers")
    return list(v)


def _sequential_of(root: ObjectRecord) -> tuple[ObjectRecord, str, list[str]]:
    """(the nn.Sequential, its prefix, the wrappers around it)."""
    rec, prefix, wrappers = root, "", []
    while _kind(rec) != "Sequential":
        if len(wrappers) > MAX_MODULE_DEPTH:
            raise CheckpointError(f"the pickled modules nest more than {MAX_MODULE_DEPTH} deep; "
                                  "the file is corrupt or hostile")
        own = [k for what in ("_parameters", "_buffers")
               for k, v in _named(rec.state.get(what, {}), what, prefix) if v is not None]
        kids = [(k, v) for k, v in _named(rec.state["_modules"], "_modules", prefix) if v is not None]
        if own or len(kids) != 1 or not is_module(kids[0][1]):
            raise CheckpointError(
                f"the file holds a whole pickled module, {rec.cls!r}"
                + (f" (at {prefix[:-1]})" if prefix else "")
                + ", whose forward() is code the file does not contain (it has "
                f"{len(kids)} submodules{' and its own tensors' if own else ''}); describe the "
                "network with --arch arch.json, naming the keys of its state dict, which "
                "webgan reads from the module")
        wrappers.append(rec.cls.qualname)
        prefix += kids[0][0] + "."
        rec = kids[0][1]
    return rec, prefix, wrappers


def _flat_children(seq: ObjectRecord, prefix: str) -> list[tuple[str, ObjectRecord]]:
    """The layers of an nn.Sequential, nested ones spliced in, as (key prefix, module). At
    most MAX_LAYERS modules are visited, so shared or cyclic chains cannot blow up."""
    out: list[tuple[str, ObjectRecord]] = []
    stack: list[tuple[str, ObjectRecord]] = [(prefix, seq)]
    visits = 0
    while stack:
        where, node = stack.pop()
        visits += 1
        if visits > MAX_LAYERS:
            raise CheckpointError(f"the pickled nn.Sequential has more than {MAX_LAYERS} "
                                  "modules, webgan's layer limit")
        if _kind(node) != "Sequential":
            out.append((where[:-1], node))
            continue
        kids = []
        for name, child in _named(node.state["_modules"], "_modules", where):
            if child is None:
                continue
            if not is_module(child):
                raise CheckpointError(f"{where + name}: {describe(child)} is not a module")
            kids.append((where + name + ".", child))
        stack.extend(reversed(kids))
    return out


def _padding(rec: ObjectRecord, where: str, kernel: list[int], dilation: list[int]) -> list[int]:
    pad = _attr(rec, "padding", where)
    if pad == "valid":
        return [0, 0, 0, 0]
    if pad == "same":
        # torch pads total = dilation·(k-1), the odd one at the bottom/right.
        th, tw = (d * (k - 1) for d, k in zip(dilation, kernel))
        return [th // 2, th - th // 2, tw // 2, tw - tw // 2]
    ph, pw = _ints(pad, 2, "padding", where)
    return [ph, ph, pw, pw]


def sequential_architecture(root: ObjectRecord) -> tuple[dict[str, Any], str]:
    """The format-1 architecture of the nn.Sequential in ``root`` (see ``_sequential_of``),
    each layer from its module's attributes; (spec, what it was read from)."""
    seq, prefix, wrappers = _sequential_of(root)
    layers: list[dict[str, Any]] = []
    latent_dim = None
    for where, m in _flat_children(seq, prefix):
        kind = _kind(m)
        params = m.state.get("_parameters") or {}
        bias = f"{where}.bias" if params.get("bias") is not None else None
        if kind in ("ConvTranspose2d", "Conv2d"):
            kernel = _ints(_attr(m, "kernel_size", where), 2, "kernel_size", where)
            stride = _ints(_attr(m, "stride", where), 2, "stride", where)
            dilation = _ints(m.state.get("dilation", 1), 2, "dilation", where)
            if dilation != [1, 1] or m.state.get("groups", 1) != 1 \
                    or m.state.get("padding_mode", "zeros") != "zeros":
                raise CheckpointError(
                    f"{where}: {kind} with dilation {dilation}, groups "
                    f"{describe(m.state.get('groups'))}, padding_mode "
                    f"{describe(m.state.get('padding_mode'))}; webgan runs dilation 1, groups 1, "
                    "zero padding only")
            cin = _ints(_attr(m, "in_channels", where), 1, "in_channels", where)[0]
            cout = _ints(_attr(m, "out_channels", where), 1, "out_channels", where)[0]
            layer = {"op": "conv_transpose2d" if kind == "ConvTranspose2d" else "conv2d",
                     "in_channels": cin, "out_channels": cout, "kernel": kernel,
                     "stride": stride, "padding": _padding(m, where, kernel, dilation)}
            if kind == "ConvTranspose2d":
                layer["output_padding"] = _ints(m.state.get("output_padding", 0), 2,
                                                "output_padding", where)
            layer.update(weight=f"{where}.weight", bias=bias)
            if latent_dim is None:
                latent_dim = cin
                layers.append({"op": "reshape", "shape": [cin, 1, 1], "order": "channels_first"})
        elif kind == "Linear":
            fin = _ints(_attr(m, "in_features", where), 1, "in_features", where)[0]
            fout = _ints(_attr(m, "out_features", where), 1, "out_features", where)[0]
            layer = {"op": "linear", "in_features": fin, "out_features": fout,
                     "weight": f"{where}.weight", "bias": bias}
            if latent_dim is None:
                latent_dim = fin
        elif kind in ("BatchNorm1d", "BatchNorm2d"):
            if not m.state.get("track_running_stats", True) or \
                    (m.state.get("_buffers") or {}).get("running_mean") is None:
                raise CheckpointError(f"{where}: {kind} without running statistics normalizes "
                                      "with the batch's own, which webgan does not run")
            eps = _attr(m, "eps", where)
            if not isinstance(eps, float) or not math.isfinite(eps):
                raise CheckpointError(f"{where}: eps is {describe(eps)}")
            affine = params.get("weight") is not None
            layer = {"op": "batch_norm",
                     "channels": _ints(_attr(m, "num_features", where), 1, "num_features", where)[0],
                     "eps": eps, "weight": f"{where}.weight" if affine else None,
                     "bias": bias, "running_mean": f"{where}.running_mean",
                     "running_var": f"{where}.running_var"}
        elif kind == "ReLU":
            layer = {"op": "relu"}
        elif kind == "LeakyReLU":
            slope = _attr(m, "negative_slope", where)
            if not isinstance(slope, (int, float)) or isinstance(slope, bool):
                raise CheckpointError(f"{where}: negative_slope is {describe(slope)}")
            layer = {"op": "leaky_relu", "slope": float(slope)}
        elif kind == "Tanh":
            layer = {"op": "tanh"}
        elif kind == "Sigmoid":
            layer = {"op": "sigmoid"}
        elif kind in ("Upsample", "UpsamplingNearest2d"):
            scale = m.state.get("scale_factor")
            scales = list(scale) if isinstance(scale, (tuple, list)) else [scale, scale]
            if m.state.get("mode", "nearest") != "nearest" or m.state.get("size") is not None \
                    or len(scales) != 2 or not all(isinstance(s, (int, float)) and not isinstance(s, bool)
                                                   and s >= 1 and float(s).is_integer() for s in scales):
                raise CheckpointError(
                    f"{where}: {kind}(mode={describe(m.state.get('mode'))}, scale_factor="
                    f"{describe(scale)}, size={describe(m.state.get('size'))}); a layer list runs "
                    "nearest upsampling by whole factors only (a graph template has bilinear)")
            layer = {"op": "upsample", "scale": [int(s) for s in scales]}
        elif kind in ("Dropout", "Dropout1d", "Dropout2d", "Identity"):
            continue  # the identity in eval mode
        elif kind == "Flatten" and m.state.get("start_dim", 1) == 1 and m.state.get("end_dim", -1) == -1:
            layer = {"op": "reshape", "shape": None, "order": "channels_first"}
        elif kind == "Unflatten" and m.state.get("dim") == 1:
            layer = {"op": "reshape", "order": "channels_first",
                     "shape": list(_ints(m.state.get("unflattened_size"),
                                         len(m.state.get("unflattened_size") or ()),
                                         "unflattened_size", where))}
        else:
            raise CheckpointError(
                f"{where} is a {m.cls!r}, which webgan's reader of nn.Sequential chains does "
                "not know; describe the network with --arch arch.json (naming the state dict "
                "keys, which webgan reads from the module)")
        if latent_dim is None:
            raise CheckpointError(f"{where}: the chain starts with a {kind}; webgan reads chains "
                                  "that start with a Linear, Conv2d or ConvTranspose2d")
        layers.append(layer)
    if latent_dim is None:
        raise CheckpointError("the pickled nn.Sequential has no layers")
    _fill_flatten(layers, latent_dim)
    what = f"the pickled nn.Sequential {prefix[:-1] or '(top)'}"
    if wrappers:
        what += f" inside {wrappers[0]}, which holds nothing else"
    return {"latent_dim": latent_dim, "num_classes": None, "output_shape": None,
            "layers": layers, "class_names": None}, what


def _fill_flatten(layers: list[dict], latent_dim: int) -> None:
    """Give each Flatten's reshape its size: the elements of what comes before (tracked
    with the few shape rules a chain needs; layer_validation checks everything after)."""
    shape: list[int] = [latent_dim]
    for layer in layers:
        op = layer["op"]
        if op == "reshape":
            if layer["shape"] is None:
                layer["shape"] = [math.prod(shape)]
            shape = list(layer["shape"])
        elif op == "linear":
            shape = [layer["out_features"]]
        elif op in ("conv2d", "conv_transpose2d") and len(shape) == 3:
            (kh, kw), (sh, sw), p = layer["kernel"], layer["stride"], layer["padding"]
            if op == "conv2d":
                shape = [layer["out_channels"], (shape[1] + p[0] + p[1] - kh) // sh + 1,
                         (shape[2] + p[2] + p[3] - kw) // sw + 1]
            else:
                oph, opw = layer["output_padding"]
                shape = [layer["out_channels"], (shape[1] - 1) * sh + kh - p[0] - p[1] + oph,
                         (shape[2] - 1) * sw + kw - p[2] - p[3] + opw]
        elif op == "upsample" and len(shape) == 3:
            shape = [shape[0], shape[1] * layer["scale"][0], shape[2] * layer["scale"][1]]
