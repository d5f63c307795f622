"""Diagonals, triangles, rotations and sliding windows, with gradients: diag, diagonal, trace, tril, triu,
rot90 and Tensor.unfold."""
import numpy as np

from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg, check_allocation


def _diag_index(rows, cols, offset):
    """Row and column indices of the offset-th diagonal of a (rows, cols) matrix (above the main one for
    offset > 0)."""
    n = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    i = np.arange(n) + max(-offset, 0)
    return i, i + offset


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The offset-th diagonal of the (dim1, dim2) planes, as a new last dim: a view (writes through it reach
    input). Matches torch.diagonal.

    >>> import cnnlab
    >>> cnnlab.diagonal(cnnlab.arange(9).reshape(3, 3), offset=1)
    tensor([1, 5])
    """
    t = as_tensor_arg(input, "diagonal", "input")
    if t.ndim < 2:
        raise ShapeError(f"diagonal: the input must have at least 2 dims. Got shape={shape_str(t.shape)}.")
    d1, d2 = t._dim(dim1, "diagonal"), t._dim(dim2, "diagonal")
    if d1 == d2:
        raise ShapeError(f"diagonal: dim1 and dim2 must be different dims. Got dim1={dim1}, dim2={dim2}.")
    x = t._data
    i, j = _diag_index(x.shape[d1], x.shape[d2], int(offset))
    planes = np.moveaxis(x, (d1, d2), (-2, -1))  # (*other dims, rows, cols), a view
    first = planes[..., max(-int(offset), 0):, max(int(offset), 0):]  # starts at the diagonal's first element
    # one step down and one right at once: the diagonal is a strided view, as in PyTorch
    out = np.lib.stride_tricks.as_strided(first, planes.shape[:-2] + (len(i),),
                                          planes.strides[:-2] + (planes.strides[-2] + planes.strides[-1],))

    # each diagonal element came from one input element: scatter the gradient back there
    def backward(g):
        gx = np.zeros(x.shape, g.dtype)
        np.moveaxis(gx, (d1, d2), (-2, -1))[..., i, j] = g
        return (gx,)

    return Tensor._from_op(out, (t,), backward, "DiagonalBackward0")


def diag(input, diagonal=0):
    """1-D input: a square matrix with input on the diagonal-th diagonal. 2-D input: that diagonal as a 1-D
    tensor. Matches torch.diag.

    >>> import cnnlab
    >>> cnnlab.diag(cnnlab.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    >>> cnnlab.tensor([[1, 2], [3, 4]]).diag()
    tensor([1, 4])
    """
    t = as_tensor_arg(input, "diag", "input")
    if t.ndim == 2:  # a copy, unlike diagonal's view (as in PyTorch)
        d = globals()["diagonal"](t, diagonal, 0, 1)
        return Tensor._from_op(d._data.copy(), (d,), lambda g: (g,), "DiagonalBackward0_copy")
    if t.ndim != 1:
        raise ShapeError(f"diag: the input must be 1-D (to build a matrix) or 2-D (to read a diagonal). Got "
                         f"shape={shape_str(t.shape)}.")
    x = t._data
    n = x.shape[0] + abs(int(diagonal))
    check_allocation("diag", (n, n), x.dtype)
    i, j = _diag_index(n, n, int(diagonal))
    out = np.zeros((n, n), x.dtype)
    out[i, j] = x
    return Tensor._from_op(out, (t,), lambda g: (g[i, j],), "DiagEmbedBackward0")


def trace(input):
    """The sum of a matrix's main diagonal (int64 for integer input). Matches torch.trace.

    >>> import cnnlab
    >>> cnnlab.trace(cnnlab.arange(9.0).reshape(3, 3))
    tensor(12.)
    """
    t = as_tensor_arg(input, "trace", "input")
    if t.ndim != 2:
        raise ShapeError(f"trace: the input must be a 2-D matrix. Got shape={shape_str(t.shape)}.")
    x = t._data
    i, j = _diag_index(*x.shape, 0)
    dtype = np.int64 if x.dtype.kind in "iub" else x.dtype
    out = np.asarray(x[i, j].sum(dtype=dtype))

    # d trace / dx = the identity pattern (ones on the main diagonal)
    def backward(g):
        gx = np.zeros(x.shape, g.dtype)
        gx[i, j] = g
        return (gx,)

    return Tensor._from_op(out, (t,), backward, "TraceBackward0")


def _triangle(t, diagonal, op, np_fn, name):
    t = as_tensor_arg(t, op, "input")
    if t.ndim < 2:
        raise ShapeError(f"{op}: the input must have at least 2 dims (a matrix or a batch of them). Got "
                         f"shape={shape_str(t.shape)}.")
    k = int(diagonal)
    return Tensor._from_op(np_fn(t._data, k), (t,), lambda g: (np_fn(g, k),), name)


def tril(input, diagonal=0):
    """The lower triangle of the last two dims (on and below the diagonal-th diagonal), zeros elsewhere.
    Matches torch.tril.

    >>> import cnnlab
    >>> cnnlab.ones(2, 3).tril()
    tensor([[1., 0., 0.],
            [1., 1., 0.]])
    """
    return _triangle(input, diagonal, "tril", np.tril, "TrilBackward0")


def triu(input, diagonal=0):
    """The upper triangle of the last two dims (on and above the diagonal-th diagonal), zeros elsewhere.
    Matches torch.triu.

    >>> import cnnlab
    >>> cnnlab.ones(2, 3).triu(1)
    tensor([[0., 1., 1.],
            [0., 0., 1.]])
    """
    return _triangle(input, diagonal, "triu", np.triu, "TriuBackward0")


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by k * 90 degrees in the plane of dims, from the first dim towards the second. Matches
    torch.rot90.

    >>> import cnnlab
    >>> cnnlab.rot90(cnnlab.tensor([[1, 2], [3, 4]]))
    tensor([[2, 4],
            [1, 3]])
    """
    t = as_tensor_arg(input, "rot90", "input")
    dims = tuple(dims)
    if len(dims) != 2:
        raise ShapeError(f"rot90: dims must name exactly 2 dims. Got dims={dims}.")
    if t.ndim < 2:
        raise ShapeError(f"rot90: the input must have at least 2 dims. Got shape={shape_str(t.shape)}.")
    d0, d1 = t._dim(dims[0], "rot90"), t._dim(dims[1], "rot90")
    if d0 == d1:
        raise ShapeError(f"rot90: the two dims must be different. Got dims={dims}.")
    k = int(k) % 4
    out = np.ascontiguousarray(np.rot90(t._data, k, axes=(d0, d1)))
    return Tensor._from_op(out, (t,), lambda g: (np.rot90(g, -k, axes=(d0, d1)),), "Rot90Backward0")


def unfold(input, dimension, size, step):
    """Sliding windows of `size` elements, `step` apart, along `dimension`: that dim becomes the number of
    windows, (L - size) // step + 1, and a new last dim of length size holds each window. Matches
    torch.Tensor.unfold (a view; the windows may overlap).

    >>> import cnnlab
    >>> cnnlab.arange(6).unfold(0, 3, 2)
    tensor([[0, 1, 2],
            [2, 3, 4]])
    """
    t = as_tensor_arg(input, "unfold", "input")
    x = t._data
    if x.ndim == 0:
        x = x.reshape(1)
    d = t._dim(dimension, "unfold")
    length = x.shape[d]
    if not isinstance(size, (int, np.integer)) or not isinstance(step, (int, np.integer)) or step <= 0 or size < 0:
        raise ShapeError(f"unfold: size must be a non-negative int and step a positive int. Got size={size!r}, "
                         f"step={step!r}.")
    if size > length:
        raise ShapeError(f"unfold: size must not exceed the length of the dimension. Got size={size}, "
                         f"dimension={dimension}, shape={shape_str(t.shape)}.")
    n = (length - size) // step + 1
    shape = x.shape[:d] + (n,) + x.shape[d + 1:] + (size,)
    strides = x.strides[:d] + (step * x.strides[d],) + x.strides[d + 1:] + (x.strides[d],)
    out = np.lib.stride_tricks.as_strided(x, shape, strides)  # a view, writable when x is (as in PyTorch)
    if t._data.ndim == 0 and n == 1:
        out = out.reshape(size)  # a 0-d input gives just the window, (size,), as in torch
    in_shape = t._data.shape

    # window w, offset k came from position w * step + k: for each k the positions are distinct, so add g's
    # k-th slice into the strided positions k, k + step, ... (overlapping windows add up)
    def backward(g):
        gx = np.zeros(x.shape, g.dtype)
        gm = np.moveaxis(gx, d, -1)  # (*other dims, L), a view of gx
        gw = np.moveaxis(g.reshape(shape), d, -2)  # (*other dims, n, size)
        for k in range(size):
            gm[..., k:k + step * (n - 1) + 1:step] += gw[..., k]
        return (gx.reshape(in_shape),)

    return Tensor._from_op(out, (t,), backward, "UnfoldBackward0")
