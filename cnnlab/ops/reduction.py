"""Reductions with gradients: sum, mean, max/min (values and indices), argmax/argmin, var/std, logsumexp."""
import builtins
import collections
import functools

import numpy as np

from .. import _dtypes
from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg, quiet
from .elementwise import maximum, minimum

values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def numpy_names(fn):
    """Accept NumPy's axis= and keepdims= for dim= and keepdim=, as PyTorch's reductions do."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "axis" in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)
    return wrapper


def reduce_axes(t, dim, op):
    """dim (None, an int or a sequence of ints) as a sorted tuple of non-negative axes."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(t.ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    axes = sorted({t._dim(d, op) for d in dims})
    return tuple(axes) if t.ndim else ()


def expand_grad(g, shape, axes, keepdim):
    """The gradient of a reduction broadcast back to the input's shape (a read-only view)."""
    if not keepdim and axes:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


@numpy_names
@quiet
def sum(input, dim=None, keepdim=False, dtype=None):
    """Sum over dim (all dims if None). Bool and integer inputs sum to int64. Matches torch.sum."""
    t = as_tensor_arg(input, "sum", "input")
    if dtype is not None and t._data.dtype.metadata is not None:  # bfloat16 input: convert first (see _dtypes)
        t = t.to(dtype)
    axes = reduce_axes(t, dim, "sum")
    x = t._data
    out_dtype = _dtypes.as_dtype(dtype).np if dtype is not None else (np.int64 if x.dtype.kind in "biu" else x.dtype)
    out = np.asarray(x.sum(axis=axes, keepdims=keepdim, dtype=out_dtype))
    return Tensor._from_op(out, (t,), lambda g: (expand_grad(g, x.shape, axes, keepdim),),
                           "SumBackward0" if dim is None else "SumBackward1")


@numpy_names
@quiet
def mean(input, dim=None, keepdim=False, dtype=None):
    """Mean over dim (all dims if None); needs a floating input or dtype. Matches torch.mean."""
    t = as_tensor_arg(input, "mean", "input")
    if dtype is not None and t._data.dtype.metadata is not None:  # bfloat16 input: convert first (see _dtypes)
        t = t.to(dtype)
    x = t._data
    if dtype is not None:
        x = x.astype(_dtypes.as_dtype(dtype).np)
    if x.dtype.kind != "f":
        raise DTypeError(f"mean: the input must be floating point (or pass dtype=). Got dtype={t.dtype}.")
    axes = reduce_axes(t, dim, "mean")
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    # the sum over count, not x.mean: an empty input gives nan without NumPy's "Mean of empty slice" warning.
    # float16 sums in float32, as x.mean (and PyTorch) do: a float16 running sum overflows past 65504
    s = x.sum(axis=axes, keepdims=keepdim, dtype=np.float32 if x.dtype == np.float16 else None)
    out = np.asarray(np.true_divide(s, count).astype(x.dtype, copy=False))
    return Tensor._from_op(out, (t,), quiet(lambda g: (expand_grad(g / count, x.shape, axes, keepdim),)),
                           "MeanBackward0" if dim is None else "MeanBackward1")


@quiet
def _extreme(input, dim, keepdim, other, op, arg, npfn):
    t = as_tensor_arg(input, op, "input")
    if isinstance(other, Tensor) or (other is not None and not isinstance(other, (int, np.integer))):
        return (maximum if op == "max" else minimum)(t, other)
    if other is not None:  # max(x, 1): the second positional argument is dim
        dim = other
    x = t._data
    if dim is None:
        if x.size == 0:
            raise ShapeError(f"{op}: the input is empty, so it has no {op}imum; pass dim= to reduce a non-empty "
                             f"dimension. Got shape={shape_str(x.shape)}.")
        out = np.asarray(npfn(x))

        @quiet
        def backward(g):  # ties share the gradient evenly, as PyTorch's full reduction does
            mask = (x == out) | (np.isnan(x) & np.isnan(out)) if x.dtype.kind == "f" else x == out
            return (np.where(mask, g / int(mask.sum()), 0).astype(g.dtype, copy=False),)

        return Tensor._from_op(out, (t,), backward, op.capitalize() + "Backward1")  # torch's full-reduction overload
    axis = t._dim(dim, op)
    if x.ndim and x.shape[axis] == 0:
        raise ShapeError(f"{op}: cannot reduce over an empty dimension. Got dim={dim}, shape={shape_str(x.shape)}.")
    idx = arg(x, axis=axis, keepdims=True) if x.ndim else np.zeros((), np.int64)
    vals = np.take_along_axis(x, idx, axis=axis) if x.ndim else x.copy()

    @quiet
    def backward(g):  # the gradient goes to the element each index names
        grad = np.zeros_like(x)
        gk = g if keepdim or not x.ndim else np.expand_dims(g, axis)
        if x.ndim:
            np.put_along_axis(grad, idx, gk, axis=axis)
        else:
            grad = gk
        return (grad,)

    if not keepdim and x.ndim:
        vals, idx_out = vals.squeeze(axis), idx.squeeze(axis)
    else:
        idx_out = idx
    values = Tensor._from_op(vals, (t,), backward, op.capitalize() + "Backward")
    return values_indices(values, Tensor._wrap(np.asarray(idx_out, dtype=np.int64)))


@numpy_names
def max(input, dim=None, keepdim=False, other=None):
    """max(x): the largest value; max(x, dim): (values, indices) along dim; max(x, y): elementwise maximum.
    Matches torch.max."""
    if isinstance(dim, Tensor):
        return _extreme(input, None, keepdim, dim, "max", np.argmax, np.max)
    return _extreme(input, dim, keepdim, other, "max", np.argmax, np.max)


@numpy_names
def min(input, dim=None, keepdim=False, other=None):
    """min(x): the smallest value; min(x, dim): (values, indices) along dim; min(x, y): elementwise minimum.
    Matches torch.min."""
    if isinstance(dim, Tensor):
        return _extreme(input, None, keepdim, dim, "min", np.argmin, np.min)
    return _extreme(input, dim, keepdim, other, "min", np.argmin, np.min)


@quiet
def _amax_amin(input, dim, keepdim, op, npfn):
    t = as_tensor_arg(input, op, "input")
    axes = reduce_axes(t, dim, op)
    x = t._data
    out = np.asarray(npfn(x, axis=axes, keepdims=keepdim))

    @quiet
    def backward(g):  # ties share the gradient evenly
        o = out if keepdim else np.expand_dims(out, axes)
        mask = x == o
        gk = g if keepdim else np.expand_dims(g, axes)
        # g / count * mask as torch: a NaN maximum (no element equals it) gives NaN gradients over its slice
        return ((gk / mask.sum(axis=axes, keepdims=True, dtype=g.dtype) * mask).astype(g.dtype, copy=False),)

    return Tensor._from_op(out, (t,), backward, op.capitalize() + "Backward")


@numpy_names
def amax(input, dim=(), keepdim=False):
    """Largest values over dim (all dims if empty); ties share the gradient. Matches torch.amax."""
    return _amax_amin(input, dim if dim != () else None, keepdim, "amax", np.max)


@numpy_names
def amin(input, dim=(), keepdim=False):
    """Smallest values over dim (all dims if empty); ties share the gradient. Matches torch.amin."""
    return _amax_amin(input, dim if dim != () else None, keepdim, "amin", np.min)


def _arg(input, dim, keepdim, op, fn):
    t = as_tensor_arg(input, op, "input")
    x = t._data
    if dim is None:
        out = np.asarray(fn(x))
        return Tensor._wrap(out.reshape((1,) * x.ndim) if keepdim else out.astype(np.int64))
    axis = t._dim(dim, op)
    return Tensor._wrap(np.asarray(fn(x, axis=axis, keepdims=keepdim), dtype=np.int64) if x.ndim else np.zeros((), np.int64))


@numpy_names
def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (over the flattened input if dim is None). Matches torch.argmax."""
    return _arg(input, dim, keepdim, "argmax", np.argmax)


@numpy_names
def argmin(input, dim=None, keepdim=False):
    """Index of the smallest value (over the flattened input if dim is None). Matches torch.argmin."""
    return _arg(input, dim, keepdim, "argmin", np.argmin)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _moments(input, dim, unbiased, keepdim, correction, op):
    """(t, x, axes, centred, sum of squares, denominator) shared by var and std."""
    t = as_tensor_arg(input, op, "input")
    if isinstance(dim, bool):  # var(x, False): the old positional `unbiased`
        dim, unbiased = None, dim
    if t._data.dtype.kind != "f":
        raise DTypeError(f"{op}: the input must be floating point. Got dtype={t.dtype}.")
    c = _correction(unbiased, correction)
    axes = reduce_axes(t, dim, op)
    x = t._data
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    centred = x - x.mean(axis=axes, keepdims=True)
    return t, x, axes, centred, np.sum(centred * centred, axis=axes, keepdims=keepdim), float(builtins.max(n - c, 0))


@numpy_names
@quiet
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over dim with Bessel's correction (correction=1, or unbiased=False for 0). Matches torch.var.

    >>> import cnnlab
    >>> cnnlab.tensor([1.0, 2.0, 3.0, 4.0]).var()
    tensor(1.6667)
    """
    t, x, axes, centred, ss, denom = _moments(input, dim, unbiased, keepdim, correction, "var")
    scale = 2.0 / denom if denom else float("inf")
    out = np.asarray(ss / denom)

    # var = sum((x - mean)^2) / (n - c)  =>  dvar/dx = 2 (x - mean) / (n - c)
    @quiet
    def backward(g):
        return (expand_grad(g, x.shape, axes, keepdim) * (centred * scale),)

    return Tensor._from_op(out, (t,), backward, "VarBackward")


@numpy_names
@quiet
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over dim (the square root of var with the same correction). Where the result is 0 the
    gradient is 0, as in PyTorch. Matches torch.std.

    >>> import cnnlab
    >>> cnnlab.tensor([1.0, 2.0, 3.0, 4.0]).std(unbiased=False)
    tensor(1.1180)
    """
    t, x, axes, centred, ss, denom = _moments(input, dim, unbiased, keepdim, correction, "std")
    out = np.asarray(np.sqrt(ss / denom))

    # std = sqrt(var)  =>  dstd/dx = (x - mean) / ((n - c) std), and 0 where std == 0
    @quiet
    def backward(g):
        ok = out if keepdim else np.expand_dims(out, axes)
        scale = np.where(ok == 0, 0, g if keepdim else np.expand_dims(g, axes)) / (denom * ok)
        scale = np.where(ok == 0, 0, scale).astype(x.dtype, copy=False)
        return (scale * centred,)

    return Tensor._from_op(out, (t,), backward, "StdBackward")


@numpy_names
@quiet
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input))) over dim, computed stably. Matches torch.logsumexp."""
    t = as_tensor_arg(input, "logsumexp", "input")
    axes = reduce_axes(t, dim, "logsumexp")
    x = t._data
    m = np.max(x, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(x - m)
    s = e.sum(axis=axes, keepdims=True)
    out_k = np.log(s) + m
    out = out_k if keepdim else out_k.squeeze(axes)

    # d lse / dx = softmax(x) along the reduced axes
    @quiet
    def backward(g):
        return (expand_grad(g, x.shape, axes, keepdim) * (e / s),)

    return Tensor._from_op(np.asarray(out), (t,), backward, "LogsumexpBackward")


@numpy_names
def all(input, dim=None, keepdim=False):
    t = as_tensor_arg(input, "all", "input")
    return Tensor._wrap(np.asarray(np.all(t._data, axis=reduce_axes(t, dim, "all"), keepdims=keepdim)))


@numpy_names
def any(input, dim=None, keepdim=False):
    t = as_tensor_arg(input, "any", "input")
    return Tensor._wrap(np.asarray(np.any(t._data, axis=reduce_axes(t, dim, "any"), keepdims=keepdim)))




def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over dim in one call. Matches torch.var_mean."""
    if isinstance(dim, bool):  # torch.var_mean(x, False): the old (input, unbiased) overload
        dim, unbiased = None, dim
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over dim in one call. Matches torch.std_mean."""
    if isinstance(dim, bool):  # torch.std_mean(x, False): the old (input, unbiased) overload
        dim, unbiased = None, dim
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@numpy_names
@quiet
def prod(input, dim=None, keepdim=False, dtype=None):
    """Product over dim (all elements if None); bool and integer inputs give int64. The gradient is the product
    of the other elements, exact also where inputs are 0. Matches torch.prod.

    Args:
        input (Tensor): any shape.
        dim (int, default None): the dim to multiply along; None multiplies all elements.
        keepdim (bool, default False): keep dim with size 1.
        dtype (dtype, default None): the result dtype.

    >>> import cnnlab
    >>> cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]]).prod(1)
    tensor([ 2., 12.])
    """
    t = as_tensor_arg(input, "prod", "input")
    if dtype is not None and t._data.dtype.metadata is not None:  # bfloat16 input: convert first (see _dtypes)
        t = t.to(dtype)
    x = t._data
    out_dtype = _dtypes.as_dtype(dtype).np if dtype is not None else (np.int64 if x.dtype.kind in "biu" else x.dtype)
    x = x.astype(out_dtype, copy=False)
    if dim is None:
        out = np.asarray(np.prod(x, dtype=out_dtype))
        flat = x.reshape(-1)
        return Tensor._from_op(out, (t,), quiet(lambda g: ((g * _prod_of_others(flat, 0)).reshape(x.shape),)),
                               "ProdBackward0")
    axis = t._dim(dim, "prod")
    out = np.asarray(np.prod(x, axis=axis if x.ndim else None, keepdims=keepdim and x.ndim > 0, dtype=out_dtype))

    # d prod / d x_i = product of the other elements along the axis (exact, also where some x are 0)
    @quiet
    def backward(g):
        if not x.ndim:
            return (g,)
        return (expand_grad(g, x.shape, (axis,), keepdim) * _prod_of_others(x, axis),)

    return Tensor._from_op(out, (t,), backward, "ProdBackward1")


def _prod_of_others(x, axis):
    """For each element, the product of the other elements along axis (exclusive cumulative products)."""
    if x.shape[axis] == 0:
        return np.ones_like(x)  # nothing to multiply (an empty gradient)
    xm = np.moveaxis(x, axis, -1)  # (..., n)
    ones = np.ones(xm.shape[:-1] + (1,), x.dtype)
    left = np.cumprod(np.concatenate([ones, xm[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([xm[..., 1:], ones], axis=-1), -1), axis=-1), -1)
    return np.moveaxis(left * right, -1, axis)
