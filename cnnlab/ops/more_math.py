"""Math PyTorch has that tutorials reach for, with gradients: exp2, the inverse hyperbolic functions, copysign,
bit shifts, and the running products and extremes (cumprod, cummax, cummin, logcumsumexp)."""
import collections

import numpy as np

from .. import _dtypes
from ..errors import ArgumentError, DTypeError
from ..tensor import Tensor
from . import indexing
from ._operands import as_tensor_arg, binary_arrays, quiet
from .elementwise import binary_op, unary_op


def exp2(input):
    """2 ** input, elementwise. Matches torch.exp2.

    >>> import cnnlab
    >>> cnnlab.exp2(cnnlab.tensor([0.0, 3.0]))
    tensor([1., 8.])
    """
    # d 2^x = 2^x ln 2
    return unary_op(input, "exp2", np.exp2, lambda g, x, o: g * o * np.log(2.0).astype(o.dtype))


def asinh(input):
    """Elementwise inverse hyperbolic sine. Matches torch.asinh.

    >>> import cnnlab
    >>> cnnlab.asinh(cnnlab.tensor([0.0]))
    tensor([0.])
    """
    return unary_op(input, "asinh", np.arcsinh, lambda g, x, o: g / np.sqrt(x * x + 1))


def acosh(input):
    """Elementwise inverse hyperbolic cosine (nan below 1). Matches torch.acosh.

    >>> import cnnlab
    >>> cnnlab.acosh(cnnlab.tensor([1.0]))
    tensor([0.])
    """
    return unary_op(input, "acosh", np.arccosh, lambda g, x, o: g / np.sqrt(x * x - 1))


def atanh(input):
    """Elementwise inverse hyperbolic tangent (inf at +-1). Matches torch.atanh.

    >>> import cnnlab
    >>> cnnlab.atanh(cnnlab.tensor([0.0]))
    tensor([0.])
    """
    return unary_op(input, "atanh", np.arctanh, lambda g, x, o: g / (1 - x * x))


def copysign(input, other):
    """|input| with the sign of other, elementwise (integers give floats). Matches torch.copysign.

    >>> import cnnlab
    >>> cnnlab.copysign(cnnlab.tensor([1.0, -2.0]), -1.0)
    tensor([-1., -2.])
    """
    _, _, xa, xb = binary_arrays(input, other, "copysign")
    if np.result_type(xa, xb).kind != "f":  # integer operands give the default float dtype, as torch
        f = _dtypes.get_default_dtype().np
        input = Tensor._wrap(np.asarray(xa, f)) if not isinstance(input, Tensor) or input._data.dtype.kind != "f" \
            else input
    # d/da = out / a where a != 0 (the sign flip, +-1), 0 at a == 0; other gets no gradient (a step function)
    return binary_op(input, other, "copysign", np.copysign,
                   lambda g, a, b, o: np.where(a == 0, 0, g * np.where(o == a, 1, -1)).astype(g.dtype, copy=False),
                   lambda g, a, b, o: np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b)), g.dtype))


def _shift(input, other, op, fn):
    ta, tb, xa, xb = binary_arrays(input, other, op)
    kind = np.result_type(xa, xb).kind
    if kind not in "iu":
        raise DTypeError(f"{op}: expects integer tensors. Got dtype={np.result_type(xa, xb)}.")
    bits = np.result_type(xa, xb).itemsize * 8
    with np.errstate(all="ignore"):
        out = fn(xa, np.clip(xb, 0, bits - 1))
        # shifting by the width or more: torch gives 0 (left, and right of non-negatives) or -1 (right of negatives)
        wide = np.asarray(xb) >= bits
        if np.any(wide):
            fill = np.where(np.asarray(xa) < 0, -1, 0) if fn is np.right_shift else 0
            out = np.where(wide, fill, out)
    return Tensor._wrap(np.asarray(out, dtype=np.result_type(xa, xb)))


def bitwise_left_shift(input, other):
    """input << other for integer tensors. Matches torch.bitwise_left_shift.

    >>> import cnnlab
    >>> cnnlab.tensor([1, 3]) << 2
    tensor([ 4, 12])
    """
    return _shift(input, other, "bitwise_left_shift", np.left_shift)


def bitwise_right_shift(input, other):
    """input >> other for integer tensors (arithmetic: negatives stay negative). Matches
    torch.bitwise_right_shift.

    >>> import cnnlab
    >>> cnnlab.tensor([8, -8]) >> 2
    tensor([ 2, -2])
    """
    return _shift(input, other, "bitwise_right_shift", np.right_shift)


def _along(input, dim, op):
    t = as_tensor_arg(input, op, "input")
    axis = t._dim(dim, op)
    x = t._data if t.ndim else t._data.reshape(1)
    return t, x, (axis if t.ndim else 0)


def _rev_cumsum(a, axis):
    return np.flip(np.cumsum(np.flip(a, axis), axis=axis), axis)


def cumprod(input, dim, dtype=None):
    """Running product along dim; integer and bool inputs give int64. Matches torch.cumprod.

    >>> import cnnlab
    >>> cnnlab.tensor([1.0, 2.0, 3.0]).cumprod(0)
    tensor([1., 2., 6.])
    """
    t, x, axis = _along(input, dim, "cumprod")
    out_dtype = _dtypes.as_dtype(dtype).np if dtype is not None else (np.int64 if x.dtype.kind in "biu" else x.dtype)
    out = np.cumprod(x, axis=axis, dtype=out_dtype)

    # out_j = prod_{i <= j} x_i  =>  dx_i = sum_{j >= i} g_j out_j / x_i where x_i != 0. Past the first zero
    # of a row every out_j is 0 and so is that sum, which is right; the first zero itself gets
    # out_{k-1} * sum_{j >= k} g_j prod_{k < m <= j} x_m, computed row by row (only rows with a zero)
    @quiet
    def backward(g):
        g = g.reshape(out.shape)
        nz = x != 0
        gx = np.where(nz, _rev_cumsum(g * out, axis) / np.where(nz, x, 1), 0)
        if not nz.all():
            xm, gm, gxm = (np.moveaxis(a, axis, -1) for a in (x, g, gx))  # gxm: a view of gx
            for row in zip(*np.nonzero(~nz.all(axis=axis))) if x.ndim > 1 else [()]:
                xr, gr = xm[row], gm[row]
                k = int(np.argmin(xr != 0))
                before = np.prod(xr[:k]) if k else 1.0
                after = np.cumprod(np.concatenate([[1.0], xr[k + 1:]]))  # prod_{k < m <= j} x_m for j = k, k+1, ...
                gxm[row + (k,)] = before * np.sum(gr[k:] * after)
        return (gx.reshape(t.shape).astype(t._data.dtype, copy=False),)

    return Tensor._from_op(out.reshape(t.shape), (t,), backward, "CumprodBackward0")


def _cum_extreme(input, dim, op, better):
    """(values, indices) of the running max or min; ties take the later index, as torch's loop does."""
    t, x, axis = _along(input, dim, op)
    xm = np.moveaxis(x, axis, -1)  # (*rest, L)
    vals = np.empty_like(xm)
    idx = np.empty(xm.shape, np.int64)
    if xm.shape[-1]:
        vals[..., 0], idx[..., 0] = xm[..., 0], 0
        for i in range(1, xm.shape[-1]):
            cur = xm[..., i]
            take = better(cur, vals[..., i - 1]) | np.isnan(cur)  # nan wins from where it appears, as torch
            vals[..., i] = np.where(take, cur, vals[..., i - 1])
            idx[..., i] = np.where(take, i, idx[..., i - 1])
    vals, idx = np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)

    # each output passes its gradient to the element it copied
    def backward(g):
        gx = np.zeros(x.shape, g.dtype)
        np.put_along_axis(gx, idx, 0, axis)
        np.add.at(np.moveaxis(gx, axis, -1), _rows(idx, axis), np.moveaxis(g.reshape(vals.shape), axis, -1))
        return (gx.reshape(t.shape),)

    values = Tensor._from_op(np.ascontiguousarray(vals).reshape(t.shape), (t,), backward,
                             "CummaxBackward0" if op == "cummax" else "CumminBackward0")
    result = cummax_result if op == "cummax" else cummin_result
    return result(values, Tensor._wrap(np.ascontiguousarray(idx).reshape(t.shape)))


cummax_result = collections.namedtuple("cummax", ["values", "indices"])
cummin_result = collections.namedtuple("cummin", ["values", "indices"])


def _rows(idx, axis):
    """A fancy-index tuple over moveaxis(gx, axis, -1) that addresses, for every output, its source element."""
    im = np.moveaxis(idx, axis, -1)
    grids = list(np.ogrid[tuple(slice(s) for s in im.shape)])
    grids[-1] = im
    return tuple(grids)


def cummax(input, dim):
    """(values, indices) of the running maximum along dim. Matches torch.cummax.

    >>> import cnnlab
    >>> cnnlab.tensor([1.0, 3.0, 2.0, 3.0]).cummax(0).indices
    tensor([0, 1, 1, 3])
    """
    return _cum_extreme(input, dim, "cummax", np.greater_equal)


def cummin(input, dim):
    """(values, indices) of the running minimum along dim. Matches torch.cummin.

    >>> import cnnlab
    >>> cnnlab.tensor([2.0, 1.0, 3.0]).cummin(0).values
    tensor([2., 1., 1.])
    """
    return _cum_extreme(input, dim, "cummin", np.less_equal)


def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along dim, without overflow. Matches torch.logcumsumexp.

    >>> import cnnlab
    >>> cnnlab.tensor([0.0, 0.0]).logcumsumexp(0)
    tensor([0.0000, 0.6931])
    """
    t, x, axis = _along(input, dim, "logcumsumexp")
    if x.dtype.kind != "f":
        raise DTypeError(f"logcumsumexp: expects a floating-point tensor. Got dtype={t.dtype}.")
    with np.errstate(all="ignore"):
        out = np.logaddexp.accumulate(x, axis=axis)

    # dx_i = sum_{j >= i} g_j exp(x_i - out_j), summed in log space (the positive and the negative parts of g
    # apart) so that neither exp(x_i) nor exp(-out_j) overflows: exp(x_i + log sum_{j >= i} exp(log|g_j| - out_j))
    @quiet
    def backward(g):
        g = g.reshape(out.shape)

        def part(gp):
            terms = np.where(gp > 0, np.log(np.where(gp > 0, gp, 1)) - out, -np.inf)
            acc = np.flip(np.logaddexp.accumulate(np.flip(terms, axis), axis=axis), axis)
            return np.exp(x + acc)

        return ((part(g) - part(-g)).reshape(t.shape).astype(x.dtype, copy=False),)

    return Tensor._from_op(out.reshape(t.shape), (t,), backward, "LogcumsumexpBackward0")


def _prod_grads(g, x, vals, out, key, left_out):
    """scatter_reduce(prod)'s gradients, as torch's: each factor gets g times the product of the others, out /
    factor; where that factor is 0, the product of the others is computed by reducing again with it replaced
    by 1 (a second zero reaching the same place makes it 0, which out / 1 gives). left_out: where input's own
    value was left out (include_self=False)."""
    def reduced(x_, vals_):
        o = np.where(left_out, 1, x_).astype(x_.dtype)
        np.multiply.at(o, key, vals_)
        return o

    x_zero, src_zero = x == 0, vals == 0
    gi = g * (reduced(np.where(x_zero, 1, x), vals) if x_zero.any() else out) / np.where(x_zero, 1, x)
    gs_part = (g * out)[key] / np.where(src_zero, 1, vals)
    if src_zero.any():
        zeros_at = np.zeros(x.shape, np.int64)
        np.add.at(zeros_at, key, src_zero)
        single = src_zero & (zeros_at[key] == 1)
        gs_part = np.where(single, (g * reduced(x, np.where(single, 1, vals)))[key], gs_part)
    return gi, gs_part


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """input with src's values reduced into it at index along dim: reduce is 'sum', 'prod', 'mean', 'amax' or
    'amin'; include_self=False leaves input's own value out where something lands. Matches torch.scatter_reduce.

    >>> import cnnlab
    >>> cnnlab.zeros(3).scatter_reduce(0, cnnlab.tensor([0, 0, 2]), cnnlab.tensor([1.0, 5.0, 2.0]), "amax")
    tensor([5., 0., 2.])
    """
    t, s = as_tensor_arg(input, "scatter_reduce", "input"), as_tensor_arg(src, "scatter_reduce", "src")
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise ArgumentError("scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin'. Got "
                            f"reduce={reduce!r}.")
    if s._data.dtype != t._data.dtype:
        raise DTypeError(f"scatter_reduce: src must have input's dtype. Got input.dtype={t.dtype}, "
                         f"src.dtype={s.dtype}.")
    idx = as_tensor_arg(index, "scatter_reduce", "index")._data
    axis = t._dim(dim, "scatter_reduce")
    indexing.check_index_along("scatter_reduce", t, idx, axis, dim, s.shape)
    x = t._data
    key = indexing.along_axis_key(idx, axis)
    vals = s._data[tuple(slice(0, n) for n in idx.shape)]
    hit = np.zeros(x.shape, bool)
    hit[key] = True
    count = np.zeros(x.shape, np.int64)
    np.add.at(count, key, 1)
    if reduce in ("sum", "mean"):
        out = np.where(hit & (not include_self), 0, x).astype(x.dtype)
        np.add.at(out, key, vals)
        if reduce == "mean":
            n = count + (1 if include_self else 0)
            out = np.where(hit, out / np.maximum(n, 1), out)
            out = (np.floor(out) if x.dtype.kind in "iu" else out).astype(x.dtype)
    elif reduce == "prod":
        out = np.where(hit & (not include_self), 1, x).astype(x.dtype)
        np.multiply.at(out, key, vals)
    else:
        fill = (np.inf if reduce == "amin" else -np.inf) if x.dtype.kind == "f" else \
            (np.iinfo(x.dtype).max if reduce == "amin" else np.iinfo(x.dtype).min)
        out = np.where(hit & (not include_self), fill, x).astype(x.dtype)
        (np.minimum if reduce == "amin" else np.maximum).at(out, key, vals)

    # sum: input keeps g where it took part, src reads g at its target; mean: both divided by the count;
    # prod: the product of the others (see _prod_grads); amax/amin: split evenly among the ties
    @quiet
    def backward(g):
        own = ~hit | include_self  # where input's own value took part
        if reduce in ("sum", "mean"):
            scale = 1 / np.maximum(count + (1 if include_self else 0), 1) if reduce == "mean" else 1.0
            gi = np.where(own, g * scale, 0)
            gs_part = (g * scale)[key]
        elif reduce == "prod":
            gi, gs_part = _prod_grads(g, x, vals, out, key, hit & (not include_self))
            gi = np.where(own, gi, 0)
        else:
            ties = np.where(x == out, 1, 0)  # torch counts input's equal value even when include_self=False
            np.add.at(ties, key, (vals == out[key]).astype(np.int64))
            share = g / np.maximum(ties, 1)
            gi = np.where(own & (x == out), share, 0)
            gs_part = np.where(vals == out[key], share[key], 0)
        gs = None
        if s._requires_grad:
            gs = np.zeros(s._data.shape, g.dtype)
            gs[tuple(slice(0, n) for n in idx.shape)] = gs_part
        return gi.astype(g.dtype, copy=False), gs

    return Tensor._from_op(out, (t, s), backward, "ScatterReduceBackward0")
