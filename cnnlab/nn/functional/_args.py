"""Argument normalisation shared by convolution and pooling, and the error messages that go with it.

Every spatial option (kernel_size, stride, padding, dilation, ...) is normalised here once, so conv1d/2d/3d,
the transposed convs and every pool accept the same spellings and fail with the same clear messages.
"""
import numbers

import numpy as np

from ...errors import ArgumentTypeError, ShapeError, shape_str
from ...kernels.geometry import output_size  # noqa: F401  (the one size rule, re-exported for pooling and inspect)
from ...kernels.geometry import transposed_output_size as _transposed_size

SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def spatial_names(n):
    """Names of n spatial dims for messages: ('H', 'W') for 2-d."""
    return SPATIAL_NAMES.get(n, tuple(f"S{i}" for i in range(n)))


def to_tuple(value, n, name, op):
    """An int or a sequence of n ints (or of 1 int) as a tuple of n ints.

    >>> to_tuple(3, 2, "kernel_size", "conv2d")
    (3, 3)
    """
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and all(isinstance(v, (numbers.Integral, np.integer)) and
                                                not isinstance(v, bool) for v in value):
        if len(value) == n:
            return tuple(int(v) for v in value)
        if len(value) == 1:
            return (int(value[0]),) * n
    raise ArgumentTypeError(f"{op}: {name} must be an int or a tuple of {n} ints. Got {name}={value!r}.")


def check_positive(values, name, op):
    """Raise unless every value is >= 1 (stride, dilation, kernel_size). ShapeError: a ValueError, and the
    RuntimeError PyTorch raises for a non-positive stride."""
    if any(v < 1 for v in values):
        raise ShapeError(f"{op}: {name} must be positive. Got {name}={values if len(values) > 1 else values[0]}.")


def check_input_dims(x_shape, n, op, unbatched_ok=True):
    """Raise unless the input is (N, C, *spatial) or, when allowed, (C, *spatial)."""
    ok = len(x_shape) == n + 2 or (unbatched_ok and len(x_shape) == n + 1)
    if not ok:
        want = f"{n + 1}-d (unbatched) or {n + 2}-d (batched)" if unbatched_ok else f"{n + 2}-d"
        layout = "N, C, " + ", ".join(spatial_names(n))
        raise ShapeError(f"{op}: expects a {want} input ({layout}). Got input.shape={shape_str(x_shape)}.")


def check_not_empty(x_shape, n, op, channels_ok=False):
    """Raise when a channel (unless channels_ok) or spatial dim is 0: PyTorch's pools, unpools and resizes accept
    an empty batch only ("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size")."""
    dims = x_shape[-n:] if channels_ok else x_shape[-n - 1:]
    if 0 in dims:
        which = "spatial" if channels_ok else "channel and spatial"
        raise ShapeError(f"{op}: expects non-empty {which} dims (only the batch may be 0). Got input.shape="
                         f"{shape_str(x_shape)}.")


PADDING_STRINGS = ("valid", "same", "same_lower", "causal")


def same_padding(size, k, s, d, lower=False):
    """(before, after) for 'same': out = ceil(size / s), as TensorFlow/Keras/JAX (PyTorch's rule at s == 1).

    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0); the odd pixel goes after (before with lower=True).
    """
    out = -(-size // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    small = total // 2
    return (total - small, small) if lower else (small, total - small)


def resolve_padding(padding, n, op, kernel_size, stride, dilation, spatial_size):
    """Padding as a tuple of n (before, after) pairs.

    Accepts an int, a tuple of n ints, a tuple of n (before, after) pairs (asymmetric), 'valid', 'same',
    'same_lower' (the odd pixel before, JAX's SAME_LOWER), and 'causal' (1-d only: d * (k - 1) before).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding in ("same", "same_lower"):
            return tuple(same_padding(size, k, s, d, padding == "same_lower")
                         for size, k, s, d in zip(spatial_size, kernel_size, stride, dilation))
        if padding == "causal":
            if n != 1:
                raise ValueError(f"{op}: padding='causal' is for 1-d convolutions only. Got {n} spatial dims.")
            return ((dilation[0] * (kernel_size[0] - 1), 0),)
        raise ValueError(f"{op}: padding must be an int, a tuple, or one of {PADDING_STRINGS}. "
                         f"Got padding={padding!r}.")
    if isinstance(padding, (tuple, list)) and len(padding) == n and all(isinstance(p, (tuple, list)) for p in padding):
        pairs = tuple(to_tuple(p, 2, "padding", op) for p in padding)
    else:
        pairs = tuple((p, p) for p in to_tuple(padding, n, "padding", op))
    if any(v < 0 for pair in pairs for v in pair):
        raise ShapeError(f"{op}: padding must be non-negative. Got padding={padding!r}.")
    return pairs


def transposed_output_size(op, spatial_size, kernel_size, padding, stride, dilation, output_padding):
    """A transposed convolution's output size, (i - 1) * s - before - after + d * (k - 1) + output_padding + 1 per
    dim, after checking output_padding (non-negative, below stride or dilation, as PyTorch) and that every size is
    at least 1 (the message names every value and the formula's result). `padding` holds (before, after) pairs.
    Returns (output size, output_padding as a tuple)."""
    out_pad = to_tuple(output_padding, len(spatial_size), "output_padding", op)
    if any(p < 0 for p in out_pad):
        raise ShapeError(f"{op}: output_padding must be non-negative. Got output_padding={output_padding!r}.")
    if any(p >= s and p >= d for p, s, d in zip(out_pad, stride, dilation)):
        raise ShapeError(f"{op}: output_padding must be smaller than either stride or dilation. Got "
                         f"output_padding={out_pad}, stride={stride}, dilation={dilation}.")
    out_size = tuple(_transposed_size(*a) for a in zip(spatial_size, kernel_size, stride, padding, dilation, out_pad))
    for name, i, s, (b, a), d, k, p, o in zip(spatial_names(len(spatial_size)), spatial_size, stride, padding,
                                              dilation, kernel_size, out_pad, out_size):
        if o < 1:
            raise ShapeError(f"{op}: output size would be 0 or less. Got {name}={i} with kernel_size={k}, "
                             f"stride={s}, padding={(b, a) if b != a else b}, output_padding={p}, dilation={d} "
                             f"({name}_out = ({i}-1)*{s} - {b + a} + {d}*({k}-1) + {p} + 1 = {o}).")
    return out_size, out_pad


def check_output_size(op, spatial_size, kernel_size, padding, stride, dilation, out_size):
    """Raise when any output size is below 1, naming every value and the formula's result (pytorch#15446)."""
    for name, size, k, pad, s, d, out in zip(spatial_names(len(spatial_size)), spatial_size, kernel_size,
                                             padding, stride, dilation, out_size):
        if out < 1:
            pad_str = str(pad[0]) if pad[0] == pad[1] else str(pad)
            raise ShapeError(
                f"{op}: output size would be 0 or less; the input (plus padding) must be at least the dilated "
                f"kernel size. Got {name}={size} with kernel_size={k}, padding={pad_str}, stride={s}, "
                f"dilation={d} ({name}_out = floor(({size} + {pad[0] + pad[1]} - {d}*({k}-1) - 1)/{s}) + 1 = {out}).")
