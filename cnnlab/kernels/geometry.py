"""The geometry of one convolution, computed once per call and passed down to the algorithms.

`output_size` is the one place the sliding-window size rule lives (convolution, pooling, unfold, the shape
tools); `transposed_output_size` is its inverse for the transposed convolution. `ConvGeometry` holds everything a
convolution's arithmetic needs: an immutable tuple, cheap enough to build on every call.

>>> g = ConvGeometry.of((8, 3, 32, 32), (16, 3, 5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1), 1)
>>> g.out_size, g.y_shape, g.w_shape
((32, 32), (8, 16, 32, 32), (16, 3, 5, 5))
"""
import math
from typing import NamedTuple


def output_size(size, k, s, pad, d, ceil_mode=False):
    """floor((size + before + after - d * (k - 1) - 1) / s) + 1, or PyTorch's ceil_mode rule (the last window
    must start inside the input or the left padding). pad is a (before, after) pair.

    >>> output_size(7, 3, 2, (1, 1), 1), output_size(5, 2, 2, (0, 0), 1, ceil_mode=True)
    (4, 3)
    """
    span = size + pad[0] + pad[1] - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= size + pad[0]:
        out -= 1
    return out


def output_sizes(in_size, kernel, stride, pads, dilation):
    """output_size per spatial dim (floor rule), as a tuple."""
    return tuple(output_size(*a) for a in zip(in_size, kernel, stride, pads, dilation))


def transposed_output_size(size, k, s, pad, d, output_padding):
    """A transposed convolution's output size: (size - 1) * s - before - after + d * (k - 1) + output_padding + 1.

    >>> transposed_output_size(4, 4, 2, (1, 1), 1, 0)
    8
    """
    return (size - 1) * s - pad[0] - pad[1] + d * (k - 1) + output_padding + 1


class ConvGeometry(NamedTuple):
    """One convolution's shapes and options (spatial values are tuples of n ints; pads of (before, after) pairs).

    For a convolution (transposed=False) input x is (batch, in_channels, *in_size), weight w is (out_channels,
    in_channels / groups, *kernel) and the output (batch, out_channels, *out_size); out_size may be smaller than
    the largest that fits (the transposed convolution's input gradient asks for that). For a transposed
    convolution (transposed=True) in_size/in_channels describe its input and out_size/out_channels its output,
    its weight is (in_channels, out_channels / groups, *kernel), and `conv()` is the convolution it is the
    adjoint of (the geometry its kernels compute with). output_padding is all zeros for a convolution.
    """
    n: int
    batch: int
    in_channels: int
    out_channels: int
    groups: int
    in_size: tuple
    kernel: tuple
    stride: tuple
    dilation: tuple
    pads: tuple
    out_size: tuple
    transposed: bool = False
    output_padding: tuple = ()

    @classmethod
    def of(cls, x_shape, w_shape, stride, pads, dilation, groups, out_size=None):
        """The convolution of x_shape (N, C, *S) with w_shape (O, C/groups, *K); out_size defaults to the largest."""
        n, in_size, kernel = len(x_shape) - 2, tuple(x_shape[2:]), tuple(w_shape[2:])
        stride, pads, dilation = tuple(stride), tuple(tuple(p) for p in pads), tuple(dilation)
        out = output_sizes(in_size, kernel, stride, pads, dilation) if out_size is None else tuple(out_size)
        return cls(n, x_shape[0], x_shape[1], w_shape[0], groups, in_size, kernel, stride, dilation, pads, out,
                   False, (0,) * n)

    @property
    def x_shape(self):
        """The input's shape (N, C_in, *in_size)."""
        return (self.batch, self.in_channels) + self.in_size

    @property
    def w_shape(self):
        """The weight's shape: (C_out, C_in / groups, *K), or (C_in, C_out / groups, *K) when transposed."""
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups) + self.kernel
        return (self.out_channels, self.in_channels // self.groups) + self.kernel

    @property
    def y_shape(self):
        """The output's shape (N, C_out, *out_size)."""
        return (self.batch, self.out_channels) + self.out_size

    @property
    def pad_shape(self):
        """The padded input's spatial size (of a convolution)."""
        return tuple(s + b + a for s, (b, a) in zip(self.in_size, self.pads))

    @property
    def natural(self):
        """Whether out_size is the largest that fits (the floor rule), as Winograd requires."""
        return self.out_size == output_sizes(self.in_size, self.kernel, self.stride, self.pads, self.dilation)

    @property
    def positions(self):
        """Output positions per image, prod(out_size)."""
        return math.prod(self.out_size)

    def conv(self):
        """The convolution this geometry computes with: itself, or for a transposed one the convolution it is the
        adjoint of (input and output swapped)."""
        if not self.transposed:
            return self
        return ConvGeometry(self.n, self.batch, self.out_channels, self.in_channels, self.groups, self.out_size,
                            self.kernel, self.stride, self.dilation, self.pads, self.in_size, False, (0,) * self.n)

    def with_sizes(self, batch=None, in_size=None, pads=None, out_size=None):
        """A copy with some of batch, in_size, pads, out_size replaced (the others kept)."""
        return self._replace(batch=self.batch if batch is None else batch,
                             in_size=self.in_size if in_size is None else tuple(in_size),
                             pads=self.pads if pads is None else tuple(pads),
                             out_size=self.out_size if out_size is None else tuple(out_size))
