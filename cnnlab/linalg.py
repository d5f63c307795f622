"""cnnlab.linalg: the torch.linalg functions CNN code uses: vector and matrix norms, inverse, determinant.

>>> import cnnlab
>>> cnnlab.linalg.norm(cnnlab.tensor([3.0, 4.0]))
tensor(5.)
"""
import numbers

import numpy as np

from .errors import DTypeError, LinAlgError, ShapeError, shape_str
from .ops import reduction as R
from .ops._operands import as_tensor_arg
from .ops.elementwise import abs as _abs
from .ops.arrange import movedim
from .ops.norm import norm as _norm
from .ops.shape import squeeze, unsqueeze
from .tensor import Tensor

__all__ = ["LinAlgError", "det", "inv", "matrix_norm", "norm", "vector_norm"]


def vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None):
    """The vector ord-norm over dim (all elements when None): 2, 1, inf, -inf, 0 or any other number; the
    gradient at a zero norm is 0. Matches torch.linalg.vector_norm.

    >>> import cnnlab
    >>> cnnlab.linalg.vector_norm(cnnlab.tensor([[3.0, -4.0]]), ord=1, dim=1)
    tensor([7.])
    """
    if isinstance(ord, str) or not isinstance(ord, numbers.Number):
        raise TypeError(f"vector_norm: ord must be a number. Got ord={ord!r}.")
    return _norm(x, ord, dim, keepdim, dtype)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf"))


def _matrix_dims(t, dim, op):
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ShapeError(f"{op}: dim must be a 2-tuple of ints. Got dim={dim!r}.")
    d0, d1 = (int(d) + t.ndim if int(d) < 0 else int(d) for d in dim)
    if not (0 <= d0 < t.ndim and 0 <= d1 < t.ndim):
        raise IndexError(f"{op}: dim out of range for a {t.ndim}-D input. Got dim={tuple(dim)}.")
    if d0 == d1:
        raise ShapeError(f"{op}: the two dims must be different. Got dim={tuple(dim)}.")
    return d0, d1


def _singular_norm(t, ord):
    """2 / -2: the largest / smallest singular value; 'nuc': their sum, of the matrices in the last two dims."""
    x = t._data
    u, s, vh = np.linalg.svd(x, full_matrices=False)  # (..., m, k), (..., k), (..., k, n)
    if ord == "nuc":
        out = s.sum(axis=-1)
    else:
        k = 0 if ord == 2 else -1
        out = s[..., k]

    # d(sum s) = U V^H : dA;  d(s_k) = u_k v_k^H : dA  (distinct singular values)
    def backward(g):
        if ord == "nuc":
            d = u @ vh
        else:
            d = u[..., :, k, None] * vh[..., None, k, :]
        return ((g[..., None, None] * d).astype(x.dtype, copy=False),)

    return Tensor._from_op(np.asarray(out), (t,), backward, "LinalgMatrixNormBackward0")


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, dtype=None):
    """A matrix norm of the matrices in dims `dim`: 'fro' (Frobenius), 'nuc' (sum of singular values), 1 / -1
    (max / min absolute column sum), inf / -inf (max / min absolute row sum), 2 / -2 (largest / smallest
    singular value). Matches torch.linalg.matrix_norm.

    >>> import cnnlab
    >>> cnnlab.linalg.matrix_norm(cnnlab.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
    tensor(6.)
    """
    op = "matrix_norm"
    t = as_tensor_arg(A, op, "A")
    if t.ndim < 2:
        raise ShapeError(f"{op}: A must have at least 2 dims. Got shape={shape_str(t.shape)}.")
    if ord not in _MATRIX_ORDS:
        raise ValueError(f"{op}: ord must be one of 'fro', 'nuc', 1, -1, 2, -2, inf, -inf. Got ord={ord!r}.")
    d0, d1 = _matrix_dims(t, dim, op)
    if dtype is not None:
        t = t.to(dtype)
    if t._data.dtype.kind != "f":
        raise DTypeError(f"{op}: A must be floating point. Got dtype={t.dtype}.")
    if ord == "fro":
        return _norm(t, 2, (d0, d1), keepdim)
    if ord in (1, -1, float("inf"), -float("inf")):
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = R.sum(_abs(t), inner, keepdim=True)
        out = (R.amax if ord > 0 else R.amin)(sums, outer, keepdim=True)
    else:
        moved = movedim(t, (d0, d1), (-2, -1))
        out = _singular_norm(moved, ord)
        out = unsqueeze(unsqueeze(out, min(d0, d1)), max(d0, d1))
    return out if keepdim else squeeze(out, (d0, d1))


def norm(A, ord=None, dim=None, keepdim=False, dtype=None):
    """A vector norm (ord a number; the 2-norm of all elements when ord and dim are None) or a matrix norm (ord
    a string, a 2-tuple dim, or ord given with a 2-D input and no dim). Matches torch.linalg.norm.

    >>> import cnnlab
    >>> cnnlab.linalg.norm(cnnlab.ones(2, 2), dim=1)
    tensor([1.4142, 1.4142])
    """
    t = as_tensor_arg(A, "norm", "A")
    if dim is not None and not isinstance(dim, (tuple, list)):
        dim = (dim,)
    if ord is not None and dim is None:
        if t.ndim not in (1, 2):
            raise ShapeError(f"norm: if dim is not given but ord is, the input must be 1-D or 2-D. Got "
                             f"shape={shape_str(t.shape)}, ord={ord!r}.")
        dim = tuple(range(t.ndim))
    if isinstance(ord, str) or (dim is not None and len(dim) == 2):
        return matrix_norm(t, "fro" if ord is None else ord, dim if dim is not None else (-2, -1), keepdim, dtype)
    return _norm(t, 2 if ord is None else ord, dim, keepdim, dtype)


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
        raise LinAlgError("inv: the matrix is singular (not invertible). Got shape="
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
