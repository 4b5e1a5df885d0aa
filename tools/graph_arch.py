"""``--arch`` as a format-2 template: a graph (docs/model-format-2.md) whose nodes name the
state dict's tensors, written out as a ``webgan-model/2`` folder.

The template is the model.json of format 2 without ``weights`` (the converter writes it):
``format: "webgan-model/2"``, ``inputs``, ``nodes``, ``output``, optionally ``name``,
``description``, ``license``, ``source`` (the command line's flags win) and ``class_names``
(one per class of the class input, written to class_names.json for the gallery, as in
format 1). A node's tensor fields (``weight``, ``bias``, ``running_mean``, ``running_var``,
``tensor``) hold state-dict keys; spectral and weight norm are folded (torch_reparam.py), so a
node names ``fc.weight`` where the state dict has ``fc.weight_orig``, ``fc.weight_u``,
``fc.weight_v``.

Checked here, before anything is written: the template's top-level fields, that every named
tensor exists with the shape the node's own fields give (linear ``[out_features,
in_features]``, conv2d ``[out, in, kh, kw]``, conv_transpose2d ``[in, out, kh, kw]``, norms
``[channels]``, ``layer_norm`` ``[features]``, ``prelu`` ``[channels]``, embedding ``[classes,
dim]``, a constant rank 1 or 3) and is floats, and that no state-dict tensor is left unread but
``num_batches_tracked`` (format 2 refuses a weight no node reads). The graph itself (names,
cycles, shapes flowing through it) is the Rust loader's to check, as for every model.
"""

from __future__ import annotations

import collections
import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reparam  # noqa: E402
from convert_errors import ConvertError, _short  # noqa: E402
from layer_validation import _is_int  # noqa: E402
from loader_limits import MAX_LAYERS  # noqa: E402

FORMAT2 = "webgan-model/2"
TEMPLATE_FIELDS = ("format", "name", "description", "license", "source", "inputs", "nodes",
                   "output", "class_names")
TENSOR_FIELDS = ("weight", "bias", "running_mean", "running_var", "tensor")

# Per op: tensor field -> the node fields whose values give its shape, in order (None: any
# shape of rank 1 or 3, a constant's).
_SHAPES: dict[str, dict[str, Any]] = {
    "linear": {"weight": ("out_features", "in_features"), "bias": ("out_features",)},
    "conv2d": {"weight": ("out_channels", "in_channels", "kernel"), "bias": ("out_channels",)},
    "conv_transpose2d": {"weight": ("in_channels", "out_channels", "kernel"),
                         "bias": ("out_channels",)},
    "batch_norm": {f: ("channels",) for f in ("weight", "bias", "running_mean", "running_var")},
    "instance_norm": {"weight": ("channels",), "bias": ("channels",)},
    "group_norm": {"weight": ("channels",), "bias": ("channels",)},
    "layer_norm": {"weight": ("features",), "bias": ("features",)},
    "prelu": {"weight": ("channels",)},
    "embedding": {"weight": ("classes", "dim")},
    "constant": {"tensor": None},
}


def is_template(arch: Any) -> bool:
    return isinstance(arch, dict) and arch.get("format") == FORMAT2


def check_template(arch: dict, path: str) -> dict:
    """The template's top level, checked; nodes and inputs are passed on as written."""
    where = f"--arch file {path}"
    extra = [k for k in arch if k not in TEMPLATE_FIELDS]
    if "weights" in extra:
        raise ConvertError(f"{where}: a template has no 'weights' (the converter writes it); "
                           "remove it")
    if extra:
        raise ConvertError(f"{where}: unknown fields {sorted(str(k)[:80] for k in extra)}; a "
                           f"format-2 template has {', '.join(TEMPLATE_FIELDS)}")
    for key in ("inputs", "nodes"):
        if not isinstance(arch.get(key), list) or not arch[key]:
            raise ConvertError(f"{where}: needs a non-empty list '{key}'")
    if len(arch["nodes"]) > MAX_LAYERS:
        raise ConvertError(f"{where}: {len(arch['nodes'])} nodes, more than {MAX_LAYERS}, "
                           "webgan's limit")
    for i, node in enumerate(arch["nodes"]):
        if not isinstance(node, dict) or not isinstance(node.get("name"), str) \
                or not isinstance(node.get("op"), str):
            raise ConvertError(f"{where}: node {i} needs a string 'name' and 'op'")
    for i, inp in enumerate(arch["inputs"]):
        if not isinstance(inp, dict) or not isinstance(inp.get("name"), str):
            raise ConvertError(f"{where}: input {i} needs a string 'name'")
    if not isinstance(arch.get("output"), str):
        raise ConvertError(f"{where}: needs a string 'output' naming a node")
    for key in ("name", "description", "license", "source"):
        if key in arch and not isinstance(arch[key], str):
            raise ConvertError(f"{where}: '{key}' must be a string")
    names = arch.get("class_names")
    if names is not None:
        classes = [i.get("classes") for i in arch["inputs"] if i.get("role") == "class"]
        if (not isinstance(names, list) or not all(isinstance(n, str) for n in names)
                or classes != [len(names)]):
            raise ConvertError(f"{where}: 'class_names' must list one string per class of the "
                               "class input")
    return arch


def _node_where(node: dict) -> str:
    return f"node {node['name'][:80]!r} ({node['op'][:40]})"


def _expected_shape(node: dict, field: str) -> tuple[int, ...] | None:
    where = _node_where(node)
    spec = _SHAPES.get(node["op"], {})
    if field not in spec:
        raise ConvertError(f"{where}: '{field}' names a tensor, but a {node['op'][:40]} node "
                           "reads none there")
    dims: list[int] = []
    if spec[field] is None:
        return None
    for key in spec[field]:
        v = node.get(key)
        if key == "kernel":
            if not (isinstance(v, list) and len(v) == 2 and all(_is_int(k) and k > 0 for k in v)):
                raise ConvertError(f"{where}: 'kernel' must be [kh, kw], got {_short(v)}")
            dims.extend(v)
        elif not _is_int(v) or v <= 0:
            raise ConvertError(f"{where}: '{key}' must be a positive integer, got {_short(v)}")
        else:
            dims.append(v)
    return tuple(dims)


def tensor_reads(template: dict, logical: dict[str, np.ndarray],
                 reparams: "dict[str, torch_reparam.Reparam]") -> "collections.OrderedDict[str, str]":
    """Every tensor the nodes read, checked, mapped to the op of the (first) node that reads it
    (which says the module kind for spectral norm's dim)."""
    reads: "collections.OrderedDict[str, str]" = collections.OrderedDict()
    for node in template["nodes"]:
        where = _node_where(node)
        for field in TENSOR_FIELDS:
            name = node.get(field)
            if name is None:
                continue
            if not isinstance(name, str):
                raise ConvertError(f"{where}: '{field}' must be a tensor name, got {_short(name)}")
            want = _expected_shape(node, field)
            if name not in logical:
                torch_reparam.refuse_piece(name, reparams, where)
                near = [k for k in logical if k.split(".")[-1] == name.split(".")[-1]][:8]
                raise ConvertError(f"{where}: tensor {name!r} is not in the state dict"
                                   + (f" (similar: {near})" if near else ""))
            arr = logical[name]
            if arr.dtype.kind != "f":
                raise ConvertError(f"{where}: tensor {name!r} has dtype {arr.dtype}, expected floats")
            if want is None:
                if arr.ndim not in (1, 3):
                    raise ConvertError(f"{where}: constant {name!r} has shape {list(arr.shape)}; "
                                       "a constant is rank 1 ([F]) or 3 ([C, H, W])")
            elif tuple(arr.shape) != want:
                raise ConvertError(f"{where}: tensor {name!r} has shape {list(arr.shape)}, "
                                   f"expected {list(want)}")
            if name in reads and name in reparams:
                first, now = reads[name], node["op"]
                if (first in torch_reparam.TRANSPOSED_OPS) != (now in torch_reparam.TRANSPOSED_OPS):
                    raise ConvertError(f"{where}: {name!r} is read as a {now} and a {first} "
                                       "weight, whose spectral norms differ")
            reads.setdefault(name, node["op"])
    return reads


def check_all_used(state: dict[str, np.ndarray], reads: dict[str, str],
                   reparams: "dict[str, torch_reparam.Reparam]") -> None:
    """Format 2 refuses weights no node reads: so does the converter, naming them, except
    BatchNorm's ``num_batches_tracked`` (a training counter)."""
    used = set(reads)
    for name in reads:
        if name in reparams:
            used.update(reparams[name].sources)
    left = [k for k in state if k not in used and not k.endswith("num_batches_tracked")]
    if left:
        more = f" and {len(left) - 8} more" if len(left) > 8 else ""
        raise ConvertError(
            f"the state dict has {len(left)} tensors no node reads: {left[:8]}{more}; name them "
            "in the template's nodes, or pick the generator's own state dict (--key)")
