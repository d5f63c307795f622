"""Which algorithm computes a convolution of a given shape, and why.

kernels/conv.py asks `algorithm(...)` before every forward and gradient; the rules are in `explain`, each with
the reason it exists (measured on 2 cores against PyTorch, float32):

    'depthwise'  2-d, one input channel per group: banded matmuls (kernels/depthwise.py). The GEMM lowering of
                 a depthwise conv is a matrix-vector product per channel, 3-10x slower.
    'winograd'   2-d 3x3, stride 1, dilation 1, one group, padding <= 2, and at least WINOGRAD_MIN_CHANNELS
                 input and output channels (kernels/winograd.py): 2.25x fewer multiplications; with few
                 channels its transforms cost more than they save.
    'gemm'       everything else: the GEMM lowering in kernels/conv.py (cache-sized blocks of the column
                 matrix; at stride 1 the flat, copy-light variant).

`forced(name)` makes every call use one algorithm (tests use it to check each against the others); a forced
algorithm that does not support a shape falls back to 'gemm'.

>>> algorithm("forward", (32, 64, 56, 56), (64, 64, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
'winograd'
>>> explain("forward", (8, 3, 224, 224), (64, 3, 7, 7), (2, 2), ((3, 3), (3, 3)), (1, 1), 1)[1]
'the general GEMM lowering (no specialised algorithm fits this shape)'
"""
import contextlib

from . import depthwise, winograd

ALGORITHMS = ("gemm", "winograd", "depthwise")
WINOGRAD_MIN_CHANNELS = 32

_forced = None


def explain(op, x_shape, w_shape, stride, padding, dilation, groups):
    """(name, reason): the algorithm for this convolution and why.

    Args:
        op: 'forward', 'backward_input' or 'backward_weight' (the same shapes choose the same algorithm today).
        x_shape (N, C, *S), w_shape (O, C/groups, *K), stride, dilation: tuples; padding: (before, after) pairs.
    """
    if _forced is not None:
        supported = _forced == "gemm" or _SUPPORTS[_forced](x_shape, w_shape, stride, padding, dilation, groups)
        return (_forced, "forced") if supported else ("gemm", f"forced {_forced!r} does not support this shape")
    if depthwise.supports(x_shape, w_shape, stride, padding, dilation, groups):
        return "depthwise", "a 2-d depthwise convolution: banded matmuls, one per channel"
    if winograd.supports(x_shape, w_shape, stride, padding, dilation, groups):
        if min(x_shape[1], w_shape[0]) >= WINOGRAD_MIN_CHANNELS:
            return "winograd", "3x3 stride 1 with many channels: F(2x2, 3x3) does 2.25x fewer multiplications"
        return "gemm", f"3x3 stride 1, but fewer than {WINOGRAD_MIN_CHANNELS} channels: Winograd's transforms " \
                       "would cost more than they save"
    return "gemm", "the general GEMM lowering (no specialised algorithm fits this shape)"


def algorithm(op, x_shape, w_shape, stride, padding, dilation, groups):
    """The name of the algorithm (one of ALGORITHMS) that computes this convolution."""
    return explain(op, x_shape, w_shape, stride, padding, dilation, groups)[0]


@contextlib.contextmanager
def forced(name):
    """Within the block, every convolution uses algorithm `name` where it supports the shape ('gemm' elsewhere)."""
    global _forced
    if name not in ALGORITHMS:
        raise ValueError(f"forced: name must be one of {ALGORITHMS}. Got name={name!r}.")
    old, _forced = _forced, name
    try:
        yield
    finally:
        _forced = old


_SUPPORTS = {"winograd": winograd.supports, "depthwise": depthwise.supports}
