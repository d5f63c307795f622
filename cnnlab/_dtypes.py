"""dtypes with PyTorch's names (cnnlab.float32, cnnlab.int64, ...) and PyTorch's promotion rules.

A cnnlab dtype wraps a NumPy dtype. It compares equal to itself, to the NumPy dtype and to NumPy's scalar
type, so `x.dtype == cnnlab.float32`, `x.dtype == np.float32` and `x.numpy().dtype == x.dtype` all hold.

bfloat16 has no NumPy type (and NumPy is the only runtime dependency), so a bfloat16 tensor holds float32
values that already lie on the bfloat16 grid: rounded to nearest, ties to even, on the float32 bit pattern
(the low 16 bits are zero), overflow to inf, NaN kept as NaN (stored as 0x7FC0, c10's canonical NaN; PyTorch's
own NaN bits depend on its code path). The array's dtype is float32 tagged with NumPy dtype metadata
({'cnnlab': 'bfloat16'}); the tensor reports dtype bfloat16 and element_size 2. Ops compute in float32, as
PyTorch's CPU kernels do, and Tensor._from_op settles each result (`bfloat16_result`): the result dtype comes
from PyTorch's promotion of the op's inputs (NumPy keeps or drops the tag by its own rules) and bfloat16 results
are rounded again. In-place writes, load_state_dict and optimizer steps round too. All of this runs only once a
bfloat16 dtype has been used in the process (`bf16_in_use`), so float32 work pays one flag test.
"""
import builtins

import numpy as np


class dtype:
    """A tensor element type. `cnnlab.float32.is_floating_point` -> True, `.itemsize` -> 4."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name, np_dtype, itemsize=None):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = itemsize or self.np.itemsize

    def __repr__(self):
        return f"cnnlab.{self.name}"

    @property
    def is_complex(self):
        return False

    def to_real(self):
        return self

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self.name == other.name
        try:
            npd = np.dtype(other)
        except TypeError:
            return NotImplemented
        return self.np == npd and is_bfloat16(self.np) == is_bfloat16(npd)  # bfloat16 is not float32

    def __hash__(self):
        return hash(self.np)

    def __reduce__(self):
        return (as_dtype, (self.name,))


BF16_NP = np.dtype(np.float32, metadata={"cnnlab": "bfloat16"})


def is_bfloat16(npd):
    """Whether a NumPy dtype is the float32 dtype tagged as bfloat16 storage."""
    meta = npd.metadata
    return meta is not None and meta.get("cnnlab") == "bfloat16"


float16 = half = dtype("float16", np.float16)
bfloat16 = dtype("bfloat16", BF16_NP, itemsize=2)
float32 = float = dtype("float32", np.float32)
float64 = double = dtype("float64", np.float64)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)
int64 = long = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)

_BY_NP = {d.np: d for d in (float16, float32, float64, uint8, int8, int16, int32, int64, bool)}
# every name a dtype answers to, PyTorch's aliases included ("half", "double", "long"): the strings that
# dtype arguments, Tensor.to and Module.type accept
BY_NAME = {d.name: d for d in _BY_NP.values()}
BY_NAME["bfloat16"] = bfloat16
BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)

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
        if d is bfloat16:
            _bfloat16_in_use()
        return d
    if isinstance(d, str) and d in BY_NAME:
        return as_dtype(BY_NAME[d])
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
    if is_bfloat16(npd):
        return as_dtype(bfloat16)
    if npd not in _BY_NP:
        raise TypeError(f"dtype: cnnlab has no dtype for NumPy's {npd}. Supported: {sorted(BY_NAME)}.")
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
    return _same_category_result([d for d in tensor_dtypes if _category(d) == top])


def _same_category_result(dtypes):
    """NumPy's promotion, with bfloat16 where PyTorch puts it: bfloat16 with bfloat16 stays bfloat16, with
    float16 gives float32, and float32 or float64 win over it."""
    if not any(is_bfloat16(d) for d in dtypes):
        return np.result_type(*dtypes)
    others = [d for d in dtypes if not is_bfloat16(d)]
    if not others:
        return BF16_NP
    wider = np.result_type(*others)
    return np.dtype(np.float32) if wider == np.float16 else wider


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


def to_bfloat16(arr):
    """A new bfloat16-tagged float32 array: arr's values rounded to the bfloat16 grid as PyTorch converts them
    (to float32 first, then round to nearest even on the bit pattern; NaN stays NaN, overflow gives inf).

    >>> import numpy as np
    >>> to_bfloat16(np.array([1.0, 1.00390625, 1.01171875, 3.4e38])).tolist()  # ties go to the even neighbour
    [1.0, 1.0, 1.015625, inf]
    """
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf, as in PyTorch
        a = np.array(arr, dtype=np.float32, copy=True)
    _round_in_place(a)
    _bfloat16_in_use()
    return a.view(BF16_NP)


def _round_in_place(a):
    bits = a.view(np.uint32)
    nan = np.isnan(a)
    bits += np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))  # the low half decides; ties to even
    bits &= np.uint32(0xFFFF0000)
    if nan.any():
        bits[nan] = np.uint32(0x7FC00000)


def settle_bfloat16(arr):
    """arr (an op's bfloat16-tagged result, computed in float32) rounded to the bfloat16 grid: in place when it
    can be written, else a rounded copy. Values already on the grid stay as they are, so views are safe."""
    if not is_bfloat16(arr.dtype):
        return arr
    if arr.flags.writeable:
        _round_in_place(arr)
        return arr
    return to_bfloat16(arr)


# Whether any bfloat16 tensor may exist in this process: until then, Tensor._from_op skips the bfloat16 checks,
# so float32 and float64 work pays one flag test per op for them.
bf16_in_use = False


def _bfloat16_in_use():
    global bf16_in_use
    bf16_in_use = True


_CONVERSIONS = frozenset(["ToCopyBackward"])


def bfloat16_result(arr, parents, op):
    """An op's result array as it must be stored (called by Tensor._from_op once bfloat16 is in use). NumPy
    keeps or drops the bfloat16 tag by its own rules (the first operand's dtype, none for reductions,
    concatenation, np.where, ...), so the dtype is decided here from PyTorch's promotion of the op's tensor
    inputs: bfloat16 results are tagged and rounded to the grid, others lose a tag they picked up. Conversions
    (`to`) keep the dtype they asked for."""
    tagged = arr.dtype.metadata is not None
    if not tagged:  # the common case first: float32 work in a process that has used bfloat16
        if arr.dtype.kind != "f":
            return arr
        for p in parents:
            if p._data.dtype.metadata is not None:
                break
        else:
            return arr
    if op in _CONVERSIONS or arr.dtype.kind != "f" or not parents:
        return settle_bfloat16(arr) if tagged else arr
    inputs = [p._data for p in parents]
    if not any(a.dtype.metadata is not None for a in inputs):
        return settle_bfloat16(arr)  # a bfloat16 result of float32 inputs: an explicit dtype
    if is_bfloat16(promote_arrays(inputs)):
        return settle_bfloat16(arr) if tagged else to_bfloat16(arr)
    return arr.view(np.float32) if tagged else arr  # bfloat16 with a wider float: PyTorch gives the wider one


def cast(arr, d):
    """arr converted to the cnnlab dtype d as a new array (bfloat16 rounded, bfloat16 to others exact)."""
    if d is bfloat16:
        return to_bfloat16(arr)
    return np.asarray(arr).astype(d.np)  # astype's copy drops the bfloat16 tag (np.array(..., dtype) keeps it)


def as_np(arr, npd):
    """arr as the NumPy dtype npd for an op's operands (no copy when it already is): a bfloat16 target rounds,
    a float32 target drops the bfloat16 tag (NumPy counts the tagged dtype equal to float32)."""
    if is_bfloat16(npd):
        return arr if is_bfloat16(arr.dtype) else to_bfloat16(arr)
    if is_bfloat16(arr.dtype):
        arr = arr.view(np.float32)
    return arr.astype(npd, copy=False)


def finfo(type=None):
    """Machine limits of a floating dtype (eps, max, min, tiny, bits), as torch.finfo."""
    d = as_dtype(type) if type is not None else _default_float
    if not d.is_floating_point:
        raise TypeError(f"finfo: expects a floating dtype. Got dtype={d}.")
    if d is bfloat16:
        return _BF16_FINFO
    return np.finfo(d.np)


class _BFloat16Info:
    """torch.finfo(torch.bfloat16): 8 exponent bits as float32, 8 significand bits (7 stored)."""
    bits, eps, resolution, dtype = 16, 2.0 ** -7, 0.01, "bfloat16"
    max = 2.0 ** 127 * (2 - 2.0 ** -7)
    min = -max
    tiny = smallest_normal = 2.0 ** -126

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:.6g}, max={self.max:.6g}, eps={self.eps}, "
                f"smallest_normal={self.tiny:.6g}, tiny={self.tiny:.6g}, dtype=bfloat16)")


_BF16_FINFO = _BFloat16Info()


def iinfo(type):
    """Machine limits of an integer dtype (max, min, bits), as torch.iinfo."""
    d = as_dtype(type)
    if d.np.kind not in "iu":
        raise TypeError(f"iinfo: expects an integer dtype. Got dtype={d}.")
    return np.iinfo(d.np)
