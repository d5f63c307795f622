"""dtypes with PyTorch's names (cnnlab.float32, cnnlab.int64, ...) and PyTorch's promotion rules.

A cnnlab dtype wraps a NumPy dtype. It compares equal to itself, to the NumPy dtype and to NumPy's scalar
type, so `x.dtype == cnnlab.float32`, `x.dtype == np.float32` and `x.numpy().dtype == x.dtype` all hold.
"""
import builtins

import numpy as np


class dtype:
    """A tensor element type. `cnnlab.float32.is_floating_point` -> True, `.itemsize` -> 4."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"cnnlab.{self.name}"

    @property
    def is_complex(self):
        return False

    def to_real(self):
        return self

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self.np == other.np
        try:
            return self.np == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(self.np)

    def __reduce__(self):
        return (as_dtype, (self.name,))


float16 = half = dtype("float16", np.float16)
float32 = float = dtype("float32", np.float32)
float64 = double = dtype("float64", np.float64)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)
int64 = long = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)

_BY_NP = {d.np: d for d in (float16, float32, float64, uint8, int8, int16, int32, int64, bool)}
_BY_NAME = {d.name: d for d in _BY_NP.values()}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)

_default_float = float32


def get_default_dtype():
    """The dtype of floating tensors made from Python numbers (float32 unless changed)."""
    return _default_float


def set_default_dtype(d):
    """Set the default floating dtype (float32 or float64), as torch.set_default_dtype."""
    global _default_float
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating dtypes can be the default. Got dtype={d}.")
    _default_float = d


def as_dtype(d):
    """Normalise a cnnlab dtype, NumPy dtype, NumPy scalar type or name ('float32') to a cnnlab dtype."""
    if isinstance(d, dtype):
        return d
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    if d is builtins.float:
        return _default_float
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    try:
        npd = np.dtype(d)
    except TypeError:
        raise TypeError(f"dtype: not a dtype cnnlab knows. Got dtype={d!r}.") from None
    if npd not in _BY_NP:
        raise TypeError(f"dtype: cnnlab has no dtype for NumPy's {npd}. Supported: {sorted(_BY_NAME)}.")
    return _BY_NP[npd]


def _category(npd):
    # bool < integer < floating, PyTorch's promotion categories.
    return 0 if npd.kind == "b" else (2 if npd.kind == "f" else 1)


def _scalar_category(s):
    if isinstance(s, (builtins.bool, np.bool_)):
        return 0
    return 2 if isinstance(s, (builtins.float, np.floating)) else 1


def result_type(tensor_dtypes, scalars=()):
    """The NumPy dtype PyTorch gives a result of tensors with these dtypes and these Python scalars.

    Python scalars only raise the category (bool < int < float): float32 tensor * 2.5 stays float32, and an
    int64 tensor * 2.5 becomes the default float dtype. Among tensors of the top category NumPy's rule holds.
    """
    top = max(_category(d) for d in tensor_dtypes)
    scalar_top = max((_scalar_category(s) for s in scalars), default=-1)
    if scalar_top > top:
        return _default_float.np if scalar_top == 2 else np.dtype(np.int64)
    return np.result_type(*[d for d in tensor_dtypes if _category(d) == top])


def promote_arrays(arrays, scalars=()):
    """The NumPy dtype PyTorch gives a result of these tensor arrays and Python scalars.

    As in PyTorch, tensors with dimensions decide within their category; a 0-d tensor counts only when its
    category (bool < integer < floating) is higher, and Python scalars only raise the category. So a float32
    matrix * float64 0-d tensor stays float32, while an int64 matrix * float64 0-d tensor is float64.
    """
    dimmed = [a.dtype for a in arrays if a.ndim]
    zero_d = [a.dtype for a in arrays if not a.ndim]
    if not dimmed:
        return result_type(zero_d, scalars)
    top = max(_category(d) for d in dimmed)
    zero_top = max((_category(d) for d in zero_d), default=-1)
    if zero_top > top:
        return result_type([d for d in zero_d if _category(d) == zero_top], scalars)
    return result_type(dimmed, scalars)


def promote_types(type1, type2):
    """The dtype both dtypes promote to. Matches torch.promote_types."""
    return as_dtype(result_type([as_dtype(type1).np, as_dtype(type2).np]))


def finfo(type=None):
    """Machine limits of a floating dtype (eps, max, min, tiny, bits), as torch.finfo."""
    d = as_dtype(type) if type is not None else _default_float
    if not d.is_floating_point:
        raise TypeError(f"finfo: expects a floating dtype. Got dtype={d}.")
    return np.finfo(d.np)


def iinfo(type):
    """Machine limits of an integer dtype (max, min, bits), as torch.iinfo."""
    d = as_dtype(type)
    if d.np.kind not in "iu":
        raise TypeError(f"iinfo: expects an integer dtype. Got dtype={d}.")
    return np.iinfo(d.np)
