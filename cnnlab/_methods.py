"""Binds the ops in cnnlab/ops to Tensor as operators and methods (x + y, x.sum(1), x.view(2, -1), ...)."""
import numbers

import numpy as np

from . import _dtypes, autograd
from .errors import DTypeError, GradError
from .ops import (arith as A, elementwise as E, extra as Z, indexing as I, inplace as P, logic as L, matrix as M,
                  products as X, reduction as R, shape as S, sorting as O, special as SP, strided as T, trig as G)
from .ops import clamp as C, more_math as MM
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
            return P._recorded(self, op, fn, other)  # in place, recorded in the graph
        result = fn(self, other)
        if result._data.dtype != self._data.dtype:
            if np.can_cast(result._data.dtype, self._data.dtype, "same_kind"):
                return inplace_fn(self, result.detach())
            raise DTypeError(f"{op}: the result dtype {result.dtype} cannot be stored in place in a tensor of "
                             f"dtype {self.dtype}. Got dtypes {self.dtype} and "
                             f"{other.dtype if isinstance(other, Tensor) else type(other).__name__}.")
        return inplace_fn(self, result.detach())
    return method


def _functional(name):
    """Methods whose op lives in nn.functional (x.relu(), x.softmax(1)): imported on first use."""
    def method(self, *args, **kwargs):
        from .nn import functional as F
        return getattr(F, name)(self, *args, **kwargs)
    method.__name__ = name
    return method


def _cast(dtype):
    return lambda self, memory_format=None: P.to(self, dtype)


def _new(factory):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        from . import creation
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
    return P.to(self, dtype, **kwargs)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from .creation import tensor
    return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    from .creation import full
    return full(size, fill_value, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def _inplace_of(name):
    """x.name_(...): the op x.name(...) written back into x (recorded in the graph when x is in it)."""
    def method(self, *args, **kwargs):
        return P.apply_inplace(self, name + "_", lambda t: getattr(t, name)(*args, **kwargs),
                               args + tuple(kwargs.values()))
    method.__name__ = name + "_"
    return method


def _shape_inplace(name):
    """x.t_(), x.squeeze_(0), ...: x takes the new shape (a tensor outside the graph)."""
    def method(self, *args, **kwargs):
        from .ops.writes import check_writable
        check_writable(self, name + "_")
        self._data = getattr(Tensor._wrap(self._data), name)(*args, **kwargs)._data
        return self
    method.__name__ = name + "_"
    return method


def _linalg():
    from . import linalg
    return linalg


def _no_device(self, *args, **kwargs):
    raise ValueError("cuda: cnnlab runs on the CPU only; remove .cuda() or use .to('cpu').")


METHODS = dict(
    __add__=E.add, __radd__=_reflected(E.add), __sub__=E.sub, __rsub__=_reflected(E.sub),
    __mul__=E.mul, __rmul__=_reflected(E.mul), __truediv__=E.div, __rtruediv__=_reflected(E.div),
    __pow__=E.pow, __rpow__=_reflected(E.pow), __matmul__=E.matmul, __rmatmul__=_reflected(E.matmul),
    __mod__=E.remainder, __rmod__=_reflected(E.remainder),
    __neg__=E.neg, __abs__=E.abs, __pos__=lambda self: self,
    __floordiv__=lambda self, o: E.div(self, o, rounding_mode="floor"),
    __rfloordiv__=lambda self, o: E.div(o, self, rounding_mode="floor"),
    __eq__=_comparison(E.eq), __ne__=_comparison(E.ne), __lt__=E.lt, __le__=E.le, __gt__=E.gt, __ge__=E.ge,
    __and__=E.bitwise_and, __or__=E.bitwise_or, __xor__=E.bitwise_xor, __invert__=E.bitwise_not,
    __rand__=_reflected(E.bitwise_and), __ror__=_reflected(E.bitwise_or), __rxor__=_reflected(E.bitwise_xor),
    __iadd__=_augmented(E.add, P.copy_, "+="), __isub__=_augmented(E.sub, P.copy_, "-="),
    __imul__=_augmented(E.mul, P.copy_, "*="), __itruediv__=_augmented(E.div, P.copy_, "/="),
    __getitem__=I.getitem, __setitem__=I.setitem,
    add=E.add, sub=E.sub, subtract=E.sub, mul=E.mul, multiply=E.mul, div=E.div, divide=E.div, pow=E.pow,
    true_divide=E.div, floor_divide=lambda self, o: E.div(self, o, rounding_mode="floor"),
    remainder=E.remainder, matmul=E.matmul, mm=E.matmul, bmm=E.matmul, dot=E.dot, outer=E.outer,
    maximum=E.maximum, minimum=E.minimum,
    neg=E.neg, negative=E.neg, exp=E.exp, expm1=E.expm1, log=E.log, log2=E.log2, log10=E.log10,
    log1p=E.log1p, sqrt=E.sqrt, rsqrt=E.rsqrt, square=E.square, reciprocal=E.reciprocal, abs=E.abs,
    sin=E.sin, cos=E.cos, sign=E.sign, floor=E.floor, ceil=E.ceil, round=E.round, trunc=E.trunc,
    clamp=C.clamp, clip=C.clamp,
    eq=E.eq, ne=E.ne, lt=E.lt, le=E.le, gt=E.gt, ge=E.ge, greater=E.gt, less=E.lt,
    logical_not=E.logical_not, logical_and=E.logical_and, logical_or=E.logical_or, logical_xor=E.logical_xor,
    bitwise_and=E.bitwise_and, bitwise_or=E.bitwise_or, bitwise_xor=E.bitwise_xor, bitwise_not=E.bitwise_not,
    isnan=E.isnan, isinf=E.isinf, isfinite=E.isfinite, allclose=E.allclose,
    equal=L.equal, isclose=L.isclose, roll=S.roll, count_nonzero=X.count_nonzero, bincount=X.bincount,
    sum=R.sum, mean=R.mean, max=R.max, min=R.min, amax=R.amax, amin=R.amin, argmax=R.argmax, argmin=R.argmin,
    var=R.var, std=R.std, logsumexp=R.logsumexp, all=R.all, any=R.any, prod=X.prod, cumsum=X.cumsum,
    norm=X.norm, sort=O.sort, argsort=O.argsort, topk=O.topk, unique=O.unique,
    reshape=S.reshape, view=S.view, flatten=S.flatten, permute=S.permute, transpose=S.transpose, t=S.t,
    swapaxes=S.transpose, swapdims=S.transpose,
    squeeze=S.squeeze, unsqueeze=S.unsqueeze, expand=S.expand, repeat=S.repeat, flip=lambda self, *dims: S.flip(self, dims[0] if len(dims) == 1 else dims), split=S.split,
    chunk=S.chunk, unbind=S.unbind,
    view_as=lambda self, other: S.view(self, other.shape),
    reshape_as=lambda self, other: S.reshape(self, other.shape),
    expand_as=lambda self, other: S.expand(self, other.shape),
    gather=I.gather, index_select=I.index_select, masked_fill=I.masked_fill, scatter=I.scatter,
    nonzero=I.nonzero,
    diag=M.diag, diagonal=M.diagonal, trace=M.trace, tril=M.tril, triu=M.triu, rot90=M.rot90, unfold=M.unfold,
    as_strided=T.as_strided, storage_offset=T.storage_offset,
    to=P.to, clone=P.clone, contiguous=S.contiguous, cpu=lambda self: self,
    cuda=_no_device,
    float=_cast(_dtypes.float32), double=_cast(_dtypes.float64), half=_cast(_dtypes.float16),
    bfloat16=_cast(_dtypes.bfloat16),
    long=_cast(_dtypes.int64), int=_cast(_dtypes.int32), short=_cast(_dtypes.int16), char=_cast(_dtypes.int8),
    byte=_cast(_dtypes.uint8), bool=_cast(_dtypes.bool),
    type=_type, type_as=lambda self, other: P.to(self, other.dtype),
    zero_=P.zero_, fill_=P.fill_, add_=P.add_, sub_=P.sub_, mul_=P.mul_, div_=P.div_, copy_=P.copy_,
    clamp_=P.clamp_, clip_=P.clamp_, uniform_=P.uniform_, normal_=P.normal_, masked_fill_=P.masked_fill_,
    scatter_=P.scatter_, resize_=P.resize_, resize_as_=lambda self, other: P.resize_(self, other.shape),
    new_zeros=_new("zeros"), new_ones=_new("ones"), new_empty=_new("zeros"), new_tensor=_new_tensor,
    new_full=_new_full,
    addcmul=Z.addcmul, addcdiv=Z.addcdiv, lerp=Z.lerp, addmm=Z.addmm, mv=Z.mv, masked_select=Z.masked_select,
    narrow=Z.narrow, select=Z.select, take=Z.take, movedim=Z.movedim, moveaxis=Z.movedim, tile=Z.tile,
    repeat_interleave=Z.repeat_interleave, unflatten=Z.unflatten, broadcast_to=Z.broadcast_to, nansum=Z.nansum,
    nanmean=Z.nanmean, nan_to_num=Z.nan_to_num, scatter_add=Z.scatter_add, index_add=Z.index_add, diff=Z.diff,
    tan=G.tan, asin=G.asin, acos=G.acos, atan=G.atan, atan2=G.atan2, sinh=G.sinh, cosh=G.cosh,
    arcsin=G.asin, arccos=G.acos, arctan=G.atan, arctan2=G.atan2,
    where=lambda self, condition, other: E.where(condition, self, other),
    clamp_min=lambda self, min: C.clamp(self, min=min), clamp_max=lambda self, max: C.clamp(self, max=max),
    absolute=E.abs, sgn=E.sign, fix=E.trunc, fliplr=lambda self: S.flip(self, (1,)),
    flipud=lambda self: S.flip(self, (0,)),
    fmod=A.fmod, frac=A.frac, logaddexp=A.logaddexp, hypot=A.hypot, median=O.median, nanmedian=O.nanmedian,
    kthvalue=O.kthvalue,
    multinomial=Z.multinomial, erf=SP.erf, erfc=SP.erfc,
    inverse=lambda self: _linalg().inv(self), det=lambda self: _linalg().det(self),
    data_ptr=lambda self: self._data.__array_interface__["data"][0], is_complex=lambda self: False,
    get_device=lambda self: -1, is_pinned=lambda self: False, pin_memory=lambda self: self,
    share_memory_=lambda self: self, is_shared=lambda self: False,
)

# issue 19's missing names (ops/more_math.py)
METHODS.update(
    exp2=MM.exp2, asinh=MM.asinh, acosh=MM.acosh, atanh=MM.atanh, arcsinh=MM.asinh, arccosh=MM.acosh,
    arctanh=MM.atanh, copysign=MM.copysign, cumprod=MM.cumprod, cummax=MM.cummax, cummin=MM.cummin,
    logcumsumexp=MM.logcumsumexp, scatter_reduce=MM.scatter_reduce, bitwise_left_shift=MM.bitwise_left_shift,
    bitwise_right_shift=MM.bitwise_right_shift, __lshift__=MM.bitwise_left_shift,
    __rshift__=MM.bitwise_right_shift, __rlshift__=_reflected(MM.bitwise_left_shift),
    __rrshift__=_reflected(MM.bitwise_right_shift))
for _name in ("abs", "neg", "exp", "log", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "sign",
              "floor", "ceil", "round", "trunc", "pow", "sigmoid", "tanh", "relu", "addcmul", "addcdiv", "lerp",
              "clamp_min", "clamp_max", "masked_fill", "scatter_add", "index_add", "remainder", "fmod", "exp2",
              "log1p", "expm1", "nan_to_num", "negative", "absolute", "frac", "hypot", "logaddexp", "erf", "erfc"):
    if _name + "_" not in METHODS and (_name in METHODS or _name in ("sigmoid", "tanh", "relu")):
        METHODS[_name + "_"] = _inplace_of(_name)
for _name in ("t", "transpose", "squeeze", "unsqueeze", "swapaxes", "swapdims"):
    METHODS[_name + "_"] = _shape_inplace(_name)

for _name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
    METHODS[_name] = _functional(_name)

METHODS["backward"] = autograd.tensor_backward  # the engine sits above tensor.py, which does not import it

for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
