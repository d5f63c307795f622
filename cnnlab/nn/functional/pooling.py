"""Window pooling with gradients: max, min, average and power-average pooling, and max_unpool (adaptive pooling
is in adaptive_pooling.py, the shared docstrings in _pool_docs.py).

Every 1-d/2-d/3-d op is one N-d implementation (the array work is in cnnlab/kernels/pool.py). Beyond PyTorch
(a superset: PyTorch code gives PyTorch's result): min pooling, dilation on every pool (an average over the
dilated window's taps), padding='same'/'valid' or (before, after) pairs, padding and dilation for lp_pool,
divisor_override for avg_pool1d, None entries in an adaptive output_size.
"""
import functools
import numbers

import numpy as np

from ..._memory import check_allocation
from ...errors import DTypeError, ShapeError, shape_str
from ...grad_mode import records
from ...kernels import pool as K
from ...ops._operands import as_tensor_arg
from ...ops.elementwise import abs as _abs
from ...tensor import Tensor
from ._args import (check_input_dims, check_not_empty, check_output_size, check_positive, output_size, resolve_padding,
                    spatial_names, to_tuple)
from ._pool_docs import attach_docs

__all__ = [f"{kind}_pool{n}d" for kind in ("max", "min", "avg", "lp") for n in (1, 2, 3)] + \
    [f"max_unpool{n}d" for n in (1, 2, 3)]


# ---- argument checks ----------------------------------------------------------------------------------

def pool_input(input, op, ints_ok=False):
    """The input tensor, refusing dtypes the op has no meaning for."""
    t = as_tensor_arg(input, op, "input")
    kind = t._data.dtype.kind
    if kind != "f" and not (ints_ok and kind in "iu"):
        raise DTypeError(f"{op}: the input must be a {'floating-point or integer' if ints_ok else 'floating-point'}"
                         f" tensor. Got dtype={t.dtype}.")
    return t


def _plain(value):
    """An int, a str, None or a tuple of ints (not a bool, which equals 0 or 1 as a key but is refused as a size)."""
    kind = type(value)
    return kind is int or kind is str or value is None or (kind is tuple and all(type(v) is int for v in value))


def pool_windows(shape, n, op, kernel_size, stride, padding, dilation, ceil_mode):
    """Check every pooling argument against the input shape and return the kernels' Windows.

    stride None (or an empty sequence) means kernel_size. Padding on each side must be at most half the
    dilated kernel, (dilation * (kernel_size - 1) + 1) // 2, PyTorch's rule, so every window starts inside
    the input or its left padding. Arguments that passed once (plain ints, tuples, strings) are not checked
    again: a network's pools repeat theirs on every call.
    """
    if _plain(kernel_size) and _plain(stride) and _plain(padding) and _plain(dilation):
        return _cached_windows(tuple(shape), n, op, kernel_size, stride, padding, dilation, bool(ceil_mode))
    return _checked_windows(shape, n, op, kernel_size, stride, padding, dilation, ceil_mode)


@functools.lru_cache(maxsize=256)
def _cached_windows(*key):
    """_checked_windows of arguments that are all hashable plain values (an error is raised again every call)."""
    return _checked_windows(*key)


def _checked_windows(shape, n, op, kernel_size, stride, padding, dilation, ceil_mode):
    check_input_dims(shape, n, op)
    check_not_empty(shape, n, op)
    kernel = to_tuple(kernel_size, n, "kernel_size", op)
    check_positive(kernel, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        to_tuple(stride, n, "stride", op)
    check_positive(stride, "stride", op)
    dilation = to_tuple(dilation, n, "dilation", op)
    check_positive(dilation, "dilation", op)
    spatial = tuple(shape[-n:])
    pads = resolve_padding(padding, n, op, kernel, stride, dilation, spatial)
    limit = tuple((d * (k - 1) + 1) // 2 for k, d in zip(kernel, dilation))
    if any(max(p) > lim for p, lim in zip(pads, limit)):
        shown = tuple(p[0] if p[0] == p[1] else p for p in pads)
        raise ShapeError(f"{op}: pad should be at most half of effective kernel size, (dilation * (kernel_size - 1)"
                         f" + 1) // 2 = {_show(limit)} on each side. Got padding={_show(shown)}, kernel_size="
                         f"{_show(kernel)}, dilation={_show(dilation)}.")
    out = tuple(output_size(size, k, s, p, d, ceil_mode)
                for size, k, s, p, d in zip(spatial, kernel, stride, pads, dilation))
    check_output_size(op, spatial, kernel, pads, stride, dilation, out)
    return K.windows(spatial, kernel, stride, pads, dilation, out)


def pool_grad_fn_name(n, node):
    """The grad_fn PyTorch shows for an n-d pool: its node's, except that a 1-d pool runs as the 2-d one on an
    unsqueezed input and ends in a squeeze."""
    return "SqueezeBackward1" if n == 1 else node + "Backward0"


def _show(values):
    return values[0] if len(set(values)) == 1 else values


def _check_avg3d_input(op, n, shape, win):
    """PyTorch's avg_pool3d (and lp_pool3d, built on it) refuses an input smaller than the kernel in any dim,
    padding or not (its 1-d and 2-d pools do not)."""
    if n == 3 and any(size < k for size, k in zip(win.spatial, win.kernel)):
        pads = tuple(p[0] if p[0] == p[1] else p for p in win.padding)
        raise ShapeError(f"{op}: the input (not counting padding) must be at least kernel_size in every spatial "
                         f"dim, as PyTorch's avg_pool3d requires. Got input.shape={shape_str(shape)}, kernel_size="
                         f"{_show(win.kernel)}, padding={_show(pads)}.")


# ---- max / min pooling -----------------------------------------------------------------------------------

def _extreme_pool(input, n, op, largest, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    t = pool_input(input, op, ints_ok=True)
    x = t._data
    win = pool_windows(x.shape, n, op, kernel_size, stride, padding, dilation, ceil_mode)
    need_arg = return_indices or records(t)
    out, arg = K.extreme_forward(x, win, largest, need_arg)

    # y[o] = x[argmax(o)]: dL/dx at the chosen element is the sum of the gradients of the outputs choosing it.
    def backward(g):
        return (K.extreme_backward(g, arg, win, x.shape),)

    res = Tensor._from_op(out, (t,), backward, pool_grad_fn_name(n, f"{'Max' if largest else 'Min'}Pool{n}DWithIndices"))
    if return_indices:
        return res, Tensor._wrap(win.flat_indices(arg))
    return res


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _extreme_pool(input, 1, "max_pool1d", True, kernel_size, stride, padding, dilation, ceil_mode,
                         return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _extreme_pool(input, 2, "max_pool2d", True, kernel_size, stride, padding, dilation, ceil_mode,
                         return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _extreme_pool(input, 3, "max_pool3d", True, kernel_size, stride, padding, dilation, ceil_mode,
                         return_indices)


def min_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _extreme_pool(input, 1, "min_pool1d", False, kernel_size, stride, padding, dilation, ceil_mode,
                         return_indices)


def min_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _extreme_pool(input, 2, "min_pool2d", False, kernel_size, stride, padding, dilation, ceil_mode,
                         return_indices)


def min_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _extreme_pool(input, 3, "min_pool3d", False, kernel_size, stride, padding, dilation, ceil_mode,
                         return_indices)


# ---- average and power-average pooling -------------------------------------------------------------------

def _avg_pool(input, n, op, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
              dilation):
    t = pool_input(input, op)
    x = t._data
    win = pool_windows(x.shape, n, op, kernel_size, stride, padding, dilation, ceil_mode)
    _check_avg3d_input(op, n, x.shape, win)
    if divisor_override is not None:
        if not isinstance(divisor_override, (numbers.Integral, np.integer)) or isinstance(divisor_override, bool):
            raise TypeError(f"{op}: divisor_override must be an int or None. "
                            f"Got divisor_override={divisor_override!r}.")
        if divisor_override == 0:
            raise ShapeError(f"{op}: divisor must be not zero. Got divisor_override=0.")
        divisor = int(divisor_override)
    else:  # a dilated window wholly in the padding has no taps: its average is 0 (0 / 1), not 0 / 0
        divisor = np.maximum(win.counts(count_include_pad), 1).astype(x.dtype)
    if x.dtype == np.float16:  # summed in float32 and rounded once, as PyTorch does
        divisor = np.asarray(divisor_override if divisor_override is not None else
                             np.maximum(win.counts(count_include_pad), 1), np.float32)
        out = (K.sum_forward(x.astype(np.float32), win) / divisor).astype(np.float16)
    else:
        out = K.sum_forward(x, win)
        out /= divisor

    # y[o] = sum_{taps} x / divisor[o]: every tap of window o receives g[o] / divisor[o].
    def backward(g):
        return (K.sum_backward(g / divisor, win, x.shape),)

    return Tensor._from_op(out, (t,), backward, pool_grad_fn_name(n, f"AvgPool{n}D"))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, dilation=1):
    return _avg_pool(input, 1, "avg_pool1d", kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, dilation)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, dilation=1):
    return _avg_pool(input, 2, "avg_pool2d", kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, dilation)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, dilation=1):
    return _avg_pool(input, 3, "avg_pool3d", kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, dilation)


def _lp_pool(input, n, op, norm_type, kernel_size, stride, ceil_mode, padding, dilation):
    if not isinstance(norm_type, numbers.Real) or isinstance(norm_type, bool) or norm_type != norm_type:
        raise TypeError(f"{op}: norm_type must be a number. Got norm_type={norm_type!r}.")
    if norm_type in (float("inf"), float("-inf")):  # the max (min) of |x|, as PyTorch
        return _extreme_pool(_abs(pool_input(input, op)), n, op, norm_type > 0, kernel_size, stride, padding,
                             dilation, ceil_mode, False)
    t = pool_input(input, op)
    x = t._data
    win = pool_windows(x.shape, n, op, kernel_size, stride, padding, dilation, ceil_mode)
    _check_avg3d_input(op, n, x.shape, win)
    p, taps = float(norm_type), int(np.prod(win.kernel))
    divisor = np.maximum(win.counts(True), 1).astype(x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = K.sum_forward(x ** p, win) / divisor  # avg_pool(x^p) with count_include_pad
        z = a * taps                                # PyTorch's sign(a) * relu(|a|) * kernel taps == a * taps
        out = z ** (1.0 / p)

    # y = z^(1/p), z = taps * avg(x^p): dy/dz = z^(1/p - 1) / p; PyTorch's relu(|a|) zeroes it where a == 0
    # (and passes a NaN a, from x^p of a negative x, as NaN); d(avg)/d(x^p) spreads over the window;
    # d(x^p)/dx = p * x^(p-1).
    def backward(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            gz = g * (1.0 / p) * z ** (1.0 / p - 1.0) * taps
            ga = np.where(a == 0, 0, gz)
            return (K.sum_backward(ga / divisor, win, x.shape) * (p * x ** (p - 1.0)),)

    return Tensor._from_op(out, (t,), backward, "PowBackward0")  # PyTorch's lp_pool ends in a pow


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False, padding=0, dilation=1):
    return _lp_pool(input, 1, "lp_pool1d", norm_type, kernel_size, stride, ceil_mode, padding, dilation)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False, padding=0, dilation=1):
    return _lp_pool(input, 2, "lp_pool2d", norm_type, kernel_size, stride, ceil_mode, padding, dilation)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False, padding=0, dilation=1):
    return _lp_pool(input, 3, "lp_pool3d", norm_type, kernel_size, stride, ceil_mode, padding, dilation)


# ---- max_unpool ---------------------------------------------------------------------------------------------

def _max_unpool(input, indices, n, op, kernel_size, stride, padding, output_size):
    t = pool_input(input, op, ints_ok=True)
    x = t._data
    check_input_dims(x.shape, n, op)
    check_not_empty(x.shape, n, op)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{op}: indices must be an integer tensor (as returned with return_indices=True). "
                         f"Got dtype={idx.dtype}.")
    if idx.shape != x.shape:
        raise ShapeError(f"{op}: indices must have the input's shape. Got input.shape={shape_str(x.shape)}, "
                         f"indices.shape={shape_str(idx.shape)}.")
    kernel = to_tuple(kernel_size, n, "kernel_size", op)
    check_positive(kernel, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        to_tuple(stride, n, "stride", op)
    check_positive(stride, "stride", op)
    pad = to_tuple(padding, n, "padding", op)
    spatial = x.shape[-n:]
    default = tuple((i - 1) * s - 2 * p + k for i, s, p, k in zip(spatial, stride, pad, kernel))
    if output_size is None:
        out_size = default
    else:
        sizes = tuple(output_size)[-n:] if len(tuple(output_size)) in (n, n + 1, n + 2) else None
        if sizes is None:
            raise ValueError(f"{op}: output_size should be a sequence containing {n} or {n + 2} elements. "
                             f"Got output_size={tuple(output_size)}.")
        for d, (o, dflt, s) in enumerate(zip(sizes, default, stride)):
            if not dflt - s < o < dflt + s:
                raise ValueError(f"{op}: invalid output_size {tuple(sizes)}: {spatial_names(n)[d]}_out must be "
                                 f"between {dflt - s} and {dflt + s} (exclusive), around (in - 1) * stride - "
                                 f"2 * padding + kernel_size = {dflt}.")
        out_size = tuple(int(o) for o in sizes)
    if any(o < 1 for o in out_size):
        raise ShapeError(f"{op}: output size would be 0 or less. Got output_size={out_size} from input.shape="
                         f"{shape_str(x.shape)}, kernel_size={_show(kernel)}, stride={_show(stride)}, "
                         f"padding={_show(pad)}.")
    check_allocation(op, x.shape[:x.ndim - n] + out_size, x.dtype)
    volume = int(np.prod(out_size))
    if idx.size and (idx.min() < 0 or idx.max() >= volume):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise ShapeError(f"{op}: found an invalid max index: every index must lie in [0, {volume}) for the "
                         f"output's spatial size {out_size}. Got index {bad}.")
    idx = idx.astype(np.int64, copy=False)
    out = K.unpool_forward(x, idx, out_size)

    # y[idx[i]] = x[i]: each input reads the gradient at the position it was written to.
    def backward(g):
        return (K.unpool_backward(g, idx, x.shape, n),)

    return Tensor._from_op(out, (t,), backward, pool_grad_fn_name(n, f"MaxUnpool{n}D"))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 1, "max_unpool1d", kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 2, "max_unpool2d", kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 3, "max_unpool3d", kernel_size, stride, padding, output_size)


attach_docs(globals(), ("max", "min", "avg", "lp", "max_un"))
