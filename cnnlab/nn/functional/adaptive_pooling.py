"""Adaptive pooling with gradients: adaptive_avg_pool and adaptive_max_pool, 1-d/2-d/3-d.

The output size is fixed and the windows (bins) follow from it: output i along a dim covers the input bin
[floor(i * in / out), ceil((i + 1) * in / out)), PyTorch's bin edges; output size 1 is global pooling. Beyond
PyTorch: None entries in output_size keep that input dim. The array work is in cnnlab/kernels/pool.py.
"""
import numbers

import numpy as np

from ..._memory import check_allocation
from ...errors import ShapeError, shape_str
from ...kernels import pool as K
from ...tensor import Tensor
from ._args import check_input_dims
from ._pool_docs import attach_docs
from .pooling import pool_grad_fn_name, pool_input

__all__ = [f"adaptive_{kind}_pool{n}d" for kind in ("avg", "max") for n in (1, 2, 3)]


def _adaptive_sizes(shape, n, op, output_size, channels_ok=False):
    check_input_dims(shape, n, op)
    # PyTorch's rule: every dim after the first non-empty (the first is the batch, or an unbatched input's
    # channels), except the channels of a batch for the 1-d/2-d average pools
    if 0 in shape[2 if channels_ok and len(shape) == n + 2 else 1:]:
        raise ShapeError(f"{op}: expects a non-empty input in every non-batch dimension (the first dim is the "
                         f"batch{', and a batch may have 0 channels' if channels_ok else ''}). Got input.shape="
                         f"{shape_str(shape)}.")
    spatial = tuple(shape[-n:])
    sizes = (output_size,) * n if output_size is None or isinstance(output_size, (numbers.Integral, np.integer)) \
        else output_size
    ok = isinstance(sizes, (tuple, list)) and len(sizes) in (1, n) and all(
        s is None or (isinstance(s, (numbers.Integral, np.integer)) and not isinstance(s, bool)) for s in sizes)
    if ok and any(s is not None and s < 0 for s in sizes):  # a RuntimeError in PyTorch
        raise ShapeError(f"{op}: output_size must not be negative. Got output_size={output_size!r}.")
    if not ok:
        raise ValueError(f"{op}: output_size must be a non-negative int or a tuple of {n} such ints (or None to "
                         f"keep a dim). Got output_size={output_size!r}.")
    sizes = tuple(sizes) * (n if len(sizes) == 1 else 1)
    return spatial, tuple(int(s) if s is not None else size for s, size in zip(sizes, spatial))


def _adaptive_avg_pool(input, n, op, output_size):
    t = pool_input(input, op)
    x = t._data
    spatial, out_size = _adaptive_sizes(x.shape, n, op, output_size, channels_ok=n < 3)
    lead = x.shape[:x.ndim - n]
    check_allocation(op, lead + out_size, x.dtype)
    name = _avg_grad_fn_name(n, out_size)
    if 0 in out_size:
        return Tensor._from_op(np.zeros(lead + out_size, x.dtype), (t,), lambda g: (np.zeros_like(x),), name)
    half = x.dtype == np.float16  # float16 is summed in float32 and rounded once, as PyTorch does
    y, divisor = (x.astype(np.float32) if half else x), np.ones(out_size, np.int64)
    for k, (size, o) in enumerate(zip(spatial, out_size)):
        if o != size:
            y, lens = K.adaptive_sum_axis(y, x.ndim - n + k, o)
            divisor = divisor * lens.reshape((-1,) + (1,) * (n - 1 - k))
    divisor = divisor.astype(np.float32 if half else x.dtype)
    out = (y / divisor).astype(x.dtype, copy=False) if y is not x else x.copy()

    # y = (bin sums along each axis) / bin volume: the gradient is g / volume summed back axis by axis.
    def backward(g):
        gd = g / divisor
        for k in range(n - 1, -1, -1):
            if out_size[k] != spatial[k]:
                gd = K.adaptive_sum_axis_backward(gd, x.ndim - n + k, spatial[k])
        return (gd,)

    return Tensor._from_op(out, (t,), backward, name)


def _avg_grad_fn_name(n, out_size):
    """The grad_fn PyTorch shows: a 1-d pool runs as the 2-d one and ends in a squeeze; a 2-d/3-d pool to a
    single value per channel is a mean over the spatial dims."""
    return "MeanBackward1" if n > 1 and all(o == 1 for o in out_size) else pool_grad_fn_name(n, f"AdaptiveAvgPool{n}D")


def _adaptive_max_pool(input, n, op, output_size, return_indices):
    t = pool_input(input, op, ints_ok=True)
    x = t._data
    spatial, out_size = _adaptive_sizes(x.shape, n, op, output_size)
    check_allocation(op, x.shape[:x.ndim - n] + out_size, x.dtype)
    if 0 in out_size:
        vals = np.zeros(x.shape[:x.ndim - n] + out_size, x.dtype)
        out, flat = vals, vals.astype(np.int64)
    else:
        out, flat = K.adaptive_max_forward(x, out_size)

    # y[o] = x[argmax(o)]; bins may overlap, so one input can receive several outputs' gradients.
    def backward(g):
        return (K.scatter_flat(g, flat, spatial),)

    res = Tensor._from_op(out, (t,), backward, pool_grad_fn_name(n, f"AdaptiveMaxPool{n}D"))
    return (res, Tensor._wrap(flat)) if return_indices else res


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg_pool(input, 1, "adaptive_avg_pool1d", output_size)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_pool(input, 2, "adaptive_avg_pool2d", output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_pool(input, 3, "adaptive_avg_pool3d", output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 1, "adaptive_max_pool1d", output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 2, "adaptive_max_pool2d", output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, 3, "adaptive_max_pool3d", output_size, return_indices)


attach_docs(globals(), ("adaptive_avg", "adaptive_max"))
