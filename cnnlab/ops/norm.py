"""p-norms and distances: norm (vector and Frobenius) and cdist, with gradients."""
import numpy as np

from .. import _dtypes
from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor
from . import elementwise, shape
from ._operands import as_tensor_arg, quiet
from .reduction import numpy_names, reduce_axes


@numpy_names
@quiet
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over dim (all elements if None): p = 2 ('fro'), 1, inf, -inf, 0 or any other number.
    The gradient at a zero norm is 0. Matches torch.norm for vector norms.

    Args:
        input (Tensor): floating point, any shape.
        p (number or 'fro', default 'fro'): the order; 'fro' over any dims is the 2-norm of their elements.
        dim (int or tuple of ints, default None): the dims to reduce; None reduces all.
        keepdim (bool, default False): keep the reduced dims with size 1.
        dtype (dtype, default None): compute in this dtype.

    Raises:
        ValueError: a matrix norm name such as 'nuc'. DTypeError: an integer input.

    >>> import cnnlab
    >>> cnnlab.tensor([3.0, 4.0]).norm()
    tensor(5.)
    """
    t = as_tensor_arg(input, "norm", "input")
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: only vector norms are supported (p a number or 'fro'). Got p={p!r}.")
    x = t._data if dtype is None else t._data.astype(_dtypes.as_dtype(dtype).np)
    if x.dtype.kind != "f":
        raise DTypeError(f"norm: the input must be floating point. Got dtype={t.dtype}.")
    axes = reduce_axes(t, dim, "norm")
    a = np.abs(x)
    p = float(p)
    if p == float("inf") or p == -float("inf"):
        out_k = (np.max if p > 0 else np.min)(a, axis=axes, keepdims=True)
    elif p == 0:
        out_k = np.sum(a != 0, axis=axes, keepdims=True).astype(x.dtype)
    elif p == 1:
        out_k = np.sum(a, axis=axes, keepdims=True)
    elif p == 2:
        out_k = np.sqrt(np.sum(a * a, axis=axes, keepdims=True))
    else:
        out_k = np.sum(a ** p, axis=axes, keepdims=True) ** (1.0 / p)
    out = out_k if keepdim else out_k.reshape([s for i, s in enumerate(out_k.shape) if i not in axes])

    # d|x|_p / dx = sign(x) |x|^(p-1) / |x|_p^(p-1); inf-norms pass g to the extreme elements (ties share)
    @quiet
    def backward(g):
        gk = g if keepdim else np.expand_dims(g, axes)
        if p in (float("inf"), -float("inf")):
            mask = a == out_k
            d = np.sign(x) * mask / mask.sum(axis=axes, keepdims=True, dtype=x.dtype)
        elif p == 0:
            d = np.zeros_like(x)
        elif p == 1:
            d = np.sign(x)
        elif p == 2:
            d = np.where(out_k == 0, 0, x / out_k)
        else:
            d = np.where(out_k == 0, 0, np.sign(x) * a ** (p - 1) / out_k ** (p - 1))
        return ((gk * d).astype(x.dtype, copy=False),)

    return Tensor._from_op(np.asarray(out), (t,), backward, "LinalgVectorNormBackward0")


def cdist(x1, x2, p=2.0):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and of x2 (..., R, M): (..., P, R); the
    gradient at a zero distance is 0. Matches torch.cdist.

    >>> import cnnlab
    >>> cnnlab.cdist(cnnlab.tensor([[0.0, 0.0]]), cnnlab.tensor([[3.0, 4.0], [0.0, 1.0]]))
    tensor([[5., 1.]])
    """
    a, b = as_tensor_arg(x1, "cdist", "x1"), as_tensor_arg(x2, "cdist", "x2")
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"cdist: x1 and x2 must be (..., P, M) and (..., R, M) with the same M. Got "
                         f"x1.shape={shape_str(a.shape)}, x2.shape={shape_str(b.shape)}.")
    d = elementwise.sub(shape.unsqueeze(a, -2), shape.unsqueeze(b, -3))  # (..., P, R, M)
    return norm(d, p, -1)
