"""Margin and embedding losses: triplet_margin_loss, cosine_embedding_loss, hinge_embedding_loss,
multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss.

Each is a composition of recorded ops (distances, clamp, where, gather, sums), written in the order PyTorch
computes them, so the values round alike and the gradients come from those ops' backward closures.
"""
import numpy as np

from ...errors import ShapeError, shape_str
from ...ops._operands import as_tensor_arg
from ...ops.elementwise import minimum, where
from ...ops.indexing import gather
from ...ops.shape import renamed
from ...tensor import Tensor
from ._reduction import apply_reduction, check_reduction, float_tensor
from .activation import logsigmoid
from .distance import pairwise_distance

__all__ = ["triplet_margin_loss", "triplet_margin_with_distance_loss", "cosine_embedding_loss",
           "hinge_embedding_loss", "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss"]


def _triplet_inputs(op, anchor, positive, negative, margin):
    """The three inputs of a triplet loss as tensors, after torch's checks (margin > 0, equal numbers of dims)."""
    if not margin > 0:
        raise ValueError(f"{op}: margin must be greater than 0. Got margin={margin}.")
    a, pos, neg = (as_tensor_arg(t, op, n) for t, n in ((anchor, "anchor"), (positive, "positive"),
                                                        (negative, "negative")))
    if not a.ndim == pos.ndim == neg.ndim:
        raise ShapeError(f"{op}: anchor, positive and negative must have the same number of dims. Got "
                         f"anchor.shape={shape_str(a.shape)}, positive.shape={shape_str(pos.shape)}, "
                         f"negative.shape={shape_str(neg.shape)}.")
    return a, pos, neg


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-norm distance (plus eps); with swap, d(a, n) is
    replaced by min(d(a, n), d(p, n)).

    Args:
        anchor, positive, negative (Tensor): (N, D) or (D,), all with the same number of dims.
        margin (float, default 1.0): > 0. p (float, default 2.0): the norm. eps (float, default 1e-6).
        swap (bool, default False): the distance swap of Balntas et al. (2016).
        size_average, reduce (deprecated), reduction (str, default 'mean'): 'none' | 'mean' | 'sum'.
    Shape: (N,) for 'none', else ().
    Raises: ValueError (margin <= 0, different numbers of dims, a bad reduction).

    Matches torch.nn.functional.triplet_margin_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> a, pos, neg = cnnlab.tensor([[0.0, 0.0]]), cnnlab.tensor([[0.0, 1.0]]), cnnlab.tensor([[0.0, 3.0]])
    >>> F.triplet_margin_loss(a, pos, neg, margin=3.0, eps=0.0).item()
    1.0
    """
    op = "triplet_margin_loss"
    reduction = check_reduction(op, reduction, size_average, reduce)
    a, pos, neg = _triplet_inputs(op, anchor, positive, negative, margin)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return apply_reduction((margin + d_pos - d_neg).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with any distance d (default pairwise_distance); with swap, d(a, n)
    is replaced by min(d(a, n), d(p, n)).

    Args:
        anchor, positive, negative (Tensor): inputs with the same number of dims.
        distance_function (callable, default None): d(x1, x2) -> distances (a tensor); None: pairwise_distance.
        margin (float, default 1.0): > 0. swap (bool, default False). reduction (str, default 'mean').
    Raises: ValueError (margin <= 0, different numbers of dims, a bad reduction).

    Matches torch.nn.functional.triplet_margin_with_distance_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> l1 = lambda x, y: (x - y).abs().sum(-1)
    >>> a, pos, neg = cnnlab.tensor([[0.0, 0.0]]), cnnlab.tensor([[1.0, 1.0]]), cnnlab.tensor([[0.0, 1.0]])
    >>> F.triplet_margin_with_distance_loss(a, pos, neg, distance_function=l1).item()
    2.0
    """
    op = "triplet_margin_with_distance_loss"
    reduction = check_reduction(op, reduction)
    a, pos, neg = _triplet_inputs(op, anchor, positive, negative, margin)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = dist(a, pos), dist(a, neg)
    if swap:
        d_neg = minimum(d_neg, dist(pos, neg))
    return apply_reduction((margin + d_pos - d_neg).clamp(min=0), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target = 1, max(0, cos(x1, x2) - margin) where target = -1 (0 for other targets);
    cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)).

    Args:
        input1, input2 (Tensor): (N, D) with target (N,), or (D,) with a 0-d target.
        target (Tensor): 1 or -1 per pair. margin (float, default 0.0): in [-1, 1], 0 to 0.5 suggested.
        size_average, reduce (deprecated), reduction (str, default 'mean').
    Raises: ShapeError (a ValueError) for shapes other than those above.

    Matches torch.nn.functional.cosine_embedding_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> x = cnnlab.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> F.cosine_embedding_loss(x, cnnlab.tensor([[0.0, 1.0], [1.0, 0.0]]), cnnlab.tensor([1, -1]), reduction='none')
    tensor([1., 1.])
    """
    op = "cosine_embedding_loss"
    reduction = check_reduction(op, reduction, size_average, reduce)
    x1, x2 = float_tensor(input1, op, "input1"), float_tensor(input2, op, "input2")
    t = as_tensor_arg(target, op, "target")
    if t.ndim > 1 or x1.ndim != t.ndim + 1 or x1.shape != x2.shape or (t.ndim == 1 and x1.shape[0] != t.shape[0]):
        raise ShapeError(f"{op}: inputs must be (N, D) with target (N,), or (D,) with a 0-d target. Got "
                         f"input1.shape={shape_str(x1.shape)}, input2.shape={shape_str(x2.shape)}, "
                         f"target.shape={shape_str(t.shape)}.")
    dim = t.ndim
    eps = 1e-12
    prod_sum = (x1 * x2).sum(dim)
    denom = (((x1 * x1).sum(dim) + eps) * ((x2 * x2).sum(dim) + eps)).sqrt()
    cos = prod_sum / denom
    pos = where(as_mask(t._data == 1), 1 - cos, 0.0)
    neg = where(as_mask(t._data == -1), (cos - margin).clamp(min=0), 0.0)
    return apply_reduction(pos + neg, reduction)


def as_mask(array):
    """A boolean array as a tensor (no graph), for where()."""
    return Tensor._wrap(np.asarray(array))


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where target = 1, max(0, margin - x) where target = -1 (input: usually a distance).

    Args: input (Tensor, any shape), target (Tensor of 1 and -1, broadcastable), margin (float, default 1.0),
    size_average, reduce (deprecated), reduction (str, default 'mean').

    Matches torch.nn.functional.hinge_embedding_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.hinge_embedding_loss(cnnlab.tensor([0.3, 0.4]), cnnlab.tensor([1, -1]), reduction='none')
    tensor([0.3000, 0.6000])
    """
    op = "hinge_embedding_loss"
    reduction = check_reduction(op, reduction, size_average, reduce)
    x = float_tensor(input, op, "input")
    t = as_tensor_arg(target, op, "target")
    margin_part = where(as_mask(t._data != 1), (margin - x).clamp(min=0), 0.0)
    self_part = where(as_mask(t._data != -1), x, 0.0)
    return apply_reduction(margin_part + self_part, reduction)


def _margin_input(op, x):
    """(x as (N, C), unbatched) for PyTorch's rule: a 0-d or non-empty 1-d input is one sample (a 0-d one of
    C=1 class), a 2-D input (N, C) needs C > 0 (N may be 0)."""
    if x.ndim > 2 or x.shape[-1:] == (0,):
        raise ShapeError(f"{op}: input must be a scalar, a non-empty vector (C,) or a matrix (N, C) with C > 0. "
                         f"Got input.shape={shape_str(x.shape)}.")
    unbatched = x.ndim < 2
    return (x.reshape(1, -1) if unbatched else x), unbatched


def _class_targets(op, x, target):
    """(x as (N, C), int64 targets (N, 1), the unbatched loss's shape or None) after PyTorch's checks on an
    (N, C), (C,) or () input; an unbatched loss takes the target's shape, () or (1,), as in PyTorch."""
    t = as_tensor_arg(target, op, "target")
    x2, unbatched = _margin_input(op, x)
    n, c = x2.shape
    if t._data.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (an integer tensor). Got target.dtype={t.dtype}.")
    if t.numel() != n or t.ndim > 1:
        raise ShapeError(f"{op}: target must have one class index per sample. Got target.shape="
                         f"{shape_str(t.shape)}, input.shape={shape_str(x.shape)}.")
    idx = t._data.reshape(n, 1).astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= c):
        raise ShapeError(f"{op}: target out of range: each class index must be in [0, {c}). Got min={idx.min()}, "
                         f"max={idx.max()}.")
    return x2, idx, (t.shape if unbatched else None)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge loss: sum over i != y of w[y] max(0, margin - x[y] + x[i])^p, divided by C.

    Args:
        input (Tensor): (N, C) (N may be 0), (C,) or () (one class). target (int64 Tensor): (N,), or () or (1,)
            for an unbatched input.
        p (int, default 1): 1 or 2. margin (float, default 1.0).
        weight (Tensor, default None): (C,) class weights (of the target class).
        size_average, reduce (deprecated), reduction (str, default 'mean').
    Shape: (N,) for 'none' (the target's shape for an unbatched input), else (); 'mean' of N=0 is 0.
    Raises: ValueError (p not 1 or 2, weight or target of the wrong size, a class index out of range).

    Matches torch.nn.functional.multi_margin_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> round(F.multi_margin_loss(cnnlab.tensor([[0.1, 0.2, 0.4, 0.8]]), cnnlab.tensor([3])).item(), 4)
    0.325
    """
    op = "multi_margin_loss"
    reduction = check_reduction(op, reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported. Got p={p}.")
    x = float_tensor(input, op, "input")
    x2, idx, unbatched_shape = _class_targets(op, x, target)
    n, c = x2.shape
    x_y = gather(x2, 1, Tensor._wrap(idx))                      # (N, 1)
    z = (margin - x_y + x2).clamp(min=0)                        # (N, C)
    if p == 2:
        z = z * z
    if weight is not None:
        w = float_tensor(weight, op, "weight")
        if w.ndim != 1 or w.shape[0] != c:
            raise ShapeError(f"{op}: weight must have one value per class. Got weight.shape={shape_str(w.shape)}, "
                             f"C={c}.")
        z = z * w[Tensor._wrap(idx[:, 0])].unsqueeze(1)
    not_target = as_mask(np.arange(c)[None, :] != idx)    # (N, C): the target class does not count
    loss = where(not_target, z, 0.0).sum(1) / c              # (N,)
    if unbatched_shape is not None:
        loss = loss.reshape(unbatched_shape)
    return renamed(apply_reduction(loss, reduction), "MultiMarginLossBackward")  # PyTorch's fused op


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])),
    divided by C. The target row lists class indices and ends at the first -1.

    Args:
        input (Tensor): (N, C) (N may be 0), (C,) or () (one class). target (int64 Tensor): the input's shape
            (any vector of C for an unbatched input), class indices padded by -1.
        size_average, reduce (deprecated), reduction (str, default 'mean').
    Raises: ValueError (target of another shape, an index out of range).

    Matches torch.nn.functional.multilabel_margin_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> x, y = cnnlab.tensor([[0.1, 0.2, 0.4, 0.8]]), cnnlab.tensor([[3, 0, -1, 1]])
    >>> round(F.multilabel_margin_loss(x, y).item(), 4)
    0.85
    """
    op = "multilabel_margin_loss"
    reduction = check_reduction(op, reduction, size_average, reduce)
    x = float_tensor(input, op, "input")
    t = as_tensor_arg(target, op, "target")
    x2, unbatched = _margin_input(op, x)
    same = t.ndim <= 1 and t.numel() == x2.shape[1] if unbatched else t.shape == x.shape
    if not same or t._data.dtype.kind not in "iu":
        raise ShapeError(f"{op}: target must hold integer class indices, one per input element (a vector of C "
                         f"for an input () or (C,)). Got input.shape={shape_str(x.shape)}, "
                         f"target.shape={shape_str(t.shape)}, target.dtype={t.dtype}.")
    y = t._data.reshape(x2.shape).astype(np.int64)
    n, c = x2.shape
    counts = np.zeros((n, c), dtype=x2._data.dtype)            # how often each class is listed as a target
    for row in range(n):
        for j in y[row]:
            if j < 0:
                break
            if j >= c:
                raise ShapeError(f"{op}: target out of range: class indices must be in [0, {c}) or -1. Got {j}.")
            counts[row, j] += 1
    is_target = counts > 0
    # pair (j, i): counts[j] * [i not a target] * max(0, 1 - x_j + x_i)
    pair_w = counts[:, :, None] * ~is_target[:, None, :]       # (N, C_j, C_i)
    hinge = (1 - x2.unsqueeze(2) + x2.unsqueeze(1)).clamp(min=0)
    loss = (hinge * Tensor._wrap(pair_w)).sum((1, 2)) / c      # (N,)
    if unbatched:
        loss = loss.reshape(())
    return renamed(apply_reduction(loss, reduction), "MultilabelMarginLossBackward")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-label one-versus-all logistic loss: -(y log sigmoid(x) + (1 - y) log sigmoid(-x)), optionally
    weighted per class, averaged over the C classes.

    Args: input (Tensor, (N, C)), target (Tensor of 0 and 1, same shape), weight (Tensor, default None,
    broadcast over the classes), size_average, reduce (deprecated), reduction (str, default 'mean').

    Matches torch.nn.functional.multilabel_soft_margin_loss.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> round(F.multilabel_soft_margin_loss(cnnlab.zeros(1, 2), cnnlab.tensor([[1.0, 0.0]])).item(), 4)
    0.6931
    """
    op = "multilabel_soft_margin_loss"
    reduction = check_reduction(op, reduction, size_average, reduce)
    x = float_tensor(input, op, "input")
    y = as_tensor_arg(target, op, "target")
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * as_tensor_arg(weight, op, "weight")
    loss = loss.sum(x.ndim - 1) / x.shape[-1]
    return apply_reduction(loss, reduction)
