"""Making tensors: from data (tensor, as_tensor, from_numpy), filled (zeros, ones, full, eye, arange,
linspace) and random (rand, randn, randint, randperm, normal, bernoulli), the *_like variants, and `device`.

Every factory takes PyTorch's keywords: dtype, device ('cpu' or a cnnlab.device; cnnlab runs on the CPU only)
and requires_grad; the size may be given as `zeros(2, 3)`, `zeros((2, 3))` or `zeros(size=(2, 3))`.
"""

import math

import numpy as np

from . import _dtypes
from ._device import device
from ._memory import check_allocation
from .errors import DTypeError, ShapeError
from .ops.shape import sizes_arg
from .random import rng
from .tensor import Size, Tensor, to_array


def _check_device(dev):
    if dev is not None:
        device(dev)


def _size(size, kw_size, op):
    """The size from f(2, 3), f((2, 3)) or f(size=(2, 3)), checked to be non-negative."""
    if kw_size is not None:
        if size:
            raise TypeError(f"{op}: give the size either positionally or as size=, not both. Got {size} and "
                            f"size={kw_size}.")
        size = (kw_size,)
    shape = sizes_arg(size, op)
    if any(s < 0 for s in shape):
        raise ShapeError(f"{op}: sizes must be non-negative. Got size={shape}.")
    return shape


def _finish(arr, dtype, requires_grad):
    if dtype is not None:
        arr = arr.astype(_dtypes.as_dtype(dtype).np, copy=False)
    return Tensor._wrap(arr, requires_grad)


def _float_dtype(dtype, op):
    d = _dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()
    if not d.is_floating_point:
        raise TypeError(f"{op}: dtype must be floating point. Got dtype={d}.")
    return d.np


def _dtype_np(dtype):
    return (_dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()).np


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of data; dtype is inferred as PyTorch does (Python floats -> float32,
    ints -> int64, bools -> bool; NumPy arrays keep theirs).

    >>> import cnnlab
    >>> cnnlab.tensor([1, 2, 3]).dtype, cnnlab.tensor([1.0, 2.0]).dtype
    (cnnlab.int64, cnnlab.float32)
    """
    _check_device(device)
    return Tensor._wrap(np.array(to_array(data, dtype), copy=True), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """A tensor for data, sharing memory with a NumPy array or tensor when no conversion is needed."""
    _check_device(device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _dtypes.as_dtype(dtype)):
        return data
    return Tensor._wrap(to_array(data, dtype))


def from_numpy(array):
    """A tensor that shares memory with a NumPy array (and keeps its dtype). Matches torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expects a numpy.ndarray. Got {type(array).__name__}.")
    _dtypes.as_dtype(array.dtype)
    return Tensor._wrap(array)


def zeros(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    """A tensor of zeros. `zeros(2, 3)`, `zeros((2, 3))` and `zeros(size=(2, 3))` all work. Matches torch.zeros.

    >>> import cnnlab
    >>> cnnlab.zeros(2, 3).shape
    cnnlab.Size([2, 3])
    """
    shape, d = _factory_args("zeros", size, kwargs, device), _dtype_np(dtype)
    check_allocation("zeros", shape, d)
    return Tensor._wrap(np.zeros(shape, d), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    """A tensor of ones. Matches torch.ones."""
    shape, d = _factory_args("ones", size, kwargs, device), _dtype_np(dtype)
    check_allocation("ones", shape, d)
    return Tensor._wrap(np.ones(shape, d), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    """A tensor of the given size (filled with zeros here, so it never holds garbage). Matches torch.empty."""
    shape, d = _factory_args("empty", size, kwargs, device), _dtype_np(dtype)
    check_allocation("empty", shape, d)
    return Tensor._wrap(np.zeros(shape, d), requires_grad)


def _factory_args(op, size, kwargs, dev):
    """The checked shape of a factory call; accepts size= and ignores layout/pin_memory/memory_format."""
    kw_size = kwargs.pop("size", None)
    for ignored in ("layout", "pin_memory", "memory_format", "out"):
        if ignored == "out" and kwargs.get("out") is not None:
            raise TypeError(f"{op}: out= is not supported; assign the result instead.")
        kwargs.pop(ignored, None)
    if kwargs:
        raise TypeError(f"{op}: unexpected keyword arguments {sorted(kwargs)}.")
    _check_device(dev)
    return _size(size, kw_size, op)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor filled with fill_value; the dtype follows the value (bool, int64 or float32) unless given.
    Matches torch.full."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        if isinstance(fill_value, (bool, np.bool_)):
            dtype = _dtypes.bool
        elif isinstance(fill_value, (int, np.integer)):
            dtype = _dtypes.int64
    _check_device(device)
    shape, d = _size((size,), None, "full"), _dtype_np(dtype)
    check_allocation("full", shape, d)
    return Tensor._wrap(np.full(shape, fill_value, d), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The identity matrix (n x m). Matches torch.eye."""
    _check_device(device)
    if n < 0 or (m is not None and m < 0):
        raise ShapeError(f"eye: sizes must be non-negative. Got n={n}, m={m}.")
    check_allocation("eye", (n, n if m is None else m), _dtype_np(dtype))
    return Tensor._wrap(np.eye(n, m, dtype=_dtype_np(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) in steps; int64 when all arguments are ints. Matches torch.arange.

    >>> import cnnlab
    >>> cnnlab.arange(5), cnnlab.arange(0, 1, 0.25)
    (tensor([0, 1, 2, 3, 4]), tensor([0.0000, 0.2500, 0.5000, 0.7500]))
    """
    _check_device(device)
    start, end, step = (_scalar(v) for v in (start, end, step))
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero. Got step=0.")
    if (end - start) * step < 0:
        raise ValueError(f"arange: the step must point from start toward end. Got start={start}, end={end}, "
                         f"step={step}.")
    if dtype is None and all(isinstance(v, (int, np.integer)) for v in (start, end, step)):
        dtype = _dtypes.int64
    target = _dtype_np(dtype)
    if np.dtype(target) == np.bool_:
        raise DTypeError(f"arange: dtype must be a number type, not bool. Got dtype={dtype}.")
    check_allocation("arange", (math.ceil((end - start) / step),), np.float64 if target.kind == "f" else target)
    if target.kind == "f":  # computed in float64, then rounded once: start + i * step as PyTorch does
        return Tensor._wrap(np.arange(start, end, step, dtype=np.float64).astype(target), requires_grad)
    return Tensor._wrap(np.arange(start, end, step, dtype=target), requires_grad)


def _scalar(v):
    return v.item() if isinstance(v, Tensor) else v


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive. Matches torch.linspace."""
    _check_device(device)
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative. Got steps={steps}.")
    check_allocation("linspace", (steps,), np.float64)  # computed in float64, then cast
    dt = _dtype_np(dtype)
    if np.dtype(dt) == np.bool_:  # torch has no bool linspace (it would be True from the first step on)
        raise DTypeError(f"linspace: dtype must be a number type, not bool. Got dtype={dtype}.")
    return Tensor._wrap(np.linspace(_scalar(start), _scalar(end), steps).astype(dt), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """Uniform random numbers in [0, 1) from the default (or given) generator. Matches torch.rand (the
    numbers themselves come from cnnlab's generator, not PyTorch's)."""
    d = _float_dtype(dtype, "rand")
    shape = _factory_args("rand", size, kwargs, device)
    check_allocation("rand", shape, d)
    # drawn in the target precision, so float32 values never round up to 1.0
    if _dtypes.is_bfloat16(d):  # float32 draws cut (not rounded) to bfloat16, so that none becomes 1.0
        arr = np.array(rng(generator).random(shape, dtype=np.float32))
        arr.view(np.uint32)[...] &= np.uint32(0xFFFF0000)
        return Tensor._wrap(arr.view(d), requires_grad)
    arr = rng(generator).random(shape, dtype=d if d in (np.float32, np.float64) else np.float64)
    return Tensor._wrap(arr.astype(d, copy=False), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """Standard normal random numbers from the default (or given) generator. Matches torch.randn."""
    d = _float_dtype(dtype, "randn")
    shape = _factory_args("randn", size, kwargs, device)
    check_allocation("randn", shape, np.float64)  # drawn in float64, then cast
    return Tensor._wrap(rng(generator).standard_normal(shape).astype(d, copy=False), requires_grad)


def randint(low=0, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Random integers in [low, high): `randint(high, size)` or `randint(low, high, size)`; int64 unless
    dtype says otherwise. Matches torch.randint.

    >>> import cnnlab
    >>> g = cnnlab.Generator().manual_seed(0)
    >>> x = cnnlab.randint(10, (2, 3), generator=g)
    >>> x.shape, x.dtype, bool(((x >= 0) & (x < 10)).all())
    (cnnlab.Size([2, 3]), cnnlab.int64, True)
    """
    if size is None and high is not None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if size is None:
        raise TypeError("randint: expects randint(high, size) or randint(low, high, size). Got no size.")
    if high <= low:
        raise ValueError(f"randint: high must be greater than low. Got low={low}, high={high}.")
    _check_device(device)
    shape = _size((size,), None, "randint")
    check_allocation("randint", shape, np.int64)
    arr = rng(generator).integers(low, high, size=shape, dtype=np.int64)
    return _finish(arr, dtype, requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, requires_grad=False):
    """Normal random numbers with the given mean and std (numbers or tensors, broadcast). Matches torch.normal."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise ValueError(f"normal: std must be non-negative. Got std min={np.min(s)}.")
    shape = _size((size,), None, "normal") if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    if dtype is None:
        arrays = [a for a in (m, s) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        dtype = arrays[0].dtype if arrays else _dtypes.get_default_dtype().np
    check_allocation("normal", shape, np.float64)
    arr = rng(generator).normal(m, s, shape)
    return Tensor._wrap(arr.astype(_dtypes.as_dtype(dtype).np, copy=False), requires_grad)


def bernoulli(input, p=None, generator=None):
    """0/1 draws, 1 with probability input (or p), in input's dtype. Matches torch.bernoulli."""
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    prob = x if p is None else np.full(x.shape, p)
    if np.any((prob < 0) | (prob > 1)):
        raise ValueError("bernoulli: probabilities must be in [0, 1].")
    return Tensor._wrap((rng(generator).random(x.shape) < prob).astype(x.dtype))


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64). Matches torch.randperm."""
    _check_device(device)
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative. Got n={n}.")
    check_allocation("randperm", (n,), np.int64)
    return _finish(rng(generator).permutation(n).astype(np.int64), dtype, requires_grad)


def _like(input, dtype, device=None):
    _check_device(device)
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    return x.shape, (_dtypes.as_dtype(dtype).np if dtype is not None else x.dtype)


def zeros_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with input's shape and dtype (unless dtype is given). Matches torch.zeros_like."""
    shape, d = _like(input, dtype, device)
    return Tensor._wrap(np.zeros(shape, d), requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Ones with input's shape and dtype (unless dtype is given). Matches torch.ones_like."""
    shape, d = _like(input, dtype, device)
    return Tensor._wrap(np.ones(shape, d), requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return zeros_like(input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False, memory_format=None):
    shape, d = _like(input, dtype, device)
    return Tensor._wrap(np.full(shape, fill_value, d), requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False, generator=None, memory_format=None):
    shape, d = _like(input, dtype, device)
    return rand(*shape, generator=generator, dtype=d, requires_grad=requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False, generator=None, memory_format=None):
    """Standard normal numbers with input's shape and (floating) dtype. Matches torch.randn_like."""
    shape, d = _like(input, dtype, device)
    return randn(*shape, generator=generator, dtype=d, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, dtype=None, device=None, requires_grad=False, generator=None):
    shape, d = _like(input, dtype, device)
    return randint(low, high, shape, generator=generator, dtype=d, requires_grad=requires_grad)


class LegacyTensorType(type):
    """The type of cnnlab.FloatTensor and the other legacy tensor types of old PyTorch code: calling one makes
    a tensor of its dtype from data (`FloatTensor([1, 2])`) or from sizes (`FloatTensor(2, 3)`, zero-filled),
    and `isinstance(x, FloatTensor)` is True for float32 tensors. They are not Tensor subclasses, as in PyTorch.

    >>> import cnnlab
    >>> cnnlab.LongTensor([1.7, 2.2]), cnnlab.FloatTensor(2, 3).shape, isinstance(cnnlab.ones(1), cnnlab.FloatTensor)
    (tensor([1, 2]), cnnlab.Size([2, 3]), True)
    """

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args, device=None):
        _check_device(device)
        if not args:
            return Tensor._wrap(np.zeros(0, cls.dtype.np))
        if len(args) == 1 and isinstance(args[0], Tensor):  # an alias of a tensor of the same dtype
            if args[0].dtype != cls.dtype:
                raise TypeError(f"{cls.__name__}: expects a tensor of dtype {cls.dtype}; convert it with "
                                f".to({cls.dtype}). Got a tensor of dtype {args[0].dtype}.")
            return Tensor._wrap(args[0]._data)
        if (len(args) == 1 and isinstance(args[0], Size)) or all(
                isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in args):
            shape = _size(args, None, cls.__name__)
            check_allocation(cls.__name__, shape, cls.dtype.np)
            return Tensor._wrap(np.zeros(shape, cls.dtype.np))
        if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)):
            return Tensor._wrap(np.array(to_array(args[0], cls.dtype), copy=True))
        raise TypeError(f"{cls.__name__}: expects data (a list, tuple or array), sizes (ints), or a tensor of "
                        f"dtype {cls.dtype}. Got arguments {tuple(type(a).__name__ for a in args)}.")

    def __repr__(cls):
        return f"<class 'cnnlab.{cls.__name__}'>"


def _legacy_type(name, dtype):
    doc = f"Legacy tensor type: `{name}(data)` or `{name}(*sizes)` makes a {dtype.name} tensor. Matches torch.{name}."
    return LegacyTensorType(name, (), {"dtype": dtype, "is_cuda": False, "__module__": "cnnlab",
                                        "__qualname__": name, "__doc__": doc})


FloatTensor = _legacy_type("FloatTensor", _dtypes.float32)
DoubleTensor = _legacy_type("DoubleTensor", _dtypes.float64)
HalfTensor = _legacy_type("HalfTensor", _dtypes.float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", _dtypes.bfloat16)
LongTensor = _legacy_type("LongTensor", _dtypes.int64)
IntTensor = _legacy_type("IntTensor", _dtypes.int32)
ShortTensor = _legacy_type("ShortTensor", _dtypes.int16)
CharTensor = _legacy_type("CharTensor", _dtypes.int8)
ByteTensor = _legacy_type("ByteTensor", _dtypes.uint8)
BoolTensor = _legacy_type("BoolTensor", _dtypes.bool)
