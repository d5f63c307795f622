"""Resizing with gradients: F.interpolate (nearest, nearest-exact, linear, bilinear, trilinear, bicubic, area,
with antialias for bilinear/bicubic) and the upsample aliases.

Every mode except 'area' is separable: along each spatial axis, output o is a weighted sum of a few input
samples (taps), idx[t][o] with weight w[t][o]. The forward pass gathers and sums the taps one axis at a time;
the backward pass scatters the gradient back through the same taps (the adjoint), one axis at a time. The
source positions follow PyTorch's CPU kernels exactly, including the float32 index arithmetic of 'nearest'.
'area' is adaptive_avg_pool.
"""
import math
import numbers

import numpy as np

from ..._memory import check_allocation
from ...errors import DTypeError, ShapeError, shape_str
from ...kernels.pool import scatter_sorted
from ...ops._operands import as_tensor_arg, quiet
from ...tensor import Tensor
from .adaptive_pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}  # the input rank each mode needs
MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


class InterpolateRankError(ValueError, NotImplementedError):
    """A mode used with an input rank it has no meaning for: a ValueError, and the NotImplementedError (a
    RuntimeError) PyTorch raises."""


# ---- per-axis taps: (idx (T, out) int64, w (T, out) or None) ---------------------------------------------

def _scale(in_size, out_size, align_corners, scale, dt):
    """PyTorch's area_pixel_compute_scale in the op's math type dt: the input step per output step."""
    if align_corners:
        return dt(in_size - 1) / dt(out_size - 1) if out_size > 1 else dt(0)
    return dt(1.0 / scale) if scale is not None and scale > 0 else dt(in_size) / dt(out_size)


def _source(in_size, out_size, align_corners, scale, dt, cubic):
    """Source coordinate of every output: scale * o (align_corners) or scale * (o + 0.5) - 0.5, clamped at
    0 except for cubic, as PyTorch's area_pixel_compute_source_index."""
    sc = _scale(in_size, out_size, align_corners, scale, dt)
    o = np.arange(out_size, dtype=dt)
    if align_corners:
        return sc * o
    src = sc * (o + dt(0.5)) - dt(0.5)
    return src if cubic else np.maximum(src, dt(0))


def _nearest_taps(in_size, out_size, scale, exact, two_d):
    """PyTorch's nearest index, in float32 as its kernel computes it: floor(o * s) ('nearest') or
    floor((o + 0.5) * s) ('nearest-exact'), capped at in - 1, s = 1 / scale_factor or in / out.

    'nearest' copies when the size is unchanged and halves the index when the size exactly doubles; PyTorch
    2.x's 2-d kernel does so even when a scale_factor says otherwise (3 * 2.3 -> 6 takes o // 2), its 1-d and
    3-d kernels only without a scale_factor. Both are reproduced.
    """
    o = np.arange(out_size)
    if not exact and (scale is None or two_d):
        if out_size == in_size:
            return o[None], None
        if out_size == 2 * in_size:
            return (o >> 1)[None], None
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(in_size) / np.float32(out_size)
    pos = ((o + 0.5) * np.float64(s)).astype(np.float32) if exact else o.astype(np.float32) * s
    return np.minimum(np.floor(pos).astype(np.int64), in_size - 1)[None], None


def _index_and_lambda(src, in_size):
    """PyTorch's guard_index_and_lambda: i0 = min(floor(src), in - 1) (floor taken in float32, as floorf),
    lambda = clamp(src - i0, 0, 1)."""
    i0 = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), in_size - 1)
    lam = np.clip(src - i0.astype(src.dtype), 0, 1).astype(src.dtype)
    return i0, lam


def _linear_taps(in_size, out_size, align_corners, scale, dt):
    i0, lam = _index_and_lambda(_source(in_size, out_size, align_corners, scale, dt, False), in_size)
    i1 = i0 + (i0 < in_size - 1)
    return np.stack([i0, i1]), np.stack([dt(1) - lam, lam])


def cubic_near(x, a):
    """Keys' cubic convolution kernel with parameter a for |x| <= 1."""
    return ((a + 2) * x - (a + 3)) * x * x + 1


def cubic_far(x, a):
    """Keys' cubic convolution kernel with parameter a for 1 < |x| < 2."""
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _cubic_weights(t, a):
    """Keys' cubic convolution weights of the 4 taps at offsets -1, 0, 1, 2 for fraction t."""
    one = t.dtype.type(1)
    return np.stack([cubic_far(t + one, a), cubic_near(t, a), cubic_near(one - t, a), cubic_far(2 * one - t, a)])


def _cubic_taps(in_size, out_size, align_corners, scale, dt):
    i0, t = _index_and_lambda(_source(in_size, out_size, align_corners, scale, dt, True), in_size)
    idx = np.stack([np.clip(i0 - 1 + j, 0, in_size - 1) for j in range(4)])
    return idx, _cubic_weights(t, dt(-0.75)).astype(dt)


def _antialias_taps(in_size, out_size, align_corners, scale, dt, cubic):
    """PyTorch's antialiased weights: the triangle (bilinear) or Keys a=-0.5 (bicubic) filter stretched by
    the scale when downsampling, over [center - support, center + support), normalised to sum to 1."""
    sc = _scale(in_size, out_size, align_corners, scale, dt)
    interp = 4 if cubic else 2
    support = dt(interp * 0.5) * sc if sc >= 1 else dt(interp * 0.5)
    invscale = dt(1.0) / sc if sc >= 1 else dt(1.0)
    max_taps = int(math.ceil(support)) * 2 + 1
    center = sc * (np.arange(out_size, dtype=dt) + dt(0.5))
    xmin = np.maximum((center - support + dt(0.5)).astype(np.int64), 0)  # C++ casts truncate toward zero
    xsize = np.clip(np.minimum((center + support + dt(0.5)).astype(np.int64), in_size) - xmin, 0, max_taps)
    j = np.arange(max_taps)[:, None]                                        # (T, 1)
    x = np.abs((j + xmin - center + dt(0.5)) * invscale).astype(dt)         # (T, out)
    if cubic:
        a = dt(-0.5)
        w = np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                     np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0))
    else:
        w = np.maximum(dt(1) - x, 0)
    w = np.where(j < xsize, w, 0).astype(dt)
    total = w.sum(0)
    w = np.where(total != 0, w / np.where(total != 0, total, 1), w).astype(dt)
    return np.minimum(xmin + j, in_size - 1), w


def _axis_taps(mode, in_size, out_size, align_corners, scale, dt, antialias, n_spatial):
    """The taps of one axis. PyTorch's linear and antialiased kernels skip an axis whose size is unchanged, so
    it is a copy there even when a scale_factor other than 1 (say 1.1 on a size of 5) names another grid;
    its plain bicubic kernel has no such shortcut."""
    if mode in ("nearest", "nearest-exact"):
        return _nearest_taps(in_size, out_size, scale, mode == "nearest-exact", n_spatial == 2)
    if in_size == out_size and (antialias or mode != "bicubic"):
        return np.arange(out_size)[None], None
    if antialias:
        return _antialias_taps(in_size, out_size, align_corners, scale, dt, mode == "bicubic")
    if mode == "bicubic":
        return _cubic_taps(in_size, out_size, align_corners, scale, dt)
    return _linear_taps(in_size, out_size, align_corners, scale, dt)


@quiet
def gather_axis(x, axis, idx, w):
    """sum_t w[t] * x[..., idx[t], ...] along axis."""
    y = None
    for t in range(idx.shape[0]):
        v = np.take(x, idx[t], axis=axis)
        if w is not None:
            v *= w[t].reshape((-1,) + (1,) * (x.ndim - axis - 1))
        y = v if y is None else np.add(y, v, out=y)
    return y


@quiet
def _scatter_axis(g, axis, idx, w, in_size):
    """The adjoint of gather_axis: every tap adds w[t] * g back at idx[t] (indices non-decreasing in o)."""
    grad = None
    for t in range(idx.shape[0]):
        gw = g if w is None else g * w[t].reshape((-1,) + (1,) * (g.ndim - axis - 1))
        part = scatter_sorted(gw, idx[t], axis, in_size)
        grad = part if grad is None else np.add(grad, part, out=grad)
    return grad


# ---- argument handling ---------------------------------------------------------------------------------------

def _output_size(shape, size, scale_factor, recompute_scale_factor, mode):
    """PyTorch's rules: exactly one of size and scale_factor; out = floor(in * scale_factor); the scale itself
    drives the source positions unless recompute_scale_factor (or mode 'area') recomputes it from the sizes."""
    dim = len(shape) - 2
    if size is not None and scale_factor is not None:
        raise ValueError(f"interpolate: only one of size or scale_factor should be defined. Got size={size!r}, "
                         f"scale_factor={scale_factor!r}.")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined. Got size=None, "
                         "scale_factor=None.")
    if recompute_scale_factor and size is not None:
        raise ValueError(f"interpolate: recompute_scale_factor is not meaningful with an explicit size. Got "
                         f"size={size!r}, recompute_scale_factor=True.")
    value, name = (size, "size") if size is not None else (scale_factor, "scale_factor")
    kind = (numbers.Integral, np.integer) if size is not None else numbers.Real
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dim
    if len(values) != dim:
        raise ValueError(f"interpolate: {name} must have one entry per spatial dimension. Got {name}={value!r} "
                         f"for input spatial dimensions {list(shape[2:])} (input (N, C, d1, ..., d{dim})).")
    if not all(isinstance(v, kind) and not isinstance(v, bool) for v in values):
        want = "an int or a tuple of ints" if size is not None else "a number or a tuple of numbers"
        raise TypeError(f"interpolate: {name} must be {want}. Got {name}={value!r}.")
    if size is not None:
        out, scales = tuple(int(v) for v in values), (None,) * dim
    elif not all(math.isfinite(float(v)) for v in values):  # floor(in * nan) has no integer value
        raise ShapeError(f"interpolate: scale_factor must be finite. Got scale_factor={value!r} for input spatial "
                         f"size {tuple(shape[2:])}.")
    else:
        out = tuple(int(math.floor(float(i) * float(s))) for i, s in zip(shape[2:], values))
        scales = (None,) * dim if recompute_scale_factor or mode == "area" else tuple(float(s) for s in values)
    if mode == "area" and min(out) == 0 and min(shape[2:]) > 0:
        return out, scales  # PyTorch: adaptive_avg_pool to an empty size, no sampling check
    if any(o < 1 for o in out) or any(i < 1 for i in shape[2:]):
        raise ShapeError(f"interpolate: input and output sizes should be greater than 0. Got input spatial size "
                         f"{tuple(shape[2:])}, output size {out} ({name}={value!r}).")
    return out, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of a batch by sampling (nearest), interpolating (linear, bicubic) or averaging.

    Matches torch.nn.functional.interpolate: the same output sizes and, per output, the same source
    position: (o + 0.5) / scale - 0.5 (align_corners=False, scale = scale_factor when given and
    recompute_scale_factor is not set, else out / in) or o * (in - 1) / (out - 1) (align_corners=True);
    'nearest' takes floor(o / scale), 'nearest-exact' floor((o + 0.5) / scale); edges are clamped.

    Args:
        input (Tensor): (N, C, L), (N, C, H, W) or (N, C, D, H, W), floating point.
        size (int or tuple, default None): the output spatial size.
        scale_factor (float or tuple, default None): multiplier of the spatial size; exactly one of size and
            scale_factor.
        mode (str, default 'nearest'): 'nearest', 'nearest-exact', 'linear' (3-d input), 'bilinear' and
            'bicubic' (4-d), 'trilinear' (5-d), or 'area' (adaptive average pooling).
        align_corners (bool, default None = False): map corner pixel centers onto each other; only for the
            interpolating modes.
        recompute_scale_factor (bool, default None): compute the scale from the output size instead of using
            scale_factor.
        antialias (bool, default False): low-pass filter when downsampling ('bilinear', 'bicubic', 4-d only).

    Shape:
        (N, C, *in) -> (N, C, *out) with out = size, or floor(in * scale_factor).

    Returns:
        Tensor of the input's dtype.

    Raises:
        ValueError: both or neither of size and scale_factor, an unknown mode, align_corners with a
            non-interpolating mode, antialias with another mode, sizes of the wrong length.
        InterpolateRankError (ValueError, NotImplementedError): the mode does not fit the input rank.
        ShapeError (ValueError, RuntimeError): an input or output size below 1 (mode='area' allows an output
            size of 0, an empty result, as PyTorch).

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> x = cnnlab.tensor([[[1.0, 2.0, 4.0]]])
        >>> F.interpolate(x, scale_factor=2).tolist()
        [[[1.0, 1.0, 2.0, 2.0, 4.0, 4.0]]]
        >>> F.interpolate(x, size=5, mode="linear", align_corners=True).tolist()
        [[[1.0, 1.5, 2.0, 3.0, 4.0]]]
    """
    t = as_tensor_arg(input, "interpolate", "input")
    x = t._data
    if mode not in MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(MODES)}. Got mode={mode!r}.")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                             f"linear | bilinear | bicubic | trilinear. Got mode={mode!r}, "
                             f"align_corners={align_corners!r}.")
    if x.ndim not in (3, 4, 5):
        raise InterpolateRankError(f"interpolate: only 3-d, 4-d and 5-d inputs (N, C, *spatial) are supported. "
                                   f"Got a {x.ndim}-d input of shape {tuple(x.shape)} for mode={mode!r}.")
    if mode in _RANK and x.ndim != _RANK[mode]:
        raise InterpolateRankError(f"interpolate: mode={mode!r} needs a {_RANK[mode]}-d input ("
                                   f"{_RANK[mode] - 2} spatial dims). Got {x.ndim}-d input of shape {tuple(x.shape)}.")
    if antialias and not (mode in ("bilinear", "bicubic") and x.ndim == 4):
        raise ValueError("interpolate: anti-alias option is restricted to bilinear and bicubic modes and requires "
                         f"a 4-d tensor as input. Got mode={mode!r}, input of {x.ndim} dims.")
    if x.dtype == np.uint8 and mode in ("nearest", "nearest-exact", "bilinear"):
        return _interpolate_uint8(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    if x.dtype.kind != "f":
        raise DTypeError(f"interpolate: the input must be floating point (or uint8 for nearest, nearest-exact and "
                         f"bilinear). Got dtype={t.dtype}, mode={mode!r}.")
    out_size, scales = _output_size(x.shape, size, scale_factor, recompute_scale_factor, mode)
    if x.shape[1] == 0 and mode != "area":  # PyTorch: "Non-empty 4D data tensor expected" (a 0 batch is fine)
        raise ShapeError(f"interpolate: the input must have at least one channel. Got input.shape="
                         f"{shape_str(x.shape)}, mode={mode!r}.")
    check_allocation("interpolate", x.shape[:2] + tuple(out_size), x.dtype)
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[x.ndim - 3](t, out_size)
    dt = x.dtype.type
    taps = [_axis_taps(mode, i, o, bool(align_corners), s, dt, antialias, x.ndim - 2)
            for i, o, s in zip(x.shape[2:], out_size, scales)]
    y = x
    for axis, (idx, w) in enumerate(taps, start=2):
        if w is None and idx.shape[1] == x.shape[axis] and np.array_equal(idx[0], np.arange(x.shape[axis])):
            continue  # an unchanged size under 'nearest' is a copy
        y = gather_axis(y, axis, idx, w)
    out = y.copy() if y is x else y

    # y = W_last (... (W_2 x)) with one sparse W per axis: dL/dx applies the transposes in reverse order.
    def backward(g):
        for axis in range(x.ndim - 1, 1, -1):
            idx, w = taps[axis - 2]
            if w is None and idx.shape[1] == x.shape[axis] and np.array_equal(idx[0], np.arange(x.shape[axis])):
                continue
            g = _scatter_axis(g, axis, idx, w, x.shape[axis])
        return (g,)

    # PyTorch's node: upsample_<mode><n>d, with _aa for antialias (UpsampleNearestExact2DBackward0, ...)
    name = "".join(w.capitalize() for w in mode.split("-")) + f"{x.ndim - 2}D" + ("Aa" if antialias else "")
    return Tensor._from_op(out, (t,), backward, f"Upsample{name}Backward0")


def _interpolate_uint8(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias):
    """uint8 images as PyTorch resizes them on CPU: nearest modes pick pixels; bilinear interpolates in float32
    and rounds to the nearest integer, clamped to [0, 255]. No gradient (an integer tensor)."""
    if mode != "bilinear":
        y = interpolate(Tensor._wrap(x.astype(np.float32)), size, scale_factor, mode, align_corners,
                        recompute_scale_factor, antialias)._data
        return Tensor._wrap(y.astype(np.uint8))
    out_size, scales = _output_size(x.shape, size, scale_factor, recompute_scale_factor, mode)
    check_allocation("interpolate", x.shape[:2] + tuple(out_size), x.dtype)
    y = x
    for axis in (3, 2):  # the horizontal pass first, each rounded back to uint8, as PyTorch's CPU kernel
        idx, w = _axis_taps(mode, x.shape[axis], out_size[axis - 2], bool(align_corners), scales[axis - 2],
                            np.float64, antialias, 2)
        if w is None:
            continue
        y = _gather_axis_uint8(y, axis, idx, w)
    return Tensor._wrap(y.copy() if y is x else y)


def _gather_axis_uint8(x, axis, idx, w):
    """gather_axis in PyTorch's fixed point: weights scaled by 2**p (the largest p, up to 22, that keeps the
    biggest weight under 2**15), an int32 sum, rounded by adding half and shifting, clamped to [0, 255]."""
    w_max = float(np.max(w))
    p = 0
    while p < 22 and int(0.5 + w_max * (1 << (p + 1))) < (1 << 15):
        p += 1
    wi = np.round(w * (1 << p)).astype(np.int64) if p else np.round(w).astype(np.int64)
    acc = np.full(np.take(x, idx[0], axis=axis).shape, 1 << (p - 1) if p else 0, np.int64)
    for t in range(idx.shape[0]):
        acc += np.take(x, idx[t], axis=axis).astype(np.int64) * wi[t].reshape((-1,) + (1,) * (x.ndim - axis - 1))
    return np.clip(acc >> p, 0, 255).astype(np.uint8)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """interpolate() under its older name. Matches torch.nn.functional.upsample.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.upsample(cnnlab.ones(1, 1, 2, 2), scale_factor=2).shape
    cnnlab.Size([1, 1, 4, 4])
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """interpolate(..., mode='nearest'). Matches torch.nn.functional.upsample_nearest.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.upsample_nearest(cnnlab.ones(1, 1, 2, 2), size=3).shape
    cnnlab.Size([1, 1, 3, 3])
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """interpolate(..., mode='bilinear', align_corners=True), as PyTorch's upsample_bilinear.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.upsample_bilinear(cnnlab.tensor([[[[0.0, 3.0]]]]), size=(1, 4)).tolist()
    [[[[0.0, 1.0, 2.0, 3.0]]]]
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
