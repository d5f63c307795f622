"""Elementwise losses (mse, l1, smooth_l1, huber, binary cross-entropy with and without logits, kl_div,
soft_margin, margin_ranking): each a function of input and target per element, then reduced."""
import warnings

import numpy as np

from ... import _dtypes
from ...errors import DTypeError, ShapeError, shape_str
from ...ops._operands import as_tensor_arg, broadcast_shape, unbroadcast
from ...tensor import Tensor
from ._reduction import check_reduction, float_tensor, reduce_loss, upstream_grad

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss",
           "huber_loss", "kl_div", "soft_margin_loss", "margin_ranking_loss"]


def elementwise_loss(op, tensors, reduction, fwd, der, weight=None, mean_over_weight=False, name=None):
    """One op for an elementwise loss of broadcastable operands.

    fwd(*arrays) -> per-element loss l; der(*arrays) -> dl/d(operand) per operand (None: no gradient).
    An optional elementwise weight scales l; 'mean' divides by the element count, or by sum(weight) when
    mean_over_weight (mse_loss and l1_loss with weight, as PyTorch). Every gradient is summed back to its
    operand's shape; the weight's gradient is l (minus out/sum(weight) per element for mean_over_weight).
    name: the grad_fn name (default: the op's fused node, `MseLossBackward0` for mse_loss).
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
    out = reduce_loss(np.asarray(loss, dtype=dt), reduction, denom)

    def backward(g):
        gl = upstream_grad(g, reduction, denom, shape)
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

    return Tensor._from_op(out, parents, backward, name or op.title().replace("_", "") + "Backward")


def _composite_name(reduction, none_name, mean_name="MeanBackward0"):
    """The grad_fn PyTorch shows for a loss it builds from smaller ops: the last of them (the reduction's, or
    the elementwise op's for reduction='none')."""
    return {"mean": mean_name, "sum": "SumBackward0"}.get(reduction, none_name)


def _regression_args(op, input, target, weight=None):
    """Tensors for a regression loss; warns like PyTorch when target's shape differs and broadcasting happens."""
    x = float_tensor(input, op, "input")
    t = as_tensor_arg(target, op, "target")
    if t.shape != x.shape:
        broadcast_shape(x.shape, t.shape, op)
        warnings.warn(f"{op}: target size {shape_str(t.shape)} differs from input size {shape_str(x.shape)}; "
                      "they are broadcast together, which will likely give incorrect results. Please ensure "
                      "they have the same size.", UserWarning, stacklevel=3)
    if weight is not None:
        weight = float_tensor(weight, op, "weight")
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
    v = float_tensor(v, op, name)
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
    reduction = check_reduction("mse_loss", reduction, size_average, reduce)
    return elementwise_loss("mse_loss", (x, t), reduction, lambda a, b: (a - b) ** 2,
                            lambda a, b: (2.0 * (a - b), -2.0 * (a - b)), weight, mean_over_weight=True,
                            name=None if weight is None else _composite_name(reduction, "MulBackward0", "DivBackward0"))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |input - target| (gradient sign(input - target), 0 at ties), optionally weighted.

    Args, Shape, Raises: as mse_loss. Matches torch.nn.functional.l1_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.l1_loss(cnnlab.tensor([1.0, -2.0]), cnnlab.tensor([0.0, 0.0]), reduction='sum').item()
    3.0
    """
    x, t, weight = _regression_args("l1_loss", input, target, weight)
    reduction = check_reduction("l1_loss", reduction, size_average, reduce)
    name = (_composite_name(reduction, "AbsBackward0") if weight is None else
            _composite_name(reduction, "MulBackward0", "DivBackward0"))
    return elementwise_loss("l1_loss", (x, t), reduction, lambda a, b: np.abs(a - b),
                            lambda a, b: (np.sign(a - b), -np.sign(a - b)), weight, mean_over_weight=True, name=name)


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
    reduction = check_reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta == 0:
        return elementwise_loss("smooth_l1_loss", (x, t), reduction, lambda a, b: np.abs(a - b),
                                lambda a, b: (np.sign(a - b), -np.sign(a - b)),
                                name=_composite_name(reduction, "AbsBackward0"))  # PyTorch calls l1_loss here
    beta = float(beta)

    def der(a, b):  # d/d(d): d / beta inside the quadratic zone, sign(d) outside
        d = a - b
        dd = np.where(np.abs(d) < beta, d / beta, np.sign(d))
        return dd, -dd
    return elementwise_loss("smooth_l1_loss", (x, t), reduction,
                            lambda a, b: np.where(np.abs(a - b) < beta, 0.5 * (a - b) ** 2 / beta,
                                                  np.abs(a - b) - 0.5 * beta),
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
    reduction = check_reduction("huber_loss", reduction)
    delta = float(delta)

    def der(a, b):  # d inside the quadratic zone, delta * sign(d) outside
        d = a - b
        dd = np.where(np.abs(d) < delta, d, delta * np.sign(d))
        return dd, -dd
    return elementwise_loss("huber_loss", (x, t), reduction,
                            lambda a, b: np.where(np.abs(a - b) < delta, 0.5 * (a - b) ** 2,
                                                  delta * (np.abs(a - b) - 0.5 * delta)), der, weight,
                            name=None if weight is None else _composite_name(reduction, "MulBackward0"))


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
    reduction = check_reduction(op, reduction, size_average, reduce)
    x, t = float_tensor(input, op, "input"), float_tensor(target, op, "target")
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
    return elementwise_loss(op, (x, t), reduction,
                            lambda a, b: -(b * np.maximum(np.log(a), -100.0)
                                           + (1.0 - b) * np.maximum(np.log1p(-a), -100.0)),
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
    reduction = check_reduction(op, reduction, size_average, reduce)
    x, t = float_tensor(input, op, "input"), float_tensor(target, op, "target")
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
        return elementwise_loss(op, (x, t), reduction, lambda a, b: (1.0 - b) * a + softplus_neg(a),
                                lambda a, b: ((1.0 - b) - sigmoid_neg(a), -a), weight)
    return elementwise_loss(op, (x, t, pos_weight), reduction,
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
        reduction = check_reduction(op, reduction, size_average, reduce)
    else:
        reduction = check_reduction(op, reduction, allowed=("none", "batchmean", "sum", "mean"))
        if reduction == "mean":
            warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size and the support "
                          "size; 'batchmean' divides only by the batch size and matches the KL divergence's "
                          "definition.", UserWarning, stacklevel=2)
    x, t = float_tensor(input, op, "input"), float_tensor(target, op, "target")
    if reduction == "batchmean":
        out = kl_div(x, t, reduction="sum", log_target=log_target)
        return out / x.shape[0] if x.ndim > 0 else out
    if log_target:  # l = exp(t) (t - x): dl/dx = -exp(t), dl/dt = exp(t) (t - x + 1)
        return elementwise_loss(op, (x, t), reduction, lambda a, b: np.exp(b) * (b - a),
                                lambda a, b: (-np.exp(b), np.exp(b) * (b - a + 1.0)),
                                name=_composite_name(reduction, "MulBackward0"))
    # l = t log t - t x (0 where t = 0): dl/dx = -t, dl/dt = log t + 1 - x
    return elementwise_loss(op, (x, t), reduction, lambda a, b: np.where(b == 0, 0.0, b * np.log(b)) - b * a,
                            lambda a, b: (-b, np.log(b) + 1.0 - a), name=_composite_name(reduction, "SubBackward0"))


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss log(1 + exp(-t x)) for targets t in {1, -1}, computed stably.

    Args: input (Tensor), target (Tensor, same shape), size_average, reduce, reduction as mse_loss.
    Raises: ShapeError (target of another shape). Matches torch.nn.functional.soft_margin_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> round(F.soft_margin_loss(cnnlab.tensor([0.0]), cnnlab.tensor([1.0])).item(), 4)
    0.6931
    """
    op = "soft_margin_loss"
    reduction = check_reduction(op, reduction, size_average, reduce)
    x, t = float_tensor(input, op, "input"), as_tensor_arg(target, op, "target")
    _same_shape(op, x, t)
    sig = lambda z: np.exp(-np.logaddexp(0, -z))  # sigmoid(z), stable
    # dl/dx = -t sigmoid(-t x), dl/dt = -x sigmoid(-t x)
    return elementwise_loss(op, (x, t), reduction, lambda a, b: np.logaddexp(0, -b * a),
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
    reduction = check_reduction(op, reduction, size_average, reduce)
    x1, x2 = float_tensor(input1, op, "input1"), float_tensor(input2, op, "input2")
    t = as_tensor_arg(target, op, "target")
    if not x1.ndim == x2.ndim == t.ndim:
        raise ShapeError(f"{op}: input1, input2 and target must have the same number of dimensions. Got shapes "
                         f"{shape_str(x1.shape)}, {shape_str(x2.shape)}, {shape_str(t.shape)}.")
    m = float(margin)
    # active = (-t (x1 - x2) + margin > 0): dl/dx1 = -t active, dl/dx2 = t active, dl/dt = -(x1 - x2) active
    act = lambda a, b, y: (-y * (a - b) + m) > 0
    return elementwise_loss(op, (x1, x2, t), reduction, lambda a, b, y: np.maximum(-y * (a - b) + m, 0.0),
                            lambda a, b, y: (-y * act(a, b, y), y * act(a, b, y), -(a - b) * act(a, b, y)),
                            name=_composite_name(reduction, "ClampMinBackward0"))
