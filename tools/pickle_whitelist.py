"""The whitelist of globals a checkpoint's pickle may name (``_SAFE_GLOBALS``): OrderedDict,
torch's tensor rebuild functions, storage classes and dtypes, each handed out as an immutable
stand-in so that no file can change what the next one sees."""

from __future__ import annotations

import collections
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_errors import BoundedRepr, CheckpointError, describe  # noqa: E402
from torch_storage import _LazyTensor  # noqa: E402

# torch storage class name -> numpy dtype (without byte order). "bfloat16" is
# a marker handled specially because numpy has no such dtype.
STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "f8",
    "FloatStorage": "f4",
    "HalfStorage": "f2",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "b1",
    "ComplexFloatStorage": "c8",
    "ComplexDoubleStorage": "c16",
    # torch >= 2 pickles an untyped storage when one was saved on its own;
    # its "elements" are bytes.
    "UntypedStorage": "u1",
}

# torch dtype objects pickle as globals named after the dtype ("torch.float32").
# They are never needed to rebuild a state dict, but harmless to accept.
TORCH_DTYPE_NAMES = frozenset(
    "float64 double float32 float float16 half bfloat16 int64 long int32 int "
    "int16 short int8 uint8 bool complex64 complex128".split()
)


class _Frozen(BoundedRepr):
    """Base of the objects the whitelist hands to a pickle. They are shared by
    every load in the process, so nothing in a file may change them: no
    attributes can be set (no ``__dict__``), and BUILD is refused."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise CheckpointError(f"the checkpoint tries to change {self!r}; the file is corrupt or hostile")

    __delattr__ = __setattr__  # type: ignore[assignment]

    def __setstate__(self, state: Any) -> None:
        raise CheckpointError(f"the checkpoint tries to change {self!r} (pickle BUILD); "
                              "the file is corrupt or hostile")


class _StorageType(_Frozen):
    """Stands in for a ``torch.XStorage`` class inside the pickle."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "dtype", STORAGE_DTYPES[name])

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _TorchMarker(_Frozen):
    """Stands in for an inert torch global (a dtype, ``torch.Tensor``, ...)."""

    __slots__ = ("qualname",)

    def __init__(self, qualname: str):
        object.__setattr__(self, "qualname", qualname)

    def __repr__(self) -> str:
        return self.qualname


class _Function(_Frozen):
    """A whitelisted function (callable by REDUCE), wrapped so that a pickle
    cannot set attributes on the function object itself."""

    __slots__ = ("qualname", "fn")

    def __init__(self, qualname: str, fn: Any):
        object.__setattr__(self, "qualname", qualname)
        object.__setattr__(self, "fn", fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return self.qualname


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    # requires_grad, hooks and metadata do not matter for inference weights.
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


def _rebuild_parameter_with_state(data, requires_grad=False, backward_hooks=None, state=None):
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    # Used when a tensor has Python attributes; the attributes are dropped.
    if not isinstance(func, _Function) or not isinstance(args, tuple):
        raise CheckpointError(f"_rebuild_from_type_v2 of {describe(func)}; the checkpoint is corrupt")
    return func(*args)


def _set(items=()):
    # A module's _non_persistent_buffers_set (names); frozen, like everything handed out.
    return frozenset(items)


_SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    # The class itself: REDUCE calls it for every state dict. It is an
    # immutable built-in type (setting an attribute or BUILD on it fails).
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch", "Tensor"): _TorchMarker("torch.Tensor"),
    ("torch.nn.parameter", "Parameter"): _TorchMarker("torch.nn.parameter.Parameter"),
}
for _module, _fn in (("torch._utils", _rebuild_tensor), ("torch._utils", _rebuild_tensor_v2),
                     ("torch._utils", _rebuild_parameter),
                     ("torch._utils", _rebuild_parameter_with_state),
                     ("torch._tensor", _rebuild_from_type_v2)):
    _SAFE_GLOBALS[(_module, _fn.__name__)] = _Function(f"{_module}.{_fn.__name__}", _fn)
for _module in ("builtins", "__builtin__"):  # protocol 2 writes Python 2's name
    _SAFE_GLOBALS[(_module, "set")] = _Function("builtins.set", _set)
for _name in STORAGE_DTYPES:
    _SAFE_GLOBALS[("torch", _name)] = _StorageType(_name)
for _name in TORCH_DTYPE_NAMES:
    _SAFE_GLOBALS[("torch", _name)] = _TorchMarker(f"torch.{_name}")

