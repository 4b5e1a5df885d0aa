"""The Rust loader's caps (src/limits.rs) mirrored for the converter, so that it refuses,
naming the cap, any model the loader would refuse."""

MAX_MANIFEST_BYTES = 4 << 20
MAX_LAYERS = 1000
MAX_WEIGHTS_BYTES = 1 << 30
MAX_ELEMENTS = 1 << 28      # values per sample in any activation
MAX_DIM = 1 << 24           # any one dimension
MAX_KERNEL = 64             # kernel side, stride, upsampling factor
MAX_PADDING = 1024          # one side of a convolution's padding
MAX_LATENT_DIM = 65536
MAX_CLASSES = 65536
