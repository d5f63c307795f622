"""Counts (no gradient): count_nonzero and bincount."""
import numpy as np

from ..errors import ArgumentError, DTypeError
from ..tensor import Tensor
from ._operands import as_tensor_arg, quiet
from .reduction import reduce_axes


@quiet
def count_nonzero(input, dim=None):
    """The number of nonzero elements over dim (all if None), int64. Matches torch.count_nonzero."""
    t = as_tensor_arg(input, "count_nonzero", "input")
    return Tensor._wrap(np.asarray(np.count_nonzero(t._data, axis=reduce_axes(t, dim, "count_nonzero")),
                                   dtype=np.int64))


@quiet
def bincount(input, weights=None, minlength=0):
    """Counts of each value in a 1-D non-negative integer tensor (weighted sums with weights). Matches
    torch.bincount.

    >>> import cnnlab
    >>> cnnlab.bincount(cnnlab.tensor([0, 1, 1, 3]), minlength=5)
    tensor([1, 2, 0, 1, 0])
    """
    t = as_tensor_arg(input, "bincount", "input")
    x = t._data
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise DTypeError(f"bincount: expects a 1-D integer tensor. Got shape={tuple(x.shape)}, dtype={t.dtype}.")
    if x.size and x.min() < 0:
        raise ArgumentError(f"bincount: values must be non-negative. Got min={x.min()}.")
    w = None if weights is None else as_tensor_arg(weights, "bincount", "weights")._data
    out = np.bincount(x, weights=w, minlength=minlength)
    return Tensor._wrap(out.astype(np.int64) if w is None else out.astype(w.dtype if w.dtype.kind == "f" else np.float64))
