"""Products, running sums, p-norms and counts, with gradients where they have one: prod, cumsum, norm,
count_nonzero, bincount. (Sums, means, extremes and variances are in reduction.py.)"""
import numpy as np

from .. import _dtypes
from ..errors import ArgumentError, DTypeError
from ..tensor import Tensor
from ._operands import as_tensor_arg, quiet
from .reduction import _expand_grad, _numpy_names, reduce_axes


@_numpy_names
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
        return (_expand_grad(g, x.shape, (axis,), keepdim) * _prod_of_others(x, axis),)

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


@quiet
def cumsum(input, dim, dtype=None):
    """Running sum along dim; bool and integer inputs give int64. Matches torch.cumsum.

    Args:
        input (Tensor): any shape. dim (int): the dim to sum along. dtype (dtype, default None): result dtype.

    Shape:
        output: input's shape.

    >>> import cnnlab
    >>> cnnlab.tensor([1, 2, 3]).cumsum(0)
    tensor([1, 3, 6])
    """
    t = as_tensor_arg(input, "cumsum", "input")
    if dtype is not None and t._data.dtype.metadata is not None:  # bfloat16 input: convert first (see _dtypes)
        t = t.to(dtype)
    x = t._data
    axis = t._dim(dim, "cumsum")
    out_dtype = _dtypes.as_dtype(dtype).np if dtype is not None else (np.int64 if x.dtype.kind in "biu" else x.dtype)
    # float16 runs in float32, as PyTorch accumulates it: a float16 running sum stops growing at 2048 + ones
    acc = np.float32 if np.dtype(out_dtype) == np.float16 else out_dtype
    out = np.cumsum(x, axis=axis if x.ndim else None, dtype=acc).reshape(x.shape).astype(out_dtype, copy=False)

    # out_j = sum_{i <= j} x_i  =>  dx_i = sum_{j >= i} g_j, a reversed running sum
    @quiet
    def backward(g):
        if not x.ndim:
            return (g,)
        g_acc = np.float32 if g.dtype == np.float16 else None
        return (np.flip(np.cumsum(np.flip(g, axis), axis=axis, dtype=g_acc), axis).astype(g.dtype, copy=False),)

    return Tensor._from_op(out, (t,), backward, "CumsumBackward")


@_numpy_names
@quiet
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over dim (all elements if None): p = 2 ('fro'), 1, inf, -inf, 0 or any other number.
    The gradient at a zero norm is 0. Matches torch.norm for vector norms.

    Args:
        input (Tensor): floating point, any shape.
        p (number or 'fro', default 'fro'): the order; 'fro' over any dims is the 2-norm of their elements.
        dim (int or tuple of ints, default None): the dims to reduce; None reduces all.
        keepdim (bool, default False): keep the reduced dims with size 1.
        dtype (dtype, default None): compute in this dtype.

    Raises:
        ValueError: a matrix norm name such as 'nuc'. DTypeError: an integer input.

    >>> import cnnlab
    >>> cnnlab.tensor([3.0, 4.0]).norm()
    tensor(5.)
    """
    t = as_tensor_arg(input, "norm", "input")
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: only vector norms are supported (p a number or 'fro'). Got p={p!r}.")
    x = t._data if dtype is None else t._data.astype(_dtypes.as_dtype(dtype).np)
    if x.dtype.kind != "f":
        raise DTypeError(f"norm: the input must be floating point. Got dtype={t.dtype}.")
    axes = reduce_axes(t, dim, "norm")
    a = np.abs(x)
    p = float(p)
    if p == float("inf") or p == -float("inf"):
        out_k = (np.max if p > 0 else np.min)(a, axis=axes, keepdims=True)
    elif p == 0:
        out_k = np.sum(a != 0, axis=axes, keepdims=True).astype(x.dtype)
    elif p == 1:
        out_k = np.sum(a, axis=axes, keepdims=True)
    elif p == 2:
        out_k = np.sqrt(np.sum(a * a, axis=axes, keepdims=True))
    else:
        out_k = np.sum(a ** p, axis=axes, keepdims=True) ** (1.0 / p)
    out = out_k if keepdim else out_k.reshape([s for i, s in enumerate(out_k.shape) if i not in axes])

    # d|x|_p / dx = sign(x) |x|^(p-1) / |x|_p^(p-1); inf-norms pass g to the extreme elements (ties share)
    @quiet
    def backward(g):
        gk = g if keepdim else np.expand_dims(g, axes)
        if p in (float("inf"), -float("inf")):
            mask = a == out_k
            d = np.sign(x) * mask / mask.sum(axis=axes, keepdims=True, dtype=x.dtype)
        elif p == 0:
            d = np.zeros_like(x)
        elif p == 1:
            d = np.sign(x)
        elif p == 2:
            d = np.where(out_k == 0, 0, x / out_k)
        else:
            d = np.where(out_k == 0, 0, np.sign(x) * a ** (p - 1) / out_k ** (p - 1))
        return ((gk * d).astype(x.dtype, copy=False),)

    return Tensor._from_op(np.asarray(out), (t,), backward, "LinalgVectorNormBackward0")


@quiet
def count_nonzero(input, dim=None):
    """The number of nonzero elements over dim (all if None), int64. Matches torch.count_nonzero."""
    t = as_tensor_arg(input, "count_nonzero", "input")
    return Tensor._wrap(np.asarray(np.count_nonzero(t._data, axis=reduce_axes(t, dim, "count_nonzero")),
                                   dtype=np.int64))


@quiet
def bincount(input, weights=None, minlength=0):
    """Counts of each value in a 1-D non-negative integer tensor (weighted sums with weights). Matches
    torch.bincount.

    >>> import cnnlab
    >>> cnnlab.bincount(cnnlab.tensor([0, 1, 1, 3]), minlength=5)
    tensor([1, 2, 0, 1, 0])
    """
    t = as_tensor_arg(input, "bincount", "input")
    x = t._data
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise DTypeError(f"bincount: expects a 1-D integer tensor. Got shape={tuple(x.shape)}, dtype={t.dtype}.")
    if x.size and x.min() < 0:
        raise ArgumentError(f"bincount: values must be non-negative. Got min={x.min()}.")
    w = None if weights is None else as_tensor_arg(weights, "bincount", "weights")._data
    out = np.bincount(x, weights=w, minlength=minlength)
    return Tensor._wrap(out.astype(np.int64) if w is None else out.astype(w.dtype if w.dtype.kind == "f" else np.float64))
