"""Binds the ops in cnnlab/ops to Tensor as operators and methods (x + y, x.sum(1), x.view(2, -1), ...)."""
import numbers

import numpy as np

from . import _dtypes, autograd
from .errors import DTypeError, GradError
from . import creation, linalg
from .ops import (accumulate, arithmetic, arrange, clamp, counting, cumulative, elementwise, fused, indexing, inplace,
                  logic, matrix, more_math, nan_aware, norm, reduction, sampling, selection, shape, sorting, special,
                  strided, trig)
from .ops.writes import check_writable
from .tensor import Tensor


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _comparison(fn):
    """==, != and friends: NotImplemented for operands that are not numbers, arrays or tensors, so that
    `tensor == None` is False and `tensor in list_of_things` works as in PyTorch."""
    def method(self, other):
        if not isinstance(other, (Tensor, numbers.Number, np.ndarray, np.generic, list, tuple)):
            return NotImplemented
        return fn(self, other)
    return method


def _augmented(fn, inplace_fn, op):
    """x += y: in place (recorded in the graph when x or y requires grad, as PyTorch does); an error for a leaf
    that requires grad, and for a result dtype that cannot be stored in x."""
    def method(self, other):
        grad_on = autograd.is_grad_enabled()
        if grad_on and self._requires_grad and self._backward is None:
            raise GradError(f"{op}: a leaf tensor that requires grad cannot be modified in place (the graph "
                            "needs its value); update it inside cnnlab.no_grad(), or use x = x + ... .")
        if grad_on and (self._requires_grad or isinstance(other, Tensor) and other._requires_grad):
            if self._used or (self._data.base is not None and self._backward is None):
                return fn(self, other)  # x = x + y: x is already an input elsewhere, or a view outside the graph
            return inplace.record_inplace(self, op, fn, other)  # in place, recorded in the graph
        result = fn(self, other)
        if result._data.dtype != self._data.dtype:
            if np.can_cast(result._data.dtype, self._data.dtype, "same_kind"):
                return inplace_fn(self, result.detach())
            raise DTypeError(f"{op}: the result dtype {result.dtype} cannot be stored in place in a tensor of "
                             f"dtype {self.dtype}. Got dtypes {self.dtype} and "
                             f"{other.dtype if isinstance(other, Tensor) else type(other).__name__}.")
        return inplace_fn(self, result.detach())
    return method


def _cast(dtype):
    return lambda self, memory_format=None: inplace.to(self, dtype)


def _new(factory):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        return getattr(creation, factory)(*size, dtype=dtype or self.dtype, device=device,
                                          requires_grad=requires_grad)
    return method


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
               "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor", "bfloat16": "BFloat16Tensor"}


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """x.type() -> 'torch.FloatTensor' (PyTorch's spelling, so ported code that compares the string keeps working,
    e.g. `x.type() == 'torch.FloatTensor'`); x.type(cnnlab.float64),
    x.type(cnnlab.DoubleTensor) or x.type('torch.DoubleTensor') casts (x itself when the dtype is already that).
    Matches torch.Tensor.type."""
    if dtype is None:
        return f"torch.{_TYPE_NAMES[self.dtype.name]}"
    if isinstance(dtype, str) and "Tensor" in dtype:
        prefix, _, name = dtype.rpartition(".")
        if prefix.endswith("cuda"):
            raise ValueError(f"type: cnnlab runs on the CPU only; use 'torch.{name}'. Got dtype={dtype!r}.")
        if name not in _TYPE_NAMES.values() or prefix not in ("torch", "cnnlab", ""):
            raise ValueError(f"type: unknown tensor type name; expected one of 'torch.FloatTensor', "
                             f"'torch.LongTensor', ... Got dtype={dtype!r}.")
        dtype = next(k for k, v in _TYPE_NAMES.items() if v == name)
    return inplace.to(self, dtype, **kwargs)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return creation.tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    return creation.full(size, fill_value, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def _inplace_of(name):
    """x.name_(...): the op x.name(...) written back into x (recorded in the graph when x is in it)."""
    def method(self, *args, **kwargs):
        return inplace.apply_inplace(self, name + "_", lambda t: getattr(t, name)(*args, **kwargs),
                                     args + tuple(kwargs.values()))
    method.__name__ = name + "_"
    return method


def _shape_inplace(name):
    """x.t_(), x.squeeze_(0), ...: x takes the new shape (a tensor outside the graph)."""
    def method(self, *args, **kwargs):
        check_writable(self, name + "_")
        self._data = getattr(Tensor._wrap(self._data), name)(*args, **kwargs)._data
        return self
    method.__name__ = name + "_"
    return method


def _no_device(self, *args, **kwargs):
    raise ValueError("cuda: cnnlab runs on the CPU only; remove .cuda() or use .to('cpu').")


METHODS = dict(
    __add__=elementwise.add, __radd__=_reflected(elementwise.add), __sub__=elementwise.sub,
    __rsub__=_reflected(elementwise.sub), __mul__=elementwise.mul, __rmul__=_reflected(elementwise.mul),
    __truediv__=elementwise.div, __rtruediv__=_reflected(elementwise.div), __pow__=elementwise.pow,
    __rpow__=_reflected(elementwise.pow), __matmul__=elementwise.matmul, __rmatmul__=_reflected(elementwise.matmul),
    __mod__=elementwise.remainder, __rmod__=_reflected(elementwise.remainder), __neg__=elementwise.neg,
    __abs__=elementwise.abs, __pos__=lambda self: self,
    __floordiv__=lambda self, o: elementwise.div(self, o, rounding_mode="floor"),
    __rfloordiv__=lambda self, o: elementwise.div(o, self, rounding_mode="floor"),
    __eq__=_comparison(elementwise.eq), __ne__=_comparison(elementwise.ne), __lt__=elementwise.lt,
    __le__=elementwise.le, __gt__=elementwise.gt, __ge__=elementwise.ge, __and__=elementwise.bitwise_and,
    __or__=elementwise.bitwise_or, __xor__=elementwise.bitwise_xor, __invert__=elementwise.bitwise_not,
    __rand__=_reflected(elementwise.bitwise_and), __ror__=_reflected(elementwise.bitwise_or),
    __rxor__=_reflected(elementwise.bitwise_xor), __iadd__=_augmented(elementwise.add, inplace.copy_, "+="),
    __isub__=_augmented(elementwise.sub, inplace.copy_, "-="),
    __imul__=_augmented(elementwise.mul, inplace.copy_, "*="),
    __itruediv__=_augmented(elementwise.div, inplace.copy_, "/="), __getitem__=indexing.getitem,
    __setitem__=indexing.setitem, add=elementwise.add, sub=elementwise.sub, subtract=elementwise.sub,
    mul=elementwise.mul, multiply=elementwise.mul, div=elementwise.div, divide=elementwise.div, pow=elementwise.pow,
    true_divide=elementwise.div, floor_divide=lambda self, o: elementwise.div(self, o, rounding_mode="floor"),
    remainder=elementwise.remainder, matmul=elementwise.matmul, mm=elementwise.matmul, bmm=elementwise.matmul,
    dot=elementwise.dot, outer=elementwise.outer, maximum=elementwise.maximum, minimum=elementwise.minimum,
    neg=elementwise.neg, negative=elementwise.neg, exp=elementwise.exp, expm1=elementwise.expm1,
    log=elementwise.log, log2=elementwise.log2, log10=elementwise.log10, log1p=elementwise.log1p,
    sqrt=elementwise.sqrt, rsqrt=elementwise.rsqrt, square=elementwise.square, reciprocal=elementwise.reciprocal,
    abs=elementwise.abs, sin=elementwise.sin, cos=elementwise.cos, sign=elementwise.sign, floor=elementwise.floor,
    ceil=elementwise.ceil, round=elementwise.round, trunc=elementwise.trunc, clamp=clamp.clamp, clip=clamp.clamp,
    eq=elementwise.eq, ne=elementwise.ne, lt=elementwise.lt, le=elementwise.le, gt=elementwise.gt,
    ge=elementwise.ge, greater=elementwise.gt, less=elementwise.lt, logical_not=elementwise.logical_not,
    logical_and=elementwise.logical_and, logical_or=elementwise.logical_or, logical_xor=elementwise.logical_xor,
    bitwise_and=elementwise.bitwise_and, bitwise_or=elementwise.bitwise_or, bitwise_xor=elementwise.bitwise_xor,
    bitwise_not=elementwise.bitwise_not, isnan=elementwise.isnan, isinf=elementwise.isinf,
    isfinite=elementwise.isfinite, allclose=elementwise.allclose, equal=logic.equal, isclose=logic.isclose,
    roll=shape.roll, count_nonzero=counting.count_nonzero, bincount=counting.bincount, sum=reduction.sum,
    mean=reduction.mean, max=reduction.max, min=reduction.min, amax=reduction.amax, amin=reduction.amin,
    argmax=reduction.argmax, argmin=reduction.argmin, var=reduction.var, std=reduction.std,
    logsumexp=reduction.logsumexp, all=reduction.all, any=reduction.any, prod=reduction.prod,
    cumsum=cumulative.cumsum, norm=norm.norm, sort=sorting.sort, argsort=sorting.argsort, topk=sorting.topk,
    unique=sorting.unique, reshape=shape.reshape, view=shape.view, flatten=shape.flatten, permute=shape.permute,
    transpose=shape.transpose, t=shape.t, swapaxes=shape.transpose, swapdims=shape.transpose, squeeze=shape.squeeze,
    unsqueeze=shape.unsqueeze, expand=shape.expand, repeat=shape.repeat,
    flip=lambda self, *dims: shape.flip(self, dims[0] if len(dims) == 1 else dims), split=shape.split,
    chunk=shape.chunk, unbind=shape.unbind, view_as=lambda self, other: shape.view(self, other.shape),
    reshape_as=lambda self, other: shape.reshape(self, other.shape),
    expand_as=lambda self, other: shape.expand(self, other.shape), gather=indexing.gather,
    index_select=indexing.index_select, masked_fill=indexing.masked_fill, scatter=indexing.scatter,
    nonzero=indexing.nonzero, diag=matrix.diag, diagonal=matrix.diagonal, trace=matrix.trace, tril=matrix.tril,
    triu=matrix.triu, rot90=matrix.rot90, unfold=matrix.unfold, as_strided=strided.as_strided,
    storage_offset=strided.storage_offset, to=inplace.to, clone=inplace.clone, contiguous=shape.contiguous,
    cpu=lambda self: self, cuda=_no_device, float=_cast(_dtypes.float32), double=_cast(_dtypes.float64),
    half=_cast(_dtypes.float16), bfloat16=_cast(_dtypes.bfloat16), long=_cast(_dtypes.int64),
    int=_cast(_dtypes.int32), short=_cast(_dtypes.int16), char=_cast(_dtypes.int8), byte=_cast(_dtypes.uint8),
    bool=_cast(_dtypes.bool), type=_type, type_as=lambda self, other: inplace.to(self, other.dtype),
    zero_=inplace.zero_, fill_=inplace.fill_, add_=inplace.add_, sub_=inplace.sub_, mul_=inplace.mul_,
    div_=inplace.div_, copy_=inplace.copy_, clamp_=inplace.clamp_, clip_=inplace.clamp_, uniform_=inplace.uniform_,
    normal_=inplace.normal_, masked_fill_=inplace.masked_fill_, scatter_=inplace.scatter_, resize_=inplace.resize_,
    resize_as_=lambda self, other: inplace.resize_(self, other.shape), new_zeros=_new("zeros"),
    new_ones=_new("ones"), new_empty=_new("zeros"), new_tensor=_new_tensor, new_full=_new_full,
    addcmul=fused.addcmul, addcdiv=fused.addcdiv, lerp=fused.lerp, addmm=fused.addmm, mv=fused.mv,
    masked_select=selection.masked_select, narrow=selection.narrow, select=selection.select, take=selection.take,
    movedim=arrange.movedim, moveaxis=arrange.movedim, tile=arrange.tile,
    repeat_interleave=arrange.repeat_interleave, unflatten=arrange.unflatten, broadcast_to=arrange.broadcast_to,
    nansum=nan_aware.nansum, nanmean=nan_aware.nanmean, nan_to_num=nan_aware.nan_to_num,
    scatter_add=accumulate.scatter_add, index_add=accumulate.index_add, diff=cumulative.diff, tan=trig.tan,
    asin=trig.asin, acos=trig.acos, atan=trig.atan, atan2=trig.atan2, sinh=trig.sinh, cosh=trig.cosh,
    arcsin=trig.asin, arccos=trig.acos, arctan=trig.atan, arctan2=trig.atan2,
    where=lambda self, condition, other: elementwise.where(condition, self, other),
    clamp_min=lambda self, min: clamp.clamp(self, min=min), clamp_max=lambda self, max: clamp.clamp(self, max=max),
    absolute=elementwise.abs, sgn=elementwise.sign, fix=elementwise.trunc,
    fliplr=lambda self: shape.flip(self, (1,)), flipud=lambda self: shape.flip(self, (0,)), fmod=arithmetic.fmod,
    frac=arithmetic.frac, logaddexp=arithmetic.logaddexp, hypot=arithmetic.hypot, median=sorting.median,
    nanmedian=sorting.nanmedian, kthvalue=sorting.kthvalue, multinomial=sampling.multinomial, erf=special.erf,
    erfc=special.erfc, inverse=lambda self: linalg.inv(self), det=lambda self: linalg.det(self),
    data_ptr=lambda self: self._data.__array_interface__["data"][0], is_complex=lambda self: False,
    get_device=lambda self: -1, is_pinned=lambda self: False, pin_memory=lambda self: self,
    share_memory_=lambda self: self, is_shared=lambda self: False,
)

# issue 19's missing names (ops/more_math.py)
METHODS.update(
    exp2=more_math.exp2, asinh=more_math.asinh, acosh=more_math.acosh, atanh=more_math.atanh,
    arcsinh=more_math.asinh, arccosh=more_math.acosh, arctanh=more_math.atanh, copysign=more_math.copysign,
    cumprod=more_math.cumprod, cummax=more_math.cummax, cummin=more_math.cummin,
    logcumsumexp=more_math.logcumsumexp, scatter_reduce=more_math.scatter_reduce,
    bitwise_left_shift=more_math.bitwise_left_shift, bitwise_right_shift=more_math.bitwise_right_shift,
    __lshift__=more_math.bitwise_left_shift, __rshift__=more_math.bitwise_right_shift,
    __rlshift__=_reflected(more_math.bitwise_left_shift), __rrshift__=_reflected(more_math.bitwise_right_shift),
)
for _name in ("abs", "neg", "exp", "log", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "sign",
              "floor", "ceil", "round", "trunc", "pow", "sigmoid", "tanh", "relu", "addcmul", "addcdiv", "lerp",
              "clamp_min", "clamp_max", "masked_fill", "scatter_add", "index_add", "remainder", "fmod", "exp2",
              "log1p", "expm1", "nan_to_num", "negative", "absolute", "frac", "hypot", "logaddexp", "erf", "erfc"):
    if _name + "_" not in METHODS and (_name in METHODS or _name in ("sigmoid", "tanh", "relu")):
        METHODS[_name + "_"] = _inplace_of(_name)
for _name in ("t", "transpose", "squeeze", "unsqueeze", "swapaxes", "swapdims"):
    METHODS[_name + "_"] = _shape_inplace(_name)

METHODS["backward"] = autograd.tensor_backward  # the engine sits above tensor.py, which does not import it

for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
