"""The `reduction` argument of the losses and the checks they share.

check_reduction resolves the argument (and the legacy size_average/reduce pair); reduce_loss and upstream_grad
are the forward and backward of a reduction for the losses written as one op on arrays; apply_reduction is the
same on Tensors for the losses composed of recorded ops.
"""
import warnings

import numpy as np

from ...errors import DTypeError
from ...ops._operands import as_tensor_arg


def check_reduction(op, reduction, size_average=None, reduce=None, allowed=("none", "mean", "sum")):
    """The reduction string, from the legacy size_average/reduce pair when either is given (PyTorch's rule:
    reduce=False -> 'none', else size_average=False -> 'sum', else 'mean')."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
        warnings.warn(f"{op}: size_average and reduce are deprecated; use reduction={reduction!r} instead.",
                      UserWarning, stacklevel=3)
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {', '.join(repr(a) for a in allowed)}. "
                         f"Got reduction={reduction!r}.")
    return reduction


def float_tensor(x, op, name):
    """x as a tensor, refused unless floating point (the losses' inputs and targets)."""
    t = as_tensor_arg(x, op, name)
    if t._data.dtype.kind != "f":
        raise DTypeError(f"{op}: {name} must be a floating-point tensor. Got {name}.dtype={t.dtype}.")
    return t


def reduce_loss(loss, reduction, denom):
    """Reduce the per-element loss array; 'mean' divides by denom (an empty mean is NaN, as in PyTorch)."""
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total if reduction == "sum" else total / denom, dtype=loss.dtype)


def upstream_grad(g, reduction, denom, shape):
    """d(out)/d(per-element loss) * grad_out, as an array of the per-element loss's shape."""
    if reduction == "none":
        return g.reshape(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.broadcast_to(g if reduction == "sum" else g / denom, shape)


def apply_reduction(loss, reduction):
    """The reduction of a loss built from recorded ops (a Tensor), for the composed losses."""
    if reduction == "mean":
        # an empty batch has mean 0 (PyTorch's fused margin losses leave it unset; 0 is their sum's value)
        return loss.mean() if loss.numel() else loss.sum()
    if reduction == "sum":
        return loss.sum()
    return loss
