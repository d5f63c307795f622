"""Loss functions: cross-entropy and NLL over classes, binary cross-entropy, regression and divergence losses.

Each loss is one recorded op: its forward computes the per-element loss and the reduction in NumPy, and one
backward closure returns the gradient of every floating input (no chain of small autograd ops). Class losses
lay the data out as (N, C, *rest) with classes on axis 1; an unbatched (C,) input becomes (1, C) inside.
"""
import warnings

import numpy as np

from ... import _dtypes
from ...errors import DTypeError, ShapeError, shape_str
from ...ops._operands import as_tensor_arg, broadcast_shape, unbroadcast
from ...tensor import Tensor

__all__ = ["cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss",
           "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "soft_margin_loss", "margin_ranking_loss"]

_INDEX_DTYPES = (np.int64, np.uint8)  # PyTorch accepts Long and Byte class indices, nothing else


# ---- shared argument handling ------------------------------------------------------------------------------
def _reduction(op, reduction, size_average=None, reduce=None, allowed=("none", "mean", "sum")):
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


def _float_tensor(x, op, name):
    t = as_tensor_arg(x, op, name)
    if t._data.dtype.kind != "f":
        raise DTypeError(f"{op}: {name} must be a floating-point tensor. Got {name}.dtype={t.dtype}.")
    return t


def _reduce(loss, reduction, denom):
    """Reduce the per-element loss array; 'mean' divides by denom (an empty mean is NaN, as in PyTorch)."""
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total if reduction == "sum" else total / denom, dtype=loss.dtype)


def _upstream(g, reduction, denom, shape):
    """d(out)/d(per-element loss) * grad_out, as an array of the per-element loss's shape."""
    if reduction == "none":
        return g.reshape(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.broadcast_to(g if reduction == "sum" else g / denom, shape)


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
    N, C = x.shape[0], x.shape[1]
    if C == 0:
        raise ShapeError(f"{op}: input must have at least one class. Got input.shape={shape_str(input.shape)}.")
    w_t, w = _class_weight(op, weight, C, x.dtype, promote=False)
    valid = y != ignore_index                                     # (N, *rest)
    y_valid = y[valid]
    if y_valid.size and (y_valid.min() < 0 or y_valid.max() >= C):
        raise IndexError(f"{op}: target values must be in [0, C) or ignore_index. Got C={C}, min target="
                         f"{y_valid.min()}, max target={y_valid.max()}, ignore_index={ignore_index}.")
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
    out = _reduce(loss, reduction, denom)

    # With G[j] = (1 - eps) w[y] onehot(y)[j] + eps/C w[j] (the weight on -L[j]) and c the upstream gradient per
    # sample (0 where ignored): dloss/dL = -c G. Through log_softmax, dL[k]/dx[j] = delta_jk - p[j], so
    # dloss/dx = c (p sum_k G[k] - G). dloss/dw[k] is the coefficient of w[k] in loss_n; for 'mean' the
    # denominator adds -out/W * (number of valid targets of class k).
    def backward(g):
        c = np.where(valid, _upstream(g, reduction, denom, y.shape), 0).astype(x.dtype, copy=False)
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
    name = "CrossEntropyLossBackward" if fused_softmax else "NllLossBackward"
    return Tensor._from_op(out.reshape(out_shape) if reduction == "none" else out, parents, backward, name)


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
    reduction = _reduction("nll_loss", reduction, size_average, reduce)
    x = _float_tensor(input, "nll_loss", "input")
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
    reduction = _reduction(op, reduction, size_average, reduce)
    if label_smoothing > 1.0:
        raise ShapeError(f"{op}: label_smoothing must be in [0.0, 1.0]. Got label_smoothing={label_smoothing}.")
    if label_smoothing < 0.0:  # PyTorch accepts it and smooths nothing; so do we, but say so
        warnings.warn(f"{op}: label_smoothing < 0 has no effect (treated as 0.0, as PyTorch does). Got "
                      f"label_smoothing={label_smoothing}.", UserWarning, stacklevel=2)
        label_smoothing = 0.0
    x = _float_tensor(input, op, "input")
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
    out = _reduce(loss, reduction, loss.size)

    # dloss/dx = c (p sum_c wt[c] - wt) (softmax Jacobian), dloss/dt = -c (1-eps) w L, dloss/dw = -sum c t' L.
    def backward(g):
        c = _upstream(g, reduction, loss.size, loss.shape)[:, None]   # (N, 1, *rest)
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
    return Tensor._from_op(out.reshape(()) if one_d and reduction == "none" else out, parents, backward,
                           "CrossEntropyLossBackward")


# ---- elementwise losses --------------------------------------------------------------------------------
def _pointwise(op, tensors, reduction, fwd, der, weight=None, mean_over_weight=False):
    """One op for an elementwise loss of broadcastable operands.

    fwd(*arrays) -> per-element loss l; der(*arrays) -> dl/d(operand) per operand (None: no gradient).
    An optional elementwise weight scales l; 'mean' divides by the element count, or by sum(weight) when
    mean_over_weight (mse_loss and l1_loss with weight, as PyTorch). Every gradient is summed back to its
    operand's shape; the weight's gradient is l (minus out/sum(weight) per element for mean_over_weight).
    """
    parents = tuple(tensors) + ((weight,) if weight is not None else ())
    dt = _dtypes.result_type([p._data.dtype for p in parents])
    shape = ()
    for p in parents:
        shape = broadcast_shape(shape, p.shape, op)
    arrays = [p._data.astype(dt, copy=False) for p in tensors]
    w = weight._data.astype(dt, copy=False) if weight is not None else None
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        el = np.broadcast_to(fwd(*arrays), shape)
    loss = el if w is None else el * w
    n = el.size
    denom = w.sum(dtype=dt) if mean_over_weight and w is not None else n
    out = _reduce(np.asarray(loss, dtype=dt), reduction, denom)

    def backward(g):
        gl = _upstream(g, reduction, denom, shape)
        gw_el = gl if w is None else gl * w
        grads = []
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            ders = der(*arrays)
            for p, d in zip(tensors, ders):
                grads.append(None if not p.requires_grad or d is None else
                             unbroadcast(np.broadcast_to(d * gw_el, shape), p.shape).astype(p._data.dtype, copy=False))
            if weight is not None:
                gw = None
                if weight.requires_grad:
                    gw = unbroadcast(np.broadcast_to(gl * el, shape), weight.shape)
                    if mean_over_weight and reduction == "mean":  # d(S / sum w)/dw adds -out / sum w
                        gw = gw - g * out / denom
                    gw = gw.astype(weight._data.dtype, copy=False)
                grads.append(gw)
        return grads

    return Tensor._from_op(out, parents, backward, op.title().replace("_", "") + "Backward")


def _regression_args(op, input, target, weight=None):
    """Tensors for a regression loss; warns like PyTorch when target's shape differs and broadcasting happens."""
    x = _float_tensor(input, op, "input")
    t = as_tensor_arg(target, op, "target")
    if t.shape != x.shape:
        broadcast_shape(x.shape, t.shape, op)
        warnings.warn(f"{op}: target size {shape_str(t.shape)} differs from input size {shape_str(x.shape)}; "
                      "they are broadcast together, which will likely give incorrect results. Please ensure "
                      "they have the same size.", UserWarning, stacklevel=3)
    if weight is not None:
        weight = _float_tensor(weight, op, "weight")
        if weight.shape != x.shape:
            raise ShapeError(f"{op}: weight must have the input's shape. Got weight.shape={shape_str(weight.shape)}, "
                             f"input.shape={shape_str(x.shape)}.")
    return x, t, weight


def _same_shape(op, x, t):
    if t.shape != x.shape:
        raise ShapeError(f"{op}: target must have the input's shape. Got target.shape={shape_str(t.shape)}, "
                         f"input.shape={shape_str(x.shape)}.")


def _broadcasts_to_input(op, name, v, x):
    """A floating weight tensor that broadcasts to x's shape without growing it."""
    v = _float_tensor(v, op, name)
    try:
        ok = np.broadcast_shapes(v.shape, x.shape) == tuple(x.shape)
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"{op}: {name} must broadcast to the input's shape. Got {name}.shape={shape_str(v.shape)}, "
                         f"input.shape={shape_str(x.shape)}.")
    return v


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (input - target)^2, optionally weighted per element.

    Args:
        input, target (Tensor): same shape (other broadcastable shapes warn, as in PyTorch).
        size_average, reduce (bool, default None): deprecated; when given they override reduction.
        reduction (str, default 'mean'): 'none' | 'mean' | 'sum'; with weight, 'mean' is sum(w l) / sum(w).
        weight (Tensor, default None): per-element weight of the input's shape.
    Shape: output () for 'mean'/'sum', else the broadcast shape.
    Returns: Tensor, in the promoted floating dtype.
    Raises: DTypeError (integer input), ShapeError (shapes that do not broadcast, weight of another shape).

    Matches torch.nn.functional.mse_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.mse_loss(cnnlab.tensor([1.0, 2.0]), cnnlab.tensor([0.0, 0.0])).item()
    2.5
    """
    x, t, weight = _regression_args("mse_loss", input, target, weight)
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    return _pointwise("mse_loss", (x, t), reduction, lambda a, b: (a - b) ** 2,
                      lambda a, b: (2.0 * (a - b), -2.0 * (a - b)), weight, mean_over_weight=True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |input - target| (gradient sign(input - target), 0 at ties), optionally weighted.

    Args, Shape, Raises: as mse_loss. Matches torch.nn.functional.l1_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.l1_loss(cnnlab.tensor([1.0, -2.0]), cnnlab.tensor([0.0, 0.0]), reduction='sum').item()
    3.0
    """
    x, t, weight = _regression_args("l1_loss", input, target, weight)
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    return _pointwise("l1_loss", (x, t), reduction, lambda a, b: np.abs(a - b),
                      lambda a, b: (np.sign(a - b), -np.sign(a - b)), weight, mean_over_weight=True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta=0 is l1_loss.

    Args: input, target, size_average, reduce, reduction as mse_loss; beta (float, default 1.0) >= 0.
    Raises: ShapeError for beta < 0. Matches torch.nn.functional.smooth_l1_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.smooth_l1_loss(cnnlab.tensor([0.5, 3.0]), cnnlab.tensor([0.0, 0.0]), reduction='none').tolist()
    [0.125, 2.5]
    """
    if beta < 0:
        raise ShapeError(f"smooth_l1_loss: beta must be >= 0. Got beta={beta}.")
    x, t, _ = _regression_args("smooth_l1_loss", input, target)
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta == 0:
        return _pointwise("smooth_l1_loss", (x, t), reduction, lambda a, b: np.abs(a - b),
                          lambda a, b: (np.sign(a - b), -np.sign(a - b)))
    beta = float(beta)

    def der(a, b):  # d/d(d): d / beta inside the quadratic zone, sign(d) outside
        d = a - b
        dd = np.where(np.abs(d) < beta, d / beta, np.sign(d))
        return dd, -dd
    return _pointwise("smooth_l1_loss", (x, t), reduction,
                      lambda a, b: np.where(np.abs(a - b) < beta, 0.5 * (a - b) ** 2 / beta, np.abs(a - b) - 0.5 * beta),
                      der)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target).

    Args: input, target, reduction as mse_loss; delta (float, default 1.0) > 0; weight (Tensor, default None)
    of the input's shape, with 'mean' = mean(w l) (the element count, as PyTorch).
    Raises: ShapeError for delta <= 0. Matches torch.nn.functional.huber_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.huber_loss(cnnlab.tensor([0.5, 3.0]), cnnlab.tensor([0.0, 0.0]), reduction='none', delta=2.0).tolist()
    [0.125, 4.0]
    """
    if not delta > 0:
        raise ShapeError(f"huber_loss: delta must be > 0. Got delta={delta}.")
    x, t, weight = _regression_args("huber_loss", input, target, weight)
    reduction = _reduction("huber_loss", reduction)
    delta = float(delta)

    def der(a, b):  # d inside the quadratic zone, delta * sign(d) outside
        d = a - b
        dd = np.where(np.abs(d) < delta, d, delta * np.sign(d))
        return dd, -dd
    return _pointwise("huber_loss", (x, t), reduction,
                      lambda a, b: np.where(np.abs(a - b) < delta, 0.5 * (a - b) ** 2,
                                            delta * (np.abs(a - b) - 0.5 * delta)), der, weight)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy of probabilities: -w (t log x + (1 - t) log(1 - x)), each log clamped at -100.

    Args:
        input (Tensor): probabilities in [0, 1]. target (Tensor): same shape, floating, values in [0, 1].
        weight (Tensor, default None): rescaling weight broadcastable to the input's shape.
        size_average, reduce, reduction: as mse_loss ('mean' divides by the element count).
    Shape: output () for 'mean'/'sum', else the input's shape.
    Returns: Tensor, in the input's dtype.
    Raises: ShapeError (target shape, weight shape, values outside [0, 1]), DTypeError (non-float operands).

    Matches torch.nn.functional.binary_cross_entropy (gradient (x - t) / max(x (1 - x), 1e-12) as PyTorch).

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> round(F.binary_cross_entropy(cnnlab.tensor([0.5, 0.5]), cnnlab.tensor([1.0, 0.0])).item(), 4)
    0.6931
    """
    op = "binary_cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, t = _float_tensor(input, op, "input"), _float_tensor(target, op, "target")
    _same_shape(op, x, t)
    if t._data.dtype != x._data.dtype:
        raise DTypeError(f"{op}: target must have the input's dtype. Got target.dtype={t.dtype}, input.dtype={x.dtype}.")
    for name, a in (("input", x._data), ("target", t._data)):
        if a.size and not ((a >= 0) & (a <= 1)).all():
            raise ShapeError(f"{op}: all {name} values must be in [0, 1] (probabilities; for logits use "
                             f"binary_cross_entropy_with_logits). Got min {name}={a.min()}, max {name}={a.max()}.")
    if weight is not None:
        weight = _broadcasts_to_input(op, "weight", weight, x)
        if weight._data.dtype != x._data.dtype:  # PyTorch computes in the input's dtype
            weight = Tensor._from_op(weight._data.astype(x._data.dtype), (weight,),
                                     lambda g, dt=weight._data.dtype: (g.astype(dt),), "ToCopyBackward")

    # dl/dx = (x - t) / (x (1 - x)), with PyTorch's 1e-12 floor on the denominator; dl/dt = log(1 - x) - log(x).
    return _pointwise(op, (x, t), reduction,
                      lambda a, b: -(b * np.maximum(np.log(a), -100.0) + (1.0 - b) * np.maximum(np.log1p(-a), -100.0)),
                      lambda a, b: ((a - b) / np.maximum(a * (1.0 - a), 1e-12), np.log1p(-a) - np.log(a)), weight)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy of logits, stable for any logit: (1 - t) x + (1 + (pw - 1) t) softplus(-x).

    Args:
        input (Tensor): logits. target (Tensor): same shape, floating (probabilities).
        weight (Tensor, default None): rescaling weight broadcastable to the input's shape.
        size_average, reduce, reduction: as mse_loss.
        pos_weight (Tensor, default None): weight of positive examples, broadcast along the last (class) dim,
            e.g. shape (C,) for input (N, C).
    Shape: output () for 'mean'/'sum', else the input's shape.
    Raises: ShapeError (target of another shape, weights that do not broadcast), DTypeError (non-float).

    Matches torch.nn.functional.binary_cross_entropy_with_logits.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(cnnlab.tensor([0.0]), cnnlab.tensor([1.0])).item(), 4)
    0.6931
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, t = _float_tensor(input, op, "input"), _float_tensor(target, op, "target")
    _same_shape(op, x, t)
    extra = []
    for name, v in (("weight", weight), ("pos_weight", pos_weight)):
        if v is not None:
            v = _broadcasts_to_input(op, name, v, x)
        extra.append(v)
    weight, pos_weight = extra
    softplus_neg = lambda a: np.maximum(-a, 0) + np.log1p(np.exp(-np.abs(a)))   # log(1 + exp(-a)), stable
    sigmoid_neg = lambda a: np.exp(-np.logaddexp(0, a))                          # sigmoid(-a)

    # l = (1 - t) x + lw softplus(-x), lw = 1 + (pw - 1) t:  dl/dx = (1 - t) - lw sigmoid(-x),
    # dl/dt = -x + (pw - 1) softplus(-x),  dl/dpw = t softplus(-x).
    if pos_weight is None:
        return _pointwise(op, (x, t), reduction, lambda a, b: (1.0 - b) * a + softplus_neg(a),
                          lambda a, b: ((1.0 - b) - sigmoid_neg(a), -a), weight)
    return _pointwise(op, (x, t, pos_weight), reduction,
                      lambda a, b, pw: (1.0 - b) * a + (1.0 + (pw - 1.0) * b) * softplus_neg(a),
                      lambda a, b, pw: ((1.0 - b) - (1.0 + (pw - 1.0) * b) * sigmoid_neg(a),
                                        -a + (pw - 1.0) * softplus_neg(a), b * softplus_neg(a)), weight)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence of log-probabilities `input` from `target`: t (log t - x) per element.

    Args:
        input (Tensor): log-probabilities. target (Tensor): probabilities (log-probabilities if log_target),
            broadcastable with input; 0 * log 0 counts as 0.
        size_average, reduce (bool, default None): deprecated; when given they override reduction.
        reduction (str, default 'mean'): 'none' | 'batchmean' (sum / input.shape[0], the true KL divergence) |
            'sum' | 'mean' (sum / element count; warns, as PyTorch).
        log_target (bool, default False): target is given as log-probabilities: exp(t) (t - x).
    Shape: output () unless reduction='none'.
    Raises: DTypeError (integer operands), ShapeError (shapes that do not broadcast).

    Matches torch.nn.functional.kl_div.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> logq = cnnlab.tensor([[0.5, 0.5]]).log()
    >>> F.kl_div(logq, cnnlab.tensor([[0.5, 0.5]]), reduction='batchmean').item()
    0.0
    """
    op = "kl_div"
    if size_average is not None or reduce is not None:
        reduction = _reduction(op, reduction, size_average, reduce)
    else:
        reduction = _reduction(op, reduction, allowed=("none", "batchmean", "sum", "mean"))
        if reduction == "mean":
            warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size and the support "
                          "size; 'batchmean' divides only by the batch size and matches the KL divergence's "
                          "definition.", UserWarning, stacklevel=2)
    x, t = _float_tensor(input, op, "input"), _float_tensor(target, op, "target")
    if reduction == "batchmean":
        out = kl_div(x, t, reduction="sum", log_target=log_target)
        return out / x.shape[0] if x.ndim > 0 else out
    if log_target:  # l = exp(t) (t - x): dl/dx = -exp(t), dl/dt = exp(t) (t - x + 1)
        return _pointwise(op, (x, t), reduction, lambda a, b: np.exp(b) * (b - a),
                          lambda a, b: (-np.exp(b), np.exp(b) * (b - a + 1.0)))
    # l = t log t - t x (0 where t = 0): dl/dx = -t, dl/dt = log t + 1 - x
    return _pointwise(op, (x, t), reduction, lambda a, b: np.where(b == 0, 0.0, b * np.log(b)) - b * a,
                      lambda a, b: (-b, np.log(b) + 1.0 - a))


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss log(1 + exp(-t x)) for targets t in {1, -1}, computed stably.

    Args: input (Tensor), target (Tensor, same shape), size_average, reduce, reduction as mse_loss.
    Raises: ShapeError (target of another shape). Matches torch.nn.functional.soft_margin_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> round(F.soft_margin_loss(cnnlab.tensor([0.0]), cnnlab.tensor([1.0])).item(), 4)
    0.6931
    """
    op = "soft_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, t = _float_tensor(input, op, "input"), as_tensor_arg(target, op, "target")
    _same_shape(op, x, t)
    sig = lambda z: np.exp(-np.logaddexp(0, -z))  # sigmoid(z), stable
    # dl/dx = -t sigmoid(-t x), dl/dt = -x sigmoid(-t x)
    return _pointwise(op, (x, t), reduction, lambda a, b: np.logaddexp(0, -b * a),
                      lambda a, b: (-b * sig(-b * a), -a * sig(-b * a)))


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """Ranking loss max(0, -t (x1 - x2) + margin): t = 1 means x1 should rank higher, t = -1 x2.

    Args: input1, input2, target (Tensor, broadcastable), margin (float, default 0), size_average, reduce,
    reduction as mse_loss. Raises: ShapeError (shapes that do not broadcast).
    Matches torch.nn.functional.margin_ranking_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.margin_ranking_loss(cnnlab.tensor([1.0, 0.0]), cnnlab.tensor([0.0, 1.0]), cnnlab.tensor([1.0, 1.0])).item()
    0.5
    """
    op = "margin_ranking_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x1, x2 = _float_tensor(input1, op, "input1"), _float_tensor(input2, op, "input2")
    t = as_tensor_arg(target, op, "target")
    if not x1.ndim == x2.ndim == t.ndim:
        raise ShapeError(f"{op}: input1, input2 and target must have the same number of dimensions. Got shapes "
                         f"{shape_str(x1.shape)}, {shape_str(x2.shape)}, {shape_str(t.shape)}.")
    m = float(margin)
    # active = (-t (x1 - x2) + margin > 0): dl/dx1 = -t active, dl/dx2 = t active, dl/dt = -(x1 - x2) active
    act = lambda a, b, y: (-y * (a - b) + m) > 0
    return _pointwise(op, (x1, x2, t), reduction, lambda a, b, y: np.maximum(-y * (a - b) + m, 0.0),
                      lambda a, b, y: (-y * act(a, b, y), y * act(a, b, y), -(a - b) * act(a, b, y)))
