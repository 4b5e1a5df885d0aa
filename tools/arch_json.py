"""The ``--arch ARCH.json`` architecture: an architecture file in the model.json layer
schema, read as strict JSON and checked for its top-level fields, or (``"format":
"webgan-model/2"``) a graph template, checked by graph_arch.py."""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import graph_arch  # noqa: E402
import strict_json  # noqa: E402
from convert_errors import ConvertError  # noqa: E402
from layer_validation import _is_int  # noqa: E402

# An --arch file is a few KB.
MAX_ARCH_BYTES = 4 << 20


def parse_json(text: str | bytes, what: str) -> Any:
    """Strict JSON (tools/strict_json.py): duplicate keys, NaN and nesting too
    deep to parse are errors, as in the Rust loader."""
    try:
        return strict_json.loads(text)
    except strict_json.JsonError as e:
        raise ConvertError(f"{what}: {e}") from None


def load_arch_json(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_ARCH_BYTES + 1)
    except OSError as e:
        raise ConvertError(f"cannot read --arch file {path}: {e.strerror}") from e
    if len(data) > MAX_ARCH_BYTES:
        raise ConvertError(f"--arch file {path} is larger than {MAX_ARCH_BYTES} bytes")
    arch = parse_json(data, f"--arch file {path}")
    if graph_arch.is_template(arch):
        return graph_arch.check_template(arch, path)
    if not isinstance(arch, dict) or not isinstance(arch.get("layers"), list):
        raise ConvertError(f"--arch file {path} needs an object with a 'layers' list")
    if not _is_int(arch.get("latent_dim")) or arch["latent_dim"] <= 0:
        raise ConvertError(f"--arch file {path} needs a positive integer 'latent_dim'")
    num_classes = arch.get("num_classes")
    if num_classes is not None and (not _is_int(num_classes) or num_classes <= 0):
        raise ConvertError(f"--arch file {path}: 'num_classes' must be null or a positive integer")
    declared = arch.get("output_shape")
    if declared is not None and (not isinstance(declared, list)
                                 or not all(_is_int(d) for d in declared)):
        raise ConvertError(f"--arch file {path}: 'output_shape' must be null or a list of integers")
    names = arch.get("class_names")
    if names is not None and (not isinstance(names, list)
                              or not all(isinstance(n, str) for n in names)
                              or len(names) != arch.get("num_classes")):
        raise ConvertError(f"--arch file {path}: 'class_names' must list num_classes strings")
    return {"latent_dim": arch["latent_dim"], "num_classes": arch.get("num_classes"),
            "output_shape": arch.get("output_shape"), "layers": arch["layers"],
            "class_names": names}
