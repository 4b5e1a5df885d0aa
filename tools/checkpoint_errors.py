"""The error a PyTorch checkpoint reader raises, and bounded descriptions of the file's
objects for its messages."""

from __future__ import annotations

from typing import Any


class CheckpointError(ValueError):
    """The file is not a readable PyTorch checkpoint; the message says why."""


class BoundedRepr:
    """Base of the reader's own objects (whitelisted globals, storages, tensors), whose
    repr() is short whatever the file holds, so ``describe`` may use it."""

    __slots__ = ()


def describe(obj: Any, limit: int = 80) -> str:
    """A short, bounded description of an object from the file, for error
    messages: repr() of a hostile object can be exponentially long or recurse
    without end."""
    if obj is None or isinstance(obj, (bool, float)):
        text = repr(obj)
    elif isinstance(obj, int):
        text = repr(obj) if obj.bit_length() <= 128 else f"(an integer of {obj.bit_length()} bits)"
    elif isinstance(obj, (str, bytes)):
        text = repr(obj[:limit])
    elif isinstance(obj, (tuple, list)):
        inner = ", ".join(describe(x, 20) if isinstance(x, (str, bytes, int, float, type(None)))
                          else type(x).__name__ for x in obj[:6])
        more = ", …" if len(obj) > 6 else ""
        text = (f"({inner}{more})" if isinstance(obj, tuple) else f"[{inner}{more}]")
    elif isinstance(obj, dict):
        text = f"a {type(obj).__name__} of {len(obj)} entries"
    elif isinstance(obj, BoundedRepr):
        text = repr(obj)
    else:
        text = f"a {type(obj).__name__}"
    return text if len(text) <= limit else text[:limit - 1] + "…"

