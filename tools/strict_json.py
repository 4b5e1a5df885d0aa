"""Strict JSON for the converters' inputs (``--arch`` files, Keras configs).

The Rust loader refuses a ``model.json`` with a duplicate key (``json.loads``
would silently keep the last value), and NaN or Infinity are not JSON at all
(Python accepts them). The converters read their own JSON inputs by the same
rules, so what they write never depends on a value the file silently dropped;
nesting too deep for Python's parser is an error too, not a RecursionError.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["JsonError", "loads"]


class JsonError(ValueError):
    """The text is not strict JSON; the message says where or why."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise JsonError(f"duplicate key {k[:80]!r} in a JSON object")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise JsonError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """``json.loads`` refusing duplicate keys, NaN/Infinity and deep nesting."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except RecursionError:
        raise JsonError("JSON arrays or objects nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise JsonError(f"not valid JSON: {e}") from None
