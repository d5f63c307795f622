"""Rearrangements PyTorch tutorials use, built from the core shape and indexing ops (so their gradients come
from those): movedim, tile, repeat_interleave, unflatten, broadcast_to/broadcast_tensors, atleast_1d/2d and
hstack/vstack/column_stack."""
import numpy as np

from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg, check_allocation
from .indexing import getitem
from .shape import cat, expand, permute, repeat, reshape, unsqueeze


def movedim(input, source, destination):
    """Move dims from source to destination positions, the others keeping their order. Matches torch.movedim.

    >>> import cnnlab
    >>> cnnlab.zeros(2, 3, 4).movedim(0, -1).shape
    cnnlab.Size([3, 4, 2])
    """
    t = as_tensor_arg(input, "movedim", "input")
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ShapeError(f"movedim: source and destination must name as many dims. Got source={source}, "
                         f"destination={destination}.")
    src = [t._dim(d, "movedim") for d in src]
    dst = [t._dim(d, "movedim") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"movedim: repeated dims. Got source={source}, destination={destination}.")
    if t.ndim == 0:  # dims 0 and -1 of a 0-d tensor are the tensor itself, as in torch
        return reshape(t, ())
    order = [None] * t.ndim
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(i for i in range(t.ndim) if i not in src)  # the other dims keep their order
    return permute(t, *[o if o is not None else next(rest) for o in order])


def tile(input, dims):
    """Repeat the whole tensor along each dim (dims padded with leading 1s). Matches torch.tile.

    >>> import cnnlab
    >>> cnnlab.tensor([1, 2]).tile((2, 2))
    tensor([[1, 2, 1, 2],
            [1, 2, 1, 2]])
    """
    t = as_tensor_arg(input, "tile", "input")
    dims = tuple(dims)
    dims = (1,) * (t.ndim - len(dims)) + dims
    return repeat(t, *dims)


def repeat_interleave(input, repeats, dim=None, output_size=None):
    """Each element repeated `repeats` times in place (input flattened when dim is None). Matches
    torch.repeat_interleave.

    >>> import cnnlab
    >>> cnnlab.tensor([1, 2]).repeat_interleave(2)
    tensor([1, 1, 2, 2])
    """
    t = as_tensor_arg(input, "repeat_interleave", "input")
    if dim is None:
        t, dim = reshape(t, -1), 0
    axis = t._dim(dim, "repeat_interleave")
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    n = t.shape[axis]
    if reps.ndim and reps.shape != (n,):
        raise ShapeError(f"repeat_interleave: repeats must be one number or one per element along dim. Got "
                         f"repeats of shape {shape_str(reps.shape)} for size {n}.")
    if reps.dtype.kind not in "iu":
        raise TypeError(f"repeat_interleave: repeats must be integers. Got dtype={reps.dtype}.")
    if reps.size and reps.min() < 0:
        raise ShapeError(f"repeat_interleave: repeats must be non-negative. Got repeats with minimum "
                         f"{reps.min()}.")
    check_allocation("repeat_interleave", t.shape[:axis] + (int(reps.sum()) if reps.ndim else n * int(reps),)
                     + t.shape[axis + 1:], t._data.dtype)
    index = np.repeat(np.arange(n), reps)
    return getitem(t, (slice(None),) * axis + (Tensor._wrap(index),))


def unflatten(input, dim, sizes):
    """Split one dim into the given sizes (one may be -1). Matches torch.unflatten.

    >>> import cnnlab
    >>> cnnlab.arange(6).unflatten(0, (2, -1))
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    t = as_tensor_arg(input, "unflatten", "input")
    axis = t._dim(dim, "unflatten")
    return reshape(t, t.shape[:axis] + tuple(sizes) + t.shape[axis + 1:])


def broadcast_to(input, size):
    """A broadcast view of input with the given shape. Matches torch.broadcast_to.

    >>> import cnnlab
    >>> cnnlab.broadcast_to(cnnlab.tensor([1, 2, 3]), (2, 3))
    tensor([[1, 2, 3],
            [1, 2, 3]])
    """
    return expand(input, tuple(size))


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape. Matches torch.broadcast_tensors.

    >>> import cnnlab
    >>> a, b = cnnlab.broadcast_tensors(cnnlab.ones(2, 1), cnnlab.zeros(3))
    >>> a.shape, b.shape
    (cnnlab.Size([2, 3]), cnnlab.Size([2, 3]))
    """
    ts = [as_tensor_arg(t, "broadcast_tensors", "tensors") for t in tensors]
    try:
        shape = np.broadcast_shapes(*(t.shape for t in ts))
    except ValueError:
        raise ShapeError(f"broadcast_tensors: the shapes cannot be broadcast together. Got shapes "
                         f"{', '.join(shape_str(t.shape) for t in ts)}.") from None
    return tuple(expand(t, shape) for t in ts)


def atleast_1d(input):
    """input with at least one dim (a 0-d tensor becomes shape (1,)). Matches torch.atleast_1d.

    >>> import cnnlab
    >>> cnnlab.atleast_1d(cnnlab.tensor(5))
    tensor([5])
    """
    t = as_tensor_arg(input, "atleast_1d", "input")
    return reshape(t, 1) if t.ndim == 0 else t


def atleast_2d(input):
    """input with at least two dims (a 1-D tensor becomes one row). Matches torch.atleast_2d.

    >>> import cnnlab
    >>> cnnlab.atleast_2d(cnnlab.tensor([1, 2]))
    tensor([[1, 2]])
    """
    t = atleast_1d(input)
    return unsqueeze(t, 0) if t.ndim == 1 else t


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-D tensors). Matches torch.hstack.

    >>> import cnnlab
    >>> cnnlab.hstack([cnnlab.tensor([1, 2]), cnnlab.tensor([3])])
    tensor([1, 2, 3])
    """
    ts = [atleast_1d(t) for t in tensors]
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0, 1-D tensors as rows. Matches torch.vstack.

    >>> import cnnlab
    >>> cnnlab.vstack([cnnlab.tensor([1, 2]), cnnlab.tensor([3, 4])])
    tensor([[1, 2],
            [3, 4]])
    """
    return cat([atleast_2d(t) for t in tensors], 0)


def column_stack(tensors):
    """1-D tensors as columns (and 2-D ones as they are), side by side. Matches torch.column_stack.

    >>> import cnnlab
    >>> cnnlab.column_stack([cnnlab.tensor([1, 2]), cnnlab.tensor([3, 4])])
    tensor([[1, 3],
            [2, 4]])
    """
    ts = [as_tensor_arg(t, "column_stack", "tensors") for t in tensors]
    return cat([reshape(t, -1, 1) if t.ndim <= 1 else t for t in ts], 1)
