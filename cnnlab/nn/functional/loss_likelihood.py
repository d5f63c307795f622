"""Negative log-likelihood losses of distributions: poisson_nll_loss and gaussian_nll_loss.

Compositions of recorded ops in PyTorch's order, so values round alike and gradients (to the input, the target
and the variance) come from those ops.
"""
import math

import numpy as np

from ...errors import ShapeError, shape_str
from ...ops._operands import as_tensor_arg
from ...ops.elementwise import exp, log
from ._reduction import apply_reduction, check_reduction, float_tensor
from .distance import floor_value
from .loss_margin import as_mask

__all__ = ["poisson_nll_loss", "gaussian_nll_loss"]


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log-likelihood of target counts given the rate: exp(x) - t x when log_input (x is the
    log-rate), else x - t log(x + eps); full adds Stirling's approximation of log(t!) where t > 1.

    Args:
        input (Tensor): the (log-)rate. target (Tensor): counts, broadcastable with input.
        log_input (bool, default True). full (bool, default False). eps (float, default 1e-8).
        size_average, reduce (deprecated), reduction (str, default 'mean').
    Shape: the broadcast shape for 'none', else ().

    Matches torch.nn.functional.poisson_nll_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.poisson_nll_loss(cnnlab.tensor([0.0]), cnnlab.tensor([2.0])).item()
    1.0
    """
    op = "poisson_nll_loss"
    reduction = check_reduction(op, reduction, size_average, reduce)
    x = float_tensor(input, op, "input")
    t = as_tensor_arg(target, op, "target")
    loss = exp(x) - t * x if log_input else x - t * log(x + eps)
    if full:
        # log(t!) ~ t log t - t + 0.5 log(2 pi t), only where t > 1 (log 0 = -inf elsewhere is masked out)
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = t * log(t) - t + 0.5 * log(2 * math.pi * t)
        loss = loss + stirling.masked_fill(as_mask(t._data <= 1), 0)
    return apply_reduction(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood 0.5 (log v + (x - t)^2 / v) with v = max(var, eps) in value (the gradient
    flows through var unfloored, as PyTorch); full adds 0.5 log(2 pi).

    Args:
        input (Tensor): the predicted mean, (N, *) or (*). target (Tensor): same shape.
        var (Tensor or float): the predicted variance, non-negative: the input's shape, or that shape with the last
            dim 1 or missing (one variance shared over it), or one dim of size 1; a float is one variance for all.
        full (bool, default False). eps (float, default 1e-6). reduction (str, default 'mean').
    Raises: ValueError (a negative variance, var of an incompatible shape, a bad reduction).

    Matches torch.nn.functional.gaussian_nll_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.gaussian_nll_loss(cnnlab.tensor([1.0]), cnnlab.tensor([3.0]), cnnlab.tensor([1.0])).item()
    2.0
    """
    op = "gaussian_nll_loss"
    x = float_tensor(input, op, "input")
    t = as_tensor_arg(target, op, "target")
    if isinstance(var, float):
        if var < 0:
            raise ValueError(f"{op}: var must be non-negative. Got var={var}.")
        var = as_tensor_arg(np.full(x.shape, var, dtype=x._data.dtype), op, "var")
    v = float_tensor(var, op, "var")
    if (v._data < 0).any():
        raise ValueError(f"{op}: var must be non-negative. Got min var={v._data.min()}.")
    if v.shape != x.shape:
        if tuple(x.shape[:-1]) == tuple(v.shape):
            v = v.unsqueeze(-1)  # one variance per sample, shared over the last dim
        elif not (x.ndim == v.ndim and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1):
            raise ShapeError(f"{op}: var must have the input's shape, or that shape with one dim of size 1 or "
                             f"without the last dim. Got var.shape={shape_str(var.shape)}, "
                             f"input.shape={shape_str(x.shape)}.")
    reduction = check_reduction(op, reduction)
    v = floor_value(v, eps)
    loss = 0.5 * (log(v) + (x - t) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return apply_reduction(loss, reduction)
