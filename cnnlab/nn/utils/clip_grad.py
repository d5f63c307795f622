"""Gradient clipping: rescale the gradients when their total norm is too large, or clamp each value.

Called between `loss.backward()` and `optimizer.step()`. Everything here works on the `.grad` tensors in place,
without recording a graph, as torch.nn.utils does.

The total norm follows PyTorch's definition: the norm of the per-tensor norms, `||(||g_1||, ..., ||g_k||)||`.
For p > 0 (and inf, -inf) that equals the norm of all gradient values taken together; for norm_type=0 it is
the number of gradient tensors that have a non-zero value.
"""
import math
import types
import warnings

import numpy as np

from ... import _dtypes
from ...errors import GradError, ShapeError
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_float(op, name, value):
    """float(value) with an error in the house style (ValueError or TypeError, as float() raises)."""
    try:
        return float(value._data) if isinstance(value, Tensor) else float(value)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{op}: {name} must be a number. Got {name}={value!r}.") from None


def _as_list(op, parameters, warn_empty_generator=True):
    """The tensors as a list (one tensor alone is a list of one); warns for an empty generator, as PyTorch."""
    if isinstance(parameters, Tensor):
        return [parameters]
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = list(parameters)
    if is_generator and not parameters and warn_empty_generator:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters must be tensors. Got an element of type {type(p).__name__} "
                            f"at index {i}.")
    return parameters


def _grads(op, parameters):
    """The .grad tensors of the parameters that have one (a parameter listed twice gives its grad twice)."""
    out = []
    for i, p in enumerate(parameters):
        if p.grad is None:
            continue
        if not isinstance(p.grad, Tensor):
            raise TypeError(f"{op}: a parameter's .grad must be a tensor. Got {type(p.grad).__name__} at index {i}.")
        out.append(p.grad)
    return out


@np.errstate(divide="ignore", over="ignore", invalid="ignore")  # 0 ** -1 = inf and inf * 0 = nan, as in PyTorch
def _vector_norm(values, p):
    """||values||_p of a float64 vector, as torch.linalg.vector_norm (p = 0 counts the non-zero values)."""
    if p == 0:
        return float(np.count_nonzero(values))
    a = np.abs(values)
    if math.isinf(p):
        return float(a.max() if p > 0 else a.min())
    if p == 1:
        return float(a.sum())
    if p == 2:
        return float(np.sqrt(np.dot(a, a)))
    return float(np.sum(a ** p) ** (1.0 / p))


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of the tensors (the total norm clip_grad_norm_ uses), without changing them.

    Args:
        tensors (Tensor or iterable of Tensors): usually gradients.
        norm_type (float, default 2.0): p of the p-norm; inf for the largest absolute value.
        error_if_nonfinite (bool, default False): raise when the total norm is nan or inf.
        foreach (bool, default None): accepted for compatibility (one CPU implementation).

    Returns:
        Tensor: a 0-d tensor in the widest floating dtype of the tensors (the default dtype when there are none).

    Raises:
        GradError (a ValueError and RuntimeError): the norm is not finite and error_if_nonfinite=True.
        ShapeError: the inf or -inf norm of an empty tensor (it has no identity). ValueError: norm_type is
        not a number.

    Matches torch.nn.utils.get_total_norm.

    >>> import cnnlab
    >>> get_total_norm([cnnlab.tensor([3.0, 0.0]), cnnlab.tensor([4.0])])
    tensor(5.)
    """
    op = "get_total_norm"
    p = _as_float(op, "norm_type", norm_type)
    tensors = _as_list(op, tensors, warn_empty_generator=False)
    if not tensors:
        return Tensor._wrap(np.array(0.0, dtype=_dtypes.get_default_dtype().np))
    dtype = np.result_type(*[t._data.dtype for t in tensors])
    if dtype.kind != "f":
        dtype = _dtypes.get_default_dtype().np
    norms = np.empty(len(tensors), np.float64)
    for i, t in enumerate(tensors):
        if t._data.size == 0 and math.isinf(p):
            raise ShapeError(f"{op}: the {norm_type} norm of an empty tensor is undefined (the operation has no "
                             f"identity). Got tensors[{i}].shape={tuple(t.shape)}.")
        own = t._data.dtype if t._data.dtype.kind == "f" else dtype
        # each tensor's norm is rounded to its own dtype, as PyTorch computes it there
        norms[i] = own.type(_vector_norm(t._data.reshape(-1).astype(np.float64), p))
    total = np.array(_vector_norm(norms, p), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise GradError(f"{op}: the total norm of order {p} of the gradients is non-finite, so it cannot be "
                        "clipped; set error_if_nonfinite=False to scale the gradients by the non-finite norm "
                        f"anyway. Got total_norm={float(total)}.")
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients in place by min(1, max_norm / (total_norm + 1e-6)), given their total norm.

    Args:
        parameters (Tensor or iterable of Tensors): whose .grad to scale (those without one are skipped).
        max_norm (float): the largest total norm to allow.
        total_norm (Tensor or float): the total norm, as get_total_norm computes it.
        foreach (bool, default None): accepted for compatibility.

    Returns:
        None. Matches torch.nn.utils.clip_grads_with_norm_.

    >>> import cnnlab
    >>> w = cnnlab.zeros(2, requires_grad=True)
    >>> w.grad = cnnlab.tensor([3.0, 4.0])
    >>> clip_grads_with_norm_([w], max_norm=1.0, total_norm=cnnlab.tensor(5.0))
    >>> [round(v, 4) for v in w.grad.tolist()]
    [0.6, 0.8]
    """
    op = "clip_grads_with_norm_"
    max_norm = _as_float(op, "max_norm", max_norm)
    grads = _grads(op, _as_list(op, parameters, warn_empty_generator=False))
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm, dtype=np.float64)
    if total.dtype.kind != "f":
        total = total.astype(_dtypes.get_default_dtype().np)
    ftype = total.dtype.type
    # PyTorch's arithmetic, in the norm's dtype: reciprocal(total + 1e-6) * max_norm, clamped at 1
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        coef = (ftype(1) / (total + ftype(1e-6))) * ftype(max_norm)
    coef = np.minimum(coef, ftype(1.0))  # a nan norm gives a nan factor, as torch.clamp
    for g in grads:
        arr = g._data
        c = arr.dtype.type(coef)  # one 0-d factor in the gradient's own dtype (no promotion, as PyTorch)
        with np.errstate(invalid="ignore"):  # inf * 0 = nan, as in PyTorch
            if arr.flags.writeable:
                np.multiply(arr, c, out=arr)  # in place: references to .grad see the change
            else:
                g._data = arr * c


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients in place so that their total norm is at most max_norm; returns the norm before.

    Each gradient is multiplied by min(1, max_norm / (total_norm + 1e-6)), where total_norm is the norm of
    all the gradients together (see get_total_norm).

    Args:
        parameters (Tensor or iterable of Tensors): whose .grad to clip (those without one are skipped).
        max_norm (float): the largest total norm to allow.
        norm_type (float, default 2.0): p of the p-norm; inf for the largest absolute value.
        error_if_nonfinite (bool, default False): raise when the total norm is nan or inf (otherwise the
            gradients are scaled by it anyway, as in PyTorch).
        foreach (bool, default None): accepted for compatibility (one CPU implementation).

    Returns:
        Tensor: the total norm of the gradients before clipping, 0-d.

    Raises:
        GradError (a ValueError and RuntimeError): the norm is not finite and error_if_nonfinite=True.
        ValueError: max_norm or norm_type is not a number. TypeError: a parameter that is not a tensor.

    Matches torch.nn.utils.clip_grad_norm_.

    >>> import cnnlab
    >>> w = cnnlab.zeros(2, requires_grad=True)
    >>> w.grad = cnnlab.tensor([3.0, 4.0])
    >>> clip_grad_norm_([w], max_norm=1.0)
    tensor(5.)
    >>> [round(v, 4) for v in w.grad.tolist()]
    [0.6, 0.8]
    """
    op = "clip_grad_norm_"
    parameters = _as_list(op, parameters)
    max_norm = _as_float(op, "max_norm", max_norm)
    total = get_total_norm(_grads(op, parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient value into [-clip_value, clip_value], in place.

    Args:
        parameters (Tensor or iterable of Tensors): whose .grad to clamp (those without one are skipped).
        clip_value (float): the largest absolute value to allow (a negative one sets every value to it, as
            PyTorch's clamp with min > max does).
        foreach (bool, default None): accepted for compatibility.

    Returns:
        None.

    Raises:
        ValueError: clip_value is not a number. TypeError: a parameter that is not a tensor.

    Matches torch.nn.utils.clip_grad_value_.

    >>> import cnnlab
    >>> w = cnnlab.zeros(3, requires_grad=True)
    >>> w.grad = cnnlab.tensor([-2.0, 0.5, 3.0])
    >>> clip_grad_value_([w], clip_value=1.0)
    >>> w.grad
    tensor([-1.0000,  0.5000,  1.0000])
    """
    op = "clip_grad_value_"
    clip_value = _as_float(op, "clip_value", clip_value)
    for g in _grads(op, _as_list(op, parameters, warn_empty_generator=False)):
        arr = g._data
        lo, hi = arr.dtype.type(-clip_value), arr.dtype.type(clip_value)
        clamped = np.minimum(np.maximum(arr, lo), hi)  # torch.clamp: max wins when min > max; nan stays nan
        if arr.flags.writeable:
            arr[...] = clamped
        else:
            g._data = clamped
