"""Scaled dot-product attention, the core of every transformer block, built from matmul, masking and softmax
(so its gradients are theirs)."""
import math

import numpy as np

from ...errors import ArgumentError, DTypeError, ShapeError, shape_str
from ...ops._operands import as_tensor_arg
from ...ops.elementwise import matmul, where
from ...ops.shape import expand, reshape, transpose, unsqueeze
from ...tensor import Tensor
from .dropout import dropout
from .softmax import softmax

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value. Matches torch.nn.functional.scaled_dot_product_attention.

    Args:
        query (Tensor): (..., L, E). key (Tensor): (..., S, E). value (Tensor): (..., S, Ev).
        attn_mask (Tensor, default None): a bool mask (True = take part) or a float bias, broadcastable to
            (..., L, S).
        dropout_p (float, default 0.0): dropout on the attention weights.
        is_causal (bool, default False): position i attends to positions <= i (lower-left aligned); not with
            attn_mask.
        scale (float, default None = 1 / sqrt(E)).
        enable_gqa (bool, default False): key and value may have fewer heads (dim -3) than query, repeated.

    Shape:
        output: (..., L, Ev).

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> q = k = v = cnnlab.ones(1, 2, 3, 4)
    >>> F.scaled_dot_product_attention(q, k, v).shape
    cnnlab.Size([1, 2, 3, 4])
    """
    q, k, v = (as_tensor_arg(a, "scaled_dot_product_attention", n) for a, n in
               ((query, "query"), (key, "key"), (value, "value")))
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError("scaled_dot_product_attention: expects query (..., L, E), key (..., S, E) and value "
                         f"(..., S, Ev). Got query.shape={shape_str(q.shape)}, key.shape={shape_str(k.shape)}, "
                         f"value.shape={shape_str(v.shape)}.")
    if is_causal and attn_mask is not None:
        raise ArgumentError("scaled_dot_product_attention: pass either attn_mask or is_causal, not both. Got "
                            "is_causal=True and an attn_mask.")
    if enable_gqa and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        reps = q.shape[-3] // k.shape[-3]
        k = _repeat_heads(k, reps)
        v = _repeat_heads(v, reps)
    L, S_len = q.shape[-2], k.shape[-2]
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = matmul(q, transpose(k, -2, -1)) * factor  # (..., L, S)
    if is_causal:
        allowed = np.tril(np.ones((L, S_len), dtype=bool))
        scores = where(Tensor._wrap(allowed), scores, Tensor._wrap(np.asarray(-np.inf, scores._data.dtype)))
    elif attn_mask is not None:
        m = as_tensor_arg(attn_mask, "scaled_dot_product_attention", "attn_mask")
        if m._data.dtype == np.bool_:
            scores = where(m, scores, Tensor._wrap(np.asarray(-np.inf, scores._data.dtype)))
        elif m._data.dtype.kind == "f":
            scores = scores + m
        else:
            raise DTypeError("scaled_dot_product_attention: attn_mask must be bool or floating point. Got "
                             f"attn_mask.dtype={m.dtype}.")
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, v)


def _repeat_heads(t, reps):
    """(..., Hkv, S, E) -> (..., Hkv * reps, S, E), each head repeated reps times in a row (torch's GQA)."""
    shape = t.shape
    x = unsqueeze(t, -3)  # (..., Hkv, 1, S, E)
    x = expand(x, *shape[:-3], shape[-3], reps, shape[-2], shape[-1])
    return reshape(x, shape[:-3] + (shape[-3] * reps, shape[-2], shape[-1]))
