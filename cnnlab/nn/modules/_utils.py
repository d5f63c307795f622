"""Helpers shared by the layers: the factory arguments (device, dtype) and argument checks."""
import numbers

import numpy as np

from ... import _dtypes
from ...creation import device
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


def _is_dtype(a):
    """True for what to() reads as a dtype: a cnnlab or NumPy dtype, a NumPy scalar type, float/int/bool."""
    return (isinstance(a, (_dtypes.dtype, np.dtype)) or a is float or a is int or a is bool
            or (isinstance(a, type) and issubclass(a, np.generic)))


def to_dtype_arg(args, kwargs):
    """The floating dtype that Module.to's arguments ask for, or None; parsed as torch.nn.Module.to parses them:
    `to(device=None, dtype=None, non_blocking=False)`, `to(dtype, non_blocking=False)`,
    `to(tensor, non_blocking=False)`; the device is a cnnlab.device, a string such as 'cpu', or an index, and any
    device other than the CPU is refused (cnnlab runs on the CPU). copy= and memory_format= are accepted."""
    kwargs = dict(kwargs)
    dev, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    for ignored in ("non_blocking", "copy", "memory_format"):
        kwargs.pop(ignored, None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}; to() takes device, dtype, "
                        "non_blocking, copy and memory_format.")
    rest = list(args)
    if rest and isinstance(rest[0], Tensor):  # to(tensor): its dtype (and its device, the CPU)
        dtype = rest.pop(0).dtype
    elif rest and _is_dtype(rest[0]):
        dtype = rest.pop(0)
    elif rest:
        dev = rest.pop(0)
        if rest and (_is_dtype(rest[0]) or rest[0] is None):
            dtype = rest.pop(0)
    if len(rest) > 2 or not all(isinstance(a, (bool, np.bool_)) for a in rest):  # non_blocking, copy
        raise TypeError("to: expects to(device, dtype, non_blocking), to(dtype, non_blocking) or to(tensor, "
                        f"non_blocking). Got arguments {tuple(type(a).__name__ for a in args)}.")
    if dev is not None:
        try:
            device(dev)
        except ValueError:
            raise ValueError("to: cnnlab runs on the CPU only, so modules and tensors stay there; use "
                             f"'cpu' or drop the call (cnnlab.cuda.is_available() is False). Got device={dev!r}.") \
                from None
    if dtype is None:
        return None
    d = _dtypes.as_dtype(dtype)
    if not d.is_floating_point:
        raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={d}")
    return d
