"""The output files' formats: weights cast to the stored dtype, model.json laid out one layer
per line, and file hashes."""

from __future__ import annotations

import collections
import hashlib
import json
from typing import Any

import numpy as np

import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_errors import ConvertError  # noqa: E402

FORMAT = "webgan-model/1"
FORMAT2 = "webgan-model/2"
# Lists written one entry per line.
_LISTS = ("layers", "inputs", "nodes")
WEIGHTS_FILE = "weights.safetensors"
CLASS_NAMES_FILE = "class_names.json"

# Largest finite float16; larger weights would become inf in an f16 file.
F16_MAX = 65504.0


def to_dtype(arr: np.ndarray, dtype: str, name: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ConvertError(f"tensor {name!r} has NaN or infinite values")
    if dtype == "f16":
        peak = float(np.max(np.abs(arr))) if arr.size else 0.0
        if peak > F16_MAX:
            raise ConvertError(f"tensor {name!r} has values up to {peak:g}, beyond float16; "
                               "use --dtype f32")
        # Round to nearest even, like torch's Tensor.half().
        return arr.astype("<f2")
    return arr.astype("<f4")


def format_model_json(model: "collections.OrderedDict[str, Any]") -> str:
    """2-space indented JSON with one layer (format 1) or input and node (format 2) per line,
    so diffs stay readable."""
    def dump(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))

    lines = ["{"]
    items = list(model.items())
    for idx, (k, v) in enumerate(items):
        comma = "," if idx < len(items) - 1 else ""
        if k in _LISTS:
            lines.append(f"  {dump(k)}: [")
            for j, layer in enumerate(v):
                lines.append(f"    {dump(layer)}" + ("," if j < len(v) - 1 else ""))
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {dump(k)}: {dump(v)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
