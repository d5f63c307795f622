"""Making tensors: from data (tensor, as_tensor, from_numpy), filled (zeros, ones, full, eye, arange,
linspace) and random (rand, randn, randint, randperm), and the *_like variants."""

import numpy as np

from . import _dtypes
from .ops.shape import sizes_arg
from .random import rng
from .tensor import Tensor, _to_array


def _finish(arr, dtype, requires_grad):
    if dtype is not None:
        arr = arr.astype(_dtypes.as_dtype(dtype).np, copy=False)
    return Tensor._wrap(arr, requires_grad)


def _float_dtype(dtype, op):
    d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()
    if not d.is_floating_point:
        raise TypeError(f"{op}: dtype must be floating point. Got dtype={d}.")
    return d.np


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of data; dtype is inferred as PyTorch does (Python floats -> float32,
    ints -> int64, bools -> bool; NumPy arrays keep theirs).

    >>> import cnnlab
    >>> cnnlab.tensor([1, 2, 3]).dtype, cnnlab.tensor([1.0, 2.0]).dtype
    (cnnlab.int64, cnnlab.float32)
    """
    return Tensor._wrap(np.array(_to_array(data, dtype), copy=True), requires_grad)


def as_tensor(data, dtype=None):
    """A tensor for data, sharing memory with a NumPy array or tensor when no conversion is needed."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _dtypes.as_dtype(dtype)):
        return data
    return Tensor._wrap(_to_array(data, dtype))


def from_numpy(array):
    """A tensor that shares memory with a NumPy array (and keeps its dtype). Matches torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expects a numpy.ndarray. Got {type(array).__name__}.")
    _dtypes.as_dtype(array.dtype)
    return Tensor._wrap(array)


def zeros(*size, dtype=None, requires_grad=False):
    """A tensor of zeros. `zeros(2, 3)` and `zeros((2, 3))` both work."""
    return Tensor._wrap(np.zeros(sizes_arg(size, "zeros"), _dtype_np(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    """A tensor of ones."""
    return Tensor._wrap(np.ones(sizes_arg(size, "ones"), _dtype_np(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    """A tensor of the given size (filled with zeros here, so it never holds garbage)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def _dtype_np(dtype):
    return (_dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()).np


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor filled with fill_value; the dtype follows the value (bool, int64 or float32) unless given."""
    if dtype is None:
        if isinstance(fill_value, (bool, np.bool_)):
            dtype = _dtypes.bool
        elif isinstance(fill_value, (int, np.integer)):
            dtype = _dtypes.int64
    return Tensor._wrap(np.full(sizes_arg((size,), "full"), fill_value, _dtype_np(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    """The identity matrix (n x m)."""
    return Tensor._wrap(np.eye(n, m, dtype=_dtype_np(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values from start to end (exclusive) in steps; int64 when all arguments are ints. Matches torch.arange."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero. Got step=0.")
    if dtype is None and all(isinstance(v, (int, np.integer)) for v in (start, end, step)):
        dtype = _dtypes.int64
    return Tensor._wrap(np.arange(start, end, step, dtype=_dtype_np(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive. Matches torch.linspace."""
    return Tensor._wrap(np.linspace(start, end, steps, dtype=_dtype_np(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False):
    """Uniform random numbers in [0, 1) from the default (or given) generator."""
    d = _float_dtype(dtype, "rand")
    return Tensor._wrap(rng(generator).random(sizes_arg(size, "rand"), dtype=np.float64).astype(d, copy=False),
                        requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False):
    """Standard normal random numbers from the default (or given) generator."""
    d = _float_dtype(dtype, "randn")
    return Tensor._wrap(rng(generator).standard_normal(sizes_arg(size, "randn")).astype(d, copy=False),
                        requires_grad)


def randint(low=0, high=None, size=None, generator=None, dtype=None, requires_grad=False):
    """Random integers in [low, high): `randint(high, size)` or `randint(low, high, size)`. Matches
    torch.randint."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None or high is None:
        raise TypeError("randint: expects randint(high, size) or randint(low, high, size). Got no size.")
    if high <= low:
        raise ValueError(f"randint: high must be greater than low. Got low={low}, high={high}.")
    arr = rng(generator).integers(low, high, size=sizes_arg((size,), "randint"), dtype=np.int64)
    return _finish(arr, dtype, requires_grad)


def randperm(n, generator=None, dtype=None):
    """A random permutation of 0..n-1 (int64)."""
    return _finish(rng(generator).permutation(n).astype(np.int64), dtype, False)


def _like(input, dtype):
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    return x.shape, (_dtypes.as_dtype(dtype).np if dtype is not None else x.dtype)


def zeros_like(input, dtype=None, requires_grad=False):
    shape, d = _like(input, dtype)
    return Tensor._wrap(np.zeros(shape, d), requires_grad)


def ones_like(input, dtype=None, requires_grad=False):
    shape, d = _like(input, dtype)
    return Tensor._wrap(np.ones(shape, d), requires_grad)


def empty_like(input, dtype=None, requires_grad=False):
    return zeros_like(input, dtype, requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False):
    shape, d = _like(input, dtype)
    return Tensor._wrap(np.full(shape, fill_value, d), requires_grad)


def rand_like(input, dtype=None, generator=None, requires_grad=False):
    shape, d = _like(input, dtype)
    return rand(*shape, generator=generator, dtype=d, requires_grad=requires_grad)


def randn_like(input, dtype=None, generator=None, requires_grad=False):
    shape, d = _like(input, dtype)
    return randn(*shape, generator=generator, dtype=d, requires_grad=requires_grad)
