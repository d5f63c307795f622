"""as_strided and storage_offset: views addressed by explicit strides into the memory a tensor shares with the
tensors it was viewed from (PyTorch's storage)."""
import numpy as np

from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg


def _storage(x, op):
    """(flat, offset): the whole row-major block of memory x lies in, as a 1-D array, and x's first element's
    position in it. The block is the array that owns the memory, which is what PyTorch calls the storage when
    x was made from it by views."""
    root = x
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root.flags.c_contiguous and root.dtype == x.dtype:
        flat = root.reshape(-1)
        start = x.__array_interface__["data"][0] - root.__array_interface__["data"][0] if x.size else 0
        return flat, start // x.itemsize
    if x.flags.c_contiguous:
        return x.reshape(-1), 0
    raise ShapeError(f"{op}: the tensor's memory is not one row-major block this op can address (a broadcast or a "
                     f"reinterpreted array). Call .contiguous() first. Got shape={shape_str(x.shape)}, "
                     f"stride={shape_str(tuple(s // x.itemsize for s in x.strides))}.")


def storage_offset(input):
    """The position of the tensor's first element in its storage, in elements. Matches
    torch.Tensor.storage_offset.

    >>> import cnnlab
    >>> cnnlab.arange(6).reshape(2, 3)[1, 1:].storage_offset()
    4
    """
    t = as_tensor_arg(input, "storage_offset", "input")
    return _storage(t._data, "storage_offset")[1]


def as_strided(input, size, stride, storage_offset=None):
    """A view of input's storage with the given sizes and strides (in elements), starting storage_offset
    elements in (input's own offset when None). Writes through it reach input. Matches torch.as_strided.

    Raises ShapeError when size and stride differ in length, a size or stride is negative, or the view would
    reach outside the storage.

    >>> import cnnlab
    >>> cnnlab.arange(6).as_strided((2, 2), (1, 2))
    tensor([[0, 2],
            [1, 3]])
    """
    t = as_tensor_arg(input, "as_strided", "input")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise ShapeError(f"as_strided: size and stride must have the same length. Got size={shape_str(size)}, "
                         f"stride={shape_str(stride)}.")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise ShapeError(f"as_strided: sizes and strides must be non-negative. Got size={shape_str(size)}, "
                         f"stride={shape_str(stride)}.")
    x = t._data
    flat, own = _storage(x, "as_strided")
    offset = own if storage_offset is None else int(storage_offset)
    need = 0 if 0 in size else offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if offset < 0 or need > flat.size:
        raise ShapeError(f"as_strided: the view must lie inside the storage. Got size={shape_str(size)}, "
                         f"stride={shape_str(stride)}, storage_offset={offset}, which needs {need} elements, "
                         f"storage size={flat.size}.")
    item = x.itemsize
    out = np.lib.stride_tricks.as_strided(flat[min(offset, flat.size):], size, tuple(s * item for s in stride))
    own_strides = tuple(s // item for s in x.strides)

    # each output element read one storage element: add g into the storage's gradient at those positions
    # (shared positions add up), then read the input's own elements back out of it
    def backward(g):
        index = np.arange(flat.size, dtype=np.int64)
        positions = np.lib.stride_tricks.as_strided(index[min(offset, flat.size):], size,
                                                    tuple(s * index.itemsize for s in stride))
        g_storage = np.zeros(flat.size, g.dtype)
        np.add.at(g_storage, positions, g)
        gx = np.lib.stride_tricks.as_strided(g_storage[own:], x.shape, tuple(s * g.itemsize for s in own_strides))
        return (gx.copy(),)

    return Tensor._from_op(out, (t,), backward, "AsStridedBackward0")
