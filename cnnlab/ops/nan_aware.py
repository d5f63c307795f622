"""NaN-aware ops: nansum, nanmean (NaN counted as absent) and nan_to_num."""
import numpy as np

from ..tensor import Tensor
from . import elementwise, reduction
from ._operands import as_tensor_arg


def nansum(input, dim=None, keepdim=False):
    """Sum treating NaN as 0 (NaN positions get no gradient). Matches torch.nansum.

    >>> import cnnlab
    >>> cnnlab.tensor([1.0, float("nan"), 2.0]).nansum()
    tensor(3.)
    """
    t = as_tensor_arg(input, "nansum", "input")
    return reduction.sum(elementwise.where(elementwise.isnan(t), Tensor._wrap(np.zeros((), t._data.dtype)), t), dim, keepdim)


def nanmean(input, dim=None, keepdim=False):
    """Mean over the non-NaN elements. Matches torch.nanmean.

    >>> import cnnlab
    >>> cnnlab.tensor([1.0, float("nan"), 2.0]).nanmean()
    tensor(1.5000)
    """
    t = as_tensor_arg(input, "nanmean", "input")
    count = reduction.sum(elementwise.logical_not(elementwise.isnan(t)), dim, keepdim)
    return elementwise.div(nansum(t, dim, keepdim), count.to(t.dtype))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by nan, posinf and neginf (by default the dtype's largest and smallest
    values); the gradient passes where the input was finite. Matches torch.nan_to_num.

    >>> import cnnlab
    >>> cnnlab.nan_to_num(cnnlab.tensor([float("nan"), float("inf"), -1.0]), posinf=9.0)
    tensor([ 0.,  9., -1.])
    """
    t = as_tensor_arg(input, "nan_to_num", "input")
    if t._data.dtype.kind != "f":
        return t.clone()
    info = np.finfo(t._data.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    x = t._data
    fill = np.where(np.isnan(x), nan, np.where(x > 0, hi, lo)).astype(x.dtype)
    return elementwise.where(elementwise.isfinite(t), t, Tensor._wrap(fill))
