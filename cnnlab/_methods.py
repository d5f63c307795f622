"""Binds the ops in cnnlab/ops to Tensor as operators and methods (x + y, x.sum(1), x.view(2, -1), ...)."""
import numpy as np

from . import _dtypes, autograd
from .ops import elementwise as E, indexing as I, inplace as P, reduction as R, shape as S
from .tensor import Tensor


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _augmented(fn, inplace_fn):
    """x += y: in place when x is outside the graph, else a new tensor bound to the same name."""
    def method(self, other):
        if self.requires_grad and autograd.is_grad_enabled() or isinstance(other, Tensor) and other.requires_grad:
            return fn(self, other)
        result = fn(self, other)
        if result._data.dtype != self._data.dtype:
            return result
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
    return lambda self: P.to(self, dtype)


def _new(factory):
    def method(self, *size, dtype=None, requires_grad=False):
        from . import creation
        return getattr(creation, factory)(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)
    return method


def _type(self, dtype=None):
    if dtype is None:
        return f"cnnlab.{self.dtype.name.capitalize().replace('Float32', 'Float')}Tensor"
    return P.to(self, dtype)


def _new_tensor(self, data, dtype=None, requires_grad=False):
    from .creation import tensor
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _no_device(self, *args, **kwargs):
    raise ValueError("cuda: cnnlab runs on the CPU only; remove .cuda() or use .to('cpu').")


METHODS = dict(
    __add__=E.add, __radd__=_reflected(E.add), __sub__=E.sub, __rsub__=_reflected(E.sub),
    __mul__=E.mul, __rmul__=_reflected(E.mul), __truediv__=E.div, __rtruediv__=_reflected(E.div),
    __pow__=E.pow, __rpow__=_reflected(E.pow), __matmul__=E.matmul, __rmatmul__=_reflected(E.matmul),
    __neg__=E.neg, __abs__=E.abs, __pos__=lambda self: self,
    __floordiv__=lambda self, o: E.div(self, o, rounding_mode="floor"),
    __eq__=E.eq, __ne__=E.ne, __lt__=E.lt, __le__=E.le, __gt__=E.gt, __ge__=E.ge,
    __and__=E.logical_and, __or__=E.logical_or, __invert__=E.logical_not,
    __iadd__=_augmented(E.add, P.copy_), __isub__=_augmented(E.sub, P.copy_),
    __imul__=_augmented(E.mul, P.copy_), __itruediv__=_augmented(E.div, P.copy_),
    __getitem__=I.getitem, __setitem__=I.setitem,
    add=E.add, sub=E.sub, subtract=E.sub, mul=E.mul, multiply=E.mul, div=E.div, divide=E.div, pow=E.pow,
    matmul=E.matmul, mm=E.matmul, bmm=E.matmul, maximum=E.maximum, minimum=E.minimum,
    neg=E.neg, exp=E.exp, log=E.log, log1p=E.log1p, sqrt=E.sqrt, rsqrt=E.rsqrt, square=E.square,
    reciprocal=E.reciprocal, abs=E.abs, sin=E.sin, cos=E.cos, sign=E.sign, floor=E.floor, ceil=E.ceil,
    round=E.round, clamp=E.clamp, clip=E.clamp,
    eq=E.eq, ne=E.ne, lt=E.lt, le=E.le, gt=E.gt, ge=E.ge, logical_not=E.logical_not, isnan=E.isnan,
    isfinite=E.isfinite, allclose=E.allclose, equal=lambda self, o: bool(np.array_equal(self._data, o._data)),
    sum=R.sum, mean=R.mean, max=R.max, min=R.min, amax=R.amax, amin=R.amin, argmax=R.argmax, argmin=R.argmin,
    var=R.var, std=R.std, logsumexp=R.logsumexp, all=R.all, any=R.any,
    reshape=S.reshape, view=S.reshape, flatten=S.flatten, permute=S.permute, transpose=S.transpose, t=S.t,
    squeeze=S.squeeze, unsqueeze=S.unsqueeze, expand=S.expand, repeat=S.repeat, flip=S.flip, split=S.split,
    chunk=S.chunk, unbind=S.unbind,
    view_as=lambda self, other: S.reshape(self, other.shape),
    reshape_as=lambda self, other: S.reshape(self, other.shape),
    expand_as=lambda self, other: S.expand(self, other.shape),
    gather=I.gather, index_select=I.index_select, masked_fill=I.masked_fill,
    to=P.to, clone=P.clone, contiguous=lambda self: self, cpu=lambda self: self, cuda=_no_device,
    float=_cast(_dtypes.float32), double=_cast(_dtypes.float64), half=_cast(_dtypes.float16),
    long=_cast(_dtypes.int64), int=_cast(_dtypes.int32), bool=_cast(_dtypes.bool),
    type=_type, type_as=lambda self, other: P.to(self, other.dtype),
    zero_=P.zero_, fill_=P.fill_, add_=P.add_, sub_=P.sub_, mul_=P.mul_, div_=P.div_, copy_=P.copy_,
    clamp_=P.clamp_, uniform_=P.uniform_, normal_=P.normal_,
    new_zeros=_new("zeros"), new_ones=_new("ones"), new_empty=_new("zeros"), new_tensor=_new_tensor,
)

for _name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
    METHODS[_name] = _functional(_name)

for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
