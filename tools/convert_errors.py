"""The converter's error, ``ConvertError``, and the short quoting of input values in its
messages."""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_checkpoint  # noqa: E402 - for its bounded describe()


class ConvertError(Exception):
    """A problem with the input or options; the message says what to do."""


def _short(v: Any) -> str:
    """repr() of a value from an input file, cut short for error messages."""
    text = torch_checkpoint.describe(v, 80) if isinstance(v, (list, tuple, dict)) else repr(v)
    return text if len(text) <= 80 else text[:79] + "…"
