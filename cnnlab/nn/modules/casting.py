"""Casting a module's tensors in place: Module.float/double/half/bfloat16/to(dtype) (floating tensors) and
Module.type (every tensor, as PyTorch). The Parameter objects stay the same, so an optimizer made before the cast
keeps updating the model."""
import itertools

import numpy as np

from ... import _dtypes
from ...errors import DTypeError
from ...tensor import Tensor


def cast_module(module, dtype, every=False):
    """Convert every floating parameter, gradient and buffer of module's tree (every=True: every one) to dtype."""
    target = _dtypes.as_dtype(dtype)
    tensors = [t for m in module.modules() for t in itertools.chain(m._parameters.values(), m._buffers.values())
               if t is not None and (every or t._data.dtype.kind == "f") and t.dtype != target]
    for t in tensors:  # check all before changing any
        if t._requires_grad and not target.is_floating_point:
            raise DTypeError(f"Module.type: parameters that require grad must stay floating point; call "
                             f"requires_grad_(False) first. Got dtype={target}, parameter shape={tuple(t.shape)}.")
    for t in tensors:
        t._data = _dtypes.cast(t._data, target)
        if t.grad is not None:
            t.grad._data = _dtypes.cast(t.grad._data, target)
    return module


def dst_dtype(dst_type):
    """The dtype Module.type(dst_type) asks for: a dtype, a legacy type (cnnlab.DoubleTensor) or its name
    ('torch.DoubleTensor'), read as Tensor.type reads it."""
    if isinstance(dst_type, str) and "Tensor" not in dst_type and dst_type not in _dtypes.BY_NAME:
        raise ValueError(f"Module.type: dst_type must be a dtype or a tensor type name such as "
                         f"'torch.DoubleTensor'. Got dst_type={dst_type!r}.")
    return Tensor._wrap(np.zeros(0, np.float32)).type(dst_type).dtype
