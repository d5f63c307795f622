"""The softmax family: softmax, log_softmax and softmin along one dim, stable for any logits.

Re-exported by activation.py (PyTorch keeps them among the activations).
"""
import warnings

import numpy as np

from ...errors import DTypeError
from ...ops._operands import as_tensor_arg
from ...ops.elementwise import neg
from ...ops.inplace import to
from ...tensor import Tensor

__all__ = ["softmax", "log_softmax", "softmin"]


# ---- softmax family -------------------------------------------------------------------------------------
def _dim_and_dtype(input, dim, _stacklevel, dtype, name):
    """The (dim, dtype) a softmax-family call means. Tensor.softmax(dim, dtype) passes dtype where F.softmax has
    _stacklevel; dim=None is PyTorch's legacy implicit dim (0 for 0-, 1- and 3-d inputs, else 1), with its
    deprecation warning pointed at the caller of F.softmax and its siblings."""
    if not isinstance(_stacklevel, int):
        _stacklevel, dtype = 3, _stacklevel
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      f"dim=X as an argument.", stacklevel=_stacklevel)
        ndim = as_tensor_arg(input, name, "input").ndim
        dim = 0 if ndim in (0, 1, 3) else 1
    return dim, dtype


def _softmax_core(input, dim, dtype, op, log):
    t = as_tensor_arg(input, op, "input")
    if dtype is not None:
        t = to(t, dtype)
    if t._data.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be a floating-point tensor (or pass dtype=). Got dtype={t.dtype}.")
    d = t._dim(dim, op)
    x = t._data if t.ndim else t._data.reshape(1)  # a 0-d input is a 1-element vector along dim 0
    # the max along an empty dim has no value; any finite shift does for no elements (PyTorch: an empty result)
    m = np.max(x, axis=d, keepdims=True) if x.shape[d] else np.zeros(x.shape[:d] + (1,) + x.shape[d + 1:], x.dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # -inf or +inf rows give nan, as PyTorch
        shifted = x - m
        e = np.exp(shifted)
        s = e.sum(axis=d, keepdims=True)
        out = (shifted - np.log(s)) if log else e / s

    # softmax y: dx = y * (g - sum(g * y)); log_softmax y: dx = g - softmax * sum(g)
    def backward(g):
        g = g.reshape(out.shape)
        gx = g - np.exp(out) * g.sum(axis=d, keepdims=True) if log else out * (g - (g * out).sum(axis=d, keepdims=True))
        return (gx.reshape(t.shape),)

    return Tensor._from_op(out.reshape(t.shape), (t,), backward, "LogSoftmaxBackward" if log else "SoftmaxBackward")


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along dim, computed after subtracting the max (no overflow for any logits).
    Matches torch.nn.functional.softmax.

    Args:
        input (Tensor): any shape, floating point (or integer with dtype=).
        dim (int, default None): the dim to normalise; None uses PyTorch's legacy rule (0 for 0-, 1- and 3-d
            inputs, else 1) and warns, as PyTorch does.
        dtype (dtype, default None): cast the input to this dtype first (the gradient is cast back).
    Returns: a tensor of input's shape whose slices along dim sum to 1.

    >>> import cnnlab
    >>> softmax(cnnlab.tensor([1e4, 1e4]), dim=0).tolist()
    [0.5, 0.5]
    """
    dim, dtype = _dim_and_dtype(input, dim, _stacklevel, dtype, "softmax")
    return _softmax_core(input, dim, dtype, "softmax", log=False)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along dim, stable for any logits. Matches torch.nn.functional.log_softmax.

    Args: as softmax.

    >>> import cnnlab
    >>> log_softmax(cnnlab.tensor([0.0, 1e4]), dim=0).tolist()
    [-10000.0, 0.0]
    """
    dim, dtype = _dim_and_dtype(input, dim, _stacklevel, dtype, "log_softmax")
    return _softmax_core(input, dim, dtype, "log_softmax", log=True)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along dim. Matches torch.nn.functional.softmin.

    >>> import cnnlab
    >>> softmin(cnnlab.tensor([0.0, 0.0]), dim=0).tolist()
    [0.5, 0.5]
    """
    dim, dtype = _dim_and_dtype(input, dim, _stacklevel, dtype, "softmin")
    return _softmax_core(neg(input), dim, dtype, "softmin", log=False)
