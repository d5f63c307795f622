"""Direct convolution that forms exactly the products PyTorch forms, for inputs with inf or NaN.

The fast algorithms get their speed from arithmetic that is only equivalent for finite numbers: Winograd and FFT
mix inputs in transforms (inf - inf = NaN spreads over a tile or a whole image), 'toeplitz' and 'depthwise'
multiply structural zeros of a banded matrix with the input (0 * inf = NaN where no kernel tap touches the inf),
and the flat lowerings compute wrap-around grid positions against a zero gradient. PyTorch's answer is the plain
sum of products of the direct convolution (checked against the loop references in tests/test_nonfinite.py):

    forward            y[n, o, p]  = sum_{c, k} w[o, c, k] * xpad[n, g(o)*Cg + c, p*s + k*d]   (padding zeros count)
    backward_input     dx[n, c, i] = sum over the pairs (o, p, k) with p*s + k*d - before = i of w * g
    backward_weight    dw[o, c, k] = sum_{n, p} g[n, o, p] * xpad[n, g(o)*Cg + c, p*s + k*d]  (padding zeros count)

An IEEE sum of products is NaN or +-inf independently of its order, so computing these one kernel tap at a time
(one matmul per tap) gives PyTorch's non-finite entries exactly. kernels/conv.py calls these when a fast
algorithm's result is not finite (`finite`), so the finite case pays one reduction at most. `quiet` keeps NumPy's
warnings about inf and NaN from the user in every kernel.

>>> from cnnlab.kernels.geometry import ConvGeometry
>>> x = np.zeros((1, 1, 5)); x[0, 0, 2] = np.inf
>>> forward(x, np.ones((1, 1, 2)), ConvGeometry.of(x.shape, (1, 1, 2), (1,), ((0, 0),), (1,), 1)).tolist()
[[[0.0, inf, inf, 0.0]]]
"""
import functools
import itertools

import numpy as np

from ._shape import prod
from .common import padded, tap_window


def quiet(fn):
    """fn with NumPy's floating-point warnings off, as PyTorch computes inf and NaN silently (kernels/parallel.py
    hands the setting to the kernel threads)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return wrapper


def finite(a):
    """Whether every value of a is finite: one BLAS dot product of a with itself, which is NaN or inf when any value
    is (it may also overflow on huge finite values, a false 'no' that only costs an exact recomputation)."""
    if a.dtype.itemsize < 4:             # float16 squares overflow from 256 (and NumPy has no BLAS for them)
        return bool(np.isfinite(a).all())
    flat = a.reshape(-1)
    with np.errstate(all="ignore"):
        return bool(np.isfinite(np.dot(flat, flat)))


def _offsets(kernel):
    return itertools.product(*(range(k) for k in kernel))


def _tap(a, off):
    """a[:, :, *off]: (O, Cg) of a weight (O, Cg, *K)."""
    return a[(slice(None), slice(None)) + tuple(off)]


@quiet
def forward(x, w, geom):
    """kernels/conv.py's conv_forward, one matmul per kernel tap: (N, O, *out_size)."""
    n, o, cg = x.shape[0], w.shape[0], w.shape[1]
    stride, dilation, groups, out_size = geom.stride, geom.dilation, geom.groups, geom.out_size
    xp = padded(x, geom.pads)
    length = prod(out_size)
    y = np.zeros((n, groups, o // groups, length), x.dtype)                  # (N, G, Og, L)
    for off in _offsets(w.shape[2:]):
        cols = tap_window(xp, off, out_size, stride, dilation).reshape(n, groups, cg, length)  # (N, G, Cg, L)
        y += np.matmul(_tap(w, off).reshape(groups, o // groups, cg), cols)
    return y.reshape((n, o) + out_size)


@quiet
def backward_input(g, w, geom):
    """kernels/conv.py's conv_backward_input: each tap's W^T @ g added into its window of the padded input, whose
    padding (where PyTorch drops the products) is cut off at the end."""
    x_shape, stride, padding, dilation, groups = geom.x_shape, geom.stride, geom.pads, geom.dilation, geom.groups
    n, c, o, cg = x_shape[0], x_shape[1], w.shape[0], w.shape[1]
    out_size = g.shape[2:]
    dxp = np.zeros((n, c) + tuple(s + b + a for s, (b, a) in zip(x_shape[2:], padding)), g.dtype)
    gg = g.reshape(n, groups, o // groups, prod(out_size))                   # (N, G, Og, L)
    for off in _offsets(w.shape[2:]):
        wt = _tap(w, off).reshape(groups, o // groups, cg).transpose(0, 2, 1)  # (G, Cg, Og)
        tap_window(dxp, off, out_size, stride, dilation)[...] += np.matmul(wt, gg).reshape((n, c) + out_size)
    return np.ascontiguousarray(dxp[(slice(None), slice(None)) + tuple(slice(b, b + s) for s, (b, _) in
                                                                       zip(x_shape[2:], padding))])


@quiet
def backward_weight(x, g, geom):
    """kernels/conv.py's conv_backward_weight: per tap, g (G, Og, N*L) @ the tap's window (G, N*L, Cg)."""
    w_shape, stride, dilation, groups = geom.w_shape, geom.stride, geom.dilation, geom.groups
    n, o, cg = x.shape[0], w_shape[0], w_shape[1]
    out_size = g.shape[2:]
    length = prod(out_size)
    xp = padded(x, geom.pads)
    gt = g.reshape(n, groups, o // groups, length).transpose(1, 2, 0, 3).reshape(groups, o // groups, n * length)
    dw = np.empty(tuple(w_shape), g.dtype)
    for off in _offsets(w_shape[2:]):
        cols = tap_window(xp, off, out_size, stride, dilation).reshape(n, groups, cg, length)
        cols = cols.transpose(1, 0, 3, 2).reshape(groups, n * length, cg)     # (G, N*L, Cg)
        _tap(dw, off)[...] = np.matmul(gt, cols).reshape(o, cg)
    return dw
