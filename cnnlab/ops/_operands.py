"""Turning op arguments into arrays: scalars vs tensors, PyTorch's dtype promotion, broadcasting checks."""
import functools
import numbers

import numpy as np

from .. import _dtypes
from .._memory import MACHINE_BYTES, check_allocation
from ..errors import ShapeError, shape_str
from ..tensor import Tensor, to_array


def quiet(fn):
    """fn run with NumPy's floating-point warnings off: PyTorch gives inf/nan silently (1 / 0, log(0),
    inf - inf, overflow), so an op (or its backward) must not print NumPy's RuntimeWarnings.

    Ops wrap a backward closure on every call: the attributes are set directly (functools.wraps' generic loop
    cost ~0.7 us a call), the same ones, and __wrapped__ leads autograd's closure_vars to fn's variables.

    >>> f = quiet(lambda a: np.float64(1.0) / a)
    >>> float(f(0.0)), float(f.__wrapped__(2.0))
    (inf, 0.5)
    """
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    try:
        wrapper.__module__, wrapper.__name__, wrapper.__qualname__ = fn.__module__, fn.__name__, fn.__qualname__
        wrapper.__doc__, wrapper.__annotations__ = fn.__doc__, fn.__annotations__
    except AttributeError:  # not a plain function (a partial, a callable object): the general copy
        return functools.wraps(fn)(wrapper)
    extra = getattr(fn, "__dict__", None)
    if extra:
        wrapper.__dict__.update(extra)
    wrapper.__wrapped__ = fn
    return wrapper


def as_tensor_arg(x, op, name="other"):
    """A Tensor for x: tensors pass through, arrays and lists are wrapped (no grad)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple, numbers.Number, np.generic)):
        return Tensor._wrap(to_array(x))
    raise TypeError(f"{op}: {name} must be a tensor or a number. Got {type(x).__name__}.")


def broadcast_shape(a_shape, b_shape, op):
    """NumPy/PyTorch broadcasting of two shapes, with an error that names both shapes."""
    try:
        return np.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        raise ShapeError(f"{op}: the shapes cannot be broadcast together (each dimension, aligned from the "
                         f"right, must be equal or 1). Got shapes {shape_str(a_shape)} and "
                         f"{shape_str(b_shape)}.") from None


def binary_arrays(a, b, op):
    """(a_tensor_or_None, b_tensor_or_None, xa, xb): the operands as arrays of PyTorch's result dtype.

    A Python number stays a (weak) scalar: float32 tensor * 2.5 is float32, int64 tensor * 2.5 is float32.
    """
    a_t, b_t = isinstance(a, Tensor), isinstance(b, Tensor)
    # fast path, the common case: a floating tensor and a Python number keep the tensor's dtype
    if a_t and type(b) in _PY_NUMBERS and a._data.dtype.kind == "f":
        return a, None, a._data, b
    if b_t and type(a) in _PY_NUMBERS and b._data.dtype.kind == "f":
        return None, b, a, b._data
    if not a_t and not _is_scalar(a):
        a, a_t = as_tensor_arg(a, op, "input"), True
    if not b_t and not _is_scalar(b):
        b, b_t = as_tensor_arg(b, op), True
    if a_t and b_t:
        xa, xb = a._data, b._data
        if xa.dtype != xb.dtype or (_dtypes.bf16_in_use and  # NumPy counts bfloat16's tagged float32 as float32
                                    (xa.dtype.metadata is None) != (xb.dtype.metadata is None)):
            dt = _dtypes.promote_arrays([xa, xb])
            xa, xb = _dtypes.as_np(xa, dt), _dtypes.as_np(xb, dt)
        if xa.shape != xb.shape:
            shape = broadcast_shape(xa.shape, xb.shape, op)
            # broadcasting can make the result far larger than either operand, but never larger than their product
            if xa.size * xb.size * xa.itemsize > MACHINE_BYTES:
                check_allocation(op, shape, xa.dtype)
        return a, b, xa, xb
    if a_t:
        xa = a._data
        dt = _dtypes.result_type([xa.dtype], [b])
        return a, None, xa.astype(dt, copy=False), dt.type(b)
    if b_t:
        xb = b._data
        dt = _dtypes.result_type([xb.dtype], [a])
        return None, b, dt.type(a), xb.astype(dt, copy=False)
    raise TypeError(f"{op}: at least one argument must be a tensor. Got {type(a).__name__} and "
                    f"{type(b).__name__}.")


_PY_NUMBERS = (float, int)


def _is_scalar(x):
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, np.ndarray)


def unbroadcast(grad, shape):
    """Sum a gradient of a broadcast result back down to an operand's shape (a fresh array when summed)."""
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    ones = tuple(i + lead for i, s in enumerate(shape) if s == 1 and grad.shape[i + lead] != 1)
    g = grad
    if ones:
        g = g.sum(axis=ones, keepdims=True)  # (*lead, ..., 1, ...)
    if lead:
        g = g.sum(axis=tuple(range(lead)))  # drop the leading broadcast dims
    return g if g.shape == shape else g.reshape(shape)
