"""Receptive fields through any graph: the input region that one output value depends on.

One forward pass (batch 1, gradients recorded, eval mode) records the graph (trace.py): the geometry of every
convolution, pooling, resize, pixel shuffle and pad, called as a layer or as a function (geometry.py), and
everything between them (skip connections, concatenation, activations, normalisation, permutes, flatten, ...) from
the autograd graph. The region is then carried from one output position back to the input, interval by
interval: a conv maps output positions [lo, hi] to input positions [lo*s - pad, hi*s - pad + d*(k-1)], and
where paths meet the region is the union (hull) of theirs. Positions are not clipped to the input, so the size
is the theoretical one of Araujo, Norris & Sim (Distill, 2019): VGG-16's features see 212 pixels.
"""
import numpy as np

from ..creation import randn
from ..errors import ShapeError
from ..tensor import Tensor
from .trace import Trace, field_of

__all__ = ["receptive_field", "ReceptiveField"]


class ReceptiveField(tuple):
    """The receptive-field size per spatial dim (a tuple of ints), with

    - ``region``: ((first, last), ...) input positions (unclipped: negative or past the end means padding)
      that the output at ``position`` depends on;
    - ``position``: the output position used, the centre ((size - 1) // 2 per dim) unless one was given;
    - ``jump``: the distance in input pixels between neighbouring outputs (the product of the strides), an int,
      a float for fractional strides, or None for a 1-wide output.
    """

    def __new__(cls, region, position, jump):
        self = super().__new__(cls, tuple(hi - lo + 1 for lo, hi in region))
        self.region, self.position, self.jump = tuple(region), tuple(position), tuple(jump)
        return self

    def __repr__(self):
        return f"ReceptiveField(size={tuple(self)}, jump={self.jump}, region={self.region}, position={self.position})"


def _input(input_size, input_data, op):
    if input_data is not None:
        x = input_data if isinstance(input_data, Tensor) else Tensor(np.asarray(input_data))
        return x[:1].detach().requires_grad_(True) if x.ndim >= 3 else x.detach().requires_grad_(True)
    if input_size is None:
        raise TypeError(f"{op}: give input_size (for example (1, 3, 224, 224)) or input_data.")
    size = tuple(input_size)
    if not all(isinstance(v, (int, np.integer)) and v > 0 for v in size) or len(size) < 3:
        raise ShapeError(f"{op}: input_size must be (N, C, *spatial) with positive ints. Got "
                         f"input_size={input_size!r}.")
    return randn(1, *size[1:], requires_grad=True)


def receptive_field(module, input_size=None, input_data=None, position=None):
    """The size, per spatial dim, of the input region that one output value of module depends on.

    Follows every path from the output back to the input (skip connections, concatenation, dilation,
    transposed convolution, upsampling, adaptive and global pooling) and takes the union of the regions.
    The size is the theoretical one (Araujo et al., 2019): not clipped by the input's borders. The input size
    fixes every layer's shape (and so adaptive pooling's windows).

    Args:
        module (nn.Module): a model or a part of one (e.g. ``model.features``).
        input_size (tuple): (N, C, *spatial); N is ignored (one image is traced). Or
        input_data (Tensor): an input to trace (its first image).
        position (tuple, default None): the output position; None takes the centre, (size - 1) // 2 per dim.

    Returns:
        ReceptiveField: a tuple of sizes with .region, .position and .jump (see ReceptiveField).

    Raises:
        ShapeError: an output that does not depend on the input, or no spatial output and no spatial input;
        a spatial op whose geometry cannot be seen (one called other than through its layer or nn.functional).

    >>> import cnnlab.nn as nn
    >>> from cnnlab.inspect import receptive_field
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, dilation=2))
    >>> rf = receptive_field(net, (1, 1, 32, 32))
    >>> rf
    ReceptiveField(size=(12, 12), jump=(2, 2), region=((10, 21), (10, 21)), position=(5, 5))
    >>> rf == (12, 12)
    True
    """
    x = _input(input_size, input_data, "receptive_field")
    trace = Trace(module, x)
    out = trace.output
    if not isinstance(out, Tensor):
        raise TypeError(f"receptive_field: the module must return one tensor. Got {type(out).__name__}.")
    if out.ndim == trace.n + 2:
        found = field_of(trace, out, position)
        rf = ReceptiveField(*found) if found is not None else None
    else:  # a classifier: every output depends on the whole input, or on what its last spatial layer sees
        region = trace.region(out, None)
        rf = ReceptiveField(region[2:], (), [None] * trace.n) if region is not None else None
    if rf is None:
        raise ShapeError(f"receptive_field: the output does not depend on the input at this position. Got "
                         f"output shape={tuple(out.shape)}, position={position}.")
    return rf
