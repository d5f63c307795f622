"""Values added at indices, repeated indices adding up: scatter_add and index_add (with gradients)."""
import numpy as np

from .. import _dtypes
from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from . import elementwise, indexing
from ._operands import as_tensor_arg, quiet


def scatter_add(input, dim, index, src):
    """A copy of input with src's values added at index along dim (repeated indices add up). Matches
    torch.scatter_add.

    >>> import cnnlab
    >>> cnnlab.zeros(3).scatter_add(0, cnnlab.tensor([0, 0, 2]), cnnlab.tensor([1.0, 2.0, 3.0]))
    tensor([3., 0., 3.])
    """
    t = as_tensor_arg(input, "scatter_add", "input")
    s = as_tensor_arg(src, "scatter_add", "src")
    idx = as_tensor_arg(index, "scatter_add", "index")._data
    axis = t._dim(dim, "scatter_add")
    indexing.check_index_along("scatter_add", t, idx, axis, dim, s.shape)
    return _scatter_add(t, axis, idx, s)


def _scatter_add(t, axis, idx, s):
    """scatter_add after its checks: t (Tensor) + s (Tensor) scattered at idx (ndarray) along axis."""
    key = indexing.along_axis_key(idx, axis)
    part = tuple(slice(0, n) for n in idx.shape)  # the part of src that is used
    dt = _dtypes.promote_arrays([t._data, s._data])
    out = t._data.astype(dt, copy=True)
    np.add.at(out, key, s._data[part])

    # out = input + (src scattered): input gets g, src gets g read back at the same positions
    @quiet
    def backward(g):
        gs = None
        if s._requires_grad:
            gs = np.zeros(s._data.shape, g.dtype)
            gs[part] = g[key]
        return (g if t._requires_grad else None), gs

    return Tensor._from_op(out, (t, s), backward, "ScatterAddBackward0")


def index_add(input, dim, index, source, alpha=1):
    """A copy of input with alpha * source's slices added at the indices along dim (repeated indices add up):
    source has input's shape except source.shape[dim] == len(index). Matches torch.index_add.

    >>> import cnnlab
    >>> cnnlab.zeros(3, 2).index_add(0, cnnlab.tensor([2, 0, 2]), cnnlab.ones(3, 2))
    tensor([[1., 1.],
            [0., 0.],
            [2., 2.]])
    """
    t = as_tensor_arg(input, "index_add", "input")
    src = as_tensor_arg(source, "index_add", "source")
    idx = as_tensor_arg(index, "index_add", "index")._data
    axis = t._dim(dim, "index_add")
    indexing.check_index_select("index_add", t, idx, axis, dim)
    idx = idx.reshape(-1)
    want = tuple(len(idx) if d == axis else n for d, n in enumerate(t.shape)) if t.ndim else (len(idx),)
    if (src.shape if src.ndim else (1,)) != want and not (t.ndim == 0 and src.ndim == 0 and len(idx) == 1):
        raise ShapeError(f"index_add: source must have input's shape except source.shape[dim] == len(index). "
                         f"Got input.shape={shape_str(t.shape)}, source.shape={shape_str(src.shape)}, "
                         f"len(index)={len(idx)}, dim={dim}.")
    shape = list(src.shape) if src.ndim else [1]
    full = np.broadcast_to(idx.reshape([-1 if i == axis else 1 for i in range(t.ndim)]), shape)
    return _scatter_add(t, axis, np.ascontiguousarray(full), elementwise.mul(src, alpha) if alpha != 1 else src)
