"""clamp with number or tensor bounds, and its gradients (to the input, and to tensor bounds)."""
import numpy as np

from .. import _dtypes
from ..errors import ArgumentError, ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg, unbroadcast
from .elementwise import unary_op


def clamp(input, min=None, max=None):
    """Limit values to [min, max]; the gradient passes where min <= input <= max. Matches torch.clamp.

    >>> import cnnlab
    >>> cnnlab.tensor([-2.0, 0.5, 3.0]).clamp(-1, 1)
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given. Got min=None, max=None.")
    t = as_tensor_arg(input, "clamp", "input")
    lo = min._data if isinstance(min, Tensor) else min
    hi = max._data if isinstance(max, Tensor) else max
    bounds = [b for b in (lo, hi) if b is not None]
    dt = _dtypes.promote_arrays([t._data] + [b for b in bounds if isinstance(b, np.ndarray)],
                                [b for b in bounds if not isinstance(b, np.ndarray)])

    def forward(x):
        out = x.astype(dt, copy=False)
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        return out.astype(dt, copy=False)

    # the gradient passes where the input was inside [min, max]
    def grad(g, x, o):
        keep = np.ones(x.shape, dtype=bool)
        if lo is not None:
            keep &= x >= lo
        if hi is not None:
            keep &= x <= hi
        return np.where(keep, g, 0).astype(g.dtype, copy=False)

    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor_bounds(t, min, max, forward(t._data), lo, hi)
    return unary_op(t, "clamp", forward, grad, float_only=False)


def _clamp_tensor_bounds(t, min, max, out, lo, hi):
    """clamp with tensor bounds: the bounds broadcast and receive gradients too, with PyTorch's rules."""
    x = t._data
    try:
        shape = np.broadcast_shapes(*(np.shape(a) for a in (x, lo, hi) if a is not None))
    except ValueError:
        raise ShapeError(f"clamp: input, min and max cannot be broadcast together. Got shapes {shape_str(x.shape)}, "
                         f"{shape_str(np.shape(lo)) if lo is not None else None}, "
                         f"{shape_str(np.shape(hi)) if hi is not None else None}.") from None
    out = np.broadcast_to(out, shape).copy() if out.shape != shape else out
    parents = tuple(b for b in (t, min, max) if isinstance(b, Tensor))

    # x gets g where lo <= x <= hi; min gets g where x < min (and min < max); max where x > max (or max < min)
    def backward(g):
        grads = []
        if t._requires_grad:
            keep = np.ones(shape, dtype=bool)
            if lo is not None:
                keep &= x >= lo
            if hi is not None:
                keep &= x <= hi
            grads.append(unbroadcast(np.where(keep, g, 0).astype(g.dtype, copy=False), x.shape))
        else:
            grads.append(None)
        if isinstance(min, Tensor):
            m = (x < lo) & (lo < hi) if hi is not None else np.broadcast_to(x < lo, shape)
            grads.append(unbroadcast(np.where(m, g, 0).astype(g.dtype, copy=False), lo.shape) if min._requires_grad
                         else None)
        if isinstance(max, Tensor):
            m = (x > hi) | (hi < lo) if lo is not None else np.broadcast_to(x > hi, shape)
            grads.append(unbroadcast(np.where(m, g, 0).astype(g.dtype, copy=False), hi.shape) if max._requires_grad
                         else None)
        return grads

    return Tensor._from_op(out, parents, backward, "ClampBackward0")
