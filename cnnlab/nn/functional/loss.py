"""Loss functions: cross-entropy and NLL over classes, binary cross-entropy, regression and divergence losses.

Each loss is one recorded op: its forward computes the per-element loss and the reduction in NumPy, and one
backward closure returns the gradient of every floating input (no chain of small autograd ops). Class losses
lay the data out as (N, C, *rest) with classes on axis 1; an unbatched (C,) input becomes (1, C) inside.
"""
import warnings

import numpy as np

from ... import _dtypes
from ...errors import DTypeError, ShapeError, shape_str
from ...ops._operands import as_tensor_arg
from ...tensor import Tensor
from ._reduction import check_reduction, float_tensor, reduce_loss, upstream_grad

__all__ = ["cross_entropy", "nll_loss"]

_INDEX_DTYPES = (np.int64, np.uint8)  # PyTorch accepts Long and Byte class indices, nothing else


def _log_softmax(x):
    """log softmax over axis 1 via log-sum-exp: x - max - log(sum(exp(x - max))), finite for huge logits."""
    s = x - x.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def _class_weight(op, weight, C, dtype, promote):
    """The per-class weight as an array of length C (None when not given)."""
    if weight is None:
        return None, None
    w = as_tensor_arg(weight, op, "weight")
    if w.ndim != 1 or w.shape[0] != C:
        raise ShapeError(f"{op}: weight must be a 1-D tensor with one value per class. Got "
                         f"weight.shape={shape_str(w.shape)}, C={C}.")
    if w._data.dtype.kind != "f" or (not promote and w._data.dtype != dtype):
        raise DTypeError(f"{op}: weight must be a floating-point tensor of the input's dtype. Got "
                         f"weight.dtype={w.dtype}, input dtype={_dtypes.as_dtype(dtype)}.")
    return w, w._data


def _sum_but_classes(a):
    """Sum an (N, C, *rest) array to (C,)."""
    return a.sum(axis=(0,) + tuple(range(2, a.ndim)))


# ---- class-index targets: nll_loss and cross_entropy ----------------------------------------------------
def _index_layout(op, x, y):
    """Check class-index targets; return x as (N, C, *rest), y as int64 (N, *rest) and the 'none' shape."""
    if y._data.dtype not in _INDEX_DTYPES:
        raise DTypeError(f"{op}: class-index targets must be int64 (long) (or uint8), as class-probability "
                         f"targets must have the input's shape. Got target.dtype={y.dtype}, "
                         f"target.shape={shape_str(y.shape)}, input.shape={shape_str(x.shape)}; use "
                         f"target.long() for class indices.")
    yd = y._data.astype(np.int64, copy=False)
    if x.ndim == 1:
        if yd.shape not in ((), (1,)):
            raise ShapeError(f"{op}: an unbatched input (C,) takes a 0-d (or 1-element) class-index target. "
                             f"Got input.shape={shape_str(x.shape)}, target.shape={shape_str(yd.shape)}.")
        return x._data.reshape(1, -1), yd.reshape(1), ()          # (1, C), (1,)
    expected = (x.shape[0],) + tuple(x.shape[2:])
    if yd.shape != expected:
        raise ShapeError(f"{op}: class-index targets must have shape (N, d1, ..., dk) for input (N, C, d1, "
                         f"..., dk). Got input.shape={shape_str(x.shape)}, target.shape={shape_str(yd.shape)} "
                         f"(expected {shape_str(expected)}).")
    return x._data, yd, expected


def _index_loss(op, input, target, weight, ignore_index, reduction, eps, fused_softmax):
    """Shared forward/backward of nll_loss (fused_softmax=False, L = input) and cross_entropy on class indices
    (L = log_softmax(input)). Per sample, with valid v = (y != ignore_index) and L the log-probabilities:
        loss_n = v * [(1 - eps) * w[y] * -L[y] + eps/C * sum_c w[c] * -L[c]]
    'mean' divides the sum by W = sum_n v * w[y] (the number of valid targets without weight)."""
    x, y, out_shape = _index_layout(op, input, target)
    C = x.shape[1]
    if C == 0:
        raise ShapeError(f"{op}: input must have at least one class. Got input.shape={shape_str(input.shape)}.")
    w_t, w = _class_weight(op, weight, C, x.dtype, promote=False)
    valid = y != ignore_index                                     # (N, *rest)
    plain = fused_softmax and w is None and not eps and input.ndim == 2 and reduction != "none" and \
        x.shape[0] and valid.all()
    y_valid = y if plain else y[valid]
    if y_valid.size and (y_valid.min() < 0 or y_valid.max() >= C):
        raise IndexError(f"{op}: target values must be in [0, C) or ignore_index. Got C={C}, min target="
                         f"{y_valid.min()}, max target={y_valid.max()}, ignore_index={ignore_index}.")
    if plain:
        return _plain_cross_entropy(input, x, y, reduction)
    ys = np.where(valid, y, 0)[:, None]                           # (N, 1, *rest): a safe index everywhere
    L = _log_softmax(x) if fused_softmax else x
    Ly = np.take_along_axis(L, ys, axis=1)[:, 0]                  # (N, *rest)
    wy = w[ys[:, 0]] if w is not None else None
    wb = w.reshape((1, C) + (1,) * (x.ndim - 2)) if w is not None else None   # (1, C, 1, ...)
    loss = -Ly if wy is None else -Ly * wy
    if eps:
        loss = (1.0 - eps) * loss - (eps / C) * (L.sum(axis=1) if wb is None else (L * wb).sum(axis=1))
    loss = np.where(valid, loss, 0).astype(x.dtype, copy=False)
    denom = int(valid.sum()) if wy is None else np.where(valid, wy, 0).sum(dtype=x.dtype)
    out = reduce_loss(loss, reduction, denom)

    # With G[j] = (1 - eps) w[y] onehot(y)[j] + eps/C w[j] (the weight on -L[j]) and c the upstream gradient per
    # sample (0 where ignored): dloss/dL = -c G. Through log_softmax, dL[k]/dx[j] = delta_jk - p[j], so
    # dloss/dx = c (p sum_k G[k] - G). dloss/dw[k] is the coefficient of w[k] in loss_n; for 'mean' the
    # denominator adds -out/W * (number of valid targets of class k).
    def backward(g):
        c = np.where(valid, upstream_grad(g, reduction, denom, y.shape), 0).astype(x.dtype, copy=False)
        gx = None
        if input.requires_grad:
            onehot_coef = (1.0 - eps) * (c if wy is None else c * wy)            # (N, *rest)
            if fused_softmax:
                g_sum = 1.0 if wb is None else (1.0 - eps) * wy + (eps / C) * w.sum()
                gx = np.exp(L) * (c * g_sum)[:, None]
            else:
                gx = np.zeros_like(x)
            if eps:
                gx -= (eps / C) * (c[:, None] if wb is None else c[:, None] * wb)
            np.put_along_axis(gx, ys, np.take_along_axis(gx, ys, axis=1) - onehot_coef[:, None], axis=1)
            gx = gx.reshape(input.shape)
        gw = None
        if w_t is not None and w_t.requires_grad:
            gw = np.bincount(ys[:, 0][valid], weights=(c * -Ly)[valid] * (1.0 - eps), minlength=C)
            if eps:
                gw += (eps / C) * _sum_but_classes(c[:, None] * -L)
            if reduction == "mean":
                with np.errstate(invalid="ignore", divide="ignore"):
                    gw -= (g * out / denom) * np.bincount(y_valid, minlength=C)
            gw = gw.astype(w.dtype)
        return (gx, gw) if w_t is not None else (gx,)

    parents = (input, w_t) if w_t is not None else (input,)
    return Tensor._from_op(out.reshape(out_shape) if reduction == "none" else out, parents, backward,
                           _index_grad_fn_name(input.ndim, reduction, eps))


def _plain_cross_entropy(input, x, y, reduction):
    """_index_loss for the common training case, in fewer NumPy calls with the same results: cross_entropy on
    (N, C) logits, N > 0, every target valid (none is ignore_index), no class weight, no label smoothing, 'mean'
    or 'sum'. loss = sum_n -L[n, y_n] (/ N); dloss/dx = c (softmax(x) - onehot(y)), c = the upstream gradient
    (/ N)."""
    n = x.shape[0]
    rows = np.arange(n)
    L = _log_softmax(x)                                           # (N, C)
    out = reduce_loss(-L[rows, y], reduction, n)

    def backward(g):
        c = np.asarray(g if reduction == "sum" else g / n).astype(x.dtype, copy=False)
        gx = np.exp(L) * c                                        # (N, C): c * softmax(x)
        gx[rows, y] -= c
        return (gx,)

    return Tensor._from_op(out, (input,), backward, "NllLossBackward0")


def _index_grad_fn_name(ndim, reduction, eps):
    """The grad_fn PyTorch shows for nll_loss / cross_entropy on class indices: its last op. Label smoothing
    ends in an add; 1-D/2-D input in nll_loss, 4-D in nll_loss2d; other ranks are reshaped to 4-D for
    nll_loss2d and, for reduction='none', viewed back."""
    if eps:
        return "AddBackward0"
    if ndim <= 2:
        return "NllLossBackward0"
    return "ViewBackward0" if ndim != 4 and reduction == "none" else "NllLoss2DBackward0"


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood loss of log-probabilities and class-index targets: -weight[y] * input[y].

    Args:
        input (Tensor): log-probabilities (e.g. from log_softmax), floating point.
        target (Tensor): class indices, int64 (or uint8), values in [0, C) or ignore_index.
        weight (Tensor, default None): per-class rescaling weight of shape (C,).
        size_average, reduce (bool, default None): deprecated; when given they override reduction.
        ignore_index (int, default -100): targets with this value add nothing to the loss or its gradient.
        reduction (str, default 'mean'): 'none' | 'mean' | 'sum'. 'mean' divides by the sum of weight[y]
            over non-ignored targets (their count without weight); all targets ignored gives NaN.
    Shape:
        input (C,), (N, C) or (N, C, d1, ..., dk); target (), (N,) or (N, d1, ..., dk);
        output () for 'mean'/'sum', else the target's shape.
    Returns:
        Tensor: the loss, in the input's dtype.
    Raises:
        DTypeError: target not int64/uint8, input not floating, weight of another dtype.
        ShapeError: target shape does not fit the input, weight not (C,).
        IndexError: a target outside [0, C) that is not ignore_index.

    Matches torch.nn.functional.nll_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> logp = cnnlab.tensor([[-0.5, -1.0], [-2.0, -0.25]])
    >>> F.nll_loss(logp, cnnlab.tensor([0, 1])).item()
    0.375
    """
    reduction = check_reduction("nll_loss", reduction, size_average, reduce)
    x = float_tensor(input, "nll_loss", "input")
    if x.ndim == 0:
        raise ShapeError("nll_loss: input must have shape (C,), (N, C) or (N, C, d1, ..., dk). Got input.shape=().")
    return _index_loss("nll_loss", x, as_tensor_arg(target, "nll_loss", "target"), weight, ignore_index,
                       reduction, 0.0, fused_softmax=False)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits and class indices or class probabilities, with log_softmax fused in.

    Class-index targets (int64, shape without C): loss_n = (1 - s) * -w[y] log p[y] + s/C * sum_c -w[c] log p[c],
    with s = label_smoothing and p = softmax(input); 'mean' divides by the sum of w[y] over non-ignored targets.
    Class-probability targets (floating, same shape as input): the target becomes (1 - s) t + s/C and
    loss_n = -sum_c w[c] t[c] log p[c]; 'mean' divides by the number of samples N * d1 * ... * dk.

    Args:
        input (Tensor): unnormalised logits, floating point.
        target (Tensor): class indices (int64 or uint8) or class probabilities (input's shape).
        weight (Tensor, default None): per-class rescaling weight of shape (C,).
        size_average, reduce (bool, default None): deprecated; when given they override reduction.
        ignore_index (int, default -100): class-index targets with this value are skipped.
        reduction (str, default 'mean'): 'none' | 'mean' | 'sum'.
        label_smoothing (float, default 0.0): amount s in [0, 1] of the uniform distribution mixed in.
    Shape:
        input (C,), (N, C) or (N, C, d1, ..., dk); target (), (N,), (N, d1, ..., dk) or the input's shape;
        output () for 'mean'/'sum', else the per-sample shape ((), (N,) or (N, d1, ..., dk)).
    Returns:
        Tensor: the loss, in the input's dtype (promoted with target and weight for probability targets).
    Raises:
        DTypeError: integer input, class-index target not int64/uint8, weight of another dtype.
        ShapeError: target shape fits neither mode, weight not (C,), label_smoothing > 1 (a negative
            label_smoothing warns and acts as 0, as in PyTorch).
        IndexError: a class index outside [0, C) that is not ignore_index.

    Matches torch.nn.functional.cross_entropy.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> logits = cnnlab.tensor([[0.0, 0.0], [0.0, 0.0]])
    >>> round(F.cross_entropy(logits, cnnlab.tensor([0, 1])).item(), 4)
    0.6931
    """
    op = "cross_entropy"
    reduction = check_reduction(op, reduction, size_average, reduce)
    if label_smoothing > 1.0:
        raise ShapeError(f"{op}: label_smoothing must be in [0.0, 1.0]. Got label_smoothing={label_smoothing}.")
    if label_smoothing < 0.0:  # PyTorch accepts it and smooths nothing; so do we, but say so
        warnings.warn(f"{op}: label_smoothing < 0 has no effect (treated as 0.0, as PyTorch does). Got "
                      f"label_smoothing={label_smoothing}.", UserWarning, stacklevel=2)
        label_smoothing = 0.0
    x = float_tensor(input, op, "input")
    t = as_tensor_arg(target, op, "target")
    if x.ndim == 0:
        raise ShapeError(f"{op}: input must have shape (C,), (N, C) or (N, C, d1, ..., dk). Got input.shape=().")
    if t.shape == x.shape:
        return _prob_cross_entropy(x, t, weight, reduction, float(label_smoothing))
    return _index_loss(op, x, t, weight, ignore_index, reduction, float(label_smoothing), fused_softmax=True)


def _prob_cross_entropy(input, target, weight, reduction, eps):
    """cross_entropy with class-probability targets: loss_n = -sum_c w[c] t'[c] L[c], t' = (1-eps) t + eps/C."""
    op = "cross_entropy"
    if target._data.dtype.kind != "f":
        raise DTypeError(f"{op}: class-probability targets (the input's shape) must be floating point. Got "
                         f"target.dtype={target.dtype}, target.shape={shape_str(target.shape)}.")
    one_d = input.ndim == 1
    C = input.shape[-1] if one_d else input.shape[1]
    w_t = None if weight is None else as_tensor_arg(weight, op, "weight")
    dt = _dtypes.result_type([input._data.dtype, target._data.dtype] + ([w_t._data.dtype] if w_t is not None else []))
    x = input._data.astype(dt, copy=False)
    t = target._data.astype(dt, copy=False)
    if one_d:
        x, t = x.reshape(1, C), t.reshape(1, C)                   # (1, C)
    w_t, w = _class_weight(op, w_t, C, dt, promote=True)
    wb = None if w is None else w.astype(dt, copy=False).reshape((1, C) + (1,) * (x.ndim - 2))  # (1, C, 1, ...)
    L = _log_softmax(x)
    tp = (1.0 - eps) * t + eps / C if eps else t
    wt = tp if wb is None else tp * wb
    loss = -(wt * L).sum(axis=1)                                  # (N, *rest)
    out = reduce_loss(loss, reduction, loss.size)

    # dloss/dx = c (p sum_c wt[c] - wt) (softmax Jacobian), dloss/dt = -c (1-eps) w L, dloss/dw = -sum c t' L.
    def backward(g):
        c = upstream_grad(g, reduction, loss.size, loss.shape)[:, None]   # (N, 1, *rest)
        gx = gt = gw = None
        if input.requires_grad:
            gx = (c * (np.exp(L) * wt.sum(axis=1, keepdims=True) - wt)).reshape(input.shape)
            gx = gx.astype(input._data.dtype, copy=False)
        if target.requires_grad:
            gt = -(1.0 - eps) * c * (L if wb is None else L * wb)
            gt = gt.reshape(target.shape).astype(target._data.dtype, copy=False)
        if w_t is not None and w_t.requires_grad:
            gw = -_sum_but_classes(c * tp * L).astype(w_t._data.dtype, copy=False)
        return (gx, gt, gw) if w_t is not None else (gx, gt)

    parents = (input, target) + ((w_t,) if w_t is not None else ())
    # PyTorch's last op here is the mean's division, or the sum's (or per-sample) negation
    return Tensor._from_op(out.reshape(()) if one_d and reduction == "none" else out, parents, backward,
                           "DivBackward1" if reduction == "mean" else "NegBackward0")
