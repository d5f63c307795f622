"""The convolution algorithms, each declared once by its own module, and what the selector reads from them.

An algorithm module of this package declares `ALGORITHMS = (Algorithm(...), ...)`: its name, `supports(geom)`,
its three functions and the rules saying where it wins. kernels/select.py asks every rule of every algorithm in
rank order (the lowest first) and takes the first that gives a reason; kernels/conv.py calls the chosen
algorithm. Adding an algorithm is one new file in cnnlab/kernels/ (found here by its `ALGORITHMS`).

Functions take the convolution's geometry (kernels/geometry.py):
    forward(x, w, geom)           -> (N, O, *geom.out_size)
    backward_input(g, w, geom)    -> (N, C, *geom.in_size)
    backward_weight(x, g, geom)   -> geom.w_shape
A `watched` algorithm's forward and backward_input also take seen= (a list that gets one finiteness flag per
block, checked while the block is in cache; kernels/conv.py).

Rules are (rank, test) pairs; test(op, geom, precise) returns the reason (a sentence) where the algorithm wins
for op ('forward', 'backward_input' or 'backward_weight'), else None. precise: a forward that a gradient will
flow back through. Ranks in use: 5 depthwise_compiled (where numba is installed: kernels/compiled.py),
9 depthwise_taps (small maps), 10 depthwise, 20 fft, 30 toeplitz, 40-42 strided input gradients (nhwc, shift,
stack), 50 few channels (gemm), 60-61 Winograd, 69 unpadded 1x1 on larger maps (matmul), 70 nhwc, 79 other unpadded
1x1 (matmul), 80 strided 1x1 gradients on a batch (stack), 81 other 1x1 (shift), 91 stride 1 on large maps (shift),
100 gemm (everything else).

>>> sorted(names())
['depthwise', 'depthwise_compiled', 'depthwise_taps', 'fft', 'gemm', 'matmul', 'nhwc', 'shift', 'stack',
 'toeplitz', 'winograd', 'winograd4']
"""
import importlib
import math
import pkgutil
from typing import Callable, NamedTuple

MIN_CHANNELS = 16   # input channels per group below which the column matrix (gemm) wins: a deep inner dimension


class Algorithm(NamedTuple):
    """One convolution algorithm (see the module docstring)."""
    name: str
    supports: Callable
    forward: Callable
    backward_input: Callable
    backward_weight: Callable
    rules: tuple = ()
    exact_forward: bool = False       # its forward sums exactly PyTorch's products (inf and NaN included)
    exact_input_gradient: bool = False  # and so does its input gradient where w is finite
    watched: bool = False             # forward and backward_input report each block's finiteness (seen=)


def wide(geom):
    """Whether the convolution has enough input channels per group for one matmul per kernel offset."""
    return geom.in_channels // geom.groups >= MIN_CHANNELS


def rows(geom):
    """N * output positions: the rows of the batch's column matrix."""
    return geom.batch * math.prod(geom.out_size)


_loaded = None   # ({name: Algorithm}, [(rank, name, test), ...] by rank), built at the first selection


def _load():
    """Import every module of this package and collect its ALGORITHMS (at the first selection, when the package
    is fully imported; built whole, then published in one assignment, so two threads may race harmlessly)."""
    global _loaded
    if _loaded is None:
        table = {}
        for info in pkgutil.iter_modules(importlib.import_module(__package__).__path__):
            module = importlib.import_module(f"{__package__}.{info.name}")
            for algorithm in vars(module).get("ALGORITHMS", ()):          # declared, not select's derived list
                table[algorithm.name] = algorithm
        _loaded = table, sorted(((rank, name, test) for name, a in table.items() for rank, test in a.rules),
                                key=lambda r: r[0])
    return _loaded


def get(name):
    """The Algorithm called name (KeyError if there is none)."""
    return _load()[0][name]


def names():
    """The names of every algorithm."""
    return tuple(_load()[0])


def rules():
    """(rank, name, test) of every rule, lowest rank first."""
    return _load()[1]
