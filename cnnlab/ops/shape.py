"""Shape ops with gradients: reshape/view, flatten, permute/transpose, squeeze/unsqueeze, expand, repeat,
flip, cat/stack, split/chunk/unbind."""
import math

import numpy as np

from .. import _dtypes
from .._memory import MACHINE_BYTES
from ..autograd import ScatterGrad
from ..errors import ArgumentError, ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg, check_allocation, unbroadcast


def sizes_arg(sizes, op):
    """Accept both f(2, 3) and f((2, 3)) as PyTorch does; returns a tuple of ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    out = []
    for s in sizes:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}: sizes must be ints. Got {sizes!r}.")
        out.append(int(s))
    return tuple(out)


def reshape(input, *shape):
    """The same elements in a new shape (one dim may be -1). Matches torch.reshape / Tensor.view."""
    t = as_tensor_arg(input, "reshape", "input")
    shape = sizes_arg(shape, "reshape")
    x = t._data
    try:
        out = x.reshape(shape)
    except ValueError:
        raise ShapeError(f"reshape: the new shape must hold the same number of elements. Got shape="
                         f"{shape_str(shape)} for an input of shape {shape_str(x.shape)} ({x.size} elements)."
                         ) from None
    # a view when NumPy could reshape without copying (torch's ViewBackward0), else a copy (UnsafeViewBackward0)
    name = "ViewBackward0" if x.size == 0 or np.may_share_memory(out, x) else "UnsafeViewBackward0"
    return Tensor._from_op(out, (t,), lambda g: (g.reshape(x.shape),), name)


def _resolved_shape(shape, size, op):
    """shape with its one -1 filled in; raises when it cannot hold `size` elements."""
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    free = shape.count(-1)  # PyTorch cannot infer a -1 beside a 0 either: the size would be ambiguous
    fits = (free == 0 and known == size) or (free == 1 and known > 0 and size % known == 0)
    if not fits or any(s < -1 for s in shape):
        raise ShapeError(f"{op}: the new shape must hold the same number of elements. Got shape={shape_str(shape)} "
                         f"for an input of {size} elements.")
    return tuple(size // known if s == -1 else s for s in shape)


def view(input, *shape):
    """The same memory seen in a new shape (one dim may be -1); writes through either tensor reach the other.
    Like PyTorch, a view is only possible when the new shape can walk the existing strides: a transposed tensor
    usually needs .reshape() (which copies) or .contiguous() first. `view(dtype)` reinterprets the bytes.
    Matches torch.Tensor.view.

    >>> import cnnlab
    >>> x = cnnlab.zeros(2, 3)
    >>> x.view(-1)[4] = 1.0
    >>> x
    tensor([[0., 0., 0.],
            [0., 1., 0.]])
    """
    t = as_tensor_arg(input, "view", "input")
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, Tensor)):
        return _view_dtype(t, shape[0])
    shape = sizes_arg(shape, "view")
    x = t._data
    try:
        out = x.reshape(shape, copy=False)
    except ValueError:  # NumPy's no-copy rule is PyTorch's: the new dims must each walk one stride
        _resolved_shape(shape, x.size, "view")  # raises when the sizes, not the strides, are wrong
        raise ShapeError(f"view: view size is not compatible with input tensor's size and stride (at least one "
                         f"dimension spans across two contiguous subspaces). Use .reshape(...) instead. Got shape="
                         f"{shape_str(shape)}, input.shape={shape_str(x.shape)}, input.stride()="
                         f"{shape_str(t.stride())}.") from None
    return Tensor._from_op(out, (t,), lambda g: (g.reshape(x.shape),), "ViewBackward0")


def _view_dtype(t, dtype):
    """x.view(dtype): the same bytes read as another dtype of the same size (outside the graph, as PyTorch
    allows only for non-differentiable results of a different dtype)."""
    d = _dtypes.as_dtype(dtype)
    x = t._data
    if d.np.itemsize != x.itemsize and (x.ndim == 0 or x.strides[-1] != x.itemsize):
        raise ShapeError(f"view: a view as a dtype of another size needs a tensor with a contiguous last dim. Got "
                         f"dtype={d}, input.dtype={t.dtype}, input.stride()={shape_str(t.stride())}.")
    try:
        out = x.view(d.np)
    except ValueError:
        raise ShapeError(f"view: the last dim's size in bytes must divide by the new dtype's size. Got dtype={d}, "
                         f"input.dtype={t.dtype}, input.shape={shape_str(x.shape)}.") from None
    if d == t.dtype:
        return Tensor._from_op(out, (t,), lambda g: (g,), "ViewBackward0")
    return Tensor._wrap(out)


def contiguous(input, memory_format=None):
    """input itself when its elements already lie in row-major order, else a row-major copy that stays in the
    graph. Matches torch.Tensor.contiguous.

    >>> import cnnlab
    >>> x = cnnlab.arange(6.).reshape(2, 3).t()
    >>> x.is_contiguous(), x.contiguous().is_contiguous(), x.contiguous().view(6)
    (False, True, tensor([0., 3., 1., 4., 2., 5.]))
    """
    t = as_tensor_arg(input, "contiguous", "input")
    if t._data.flags.c_contiguous:
        return t
    check_allocation("contiguous", t._data.shape, t._data.dtype)  # an expanded tensor may be huge
    return Tensor._from_op(np.ascontiguousarray(t._data), (t,), lambda g: (g,), "CloneBackward0")


def renamed(out, name):
    """out with the grad_fn name PyTorch gives the op (an op built from another one here)."""
    if out._backward is not None:
        out._op = name
    return out


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one. Matches torch.flatten."""
    t = as_tensor_arg(input, "flatten", "input")
    if t.ndim == 0:
        return reshape(t, 1)
    s, e = t._dim(start_dim, "flatten"), t._dim(end_dim, "flatten")
    if s > e:
        raise ShapeError(f"flatten: start_dim must not come after end_dim. Got start_dim={start_dim}, "
                         f"end_dim={end_dim}.")
    shp = t._data.shape
    return reshape(t, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


def permute(input, *dims):
    """Reorder the dims. Matches torch.permute."""
    t = as_tensor_arg(input, "permute", "input")
    dims = sizes_arg(dims, "permute")
    if len(dims) != t.ndim or sorted(d % max(t.ndim, 1) for d in dims) != list(range(t.ndim)):
        raise ShapeError(f"permute: dims must be a permutation of the {t.ndim} dims. Got dims={dims}, "
                         f"shape={shape_str(t.shape)}.")
    axes = tuple(t._dim(d, "permute") for d in dims)
    inverse = tuple(np.argsort(axes))
    return Tensor._from_op(t._data.transpose(axes), (t,), lambda g: (g.transpose(inverse),), "PermuteBackward")


def transpose(input, dim0, dim1):
    """Swap two dims. Matches torch.transpose."""
    t = as_tensor_arg(input, "transpose", "input")
    if t.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return reshape(t, t.shape)
    a, b = t._dim(dim0, "transpose"), t._dim(dim1, "transpose")
    return Tensor._from_op(np.swapaxes(t._data, a, b), (t,), lambda g: (np.swapaxes(g, a, b),),
                           "TransposeBackward")


def t(input):
    """Transpose a tensor of at most 2 dims. Matches torch.t."""
    x = as_tensor_arg(input, "t", "input")
    if x.ndim > 2:
        raise ShapeError(f"t: expects a tensor with at most 2 dims. Got shape={shape_str(x.shape)}.")
    return renamed(transpose(x, 0, -1) if x.ndim == 2 else reshape(x, x.shape), "TBackward0")


def squeeze(input, dim=None):
    """Remove dims of size 1 (only `dim`, when given). Matches torch.squeeze."""
    t = as_tensor_arg(input, "squeeze", "input")
    if dim is None:
        new = tuple(s for s in t.shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        axes = {t._dim(d, "squeeze") for d in dims}  # on 0-d too: only 0 and -1 are dims there, as in torch
        new = tuple(s for i, s in enumerate(t.shape) if not (i in axes and s == 1))
    overload = 0 if dim is None else (1 if isinstance(dim, (int, np.integer)) else 2)
    return renamed(reshape(t, new), f"SqueezeBackward{overload}")


def unsqueeze(input, dim):
    """Insert a dim of size 1 at dim (negative counts from the end of the result). Matches torch.unsqueeze."""
    t = as_tensor_arg(input, "unsqueeze", "input")
    nd = t.ndim + 1
    if not -nd <= dim < nd:
        raise IndexError(f"unsqueeze: dim must be in [{-nd}, {nd - 1}]. Got dim={dim}, shape={shape_str(t.shape)}.")
    d = dim % nd
    return renamed(reshape(t, t.shape[:d] + (1,) + t.shape[d:]), "UnsqueezeBackward0")


def expand(input, *sizes):
    """Broadcast to a larger shape without copying (-1 keeps a dim). Matches torch.Tensor.expand."""
    t = as_tensor_arg(input, "expand", "input")
    sizes = sizes_arg(sizes, "expand")
    if len(sizes) < t.ndim:
        raise ShapeError(f"expand: the number of sizes must be at least the number of dims. Got sizes={sizes}, "
                         f"shape={shape_str(t.shape)}.")
    lead = len(sizes) - t.ndim
    if any(s == -1 for s in sizes[:lead]) or any(s < -1 for s in sizes):
        raise ShapeError(f"expand: -1 may only stand for an existing dim, and sizes must be non-negative. Got "
                         f"sizes={sizes}, shape={shape_str(t.shape)}.")
    target = tuple(t.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    for i in range(t.ndim):
        if t.shape[i] != 1 and t.shape[i] != target[i + lead]:
            raise ShapeError(f"expand: a dim can only be expanded from size 1. Got sizes={sizes}, shape="
                             f"{shape_str(t.shape)} (dim {i} has size {t.shape[i]}).")
    shape = t.shape
    return Tensor._from_op(np.broadcast_to(t._data, target), (t,), lambda g: (unbroadcast(g, shape),),
                           "ExpandBackward")


def repeat(input, *sizes):
    """Tile the tensor sizes[i] times along each dim. Matches torch.Tensor.repeat."""
    t = as_tensor_arg(input, "repeat", "input")
    reps = sizes_arg(sizes, "repeat")
    if len(reps) < t.ndim:
        raise ShapeError(f"repeat: the number of repeats must be at least the number of dims. Got "
                         f"repeats={reps}, shape={shape_str(t.shape)}.")
    shape = (1,) * (len(reps) - t.ndim) + tuple(t.shape)
    check_allocation("repeat", tuple(r * s for r, s in zip(reps, shape)), t._data.dtype)
    x = t._data.reshape(shape)

    def backward(g):  # sum the copies: view g as (r0, s0, r1, s1, ...) and sum the r axes
        inter = tuple(v for r, s in zip(reps, shape) for v in (r, s))
        return (g.reshape(inter).sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(t.shape),)

    return Tensor._from_op(np.tile(x, reps), (t,), backward, "RepeatBackward")


def flip(input, dims):
    """Reverse the order of elements along dims: a copy (as in PyTorch), not a view. Matches torch.flip."""
    t = as_tensor_arg(input, "flip", "input")
    axes = tuple(t._dim(d, "flip") for d in ((dims,) if isinstance(dims, (int, np.integer)) else dims))
    if len(set(axes)) != len(axes):
        raise ShapeError(f"flip: dims must not repeat a dim. Got dims={dims}, shape={shape_str(t.shape)}.")
    if t.ndim == 0:
        axes = ()  # dim 0 or -1 of a 0-d tensor: nothing to reverse, as in torch
    return Tensor._from_op(np.flip(t._data, axes).copy(), (t,), lambda g: (np.flip(g, axes),), "FlipBackward")


def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expects a list or tuple of tensors. Got {type(tensors).__name__}.")
    if not tensors:
        raise ValueError(f"{op}: expects a non-empty list of tensors. Got an empty list.")
    ts = [as_tensor_arg(x, op, "tensors") for x in tensors]
    dt = _dtypes.result_type([x._data.dtype for x in ts])
    return ts, [x._data.astype(dt, copy=False) for x in ts]


def cat(tensors, dim=0):
    """Join tensors along an existing dim. Matches torch.cat."""
    ts, arrays = _tensor_list(tensors, "cat")
    ref = ts[0]
    for i, x in enumerate(ts):
        if x.ndim == 0:
            raise ShapeError(f"cat: 0-d tensors cannot be concatenated (use stack). Got tensors[{i}].shape=().")
    axis = ref._dim(dim, "cat")
    for i, x in enumerate(ts):
        if x.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(x.shape, ref.shape)) if j != axis):
            raise ShapeError(f"cat: tensors must have the same shape except in the cat dim. Got dim={dim}, "
                             f"tensors[0].shape={shape_str(ref.shape)}, tensors[{i}].shape={shape_str(x.shape)}.")
    bounds = np.cumsum([x.shape[axis] for x in ts])[:-1]
    if sum(a.nbytes for a in arrays) > MACHINE_BYTES:  # expanded inputs can add up to more than memory
        check_allocation("cat", ref.shape[:axis] + (int(bounds[-1] if len(bounds) else 0) + ts[-1].shape[axis],)
                         + ref.shape[axis + 1:], arrays[0].dtype)
    return Tensor._from_op(np.concatenate(arrays, axis=axis), tuple(ts),
                           lambda g: tuple(np.split(g, bounds, axis=axis)), "CatBackward")


def stack(tensors, dim=0):
    """Join tensors of one shape along a new dim. Matches torch.stack."""
    ts, arrays = _tensor_list(tensors, "stack")
    for i, x in enumerate(ts):
        if x.shape != ts[0].shape:
            raise ShapeError(f"stack: all tensors must have the same shape. Got tensors[0].shape="
                             f"{shape_str(ts[0].shape)}, tensors[{i}].shape={shape_str(x.shape)}.")
    nd = ts[0].ndim + 1
    if not -nd <= dim < nd:
        raise IndexError(f"stack: dim must be in [{-nd}, {nd - 1}]. Got dim={dim}.")
    axis = dim % nd
    if sum(a.nbytes for a in arrays) > MACHINE_BYTES:
        check_allocation("stack", ts[0].shape[:axis] + (len(ts),) + ts[0].shape[axis:], arrays[0].dtype)
    return Tensor._from_op(np.stack(arrays, axis=axis), tuple(ts),
                           lambda g: tuple(np.moveaxis(g, axis, 0)), "StackBackward")


def _pieces(t, bounds, axis, op):
    """Views of t between the given bounds along axis, each with its own gradient path."""
    out = []
    starts = [0] + list(bounds)
    ends = list(bounds) + [t.shape[axis]]
    for s, e in zip(starts, ends):
        index = (slice(None),) * axis + (slice(s, e),)

        def backward(g, index=index):  # the piece's gradient lands in its part of the input's gradient
            return (ScatterGrad(t._data.shape, t._data.dtype, index, g),)

        out.append(Tensor._from_op(t._data[index], (t,), backward, op))
    return tuple(out)


def split(input, split_size_or_sections, dim=0):
    """Split into pieces of split_size (the last may be smaller) or of the listed sizes. Matches torch.split."""
    t = as_tensor_arg(input, "split", "input")
    axis = t._dim(dim, "split")
    n = t.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ShapeError(f"split: split_size must be positive. Got split_size={size}.")
        bounds = list(range(size, n, size))
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != n:
            raise ShapeError(f"split: the sections must add up to the size of dim {dim}. Got sections={sections} "
                             f"(sum {sum(sections)}), size={n}.")
        bounds = list(np.cumsum(sections)[:-1])
        return _pieces(t, bounds, axis, "SplitWithSizesBackward0")
    return _pieces(t, bounds, axis, "SplitBackward0")


def chunk(input, chunks, dim=0):
    """Split into `chunks` pieces of ceil(size / chunks) (fewer if the size runs out). Matches torch.chunk."""
    t = as_tensor_arg(input, "chunk", "input")
    if chunks <= 0:
        raise ShapeError(f"chunk: chunks must be positive. Got chunks={chunks}.")
    n = t.shape[t._dim(dim, "chunk")]
    return split(t, max(-(-n // chunks), 1), dim)


def unbind(input, dim=0):
    """The slices along dim, with that dim removed. Matches torch.unbind."""
    t = as_tensor_arg(input, "unbind", "input")
    return tuple(renamed(squeeze(p, dim), "UnbindBackward0") for p in split(t, 1, dim))




def roll(input, shifts, dims=None):
    """Shift elements cyclically along dims (the flattened tensor if dims is None). Matches torch.roll.

    >>> import cnnlab
    >>> cnnlab.tensor([1, 2, 3, 4]).roll(1)
    tensor([4, 1, 2, 3])
    """
    t = as_tensor_arg(input, "roll", "input")
    shifts_t = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shifts_t) != 1:
            raise ShapeError(f"roll: without dims, shifts must be one int. Got shifts={shifts}.")
        flat = reshape(t, -1)
        return reshape(roll(flat, shifts_t[0], 0), t.shape)
    dims_t = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts_t) != len(dims_t):
        raise ShapeError(f"roll: shifts and dims must have the same length. Got shifts={shifts}, dims={dims}.")
    axes = tuple(t._dim(d, "roll") for d in dims_t)
    # rolling back by the same shifts undoes it, so that is the gradient
    return Tensor._from_op(np.roll(t._data, shifts_t, axes), (t,),
                           lambda g: (np.roll(g, tuple(-s for s in shifts_t), axes),), "RollBackward")


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: out[i] varies along dim i ('ij') or with the first two swapped
    ('xy'). Matches torch.meshgrid."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy'. Got indexing={indexing!r}.")
    ts = [as_tensor_arg(x, "meshgrid", "tensors") for x in tensors]
    for i, x in enumerate(ts):
        if x.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-d or 1-d tensors. Got tensors[{i}].shape={shape_str(x.shape)}.")
    sizes = [x.numel() for x in ts]
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[o] for o in order)
    out = []
    for i, x in enumerate(ts):
        view = [1] * len(ts)
        view[order.index(i)] = sizes[i]
        out.append(expand(reshape(x, tuple(view)), shape))
    return tuple(out)
