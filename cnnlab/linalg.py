"""cnnlab.linalg: the torch.linalg functions CNN code uses: vector and matrix norms, inverse, determinant.

>>> import cnnlab
>>> cnnlab.linalg.norm(cnnlab.tensor([3.0, 4.0]))
tensor(5.)
"""
import numpy as np

from .errors import ShapeError, shape_str
from .ops._operands import as_tensor_arg
from .ops.products import norm as _norm
from .tensor import Tensor

__all__ = ["det", "inv", "matrix_norm", "norm", "vector_norm"]


def vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None):
    """The vector ord-norm over dim (all elements when None): 2, 1, inf, -inf, 0 or any other number; the
    gradient at a zero norm is 0. Matches torch.linalg.vector_norm."""
    return _norm(x, ord, dim, keepdim, dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, dtype=None):
    """The Frobenius norm of the matrices in the last two dims (other orders are not supported). Matches
    torch.linalg.matrix_norm for ord='fro'."""
    if ord != "fro":
        raise NotImplementedError(f"matrix_norm: only ord='fro' is supported. Got ord={ord!r}.")
    t = as_tensor_arg(A, "matrix_norm", "A")
    if t.ndim < 2:
        raise ShapeError(f"matrix_norm: A must have at least 2 dims. Got shape={shape_str(t.shape)}.")
    return _norm(t, 2, tuple(dim), keepdim, dtype)


def norm(A, ord=None, dim=None, keepdim=False, dtype=None):
    """A vector norm (ord a number, or None: the 2-norm of all elements when dim is None) or, with ord='fro' or
    a 2-tuple dim, the Frobenius matrix norm. Matches torch.linalg.norm for these cases.

    >>> import cnnlab
    >>> cnnlab.linalg.norm(cnnlab.ones(2, 2), dim=1)
    tensor([1.4142, 1.4142])
    """
    if isinstance(ord, str):
        return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim, dtype)
    if ord is not None and isinstance(dim, (tuple, list)) and len(dim) == 2:
        raise NotImplementedError(f"norm: matrix norms other than 'fro' are not supported. Got ord={ord!r}, "
                                  f"dim={dim}.")
    return _norm(A, 2 if ord is None else ord, dim, keepdim, dtype)


def _square_matrices(t, op):
    if t.ndim < 2 or t.shape[-1] != t.shape[-2]:
        raise ShapeError(f"{op}: A must be a square matrix or a batch of them (..., n, n). Got "
                         f"shape={shape_str(t.shape)}.")
    if t._data.dtype.kind != "f":
        raise ShapeError(f"{op}: A must be floating point. Got dtype={t.dtype}.")


def inv(A):
    """The inverse of a square matrix (or of each in a batch). Matches torch.linalg.inv.

    >>> import cnnlab
    >>> cnnlab.linalg.inv(cnnlab.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    t = as_tensor_arg(A, "inv", "A")
    _square_matrices(t, "inv")
    try:
        out = np.linalg.inv(t._data)
    except np.linalg.LinAlgError:
        raise ShapeError("inv: the matrix is singular (not invertible). Got shape="
                         f"{shape_str(t.shape)}.") from None

    # d(A^-1) = -A^-1 dA A^-1  =>  dA = -A^-T G A^-T
    def backward(g):
        inv_t = np.swapaxes(out, -1, -2)
        return (-(inv_t @ g @ inv_t),)

    return Tensor._from_op(out, (t,), backward, "LinalgInvExBackward0")


def det(A):
    """The determinant of a square matrix (or of each in a batch). Matches torch.linalg.det.

    >>> import cnnlab
    >>> cnnlab.linalg.det(cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.)
    """
    t = as_tensor_arg(A, "det", "A")
    _square_matrices(t, "det")
    x = t._data
    out = np.asarray(np.linalg.det(x))

    # d det(A) / dA = det(A) A^-T (the adjugate transposed); through the SVD-free formula for invertible A
    def backward(g):
        try:
            inv_t = np.swapaxes(np.linalg.inv(x), -1, -2)
            return ((g * out)[..., None, None] * inv_t,)
        except np.linalg.LinAlgError:  # singular: the adjugate from the cofactors of a pseudo-inverse is 0-safe
            u, s, vt = np.linalg.svd(x)
            prod_others = np.stack([np.prod(np.delete(s, k, axis=-1), axis=-1) for k in range(s.shape[-1])], -1)
            sign = np.linalg.det(u) * np.linalg.det(vt)
            adj_t = u @ (prod_others[..., :, None] * vt) * sign[..., None, None]
            return (g[..., None, None] * adj_t,)

    return Tensor._from_op(out, (t,), backward, "LinalgDetBackward0")
