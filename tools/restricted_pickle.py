"""Running a checkpoint's pickle safely and walking what it made: the restricted unpickler
(whitelisted globals only, other globals as inert names that cannot be called, an opcode
budget, bounded reads and tuple nesting, no BUILD but a module record's one), the per-load
budget of bytes and values, and the iterative walk that turns tensors into arrays."""

from __future__ import annotations

import collections
import os
import pickle
import sys
from typing import Any, BinaryIO

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_limits as limits  # noqa: E402
from checkpoint_errors import CheckpointError, describe  # noqa: E402
from pickle_whitelist import _SAFE_GLOBALS  # noqa: E402
from pickled_modules import ForeignClass, ObjectRecord  # noqa: E402
from torch_storage import _LazyTensor  # noqa: E402


class _Budget:
    """Running totals for one load, checked against the caps."""

    def __init__(self) -> None:
        self.storage = 0
        self.tensors = 0
        self.nodes = 0

    @staticmethod
    def _check(total: int, what: str) -> None:
        if total > limits.MAX_TENSOR_BYTES:
            raise CheckpointError(
                f"{what}: the checkpoint's tensors need more than {limits.MAX_TENSOR_BYTES} bytes "
                f"({describe(total)} so far), more than any generator webgan can run; "
                "the file is corrupt or not a generator")

    def storage_bytes(self, n: int, what: str) -> None:
        self.storage += n
        self._check(self.storage, what)

    def tensor_bytes(self, n: int, what: str) -> None:
        self.tensors += n
        self._check(self.tensors, what)

    def node(self) -> None:
        self.nodes += 1
        if self.nodes > limits.MAX_NODES:
            raise CheckpointError(
                f"the checkpoint holds more than {limits.MAX_NODES} values in its containers, "
                "far more than a state dict; the file is corrupt or hostile")



class _BoundedReader:
    """A file's ``read``/``readline`` for the unpickler that never reads past
    ``limit`` bytes: an opcode that claims a longer string than the file
    holds fails instead of allocating what it claims."""

    def __init__(self, fh: BinaryIO, limit: int, what: str):
        self.fh = fh
        self.left = limit
        self.what = what

    def _take(self, n: int) -> None:
        if n > self.left:
            raise CheckpointError(
                f"{self.what} asks for {describe(n)} bytes but only {self.left} remain (before "
                f"the end of the file or the {limits.MAX_PICKLE_BYTES}-byte pickle cap); the file is "
                "truncated or corrupt")
        self.left -= n

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.left
        self._take(n)
        data = self.fh.read(n)
        self.left += n - len(data)
        return data

    def readinto(self, buf: Any) -> int:
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    def readline(self) -> bytes:
        line = self.fh.readline(min(self.left, 1 << 20))
        self.left -= len(line)
        return line


class _RestrictedUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """Unpickler that resolves only whitelisted globals and turns persistent
    ids into ``_Storage`` objects through ``storage_for``.

    The pure-Python unpickler (a little slower; checkpoints' pickles are
    small) so that each opcode can be counted and BUILD and tuple nesting
    checked before they run."""

    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]

    def __init__(self, reader: _BoundedReader, storage_for):
        super().__init__(reader)
        self._storage_for = storage_for
        self._ops = 0
        # id -> nesting depth of every tuple and frozenset made so far (kept
        # alive in _pinned so that ids are not reused).
        self._depth: dict[int, int] = {}
        self._pinned: list[Any] = []

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _SAFE_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            pass
        if isinstance(module, str) and isinstance(name, str):
            # Named, not imported: a whole pickled module's classes (pickled_modules.py).
            # Calling one is refused with the whitelist error.
            return ForeignClass(module, name)
        raise CheckpointError(
            f"the checkpoint refers to {_qualname(module)}.{_qualname(name)}, "
            "which is not on the whitelist of types allowed in a state dict") from None

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid:
            raise CheckpointError(f"unexpected persistent id {describe(pid)} in the checkpoint")
        if pid[0] == "module" and len(pid) == 4 and isinstance(pid[1], ForeignClass):
            # Legacy torch.save(model) names each module class this way: (kind, class,
            # source file, source); torch only compares the source with today's.
            return pid[1]
        if pid[0] == "module":
            raise CheckpointError(
                "the checkpoint contains a whole pickled nn.Module (legacy format); "
                "load it with PyTorch and save model.state_dict() instead")
        if pid[0] != "storage":
            raise CheckpointError(f"unexpected persistent id kind {describe(pid[0])}")
        return self._storage_for(pid)

    # The loop of pickle._Unpickler.load, with an opcode budget.
    def load(self) -> Any:
        self._unframer = pickle._Unframer(self._file_read, self._file_readline)  # type: ignore[attr-defined]
        self.read = self._unframer.read
        self.readinto = self._unframer.readinto
        self.readline = self._unframer.readline
        self.metastack = []
        self.stack = []
        self.append = self.stack.append
        self.proto = 0
        read = self.read
        dispatch = self.dispatch
        budget = limits.MAX_PICKLE_OPS
        try:
            while True:
                key = read(1)
                if not key:
                    raise EOFError
                budget -= 1
                if budget < 0:
                    raise CheckpointError(
                        f"the pickle runs more than {limits.MAX_PICKLE_OPS} operations, far more than "
                        "a state dict needs; the file is corrupt or hostile")
                dispatch[key[0]](self)
        except pickle._Stop as stop:  # type: ignore[attr-defined]
            return stop.value

    def _after(op: Any) -> Any:  # noqa: N805 - decorator used in the class body
        def wrapped(self: "_RestrictedUnpickler") -> None:
            # Check the depth of the items before the tuple/frozenset (and the
            # hashing it may do) exists.
            n = {"load_tuple1": 1, "load_tuple2": 2, "load_tuple3": 3}.get(op.__name__)
            if n is None:  # TUPLE / FROZENSET: the items since the last MARK
                items = self.stack
            else:
                items = self.stack[-n:]
            depth = 1 + max((self._depth.get(id(x), 0) for x in items), default=0)
            if depth > limits.MAX_NESTING:
                raise CheckpointError(
                    f"the pickle nests tuples more than {limits.MAX_NESTING} deep; a state dict "
                    "never does, so the file is corrupt or hostile")
            op(self)
            obj = self.stack[-1]
            self._depth[id(obj)] = depth
            self._pinned.append(obj)
        return wrapped

    for _op in (pickle.TUPLE, pickle.TUPLE1, pickle.TUPLE2, pickle.TUPLE3, pickle.FROZENSET):
        dispatch[_op[0]] = _after(pickle._Unpickler.dispatch[_op[0]])  # type: ignore[attr-defined]
    del _op

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        # torch pickles a state dict's _metadata (version numbers per module)
        # with BUILD on the OrderedDict it just made; webgan does not need it.
        # Anything else would change an object after the whitelist made it.
        if type(inst) is collections.OrderedDict:
            return
        # A pickled module's (or hook's) __dict__, kept as data, once.
        if type(inst) is ObjectRecord and inst.state is None and type(state) is dict:
            inst.state = state
            return
        raise CheckpointError(
            f"the checkpoint tries to change {describe(inst)} (pickle BUILD); "
            "a state dict never does, so the file is corrupt or hostile")

    dispatch[pickle.BUILD[0]] = load_build

    def _new_object(self, cls: Any, args: Any) -> None:
        # NEWOBJ is cls.__new__(cls, *args): for a ForeignClass a record of it, for
        # OrderedDict (on the whitelist) an empty one; nothing else is instantiated.
        if isinstance(cls, ForeignClass) and isinstance(args, tuple):
            self.append(ObjectRecord(cls, args))
        elif cls is collections.OrderedDict and args == ():
            self.append(collections.OrderedDict())
        else:
            raise CheckpointError(f"the checkpoint makes an object of {describe(cls)} (pickle "
                                  "NEWOBJ); the file is corrupt or hostile")

    def load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        self._new_object(cls, args)

    def load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        if kwargs:
            raise CheckpointError(f"the checkpoint makes an object of {describe(cls)} with "
                                  "keyword arguments (pickle NEWOBJ_EX); the file is corrupt")
        self._new_object(cls, args)

    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex
    del _after


def _qualname(part: Any) -> str:
    # find_class gets the file's strings: print them short and without quotes.
    return part[:60] if isinstance(part, str) else describe(part, 60)


def _run_pickle(fh: BinaryIO, limit: int, storage_for, what: str) -> Any:
    """Unpickle one pickle from ``fh`` (at most ``limit`` bytes of it)."""
    try:
        return _RestrictedUnpickler(_BoundedReader(fh, limit, what), storage_for).load()
    except CheckpointError:
        raise
    except Exception as e:  # the unpickler's errors on damaged data are of many types
        raise CheckpointError(
            f"cannot unpickle {what}: {type(e).__name__}: {describe(str(e), 200)}. The file is "
            "truncated or corrupt; download or save it again") from e



def _materialize(root: Any, budget: _Budget) -> Any:
    """Replace every _LazyTensor in dicts/lists/tuples by a numpy array,
    keeping container types and order.

    Iterative (an explicit stack, so deep nesting cannot overflow Python's),
    and each object is converted once (memo by id): a container shared by
    many others is shared in the result too, and a self-referencing list or
    dict refers to its own copy. A cycle through a tuple cannot be rebuilt
    and is refused. Every element visited counts against ``limits.MAX_NODES``."""
    memo: dict[int, Any] = {}
    building: set[int] = set()  # tuples whose items are being converted

    class Frame:
        __slots__ = ("src", "out", "items", "key")

    frames: list[Frame] = []
    pending = object()

    def start(x: Any) -> Any:
        """x's converted value, or ``pending`` after pushing a frame for it."""
        i = id(x)
        if i in memo:
            return memo[i]
        if isinstance(x, _LazyTensor):
            memo[i] = x.materialize(budget)
            return memo[i]
        if isinstance(x, ObjectRecord):
            rec = ObjectRecord(x.cls, x.args)
            memo[i] = rec
            if x.state is None:
                return rec
            rec.state = {}
            fr = Frame()
            fr.src, fr.out, fr.items, fr.key = x, rec.state, iter(list(x.state.items())), None
            frames.append(fr)
            return pending
        if isinstance(x, dict):
            out: Any = collections.OrderedDict() if isinstance(x, collections.OrderedDict) else {}
            items: Any = iter(list(x.items()))
        elif isinstance(x, list):
            out, items = [], iter(enumerate(x))
        elif isinstance(x, tuple):
            if i in building:
                raise CheckpointError("the checkpoint's objects form a cycle through a tuple; "
                                      "a state dict never does, so the file is corrupt")
            building.add(i)
            out, items = [], iter(enumerate(x))
        else:
            return x
        if not isinstance(x, tuple):
            memo[i] = out  # before the items: a cycle back to x finds its copy
        fr = Frame()
        fr.src, fr.out, fr.items, fr.key = x, out, items, None
        frames.append(fr)
        return pending

    def put(fr: Frame, key: Any, value: Any) -> None:
        if isinstance(fr.out, dict):
            fr.out[key] = value
        else:
            fr.out.append(value)

    result = start(root)
    while frames:
        fr = frames[-1]
        nxt = next(fr.items, pending)
        if nxt is pending:
            frames.pop()
            value = fr.out
            if isinstance(fr.src, ObjectRecord):
                value = memo[id(fr.src)]
            if isinstance(fr.src, tuple):
                value = tuple(fr.out)
                memo[id(fr.src)] = value
                building.discard(id(fr.src))
            if frames:
                put(frames[-1], frames[-1].key, value)
            else:
                result = value
            continue
        budget.node()
        key, v = nxt
        converted = start(v)
        if converted is pending:
            fr.key = key
        else:
            put(fr, key, converted)
    return result

