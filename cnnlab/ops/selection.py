"""Selections built on indexing (their gradients come from getitem): masked_select, narrow, select, take."""
import numpy as np

from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor
from . import indexing, shape
from ._operands import as_tensor_arg


def masked_select(input, mask):
    """The elements of input where mask (broadcast together) is True, as a 1-D tensor. Matches torch.masked_select.

    >>> import cnnlab
    >>> x = cnnlab.tensor([[1, 2], [3, 4]])
    >>> cnnlab.masked_select(x, x > 2)
    tensor([3, 4])
    """
    t, m = as_tensor_arg(input, "masked_select", "input"), as_tensor_arg(mask, "masked_select", "mask")
    if m._data.dtype != np.bool_:
        raise DTypeError(f"masked_select: mask must be a bool tensor. Got dtype={m.dtype}.")
    try:
        shape = np.broadcast_shapes(t.shape, m.shape)
    except ValueError:
        raise ShapeError(f"masked_select: input and mask cannot be broadcast together. Got shapes "
                         f"{shape_str(t.shape)} and {shape_str(m.shape)}.") from None
    x = shape.expand(t, shape) if tuple(t.shape) != shape else t
    return indexing.getitem(x, Tensor._wrap(np.broadcast_to(m._data, shape)))


def narrow(input, dim, start, length):
    """The slice start:start+length along dim (a view). Matches torch.narrow.

    >>> import cnnlab
    >>> cnnlab.arange(6).narrow(0, 1, 3)
    tensor([1, 2, 3])
    """
    t = as_tensor_arg(input, "narrow", "input")
    axis = t._dim(dim, "narrow")
    n = t.shape[axis]
    start = int(start) + (n if int(start) < 0 else 0)
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise IndexError(f"narrow: start and length must select a range inside the dim. Got start={start}, "
                         f"length={length}, dim={dim}, size={n}.")
    return indexing.getitem(t, (slice(None),) * axis + (slice(start, start + length),))


def select(input, dim, index):
    """input[..., index, ...] at dim (the dim removed). Matches torch.select.

    >>> import cnnlab
    >>> cnnlab.arange(6).reshape(2, 3).select(1, -1)
    tensor([2, 5])
    """
    t = as_tensor_arg(input, "select", "input")
    axis = t._dim(dim, "select")
    n = t.shape[axis]
    if not -n <= index < n:
        raise IndexError(f"select: index out of range. Got index={index}, dim={dim}, size={n}.")
    return indexing.getitem(t, (slice(None),) * axis + (int(index),))


def take(input, index):
    """Elements of the flattened input at the given indices, in index's shape (negative indices count from
    the end). Matches torch.take.

    >>> import cnnlab
    >>> cnnlab.tensor([[1, 2], [3, 4]]).take(cnnlab.tensor([0, -1]))
    tensor([1, 4])
    """
    t = as_tensor_arg(input, "take", "input")
    idx = as_tensor_arg(index, "take", "index")
    if idx._data.dtype.kind not in "iu":
        raise DTypeError(f"take: index must be an integer tensor. Got dtype={idx._data.dtype}.")
    n = t._data.size
    if idx._data.size and (idx._data.min() < -n or idx._data.max() >= n):
        raise IndexError(f"take: index out of range for a tensor of {n} elements (values must be in [-{n}, {n})). "
                         f"Got index values in [{idx._data.min()}, {idx._data.max()}], input.shape="
                         f"{shape_str(t.shape)}.")
    return indexing.getitem(shape.reshape(t, -1), idx)
