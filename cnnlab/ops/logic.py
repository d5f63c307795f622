"""Comparisons, logical and bitwise ops, and NaN/inf tests: elementwise, broadcasting, no gradient (the results
are bool or integer). Matches torch.eq/lt/..., torch.logical_*, torch.bitwise_*, torch.isnan/isinf/isfinite."""
import numpy as np

from ..tensor import Tensor
from ._operands import as_tensor_arg, binary_arrays


def _compare(a, b, fn, op):
    _, _, xa, xb = binary_arrays(a, b, op)
    return Tensor._wrap(np.asarray(fn(xa, xb)))


def eq(input, other):
    """input == other, elementwise (bool). Matches torch.eq."""
    return _compare(input, other, np.equal, "eq")


def ne(input, other):
    """input != other, elementwise (bool). Matches torch.ne."""
    return _compare(input, other, np.not_equal, "ne")


def lt(input, other):
    """input < other, elementwise (bool). Matches torch.lt."""
    return _compare(input, other, np.less, "lt")


def le(input, other):
    """input <= other, elementwise (bool). Matches torch.le."""
    return _compare(input, other, np.less_equal, "le")


def gt(input, other):
    """input > other, elementwise (bool). Matches torch.gt."""
    return _compare(input, other, np.greater, "gt")


def ge(input, other):
    """input >= other, elementwise (bool). Matches torch.ge."""
    return _compare(input, other, np.greater_equal, "ge")


def logical_and(input, other):
    return _compare(input, other, np.logical_and, "logical_and")


def logical_or(input, other):
    return _compare(input, other, np.logical_or, "logical_or")


def logical_xor(input, other):
    return _compare(input, other, np.logical_xor, "logical_xor")


def _bitwise(a, b, fn, op):
    _, _, xa, xb = binary_arrays(a, b, op)
    if np.result_type(xa, xb).kind not in "biu":
        raise TypeError(f"{op}: expects integer or bool tensors. Got dtype={np.result_type(xa, xb)}.")
    return Tensor._wrap(np.asarray(fn(xa, xb)))


def bitwise_and(input, other):
    """Bitwise AND of integer tensors, logical AND of bool tensors (the `&` operator). Matches torch."""
    return _bitwise(input, other, np.bitwise_and, "bitwise_and")


def bitwise_or(input, other):
    """Bitwise OR of integer tensors, logical OR of bool tensors (the `|` operator). Matches torch."""
    return _bitwise(input, other, np.bitwise_or, "bitwise_or")


def bitwise_xor(input, other):
    """Bitwise XOR of integer tensors, logical XOR of bool tensors (the `^` operator). Matches torch."""
    return _bitwise(input, other, np.bitwise_xor, "bitwise_xor")


def bitwise_not(input):
    """Bitwise NOT of integer tensors, logical NOT of bool tensors (the `~` operator). Matches torch."""
    x = as_tensor_arg(input, "bitwise_not", "input")._data
    if x.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: expects an integer or bool tensor. Got dtype={x.dtype}.")
    return Tensor._wrap(np.invert(x))


def logical_not(input):
    return Tensor._wrap(np.logical_not(as_tensor_arg(input, "logical_not", "input")._data))


def isnan(input):
    return Tensor._wrap(np.isnan(as_tensor_arg(input, "isnan", "input")._data))


def isinf(input):
    return Tensor._wrap(np.isinf(as_tensor_arg(input, "isinf", "input")._data))


def isfinite(input):
    return Tensor._wrap(np.isfinite(as_tensor_arg(input, "isfinite", "input")._data))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when all elements are close (|a - b| <= atol + rtol * |b|). Matches torch.allclose."""
    _, _, xa, xb = binary_arrays(input, other, "allclose")
    return bool(np.allclose(xa, xb, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise (bool). Matches torch.isclose."""
    _, _, xa, xb = binary_arrays(input, other, "isclose")
    return Tensor._wrap(np.asarray(np.isclose(xa, xb, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def equal(input, other):
    """True when both tensors have the same shape and the same values. Matches torch.equal."""
    a, b = as_tensor_arg(input, "equal", "input"), as_tensor_arg(other, "equal")
    return bool(a.shape == b.shape and np.array_equal(a._data, b._data))


def nonzero(input, as_tuple=False):
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim with
    as_tuple=True. Matches torch.nonzero."""
    x = as_tensor_arg(input, "nonzero", "input")._data
    idx = np.nonzero(x) if x.ndim else np.nonzero(x.reshape(1))
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in idx)
    return Tensor._wrap(np.stack(idx, axis=1).astype(np.int64) if x.ndim else np.zeros((int(x != 0), 0), np.int64))
