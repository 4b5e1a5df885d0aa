"""Caps on what a PyTorch checkpoint may make the reader (torch_checkpoint.py) read or build.

A DCGAN generator's pickle is a few KB with a few hundred opcodes and its tensors tens of
MB. The readers look each cap up here at every use (``limits.MAX_…``), so tests can lower
one by setting it on this module.
"""

MAX_TENSOR_BYTES = 2 << 30   # storages read, and again tensors built, in total
MAX_PICKLE_BYTES = 64 << 20  # one pickle (data.pkl, or a legacy section)
MAX_PICKLE_OPS = 1_000_000   # opcodes run per pickle: bounds the objects it makes
MAX_NODES = 1_000_000        # container elements visited when walking the result
MAX_NESTING = 100            # tuples inside tuples (the C hash of a deep one crashes)
MAX_ZIP_MEMBERS = 100_000
MAX_NDIM = 64
MAX_KEY_CHARS = 1000
# Deflate cannot compress by more than about 1032:1, so a member that claims
# more than this many times its compressed size is lying.
MAX_DEFLATE_RATIO = 1100
