"""Adaptive pooling, the scatters behind its gradients, and max-unpooling: pure array code, re-exported by
kernels/pool.py.

Adaptive pools work one spatial axis at a time (a box reduction is separable) with the bins
start = floor(i * in / out), end = ceil((i + 1) * in / out), looping over the offsets inside the longest bin.
"""
import numpy as np

from .nonfinite import quiet


# ---- adaptive pooling -----------------------------------------------------------------------------------

def adaptive_bins(size, out):
    """PyTorch's adaptive bins: start = floor(i * size / out), end = ceil((i + 1) * size / out)."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _axis_index(ndim, axis, idx):
    return (slice(None),) * axis + (idx,) + (slice(None),) * (ndim - axis - 1)


def _bcast(v, ndim, axis):
    """A per-position vector along axis, shaped to broadcast against an ndim array."""
    return v.reshape((-1,) + (1,) * (ndim - axis - 1))


@quiet
def adaptive_sum_axis(x, axis, out):
    """Sum of each adaptive bin along one axis, and the bin lengths: (..., out, ...), (out,)."""
    size = x.shape[axis]
    start, end = adaptive_bins(size, out)
    if size % out == 0:  # equal bins: a reshape
        k = size // out
        shape = x.shape[:axis] + (out, k) + x.shape[axis + 1:]  # (..., out, k, ...)
        return x.reshape(shape).sum(axis + 1), end - start
    acc = None
    for j in range(int((end - start).max())):
        idx, valid = np.minimum(start + j, end - 1), start + j < end
        v = np.take(x, idx, axis=axis)
        if not valid.all():
            v = np.where(_bcast(valid, x.ndim, axis), v, 0)
        acc = v if acc is None else acc + v
    return acc, end - start


@quiet
def adaptive_sum_axis_backward(g, axis, size):
    """d(bin sums)/dx along one axis: each input element receives the gradient of every bin holding it."""
    out = g.shape[axis]
    start, end = adaptive_bins(size, out)
    if size % out == 0:
        return np.repeat(g, size // out, axis=axis)
    grad = np.zeros(g.shape[:axis] + (size,) + g.shape[axis + 1:], g.dtype)
    for j in range(int((end - start).max())):
        valid = start + j < end
        idx = start + j
        # bins never share a start when out <= size; when out > size they can, so accumulate by index groups
        grad += scatter_sorted(np.compress(valid, g, axis=axis), idx[valid], axis, size)
    return grad


def scatter_sorted(vals, idx, axis, size):
    """Scatter-add vals (..., len(idx), ...) into `size` slots along axis at non-decreasing indices idx."""
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    sums = vals if len(starts) == len(idx) else np.add.reduceat(vals, starts, axis=axis)
    where = idx[starts]
    lo, hi = int(where[0]), int(where[-1]) + 1
    if hi - lo == len(where):  # the targets are a run lo..hi-1 (upsampling): a slice, not a fancy index
        if (lo, hi) == (0, size):
            return sums if sums is not vals else vals.copy()
        where = slice(lo, hi)
    out = np.zeros(vals.shape[:axis] + (size,) + vals.shape[axis + 1:], vals.dtype)
    out[_axis_index(vals.ndim, axis, where)] = sums
    return out


@quiet
def adaptive_extreme_axis(x, axis, out):
    """Max of each adaptive bin along one axis and its index along that axis (first max; last NaN)."""
    start, end = adaptive_bins(x.shape[axis], out)
    vals = arg = None
    for j in range(int((end - start).max())):
        idx = np.minimum(start + j, end - 1)  # short bins repeat their last element: harmless for a max
        v = np.take(x, idx, axis=axis)
        if vals is None:
            vals, arg = v, np.broadcast_to(_bcast(idx, x.ndim, axis), v.shape).copy()
            continue
        m = (v > vals) | np.isnan(v) if x.dtype.kind == "f" else v > vals
        np.copyto(vals, v, where=m)
        np.copyto(arg, _bcast(idx, x.ndim, axis), where=m)
    return vals, arg


@quiet
def adaptive_max_forward(x, out_size):
    """Adaptive max over the trailing len(out_size) dims: (values, flat indices into the spatial input).

    Separable: reducing the last axis first, then each earlier one with strict '>', keeps the row-major first
    maximum of each box (the first row holding the max, then that row's first column), as PyTorch's scan.
    """
    n = len(out_size)
    spatial = x.shape[x.ndim - n:]
    vals, flat = x, None
    inner = 1  # number of flattened positions in the axes already reduced
    for k in range(n - 1, -1, -1):
        axis = x.ndim - n + k
        vals, arg = adaptive_extreme_axis(vals, axis, out_size[k])
        if flat is None:
            flat = arg.astype(np.int64)
        else:  # the winner's index in the inner axes, taken from the row this axis picked
            flat = arg * inner + np.take_along_axis(flat, arg, axis=axis)
        inner *= spatial[k]
    return vals, flat


def scatter_flat(g, flat, spatial):
    """Gradient of a gather by flat spatial indices: add g (..., *out) into zeros (..., *spatial)."""
    lead = g.shape[:g.ndim - len(spatial)]
    B, P = int(np.prod(lead, dtype=np.int64)), int(np.prod(spatial, dtype=np.int64))
    O = int(np.prod(flat.shape[flat.ndim - len(spatial):], dtype=np.int64))
    where = flat.reshape(B, O) + (np.arange(B, dtype=np.int64) * P)[:, None]  # (B, O) global positions
    grad = np.bincount(where.ravel(), weights=g.reshape(-1), minlength=B * P)
    return grad.astype(g.dtype, copy=False).reshape(lead + tuple(spatial))


# ---- unpooling --------------------------------------------------------------------------------------------

def unpool_forward(x, indices, spatial_out):
    """Zeros of (..., *spatial_out) with x written at its flat indices (a later duplicate wins)."""
    lead = x.shape[:x.ndim - len(spatial_out)]
    B = int(np.prod(lead, dtype=np.int64))
    out = np.zeros((B, int(np.prod(spatial_out, dtype=np.int64))), x.dtype)  # (B, prod(spatial_out))
    n_in = int(np.prod(x.shape[x.ndim - len(spatial_out):], dtype=np.int64))
    np.put_along_axis(out, indices.reshape(B, n_in), x.reshape(B, n_in), axis=1)
    return out.reshape(lead + tuple(spatial_out))


def unpool_backward(g, indices, x_shape, n):
    """d(unpool)/dx: each input reads the gradient at the position it was written to."""
    lead = g.shape[:g.ndim - n]
    B = int(np.prod(lead, dtype=np.int64))
    n_out, n_in = int(np.prod(g.shape[g.ndim - n:], dtype=np.int64)), int(np.prod(x_shape[len(x_shape) - n:]))
    return np.take_along_axis(g.reshape(B, n_out), indices.reshape(B, n_in), axis=1).reshape(x_shape)
