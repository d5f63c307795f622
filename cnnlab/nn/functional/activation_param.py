"""The activations with a parameter beyond the input: prelu (a learnable slope per channel) and glu (the dim it
halves). Re-exported by cnnlab.nn.functional (F.prelu, F.glu); the elementwise activations without one are
activation.py's. Their create_graph formulas are in cnnlab/derivatives/activation.py.
"""
import numpy as np

from ...errors import DTypeError, ShapeError, shape_str
from ...ops._operands import as_tensor_arg
from ...tensor import Tensor
from .activation import _stable_sigmoid

__all__ = ["prelu", "glu"]


def prelu(input, weight):
    """x for x > 0, weight * x otherwise, with one learnable slope per channel (dim 1) or one shared slope.
    Matches torch.nn.functional.prelu.

    Args:
        input (Tensor): (N, C, *) or any shape when weight has one element.
        weight (Tensor): (C,) or (1,).
    Raises: ShapeError when weight.numel() is neither 1 nor C.

    >>> import cnnlab
    >>> prelu(cnnlab.tensor([[-2.0, 2.0]]), cnnlab.tensor([0.25])).tolist()
    [[-0.5, 2.0]]
    """
    t, w = as_tensor_arg(input, "prelu", "input"), as_tensor_arg(weight, "prelu", "weight")
    x, wd = t._data, w._data
    if x.dtype.kind != "f":
        raise DTypeError(f"prelu: input must be a floating-point tensor. Got dtype={t.dtype}.")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if wd.size not in (1, channels):
        raise ShapeError(f"prelu: weight must have 1 element or one per input channel (input.shape[1]). Got "
                         f"weight.shape={shape_str(wd.shape)}, input.shape={shape_str(x.shape)}.")
    if x.ndim == 0:
        wb = wd.reshape(())  # a 0-d input stays 0-d, as in torch
    else:
        wb = wd.reshape(-1) if wd.size == 1 or x.ndim < 2 else wd.reshape((1, channels) + (1,) * (x.ndim - 2))
    out = np.where(x > 0, x, wb * x)

    # d/dx = 1 (x > 0) or w; d/dw = sum over positions of g * x where x <= 0
    def backward(g):
        gx = np.where(x > 0, g, g * wb) if t.requires_grad else None
        gw = None
        if w.requires_grad:
            gwb = np.where(x > 0, 0, g * x)
            gw = (gwb.sum() if wd.size == 1 else gwb.sum(axis=(0,) + tuple(range(2, x.ndim)))).reshape(wd.shape)
        return gx, gw

    return Tensor._from_op(out.astype(x.dtype, copy=False), (t, w), backward, "PreluBackward")


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of input along dim. Matches torch.nn.functional.glu.

    Shape: (*, 2M, *) -> (*, M, *). Raises: ShapeError when input.shape[dim] is odd.

    >>> import cnnlab
    >>> glu(cnnlab.tensor([2.0, 0.0])).tolist()
    [1.0]
    """
    t = as_tensor_arg(input, "glu", "input")
    d = t._dim(dim, "glu")
    x = t._data
    if x.dtype.kind != "f":
        raise DTypeError(f"glu: input must be a floating-point tensor. Got dtype={t.dtype}.")
    if x.ndim == 0 or x.shape[d] % 2:
        raise ShapeError(f"glu: the halving dimension must have an even size. Got input.shape="
                         f"{shape_str(x.shape)}, dim={dim}.")
    a, b = np.split(x, 2, axis=d)
    s = _stable_sigmoid(b)

    # out = a s(b): d/da = s(b), d/db = a s(b) (1 - s(b))
    def backward(g):
        return (np.concatenate([g * s, g * a * s * (1 - s)], axis=d),)

    return Tensor._from_op(a * s, (t,), backward, "GluBackward")
