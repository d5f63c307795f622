"""Fully connected layers: linear (y = x W^T + b) and bilinear (y_k = x1^T W_k x2 + b_k).

Both take any number of leading dims; the work is one matrix product on the inputs flattened to 2-d.
"""
import numpy as np

from ... import _dtypes
from ...errors import DTypeError, ShapeError, shape_str
from ...kernels import parallel
from ...ops._operands import as_tensor_arg
from ...tensor import Tensor

__all__ = ["linear", "bilinear"]


def _same_dtype(op, **tensors):
    """Raise DTypeError unless every given tensor has one dtype (PyTorch refuses mixed float32/float64 here)."""
    given = {name: t for name, t in tensors.items() if t is not None}
    if len({t._data.dtype for t in given.values()}) > 1 or (  # NumPy counts bfloat16 (tagged float32) as float32
            _dtypes.bf16_in_use and len({t.dtype.name for t in given.values()}) > 1):
        got = ", ".join(f"{name}.dtype={t.dtype}" for name, t in given.items())
        raise DTypeError(f"{op}: all tensors must have the same dtype. Got {got}.")


def _check_bias(op, bias, out_features, weight_shape):
    """bias must broadcast to (out_features,): shape (out_features,), (1,) or ()."""
    if bias is not None and not (bias.ndim <= 1 and bias._data.size in (1, out_features)):
        raise ShapeError(f"{op}: bias must have shape (out_features,) = ({out_features},). Got "
                         f"bias.shape={shape_str(bias.shape)}, weight.shape={shape_str(weight_shape)}.")


def _bias_grad(g2, bias):
    """Sum of the 2-d output gradient over rows (and over out_features too for a one-element bias)."""
    gb = g2.sum(axis=0)
    return (gb.sum() if bias._data.size == 1 else gb).reshape(bias.shape)


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias over the last dim. Matches torch.nn.functional.linear.

    Args:
        input (Tensor): (*, in_features); any number of leading dims, including none.
        weight (Tensor): (out_features, in_features), or (in_features,) for a single output without its dim.
        bias (Tensor, default None): (out_features,).
    Shape: (*, in_features) -> (*, out_features).
    Returns: the affine map of input.
    Raises:
        ShapeError (a ValueError and RuntimeError): input.shape[-1] != in_features, or a bias of another shape.
        DTypeError (a TypeError and RuntimeError): tensors of different dtypes.

    >>> import cnnlab
    >>> x, w, b = cnnlab.ones(2, 3), cnnlab.ones(4, 3), cnnlab.zeros(4)
    >>> linear(x, w, b).shape
    cnnlab.Size([2, 4])
    """
    x_t = as_tensor_arg(input, "linear", "input")
    w_t = as_tensor_arg(weight, "linear", "weight")
    b_t = None if bias is None else as_tensor_arg(bias, "linear", "bias")
    x, w = x_t._data, w_t._data
    if x.ndim == 0 or w.ndim not in (1, 2):
        raise ShapeError(f"linear: input must have at least 1 dim and weight must be 1-d or 2-d "
                         f"(out_features, in_features). Got input.shape={shape_str(x.shape)}, "
                         f"weight.shape={shape_str(w.shape)}.")
    if x.shape[-1] != w.shape[-1]:
        raise ShapeError(f"linear: input.shape[-1] must equal weight.shape[1] (in_features). Got "
                         f"input.shape={shape_str(x.shape)}, weight.shape={shape_str(w.shape)}.")
    out_features = w.shape[0] if w.ndim == 2 else 1
    _check_bias("linear", b_t, out_features, w.shape)
    _same_dtype("linear", input=x_t, weight=w_t, bias=b_t)
    w2 = w if w.ndim == 2 else w[None, :]  # (out_features, in_features)
    M = int(np.prod(x.shape[:-1], dtype=np.int64))
    x2 = x.reshape(M, x.shape[-1])  # (M, in_features), M = prod of the leading dims
    out2 = parallel.product(x2, w2.T)  # (M, out_features)
    if b_t is not None:
        out2 += b_t._data.reshape(-1)
    lead = x.shape[:-1]
    out = out2.reshape(lead + ((out_features,) if w.ndim == 2 else ()))
    parents = (x_t, w_t) + ((b_t,) if b_t is not None else ())

    # Y = X W^T + b  =>  dX = G W, dW = G^T X, db = sum of G over rows
    def backward(g):
        g2 = g.reshape(M, out_features)  # (M, out_features)
        gx = parallel.product(g2, w2).reshape(x.shape) if x_t.requires_grad else None
        gw = parallel.product(g2.T, x2).reshape(w.shape) if w_t.requires_grad else None
        grads = (gx, gw)
        if b_t is not None:
            grads += (_bias_grad(g2, b_t) if b_t.requires_grad else None,)
        return grads

    return Tensor._from_op(out, parents, backward, _linear_grad_name(x.ndim, b_t is not None))


def _linear_grad_name(ndim, has_bias):
    """The node PyTorch prints for linear: addmm/mm on 2-d input, a view of that result on other ranks."""
    if ndim == 2:
        return "AddmmBackward0" if has_bias else "MmBackward0"
    if ndim == 1:
        return "ViewBackward0" if has_bias else "SqueezeBackward4"
    return "ViewBackward0" if has_bias else "UnsafeViewBackward0"


def bilinear(input1, input2, weight, bias=None):
    """y[..., k] = sum_ij input1[..., i] * weight[k, i, j] * input2[..., j] + bias[k].
    Matches torch.nn.functional.bilinear.

    Args:
        input1 (Tensor): (*, in1_features).
        input2 (Tensor): (*, in2_features), the same leading dims as input1.
        weight (Tensor): (out_features, in1_features, in2_features).
        bias (Tensor, default None): (out_features,).
    Shape: (*, in1), (*, in2) -> (*, out_features).
    Raises: ShapeError when the shapes disagree; DTypeError for mixed dtypes.

    >>> import cnnlab
    >>> bilinear(cnnlab.ones(5, 2), cnnlab.ones(5, 3), cnnlab.ones(4, 2, 3)).shape
    cnnlab.Size([5, 4])
    """
    a_t = as_tensor_arg(input1, "bilinear", "input1")
    c_t = as_tensor_arg(input2, "bilinear", "input2")
    w_t = as_tensor_arg(weight, "bilinear", "weight")
    b_t = None if bias is None else as_tensor_arg(bias, "bilinear", "bias")
    a, c, w = a_t._data, c_t._data, w_t._data
    if w.ndim != 3:
        raise ShapeError(f"bilinear: weight must be 3-d (out_features, in1_features, in2_features). Got "
                         f"weight.shape={shape_str(w.shape)}.")
    if a.ndim == 0 or a.shape[:-1] != c.shape[:-1]:
        raise ShapeError(f"bilinear: input1 and input2 must have at least 1 dim and the same leading dims. Got "
                         f"input1.shape={shape_str(a.shape)}, input2.shape={shape_str(c.shape)}.")
    if a.shape[-1] != w.shape[1] or c.shape[-1] != w.shape[2]:
        raise ShapeError(f"bilinear: input1.shape[-1] must equal weight.shape[1] and input2.shape[-1] must equal "
                         f"weight.shape[2]. Got input1.shape={shape_str(a.shape)}, input2.shape="
                         f"{shape_str(c.shape)}, weight.shape={shape_str(w.shape)}.")
    _check_bias("bilinear", b_t, w.shape[0], w.shape)
    _same_dtype("bilinear", input1=a_t, input2=c_t, weight=w_t, bias=b_t)
    K, I, J = w.shape
    M = int(np.prod(a.shape[:-1], dtype=np.int64))
    a2, c2 = a.reshape(M, I), c.reshape(M, J)  # (M, I), (M, J)
    aw = (a2 @ w.transpose(1, 0, 2).reshape(I, K * J)).reshape(M, K, J)  # (M, K, J): sum_i a_i W_kij
    out2 = np.einsum("mkj,mj->mk", aw, c2)  # (M, K)
    if b_t is not None:
        out2 += b_t._data.reshape(-1)
    parents = (a_t, c_t, w_t) + ((b_t,) if b_t is not None else ())

    # y_mk = sum_ij a_mi W_kij c_mj  =>  da_mi = sum_kj g_mk W_kij c_mj, dc_mj = sum_k g_mk (aW)_mkj,
    # dW_kij = sum_m g_mk a_mi c_mj, db_k = sum_m g_mk
    def backward(g):
        g2 = g.reshape(M, K)  # (M, K)
        ga = gc = gw = gb = None
        if a_t.requires_grad:
            gc2 = (g2[:, :, None] * c2[:, None, :]).reshape(M, K * J)  # (M, K*J)
            ga = (gc2 @ w.transpose(0, 2, 1).reshape(K * J, I)).reshape(a.shape)  # W as (K*J, I)
        if c_t.requires_grad:
            gc = np.einsum("mk,mkj->mj", g2, aw).reshape(c.shape)
        if w_t.requires_grad:
            gw = (g2.T @ (a2[:, :, None] * c2[:, None, :]).reshape(M, I * J)).reshape(K, I, J)
        if b_t is not None and b_t.requires_grad:
            gb = _bias_grad(g2, b_t)
        return (ga, gc, gw) + ((gb,) if b_t is not None else ())

    return Tensor._from_op(out2.reshape(a.shape[:-1] + (K,)), parents, backward, "BilinearBackward")
