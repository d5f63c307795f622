"""Helpers shared by the layers: the factory arguments (device, dtype) and argument checks."""
import numbers

import numpy as np

from ... import _dtypes
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
