"""Distances and similarities between batches of vectors: pairwise_distance, cosine_similarity, pdist.

Both are compositions of recorded ops (subtraction, vector norm, division, sum), so their gradients come from
those ops' backward closures; cosine_similarity adds one small op that floors the norms at eps in value only,
as PyTorch does (the gradient flows through the unfloored norm).
"""
import numpy as np

from ... import _dtypes
from ...errors import DTypeError, ShapeError, shape_str
from ...ops import reduction
from ...ops._operands import as_tensor_arg, broadcast_shape
from ...ops.elementwise import add, div, mul, sub
from ...ops.norm import norm as _vector_norm
from ...ops.shape import expand
from ...tensor import Tensor

__all__ = ["pairwise_distance", "cosine_similarity", "pdist"]


def _operands(op, x1, x2):
    a, b = as_tensor_arg(x1, op, "x1"), as_tensor_arg(x2, op, "x2")
    try:
        broadcast_shape(a.shape, b.shape, op)
    except ShapeError:
        raise ShapeError(f"{op}: x1 and x2 must broadcast together (each dim, aligned from the right, equal or "
                         f"1). Got x1.shape={shape_str(a.shape)}, x2.shape={shape_str(b.shape)}.") from None
    return a, b


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps over the last dim, row by row (x1 and x2 broadcast together).

    Args:
        x1, x2 (Tensor): (N, D) or (D,), or any shapes that broadcast; integer inputs give float32.
        p (float, default 2.0): the norm's order (inf, 0 and negative orders as torch.norm).
        eps (float, default 1e-6): added to the difference, so that equal rows have a small nonzero distance.
        keepdim (bool, default False): keep the reduced last dim with size 1.

    Shape: (N, D), (N, D) -> (N,) ((N, 1) with keepdim); (D,), (D,) -> ().
    Raises: ShapeError (a ValueError) when the shapes do not broadcast.

    Matches torch.nn.functional.pairwise_distance.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.pairwise_distance(cnnlab.tensor([[0.0, 0.0]]), cnnlab.tensor([[3.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    a, b = _operands("pairwise_distance", x1, x2)
    diff = add(sub(a, b), eps)
    if diff.ndim == 0:
        return _vector_norm(diff, p, None, False)
    return _vector_norm(diff, p, -1, keepdim)


def floor_value(n, eps):
    """max(n, eps) in value; the gradient passes to n unchanged (PyTorch clamps the norm in place, untracked)."""
    return Tensor._from_op(np.maximum(n._data, eps).astype(n._data.dtype, copy=False), (n,), lambda g: (g,),
                           "CloneBackward0")


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along dim, computed as (x1 / n1) . (x2 / n2).

    Args:
        x1, x2 (Tensor): floating point, shapes that broadcast together.
        dim (int, default 1): the dim holding the vectors.
        eps (float, default 1e-8): the floor of each norm.

    Shape: the broadcast shape without dim; e.g. (N, D), (N, D) -> (N,).
    Raises: ShapeError (shapes that do not broadcast), IndexError (dim out of range), DTypeError (integer
        inputs).

    Matches torch.nn.functional.cosine_similarity (values and gradients).

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.cosine_similarity(cnnlab.tensor([[1.0, 0.0]]), cnnlab.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    op = "cosine_similarity"
    a, b = _operands(op, x1, x2)
    dt = _dtypes.result_type([a._data.dtype, b._data.dtype])
    if np.dtype(dt).kind != "f":
        raise DTypeError(f"{op}: x1 and x2 must be floating point. Got x1.dtype={a.dtype}, x2.dtype={b.dtype}.")
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    ndim = max(len(shape), 1)
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim out of range (expected to be in range of [{-ndim}, {ndim - 1}]). Got dim={dim}, "
                         f"broadcast shape={shape_str(shape)}.")
    a, b = expand(a, *shape), expand(b, *shape)
    n1 = floor_value(_vector_norm(a, 2, dim, True), eps)
    n2 = floor_value(_vector_norm(b, 2, dim, True), eps)
    return reduction.sum(mul(div(a, n1), div(b, n2)), dim)


def pdist(input, p=2.0):
    """The p-norm distance between every pair of rows i < j of an (N, M) input, in row-major pair order: the
    condensed form of cdist(input, input) (N (N - 1) / 2 values).

    Args: input (Tensor): (N, M), floating point. p (float, default 2.0): >= 0.
    Shape: (N, M) -> (N * (N - 1) / 2,).
    Raises: ShapeError (not 2-D), ValueError (p < 0).

    Matches torch.nn.functional.pdist.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> F.pdist(cnnlab.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    t = as_tensor_arg(input, "pdist", "input")
    if t.ndim != 2:
        raise ShapeError(f"pdist: input must be 2-D (N, M). Got shape={shape_str(t.shape)}.")
    if not p >= 0:
        raise ValueError(f"pdist: p must be non-negative. Got p={p}.")
    if t._data.dtype.kind != "f":
        raise DTypeError(f"pdist: input must be floating point. Got dtype={t.dtype}.")
    i, j = np.triu_indices(t.shape[0], k=1)  # the pairs i < j, row by row
    rows_i, rows_j = t[Tensor._wrap(i.astype(np.int64))], t[Tensor._wrap(j.astype(np.int64))]  # (P, M) each
    return _vector_norm(sub(rows_i, rows_j), p, -1, False)
