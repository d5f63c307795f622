"""Pooling with gradients: max, min, average and power-average pooling, adaptive pooling, max_unpool.

Every 1-d/2-d/3-d op is one N-d implementation (the array work is in cnnlab/kernels/pool.py). Beyond PyTorch
(a superset: PyTorch code gives PyTorch's result): min pooling, dilation on every pool (an average over the
dilated window's taps), padding='same'/'valid' or (before, after) pairs, padding and dilation for lp_pool,
divisor_override for avg_pool1d, None entries in an adaptive output_size.
"""
import numbers

import numpy as np

from ...autograd import is_grad_enabled
from ...errors import DTypeError, ShapeError, shape_str
from ...kernels import pool as K
from ...ops._operands import as_tensor_arg
from ...tensor import Tensor
from ._args import (check_input_dims, check_output_size, check_positive, output_size, resolve_padding,
                    spatial_names, to_tuple)

__all__ = [f"{kind}_pool{n}d" for kind in ("max", "min", "avg", "lp", "adaptive_avg", "adaptive_max")
           for n in (1, 2, 3)] + [f"max_unpool{n}d" for n in (1, 2, 3)]


# ---- argument checks ----------------------------------------------------------------------------------

def _input(input, op, ints_ok=False):
    """The input tensor, refusing dtypes the op has no meaning for."""
    t = as_tensor_arg(input, op, "input")
    kind = t._data.dtype.kind
    if kind != "f" and not (ints_ok and kind in "iu"):
        raise DTypeError(f"{op}: the input must be a {'floating-point or integer' if ints_ok else 'floating-point'}"
                         f" tensor. Got dtype={t.dtype}.")
    return t


def pool_windows(shape, n, op, kernel_size, stride, padding, dilation, ceil_mode):
    """Check every pooling argument against the input shape and return the kernels' Windows.

    stride None (or an empty sequence) means kernel_size. Padding on each side must be at most half the
    dilated kernel, (dilation * (kernel_size - 1) + 1) // 2, PyTorch's rule, so every window starts inside
    the input or its left padding.
    """
    check_input_dims(shape, n, op)
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
    return K.Windows(spatial, kernel, stride, pads, dilation, out)


def _show(values):
    return values[0] if len(set(values)) == 1 else values


# ---- max / min pooling -----------------------------------------------------------------------------------

def _extreme_pool(input, n, op, largest, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    t = _input(input, op, ints_ok=True)
    x = t._data
    win = pool_windows(x.shape, n, op, kernel_size, stride, padding, dilation, ceil_mode)
    need_arg = return_indices or (t.requires_grad and is_grad_enabled())
    out, arg = K.extreme_forward(x, win, largest, need_arg)

    # y[o] = x[argmax(o)]: dL/dx at the chosen element is the sum of the gradients of the outputs choosing it.
    def backward(g):
        return (K.extreme_backward(g, arg, win, x.shape),)

    res = Tensor._from_op(out, (t,), backward, f"{'Max' if largest else 'Min'}Pool{n}DBackward")
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
    t = _input(input, op)
    x = t._data
    win = pool_windows(x.shape, n, op, kernel_size, stride, padding, dilation, ceil_mode)
    if divisor_override is not None:
        if not isinstance(divisor_override, (numbers.Integral, np.integer)) or isinstance(divisor_override, bool):
            raise TypeError(f"{op}: divisor_override must be an int or None. Got divisor_override={divisor_override!r}.")
        if divisor_override == 0:
            raise ShapeError(f"{op}: divisor must be not zero. Got divisor_override=0.")
        divisor = int(divisor_override)
    else:  # a dilated window wholly in the padding has no taps: its average is 0 (0 / 1), not 0 / 0
        divisor = np.maximum(win.counts(count_include_pad), 1).astype(x.dtype)
    out = K.sum_forward(x, win)
    out /= divisor

    # y[o] = sum_{taps} x / divisor[o]: every tap of window o receives g[o] / divisor[o].
    def backward(g):
        return (K.sum_backward(g / divisor, win, x.shape),)

    return Tensor._from_op(out, (t,), backward, f"AvgPool{n}DBackward")


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
        from ...ops.elementwise import abs as _abs
        return _extreme_pool(_abs(_input(input, op)), n, op, norm_type > 0, kernel_size, stride, padding,
                             dilation, ceil_mode, False)
    t = _input(input, op)
    x = t._data
    win = pool_windows(x.shape, n, op, kernel_size, stride, padding, dilation, ceil_mode)
    p, taps = float(norm_type), int(np.prod(win.kernel))
    divisor = np.maximum(win.counts(True), 1).astype(x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = K.sum_forward(x ** p, win) / divisor  # avg_pool(x^p) with count_include_pad
        z = a * taps                                # PyTorch's sign(a) * relu(|a|) * kernel taps == a * taps
        out = z ** (1.0 / p)

    # y = z^(1/p), z = taps * avg(x^p): dy/dz = z^(1/p - 1) / p; PyTorch's relu(|a|) zeroes it where a == 0;
    # d(avg)/d(x^p) spreads over the window; d(x^p)/dx = p * x^(p-1).
    def backward(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            gz = g * (1.0 / p) * z ** (1.0 / p - 1.0) * taps
            ga = np.where(np.abs(a) > 0, gz, 0)
            return (K.sum_backward(ga / divisor, win, x.shape) * (p * x ** (p - 1.0)),)

    return Tensor._from_op(out, (t,), backward, f"LpPool{n}DBackward")


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False, padding=0, dilation=1):
    return _lp_pool(input, 1, "lp_pool1d", norm_type, kernel_size, stride, ceil_mode, padding, dilation)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False, padding=0, dilation=1):
    return _lp_pool(input, 2, "lp_pool2d", norm_type, kernel_size, stride, ceil_mode, padding, dilation)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False, padding=0, dilation=1):
    return _lp_pool(input, 3, "lp_pool3d", norm_type, kernel_size, stride, ceil_mode, padding, dilation)


# ---- adaptive pooling -----------------------------------------------------------------------------------

def _adaptive_sizes(shape, n, op, output_size):
    check_input_dims(shape, n, op)
    spatial = tuple(shape[-n:])
    if any(s == 0 for s in spatial):
        raise ShapeError(f"{op}: expects a non-empty input in every non-batch dimension. Got input.shape="
                         f"{shape_str(shape)}.")
    sizes = (output_size,) * n if output_size is None or isinstance(output_size, (numbers.Integral, np.integer)) \
        else output_size
    ok = isinstance(sizes, (tuple, list)) and len(sizes) in (1, n) and all(
        s is None or (isinstance(s, (numbers.Integral, np.integer)) and not isinstance(s, bool) and s >= 0)
        for s in sizes)
    if not ok:
        raise ValueError(f"{op}: output_size must be a non-negative int or a tuple of {n} such ints (or None to "
                         f"keep a dim). Got output_size={output_size!r}.")
    sizes = tuple(sizes) * (n if len(sizes) == 1 else 1)
    return spatial, tuple(int(s) if s is not None else size for s, size in zip(sizes, spatial))


def _adaptive_avg_pool(input, n, op, output_size):
    t = _input(input, op)
    x = t._data
    spatial, out_size = _adaptive_sizes(x.shape, n, op, output_size)
    lead = x.shape[:x.ndim - n]
    if 0 in out_size:
        return Tensor._from_op(np.zeros(lead + out_size, x.dtype), (t,), lambda g: (np.zeros_like(x),),
                               f"AdaptiveAvgPool{n}DBackward")
    y, divisor = x, np.ones(out_size, np.int64)
    for k, (size, o) in enumerate(zip(spatial, out_size)):
        if o != size:
            y, lens = K.adaptive_sum_axis(y, x.ndim - n + k, o)
            divisor = divisor * lens.reshape((-1,) + (1,) * (n - 1 - k))
    divisor = divisor.astype(x.dtype)
    out = y / divisor if y is not x else x.copy()

    # y = (bin sums along each axis) / bin volume: the gradient is g / volume summed back axis by axis.
    def backward(g):
        gd = g / divisor
        for k in range(n - 1, -1, -1):
            if out_size[k] != spatial[k]:
                gd = K.adaptive_sum_axis_backward(gd, x.ndim - n + k, spatial[k])
        return (gd,)

    return Tensor._from_op(out, (t,), backward, f"AdaptiveAvgPool{n}DBackward")


def _adaptive_max_pool(input, n, op, output_size, return_indices):
    t = _input(input, op, ints_ok=True)
    x = t._data
    spatial, out_size = _adaptive_sizes(x.shape, n, op, output_size)
    if 0 in out_size:
        vals = np.zeros(x.shape[:x.ndim - n] + out_size, x.dtype)
        out, flat = vals, vals.astype(np.int64)
    else:
        out, flat = K.adaptive_max_forward(x, out_size)

    # y[o] = x[argmax(o)]; bins may overlap, so one input can receive several outputs' gradients.
    def backward(g):
        return (K.scatter_flat(g, flat, spatial),)

    res = Tensor._from_op(out, (t,), backward, f"AdaptiveMaxPool{n}DBackward")
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


# ---- max_unpool ---------------------------------------------------------------------------------------------

def _max_unpool(input, indices, n, op, kernel_size, stride, padding, output_size):
    t = _input(input, op, ints_ok=True)
    x = t._data
    check_input_dims(x.shape, n, op)
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

    return Tensor._from_op(out, (t,), backward, f"MaxUnpool{n}DBackward")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 1, "max_unpool1d", kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 2, "max_unpool2d", kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 3, "max_unpool3d", kernel_size, stride, padding, output_size)


# ---- docstrings, written once for 1-d, 2-d and 3-d ----------------------------------------------------------

_LAYOUT = {1: "L", 2: "H, W", 3: "D, H, W"}
_EX = {1: ("1, 2, 8", "1, 2, 4"), 2: ("1, 2, 4, 4", "1, 2, 2, 2"), 3: ("1, 2, 4, 4, 4", "1, 2, 2, 2, 2")}
_WINDOW_ARGS = """
        kernel_size (int or tuple): the window size.
        stride (int or tuple, default None = kernel_size): the window step.
        padding (int, tuple, tuple of (before, after) pairs, 'valid' or 'same'; default 0): implicit padding on
            each side, at most (dilation * (kernel_size - 1) + 1) // 2. 'same' gives out = ceil(in / stride)."""
_SHAPE = """

    Shape:
        input (N, C, {L}) or unbatched (C, {L}); output (N, C, {L_out}) with, per spatial dim,
        out = floor((in + pad_before + pad_after - dilation * (kernel_size - 1) - 1) / stride) + 1
        (ceil instead of floor with ceil_mode, dropping a last window that would start in the right padding)."""
_RAISES = """

    Raises:
        ShapeError (ValueError, RuntimeError): wrong number of dims; kernel_size, stride or dilation below 1;
            padding over half the effective kernel; an input smaller than the (dilated) window.
        TypeError: a malformed size argument or an unsupported dtype."""
_DOCS = {
    "max": ("{Kind} pooling over {n}-d windows: each output is the {kind}imum of its window.{extra}"
            "\n\n    Args:\n        input (Tensor): (N, C, {L}) or (C, {L}), floating point or integer." + _WINDOW_ARGS + """
        dilation (int or tuple, default 1): spacing between the window's taps.
        ceil_mode (bool, default False): ceil instead of floor in the output size.
        return_indices (bool, default False): also return the argument of each {kind}imum as int64 indices into
            the flattened spatial input of each (n, c) plane (for max_unpool{n}d). Ties keep the first element in
            window order; NaN wins. Padding acts as {inf}.""" + _SHAPE + """

    Returns:
        Tensor, or (Tensor, indices) with return_indices.""" + _RAISES + """

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> F.{kind}_pool{n}d(cnnlab.ones({ex_in}), 2).shape
        cnnlab.Size([{ex_out}])
    """),
    "avg": ("""Average pooling over {n}-d windows: the sum of each window divided by its size.{extra}

    Args:
        input (Tensor): (N, C, {L}) or (C, {L}), floating point.""" + _WINDOW_ARGS + """
        ceil_mode (bool, default False): ceil instead of floor in the output size.
        count_include_pad (bool, default True): count padded taps in the divisor. Either way a ceil_mode window
            is clipped where it runs past the right padding, as PyTorch.
        divisor_override (int, default None): divide every window's sum by this instead.
        dilation (int or tuple, default 1): spacing between taps (beyond PyTorch: the average of the dilated
            window's taps).""" + _SHAPE + """

    Returns:
        Tensor.""" + _RAISES + """

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> F.avg_pool{n}d(cnnlab.ones({ex_in}), 2).shape
        cnnlab.Size([{ex_out}])
    """),
    "lp": ("""Power-average pooling over {n}-d windows: (sum of x^p over the window)^(1/p).{extra}

    Computed as PyTorch: (sign(a) * relu(|a|) * prod(kernel_size))^(1/p) with a = avg_pool{n}d(x^p), so ceil_mode
    windows clipped at the right edge are scaled up to a full kernel; p = inf is the max of |x|.

    Args:
        input (Tensor): (N, C, {L}) or (C, {L}), floating point.
        norm_type (float): p.
        kernel_size (int or tuple): the window size.
        stride (int or tuple, default None = kernel_size): the window step.
        ceil_mode (bool, default False): ceil instead of floor in the output size.
        padding, dilation (default 0 and 1): as in avg_pool{n}d (beyond PyTorch).""" + _SHAPE + """

    Returns:
        Tensor.""" + _RAISES + """

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> F.lp_pool{n}d(cnnlab.ones({ex_in}), 2, 2).shape
        cnnlab.Size([{ex_out}])
    """),
    "adaptive": ("""Adaptive {kind} pooling to a fixed {n}-d output size, whatever the input size.{extra}

    Output i along a dim covers the input bin [floor(i * in / out), ceil((i + 1) * in / out)), as PyTorch;
    output size 1 is global pooling.

    Args:
        input (Tensor): (N, C, {L}) or (C, {L}).
        output_size (int or tuple): the output's spatial size; a None entry keeps that input dim.{ret_arg}

    Shape:
        input (N, C, {L}) or (C, {L}); output (N, C, *output_size).

    Returns:
        Tensor{ret}.

    Raises:
        ShapeError (ValueError, RuntimeError): wrong number of dims or an empty spatial dim.
        ValueError: a malformed output_size.

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> F.adaptive_{kind}_pool{n}d(cnnlab.ones({ex_in}), 1).shape
        cnnlab.Size([1, 2{ones}])
    """),
    "unpool": ("""The partial inverse of max_pool{n}d: each input value goes to the position its index names,
    zeros elsewhere (a later duplicate index wins). Matches torch.nn.functional.max_unpool{n}d.

    Args:
        input (Tensor): (N, C, {L}) or (C, {L}), the pooled values.
        indices (Tensor): int64, input's shape, from max_pool{n}d(..., return_indices=True).
        kernel_size, stride (default None = kernel_size), padding (default 0): the pooling's arguments.
        output_size (tuple, default None): the spatial size to produce (or the full size); must be within
            stride of the default.

    Shape:
        out = (in - 1) * stride - 2 * padding + kernel_size per spatial dim, unless output_size is given.

    Returns:
        Tensor.

    Raises:
        ShapeError (ValueError, RuntimeError): wrong dims, indices of another shape, or an index out of range.
        ValueError: an output_size too far from the default.

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> y, i = F.max_pool{n}d(cnnlab.ones({ex_in}), 2, return_indices=True)
        >>> F.max_unpool{n}d(y, i, 2).shape
        cnnlab.Size([{ex_in}])
    """),
}


def _attach_docs():
    names = {"max": "max", "min": "min", "avg": "avg", "lp": "lp", "adaptive_avg": "adaptive",
             "adaptive_max": "adaptive", "max_un": "unpool"}
    for prefix, key in names.items():
        for n in (1, 2, 3):
            kind = prefix.split("_")[-1] if key == "adaptive" else prefix
            torch_has = prefix != "min"
            extra = (f" Matches torch.nn.functional.{prefix}pool{n}d." if prefix == "max_un" else
                     f" Matches torch.nn.functional.{prefix}_pool{n}d." if torch_has else
                     f" Beyond PyTorch: min_pool{n}d(x) == -max_pool{n}d(-x), ties and indices included.")
            doc = _DOCS["max" if key == "min" else key]
            fn = globals()[f"{prefix}pool{n}d" if prefix == "max_un" else f"{prefix}_pool{n}d"]
            fn.__doc__ = doc.format(
                n=n, L=_LAYOUT[n], L_out=", ".join(f"{d}_out" for d in _LAYOUT[n].split(", ")),
                kind=kind, Kind=kind.capitalize(), inf="-inf" if kind == "max" else "+inf",
                extra="" if prefix == "max_un" else extra, ex_in=_EX[n][0], ex_out=_EX[n][1], ones=", 1" * n,
                ret_arg=("\n        return_indices (bool, default False): also return int64 indices into the "
                         "flattened\n            spatial input (first maximum in row-major order; NaN wins)."
                         if kind == "max" else ""),
                ret=", or (Tensor, indices) with return_indices" if kind == "max" else "")


_attach_docs()
