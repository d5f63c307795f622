"""Sorting and selection with gradients: sort, argsort, topk (values carry the gradient), and unique."""
import collections

import numpy as np

from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg

sort_result = collections.namedtuple("sort", ["values", "indices"])
topk_result = collections.namedtuple("topk", ["values", "indices"])


def _sorted_indices(x, axis, descending):
    """Stable sort order along axis; NaN counts as the largest value (first when descending), as in PyTorch."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    # sort the reversed array ascending, then reverse: descending order with ties in their original order
    n = x.shape[axis]
    order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return np.flip(n - 1 - order, axis)


def _gather_op(t, idx, axis, op):
    """t's values at idx along axis, as a differentiable op (each index appears once, so no sums needed)."""
    x = t._data
    if not x.ndim:
        return Tensor._from_op(x.copy(), (t,), lambda g: (g,), op)
    vals = np.take_along_axis(x, idx, axis=axis)

    # the gradient goes back to the position each value came from
    def backward(g):
        grad = np.zeros_like(x)
        np.put_along_axis(grad, idx, g, axis=axis)
        return (grad,)

    return Tensor._from_op(vals, (t,), backward, op)


def sort(input, dim=-1, descending=False, stable=False):
    """Sorted values along dim and the indices they came from (ties keep their order; NaN sorts last, or first
    when descending). The values carry the gradient back to the positions they came from. Matches torch.sort.

    Args:
        input (Tensor): any shape.
        dim (int, default -1): the dim to sort along.
        descending (bool, default False): largest first.
        stable (bool, default False): accepted for compatibility; the sort is always stable.

    Returns:
        (values, indices): values like input, indices int64 of the same shape.

    >>> import cnnlab
    >>> cnnlab.tensor([3.0, 1.0, 2.0]).sort()
    sort(values=tensor([1., 2., 3.]), indices=tensor([1, 2, 0]))
    """
    t = as_tensor_arg(input, "sort", "input")
    axis = t._dim(dim, "sort")
    if not t.ndim:
        return sort_result(_gather_op(t, None, 0, "SortBackward"), Tensor._wrap(np.zeros((), np.int64)))
    idx = _sorted_indices(t._data, axis, descending)
    return sort_result(_gather_op(t, idx, axis, "SortBackward"), Tensor._wrap(idx.astype(np.int64, copy=False)))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort input along dim. Matches torch.argsort."""
    t = as_tensor_arg(input, "argsort", "input")
    axis = t._dim(dim, "argsort")
    if not t.ndim:
        return Tensor._wrap(np.zeros((), np.int64))
    return Tensor._wrap(_sorted_indices(t._data, axis, descending).astype(np.int64, copy=False))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) values along dim and their indices. Matches torch.topk.

    Args:
        input (Tensor): any shape.
        k (int): how many values to keep, 0 <= k <= input.size(dim).
        dim (int, default -1): the dim to select along.
        largest (bool, default True): the largest values (False: the smallest).
        sorted (bool, default True): accepted for compatibility; the result is always sorted.

    Shape:
        values and indices: input's shape with size k at dim.

    Raises:
        ShapeError: k is negative or larger than the size of dim.

    >>> import cnnlab
    >>> cnnlab.tensor([1.0, 5.0, 3.0, 4.0]).topk(2)
    topk(values=tensor([5., 4.]), indices=tensor([1, 3]))
    """
    t = as_tensor_arg(input, "topk", "input")
    axis = t._dim(dim, "topk")
    n = t.shape[axis] if t.ndim else 1
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ShapeError(f"topk: k must be in [0, size of dim]. Got k={k}, dim={dim}, shape={shape_str(t.shape)}.")
    if not t.ndim:
        return topk_result(_gather_op(t, None, 0, "TopkBackward"), Tensor._wrap(np.zeros((), np.int64)))
    idx = _sorted_indices(t._data, axis, largest)
    idx = np.take(idx, np.arange(k), axis=axis)  # (..., k, ...)
    return topk_result(_gather_op(t, idx, axis, "TopkBackward"), Tensor._wrap(idx.astype(np.int64, copy=False)))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), optionally with the inverse indices and counts. Matches torch.unique."""
    t = as_tensor_arg(input, "unique", "input")
    if dim is not None:
        raise ValueError(f"unique: only dim=None is supported. Got dim={dim}.")
    vals, inverse, counts = np.unique(t._data, return_inverse=True, return_counts=True)
    out = [Tensor._wrap(vals)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.reshape(t.shape).astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


median_result = collections.namedtuple("median", ["values", "indices"])
kthvalue_result = collections.namedtuple("kthvalue", ["values", "indices"])


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest value along dim (k from 1) and its index; the value carries the gradient back to where
    it came from. Matches torch.kthvalue.

    >>> import cnnlab
    >>> cnnlab.tensor([3.0, 1.0, 2.0]).kthvalue(2)
    kthvalue(values=tensor(2.), indices=tensor(2))
    """
    t = as_tensor_arg(input, "kthvalue", "input")
    x = t._data if t.ndim else t._data.reshape(1)
    axis = t._dim(dim, "kthvalue")
    n = x.shape[axis]
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue: k must be in [1, {n}] for a dim of size {n}. Got k={k}, dim={dim}.")
    order = _sorted_indices(x, axis, False)
    idx = np.take(order, [k - 1], axis=axis)  # (..., 1, ...)
    base = t if t.ndim else t.reshape(1)
    values = _gather_op(base, idx, axis, "KthvalueBackward0")
    if not keepdim:
        values, idx = values.squeeze(axis), idx.squeeze(axis)
        values._op = "KthvalueBackward0" if values._backward is not None else None
    return kthvalue_result(values, Tensor._wrap(np.asarray(idx, dtype=np.int64)))


def _median_positions(x, axis, skip_nan=False):
    """0-based rank of the median along axis, per slice, in the stable sort order (NaNs last, in their original
    order): the lower median, or the first NaN where the slice has one, as torch.median picks; with skip_nan
    the lower median of the non-NaN values (the first NaN when all are NaN), as torch.nanmedian."""
    n = x.shape[axis]
    nans = np.isnan(x).sum(axis=axis, keepdims=True) if x.dtype.kind in "fc" else np.zeros((), np.int64)
    k = np.maximum((n - nans - 1) // 2, 0) if skip_nan else np.where(nans > 0, n - nans, (n - 1) // 2)
    return np.broadcast_to(k, x.shape[:axis] + (1,) + x.shape[axis + 1:])


def median(input, dim=None, keepdim=False):
    """The lower median (the ((n - 1) // 2 + 1)-th smallest value): of all elements when dim is None, else
    (values, indices) along dim. A slice holding NaN has median NaN (its first NaN, which gets the gradient).
    Matches torch.median.

    >>> import cnnlab
    >>> cnnlab.tensor([4.0, 1.0, 3.0, 2.0]).median()
    tensor(2.)
    >>> cnnlab.tensor([3.0, float("nan"), 2.0]).median()
    tensor(nan)
    """
    return _median(input, dim, keepdim, "median", False)


def nanmedian(input, dim=None, keepdim=False):
    """median() of the non-NaN values: NaN only where a slice is all NaN. Matches torch.nanmedian (for an
    all-NaN slice the index may differ: torch's is unspecified).

    >>> import cnnlab
    >>> cnnlab.tensor([3.0, float("nan"), 2.0, 1.0]).nanmedian()
    tensor(2.)
    """
    return _median(input, dim, keepdim, "nanmedian", True)


def _median(input, dim, keepdim, op, skip_nan):
    t = as_tensor_arg(input, op, "input")
    name = "Nanmedian" if skip_nan else "Median"
    if dim is None:
        if t._data.size == 0:
            raise ShapeError(f"{op}: the input is empty. Got shape=" + shape_str(t.shape) + ".")
        x = t._data.reshape(-1)
        value = x[np.take_along_axis(_sorted_indices(x, 0, False), _median_positions(x, 0, skip_nan), 0)[0]]

        # as torch: the gradient is shared evenly by every element equal to the median (every NaN for NaN)
        def backward(g):
            hit = np.isnan(t._data) if np.isnan(value) else t._data == value
            return (np.where(hit, g / hit.sum(), 0).astype(t._data.dtype, copy=False),)

        return Tensor._from_op(np.asarray(value), (t,), backward, name + "Backward0")
    axis = t._dim(dim, op)
    base = t if t.ndim else t.reshape(1)
    x = base._data
    if x.shape[axis] == 0:
        raise IndexError(f"{op}: the dim to reduce is empty. Got shape={shape_str(t.shape)}, dim={dim}.")
    order = _sorted_indices(x, axis, False)
    idx = np.take_along_axis(order, _median_positions(x, axis, skip_nan), axis=axis)  # (..., 1, ...)
    values = _gather_op(base, idx, axis, name + "Backward1")
    if not keepdim or not t.ndim:
        values, idx = values.squeeze(axis), idx.squeeze(axis)
        values._op = name + "Backward1" if values._backward is not None else None
    return median_result(values, Tensor._wrap(np.asarray(idx, dtype=np.int64)))
