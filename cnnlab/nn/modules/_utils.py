"""Helpers shared by the layers: the factory arguments (device, dtype) and argument checks."""
import numbers

import numpy as np

from ... import _dtypes
from ...tensor import Tensor
from ..parameter import Parameter


def factory_dtype(device, dtype):
    """The NumPy dtype new parameters get: dtype, else the default float dtype; only the CPU device exists."""
    if device is not None and str(device).split(":")[0] != "cpu":
        raise ValueError(f"cnnlab runs on the CPU only. Got device={device!r}.")
    return (_dtypes.as_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()).np


def new_parameter(shape, device=None, dtype=None):
    """An uninitialised (zero-filled) Parameter; the layer's reset_parameters fills it."""
    return Parameter(np.zeros(shape, dtype=factory_dtype(device, dtype)))


def check_count(value, name, layer, minimum=1):
    """Raise unless value is an int >= minimum (channel and feature counts)."""
    if not isinstance(value, (numbers.Integral, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be an int. Got {name}={value!r}.")
    if value < minimum:
        raise ValueError(f"{layer}: {name} must be at least {minimum}. Got {name}={value}.")
    return int(value)


def to_dtype_arg(args, kwargs):
    """The floating dtype in Module.to's arguments (`to(dtype)`, `to('cpu')`, `to('cpu', dtype)`, `to(tensor)`,
    `to(device=..., dtype=...)`), or None; devices other than the CPU are refused."""
    dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments: {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or a is None:
            device = a
        else:
            dtype = a
    if device is not None and str(device).split(":")[0] != "cpu":
        raise ValueError(f"to: cnnlab runs on the CPU only. Got device={device!r}.")
    if dtype is None:
        return None
    d = _dtypes.as_dtype(dtype)
    if not d.is_floating_point:
        raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={d}")
    return d
