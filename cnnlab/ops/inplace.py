"""Casts and in-place updates. Casts are differentiable (the gradient is cast back); in-place updates are for
tensors outside the graph, such as parameters inside no_grad() in an optimizer step."""
import numpy as np

from .. import _dtypes, autograd
from ..creation import LegacyTensorType, device
from ..errors import ArgumentError, DTypeError, GradError, ShapeError, shape_str
from ..random import rng
from ..tensor import Tensor
from ._operands import as_tensor_arg, check_allocation
from .elementwise import add, div, mul, sub
from .indexing import scatter
from .shape import expand, sizes_arg
from .writes import check_not_a_graph_view, check_not_read_only, check_unused, check_writable


def to(input, *args, dtype=None, copy=False, **kwargs):
    """Cast to a dtype (`to(cnnlab.float64)`, `to(other_tensor)`); device arguments ('cpu') are accepted and
    ignored. Matches torch.Tensor.to on the CPU."""
    t = as_tensor_arg(input, "to", "input")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) and a in _dtypes.BY_NAME:
            dtype = a
        elif isinstance(a, (str, device)):
            device(a)  # raises for anything but the CPU
        elif isinstance(a, bool):
            continue  # to(dtype, non_blocking)
        else:
            dtype = a
    if kwargs.get("device") is not None:
        device(kwargs.pop("device"))
    kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to: unexpected arguments {sorted(kwargs)}.")
    if dtype is None:
        return t.clone() if copy else t
    if isinstance(dtype, LegacyTensorType):  # x.to(cnnlab.DoubleTensor): the legacy type's dtype
        dtype = dtype.dtype
    target, source = _dtypes.as_dtype(dtype), t._data.dtype  # (NumPy's dtype; bfloat16's carries its tag)
    if target.np == source and (target is _dtypes.bfloat16) == _dtypes.is_bfloat16(source) and not copy:
        return t
    return Tensor._from_op(_dtypes.cast(t._data, target), (t,),
                           lambda g: (_dtypes.cast(g, _dtypes.as_dtype(source)),), "ToCopyBackward")


def clone(input):
    """A copy that stays in the graph (the gradient passes through)."""
    t = as_tensor_arg(input, "clone", "input")
    check_allocation("clone", t._data.shape, t._data.dtype)  # an expanded tensor may be far larger than its memory
    return Tensor._from_op(t._data.copy(), (t,), lambda g: (g,), "CloneBackward")


def _inplace(t, op, fn):
    check_writable(t, op)
    if not isinstance(t._data, np.ndarray):  # a NumPy scalar stored by code outside the ops (it shares no memory)
        t._data = np.array(t._data)
    check_not_read_only(t, op, "written in place; use a .clone() instead")
    try:
        fn(t._data)
    except ValueError:
        raise ShapeError(f"{op}: the other operand cannot be broadcast to the tensor's shape. Got "
                         f"shape={shape_str(t.shape)}.") from None
    if _dtypes.bf16_in_use and t._data.dtype.metadata is not None:  # bfloat16: written values onto its grid
        _dtypes.settle_bfloat16(t._data)
    return t


def _value(v, t):
    return v._data if isinstance(v, Tensor) else v


def zero_(t):
    return _inplace(t, "zero_", lambda x: x.fill(0))


def fill_(t, value):
    return _inplace(t, "fill_", lambda x: x.fill(_value(value, t)))


def _needs_recording(t, *others):
    """An in-place op must enter the graph when t is an intermediate result that requires grad, or when an
    operand that requires grad is written into t (a leaf that requires grad is refused by check_writable)."""
    if not autograd.is_grad_enabled():
        return False
    return (t._requires_grad and t._backward is not None) or any(
        isinstance(o, Tensor) and o._requires_grad for o in others)


def record_inplace(t, op, compute, other=None):
    """Do an in-place op as PyTorch records it: t keeps its identity but becomes the output of
    compute(before, other), where `before` stands for t's old value (and old place in the graph); an `other`
    that is t itself (x.mul_(x)) means the old value too."""
    if t._requires_grad and t._backward is None:
        check_writable(t, op)
    if t._data.base is not None and t._backward is None:
        raise GradError(f"{op}: writing a value that requires grad into a view (a slice or reshape of another "
                        "tensor) would not reach the base tensor's gradient; update the base tensor instead.")
    check_unused(t, op)
    check_not_a_graph_view(t, op)
    before = Tensor.__new__(Tensor)
    before._init(t._data)
    before._requires_grad, before._parents, before._backward, before._op = (t._requires_grad, t._parents,
                                                                           t._backward, t._op)
    result = compute(before, before if other is t else other)
    if result.shape != t.shape:
        raise ShapeError(f"{op}: the other operand cannot be broadcast to the tensor's shape. Got "
                         f"shape={shape_str(t.shape)}, result shape={shape_str(result.shape)}.")
    if result.dtype != t.dtype:  # (compares bfloat16 apart from float32, which NumPy's dtypes do not)
        result = to(result, t.dtype)
    t._data, t._requires_grad, t._used = result._data, result._requires_grad, False
    t._parents, t._backward, t._op = result._parents, result._backward, result._op
    return t


def add_(t, other, alpha=1):
    if _needs_recording(t, other):
        return record_inplace(t, "add_", lambda b, o: add(b, o, alpha=alpha), other)
    v = _value(other, t)
    return _inplace(t, "add_", lambda x: np.add(x, v if alpha == 1 else alpha * v, out=x, casting="unsafe"))


def sub_(t, other, alpha=1):
    if _needs_recording(t, other):
        return record_inplace(t, "sub_", lambda b, o: sub(b, o, alpha=alpha), other)
    v = _value(other, t)
    return _inplace(t, "sub_", lambda x: np.subtract(x, v if alpha == 1 else alpha * v, out=x, casting="unsafe"))


def mul_(t, other):
    if _needs_recording(t, other):
        return record_inplace(t, "mul_", lambda b, o: mul(b, o), other)
    return _inplace(t, "mul_", lambda x: np.multiply(x, _value(other, t), out=x, casting="unsafe"))


def div_(t, other):
    if _needs_recording(t, other):
        return record_inplace(t, "div_", lambda b, o: div(b, o), other)
    return _inplace(t, "div_", lambda x: np.divide(x, _value(other, t), out=x, casting="unsafe"))


def copy_(t, src, non_blocking=False):
    """Copy src's values (broadcast, cast) into t; the gradient flows to src when it requires grad."""
    if _needs_recording(t, src):
        return record_inplace(t, "copy_", lambda b, o: expand(to(o, t.dtype) if isinstance(o, Tensor) else
                                                              Tensor._wrap(np.asarray(o, t._data.dtype)), t.shape) * 1,
                              src)
    return _inplace(t, "copy_", lambda x: np.copyto(x, _value(src, t), casting="unsafe"))


def clamp_(t, min=None, max=None):
    if min is None and max is None:
        raise ArgumentError("clamp_: at least one of min and max must be given. Got min=None, max=None.")
    lo, hi = _value(min, t), _value(max, t)
    return _inplace(t, "clamp_", lambda x: np.clip(x, lo, hi, out=x, casting="unsafe"))


def masked_fill_(t, mask, value):
    """Write value where mask (a bool tensor broadcastable to t) is True, in place."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise DTypeError(f"masked_fill_: mask must be a bool tensor. Got dtype={m.dtype}.")
    v = _value(value, t)
    return _inplace(t, "masked_fill_", lambda x: np.copyto(x, v, where=np.broadcast_to(m, x.shape), casting="unsafe"))


def scatter_(t, dim, index, src=None, value=None, reduce=None):
    """scatter written into t itself (see cnnlab.scatter)."""
    check_writable(t, "scatter_")
    with autograd.no_grad():
        out = scatter(t, dim, index, src, value, reduce)
    return _inplace(t, "scatter_", lambda x: np.copyto(x, out._data))


def uniform_(t, a=0.0, b=1.0, generator=None):
    return _inplace(t, "uniform_", lambda x: np.copyto(x, rng(generator).uniform(a, b, x.shape), casting="unsafe"))


def normal_(t, mean=0.0, std=1.0, generator=None):
    return _inplace(t, "normal_", lambda x: np.copyto(x, rng(generator).normal(mean, std, x.shape), casting="unsafe"))


def resize_(t, *sizes, memory_format=None):
    """Give t a new shape in place, keeping its first elements in row-major order: a shape with as many elements
    is a reshape, a smaller one keeps a prefix, a larger one adds zeros at the end (PyTorch leaves those
    uninitialised). Matches torch.Tensor.resize_.

    >>> import cnnlab
    >>> cnnlab.arange(6).resize_(2, 2)
    tensor([[0, 1],
            [2, 3]])
    """
    shape = sizes_arg(sizes, "resize_")
    if any(s < 0 for s in shape):
        raise ShapeError(f"resize_: sizes must be non-negative. Got sizes={shape}.")
    if t._requires_grad:
        raise GradError("resize_: cannot resize a tensor that requires grad (the graph needs its shape). "
                        f"Got requires_grad=True, shape={shape_str(t.shape)}.")
    check_writable(t, "resize_")
    n = int(np.prod(shape, dtype=np.int64))
    if n == t._data.size:
        t._data = t._data.reshape(shape)
    else:
        flat = np.zeros(n, t._data.dtype)
        m = min(n, t._data.size)
        flat[:m] = t._data.reshape(-1)[:m]
        t._data = flat.reshape(shape)
    return t


def apply_inplace(t, op, compute, others=()):
    """t <- compute(t) in place, for the `x.sqrt_()` family: recorded in the graph when t is an intermediate
    result that requires grad (or an operand that requires grad is involved), else a plain write."""
    if _needs_recording(t, *others):
        return record_inplace(t, op, lambda before, _: compute(before))
    with autograd.no_grad():
        result = compute(Tensor._wrap(t._data))
    if result._data.dtype != t._data.dtype and not np.can_cast(result._data.dtype, t._data.dtype, "same_kind"):
        raise DTypeError(f"{op}: the result dtype {result.dtype} cannot be stored in place in a tensor of dtype "
                         f"{t.dtype}.")
    if result._data.shape != t._data.shape:
        raise ShapeError(f"{op}: the result shape {shape_str(result.shape)} differs from the tensor's "
                         f"{shape_str(t.shape)}; an in-place op cannot change it.")
    return _inplace(t, op, lambda x: np.copyto(x, result._data, casting="unsafe"))
