"""Padding layers: Zero/Constant/Reflection/Replication/Circular padding in 1, 2 and 3 dims, over F.pad.

`padding` is an int (the same on every side) or a tuple in F.pad's order: (left, right) for 1-d, (left, right,
top, bottom) for 2-d, (left, right, top, bottom, front, back) for 3-d.

>>> import cnnlab, cnnlab.nn as nn
>>> nn.ZeroPad2d(1)
ZeroPad2d((1, 1, 1, 1))
>>> nn.ReflectionPad1d(2)(cnnlab.tensor([[[1.0, 2.0, 3.0]]])).tolist()
[[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
"""
import numbers

from .. import functional as F
from .module import Module

__all__ = [f"{kind}Pad{n}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")
           for n in (1, 2, 3)]


def _pad_tuple(padding, n, layer):
    """An int repeated 2n times, or the given sequence as a tuple (F.pad checks its length and values)."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        return (int(padding),) * (2 * n)
    if isinstance(padding, (tuple, list)):
        return tuple(padding)
    raise TypeError(f"{layer}: padding must be an int or a tuple of {2 * n} ints. Got padding={padding!r}.")


class _PadNd(Module):
    _n = 2
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _pad_tuple(padding, self._n, type(self).__name__)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad with zeros, 1-d. Matches torch.nn.ZeroPad1d."""
    _n, _mode = 1, "constant"


class ZeroPad2d(_ZeroPadNd):
    """Pad with zeros, 2-d. Matches torch.nn.ZeroPad2d."""
    _n, _mode = 2, "constant"


class ZeroPad3d(_ZeroPadNd):
    """Pad with zeros, 3-d. Matches torch.nn.ZeroPad3d."""
    _n, _mode = 3, "constant"


class ConstantPad1d(_ConstantPadNd):
    """Pad with a constant value, 1-d. Matches torch.nn.ConstantPad1d."""
    _n, _mode = 1, "constant"


class ConstantPad2d(_ConstantPadNd):
    """Pad with a constant value, 2-d. Matches torch.nn.ConstantPad2d."""
    _n, _mode = 2, "constant"


class ConstantPad3d(_ConstantPadNd):
    """Pad with a constant value, 3-d. Matches torch.nn.ConstantPad3d."""
    _n, _mode = 3, "constant"


class ReflectionPad1d(_PadNd):
    """Pad with the reflection of the input (the edge is not repeated), 1-d. Matches torch.nn.ReflectionPad1d."""
    _n, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad with the reflection of the input (the edge is not repeated), 2-d. Matches torch.nn.ReflectionPad2d."""
    _n, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad with the reflection of the input (the edge is not repeated), 3-d. Matches torch.nn.ReflectionPad3d."""
    _n, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad by repeating the edge values, 1-d. Matches torch.nn.ReplicationPad1d."""
    _n, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad by repeating the edge values, 2-d. Matches torch.nn.ReplicationPad2d."""
    _n, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad by repeating the edge values, 3-d. Matches torch.nn.ReplicationPad3d."""
    _n, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pad by wrapping around (periodic), 1-d. Matches torch.nn.CircularPad1d."""
    _n, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pad by wrapping around (periodic), 2-d. Matches torch.nn.CircularPad2d."""
    _n, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Pad by wrapping around (periodic), 3-d. Matches torch.nn.CircularPad3d."""
    _n, _mode = 3, "circular"
