"""Running sums and differences along a dim: cumsum and diff (with gradients)."""
import numpy as np

from .. import _dtypes
from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from . import elementwise, shape
from ._operands import as_tensor_arg, quiet
from .selection import narrow


@quiet
def cumsum(input, dim, dtype=None):
    """Running sum along dim; bool and integer inputs give int64. Matches torch.cumsum.

    Args:
        input (Tensor): any shape. dim (int): the dim to sum along. dtype (dtype, default None): result dtype.

    Shape:
        output: input's shape.

    >>> import cnnlab
    >>> cnnlab.tensor([1, 2, 3]).cumsum(0)
    tensor([1, 3, 6])
    """
    t = as_tensor_arg(input, "cumsum", "input")
    if dtype is not None and t._data.dtype.metadata is not None:  # bfloat16 input: convert first (see _dtypes)
        t = t.to(dtype)
    x = t._data
    axis = t._dim(dim, "cumsum")
    out_dtype = _dtypes.as_dtype(dtype).np if dtype is not None else (np.int64 if x.dtype.kind in "biu" else x.dtype)
    # float16 runs in float32, as PyTorch accumulates it: a float16 running sum stops growing at 2048 + ones
    acc = np.float32 if np.dtype(out_dtype) == np.float16 else out_dtype
    out = np.cumsum(x, axis=axis if x.ndim else None, dtype=acc).reshape(x.shape).astype(out_dtype, copy=False)

    # out_j = sum_{i <= j} x_i  =>  dx_i = sum_{j >= i} g_j, a reversed running sum
    @quiet
    def backward(g):
        if not x.ndim:
            return (g,)
        g_acc = np.float32 if g.dtype == np.float16 else None
        return (np.flip(np.cumsum(np.flip(g, axis), axis=axis, dtype=g_acc), axis).astype(g.dtype, copy=False),)

    return Tensor._from_op(out, (t,), backward, "CumsumBackward")


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along dim, out[i] = x[i+1] - x[i], after prepend and append (tensors with
    input's shape except along dim) are joined to input's ends; they get gradients too. Matches torch.diff.

    >>> import cnnlab
    >>> cnnlab.diff(cnnlab.tensor([1.0, 3.0, 6.0]), prepend=cnnlab.tensor([0.0]), append=cnnlab.tensor([10.0]))
    tensor([1., 2., 3., 4.])
    """
    t = as_tensor_arg(input, "diff", "input")
    if t.ndim == 0:
        raise ShapeError("diff: input must have at least one dim. Got shape=().")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ShapeError(f"diff: n (the order) must be a non-negative int. Got n={n!r}.")
    axis = t._dim(dim, "diff")
    if n == 0:
        return t.clone()  # as torch: a copy of the input, prepend and append unused
    parts = []
    for name, extra in (("prepend", prepend), (None, t), ("append", append)):
        if extra is None:
            continue
        if name is not None:
            if not isinstance(extra, Tensor):
                raise TypeError(f"diff: {name} must be a tensor. Got {type(extra).__name__}.")
            if extra.ndim != t.ndim or any(a != b for d, (a, b) in enumerate(zip(extra.shape, t.shape)) if d != axis):
                raise ShapeError(f"diff: {name} must have input's shape except along dim. Got input.shape="
                                 f"{shape_str(t.shape)}, {name}.shape={shape_str(extra.shape)}, dim={dim}.")
        parts.append(extra)
    if len(parts) > 1:
        t = shape.cat(parts, axis)
    for _ in range(n):
        k = t.shape[axis]
        t = elementwise.sub(narrow(t, axis, 1, max(k - 1, 0)), narrow(t, axis, 0, max(k - 1, 0)))
    return t
