"""Casts and in-place updates. Casts are differentiable (the gradient is cast back); in-place updates are for
tensors outside the graph, such as parameters inside no_grad() in an optimizer step."""
import numpy as np

from .. import _dtypes
from ..tensor import Tensor
from ._operands import as_tensor_arg
from .indexing import check_writable


def to(input, *args, dtype=None, copy=False, **kwargs):
    """Cast to a dtype (`to(cnnlab.float64)`, `to(other_tensor)`); device arguments ('cpu') are accepted and
    ignored. Matches torch.Tensor.to on the CPU."""
    t = as_tensor_arg(input, "to", "input")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) and a.split(":")[0] == "cpu":
            continue
        elif isinstance(a, str) and a.split(":")[0] in ("cuda", "mps"):
            raise ValueError(f"to: cnnlab runs on the CPU only. Got device={a!r}.")
        else:
            dtype = a
    device = kwargs.pop("device", None)
    if device not in (None, "cpu") and not str(device).startswith("cpu"):
        raise ValueError(f"to: cnnlab runs on the CPU only. Got device={device!r}.")
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to: unexpected arguments {sorted(kwargs)}.")
    if dtype is None:
        return t.clone() if copy else t
    target = _dtypes.as_dtype(dtype).np
    if target == t._data.dtype and not copy:
        return t
    source = t._data.dtype
    return Tensor._from_op(t._data.astype(target), (t,), lambda g: (g.astype(source),), "ToCopyBackward")


def clone(input):
    """A copy that stays in the graph (the gradient passes through)."""
    t = as_tensor_arg(input, "clone", "input")
    return Tensor._from_op(t._data.copy(), (t,), lambda g: (g,), "CloneBackward")


def _inplace(t, op, fn):
    check_writable(t, op)
    fn(t._data)
    return t


def _value(v, t):
    return v._data if isinstance(v, Tensor) else v


def zero_(t):
    return _inplace(t, "zero_", lambda x: x.fill(0))


def fill_(t, value):
    return _inplace(t, "fill_", lambda x: x.fill(_value(value, t)))


def add_(t, other, alpha=1):
    v = _value(other, t)
    return _inplace(t, "add_", lambda x: np.add(x, v if alpha == 1 else alpha * v, out=x, casting="unsafe"))


def sub_(t, other, alpha=1):
    v = _value(other, t)
    return _inplace(t, "sub_", lambda x: np.subtract(x, v if alpha == 1 else alpha * v, out=x, casting="unsafe"))


def mul_(t, other):
    return _inplace(t, "mul_", lambda x: np.multiply(x, _value(other, t), out=x, casting="unsafe"))


def div_(t, other):
    return _inplace(t, "div_", lambda x: np.divide(x, _value(other, t), out=x, casting="unsafe"))


def copy_(t, src):
    return _inplace(t, "copy_", lambda x: np.copyto(x, _value(src, t), casting="unsafe"))


def clamp_(t, min=None, max=None):
    return _inplace(t, "clamp_", lambda x: np.clip(x, min, max, out=x))


def uniform_(t, a=0.0, b=1.0, generator=None):
    from ..random import rng
    return _inplace(t, "uniform_", lambda x: np.copyto(x, rng(generator).uniform(a, b, x.shape), casting="unsafe"))


def normal_(t, mean=0.0, std=1.0, generator=None):
    from ..random import rng
    return _inplace(t, "normal_", lambda x: np.copyto(x, rng(generator).normal(mean, std, x.shape), casting="unsafe"))
