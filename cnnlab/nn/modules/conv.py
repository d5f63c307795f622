"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d, thin classes over F.conv*/F.conv_transpose*.

One private base class normalises and checks the arguments, owns the weight and bias, and prints the repr;
the public classes only say how many spatial dims they have and which functional op they call.

Weight shapes: conv (out_channels, in_channels / groups, *kernel_size); transposed conv
(in_channels, out_channels / groups, *kernel_size), as PyTorch.
"""
import math

from .. import functional as F
from .. import init
from ...kernels.geometry import transposed_output_size
from ..functional._args import PADDING_STRINGS, check_positive, spatial_names, to_tuple
from ._utils import check_count, new_parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _normalise_padding(padding, n, layer):
    """A padding string stays a string; an int becomes a tuple of n ints; (before, after) pairs stay pairs."""
    if isinstance(padding, str):
        if padding not in PADDING_STRINGS:
            raise ValueError(f"{layer}: padding must be an int, a tuple, or one of {PADDING_STRINGS}. "
                             f"Got padding={padding!r}.")
        return padding
    if isinstance(padding, (tuple, list)) and len(padding) == n and all(isinstance(p, (tuple, list)) for p in padding):
        pairs = tuple(to_tuple(p, 2, "padding", layer) for p in padding)
        flat = [v for pair in pairs for v in pair]
    else:
        pairs = to_tuple(padding, n, "padding", layer)
        flat = list(pairs)
    if any(v < 0 for v in flat):
        raise ValueError(f"{layer}: padding must be non-negative. Got padding={padding!r}.")
    return pairs


class _ConvNd(Module):
    """The shared part of every conv layer: argument checks, parameters, initialisation, repr."""

    _n = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                 bias, padding_mode, device, dtype):
        super().__init__()
        name, n = type(self).__name__, self._n
        in_channels = check_count(in_channels, "in_channels", name)
        out_channels = check_count(out_channels, "out_channels", name)
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer. Got groups={groups!r}.")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels must be divisible by groups. Got in_channels={in_channels}, "
                             f"groups={groups}.")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels must be divisible by groups. Got out_channels={out_channels}, "
                             f"groups={groups}.")
        kernel_size = to_tuple(kernel_size, n, "kernel_size", name)
        stride = to_tuple(stride, n, "stride", name)
        dilation = to_tuple(dilation, n, "dilation", name)
        for values, what in ((kernel_size, "kernel_size"), (stride, "stride"), (dilation, "dilation")):
            check_positive(values, what, name)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}. Got padding_mode={padding_mode!r}.")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.padding = _normalise_padding(padding, n, name)
        self.transposed = self._transposed
        self.output_padding = to_tuple(output_padding, n, "output_padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + kernel_size
        self.weight = new_parameter(shape, device, dtype)
        if bias:
            self.bias = new_parameter((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: weight ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and
        bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in computed from the weight's shape."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        n = self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    _op = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, input):
        return self._op(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups, padding_mode=self.padding_mode)


_CONV_DOC = """{n}-d convolution layer: F.conv{n}d with a learnable weight and bias.

    Args:
        in_channels (int), out_channels (int): both divisible by groups.
        kernel_size (int or tuple), stride (int or tuple, default 1), dilation (int or tuple, default 1).
        padding (default 0): an int, a tuple of {n} ints, {n} (before, after) pairs, 'valid', 'same' (any stride:
            output size ceil(input / stride), an extension; PyTorch allows 'same' at stride 1 only), 'same_lower'{causal}.
        groups (int, default 1), bias (bool, default True).
        padding_mode (str, default 'zeros'): 'zeros', 'reflect', 'replicate' or 'circular'.
        device (default None: the CPU), dtype (default None: the default float dtype).

    Shape:
        input (N, C_in, {sp}) or (C_in, {sp}); output (N, C_out, {osp}) with
        {o}_out = floor(({o} + before + after - dilation * (k - 1) - 1) / stride) + 1.

    Attributes:
        weight: (out_channels, in_channels / groups, {ks}), bias: (out_channels,); both initialised
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * prod(kernel_size).

    Raises:
        ValueError: groups not positive or not dividing the channels, non-positive kernel_size/stride/dilation,
            negative padding, an unknown padding string or padding_mode. TypeError: non-int sizes.

    Matches torch.nn.Conv{n}d.

    >>> import cnnlab, cnnlab.nn as nn
    >>> conv = nn.Conv{n}d(3, 8, 3, padding=1)
    >>> conv
    Conv{n}d(3, 8, kernel_size={k3}, stride={k1}, padding={k1})
    >>> conv(cnnlab.ones({ex})).shape
    cnnlab.Size([{out}])
"""


def _conv_doc(n):
    names = spatial_names(n)
    return _CONV_DOC.format(
        n=n, sp=", ".join(names), osp=", ".join(s + "_out" for s in names), o=names[-1],
        ks=", ".join("k" + s for s in names), k3=(3,) * n, k1=(1,) * n,
        ex=", ".join(["2", "3"] + ["5"] * n), out=", ".join(["2", "8"] + ["5"] * n),
        causal=", or 'causal' (1-d)" if n == 1 else "")


class Conv1d(_Conv):
    __doc__ = _conv_doc(1)
    _n, _op = 1, staticmethod(F.conv1d)


class Conv2d(_Conv):
    __doc__ = _conv_doc(2)
    _n, _op = 2, staticmethod(F.conv2d)


class Conv3d(_Conv):
    __doc__ = _conv_doc(3)
    _n, _op = 3, staticmethod(F.conv3d)


class _ConvTranspose(_ConvNd):
    _transposed = True
    _op = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}. '
                             f"Got padding_mode={padding_mode!r}.")
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple (string paddings are for "
                             f"Conv only). Got padding={padding!r}.")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding,
                         groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """output_padding for forward: the layer's own, or what makes the output exactly output_size
        (the size with output_padding=0 plus something in [0, stride - 1], PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        name, n = type(self).__name__, self._n
        output_size = [int(s) for s in output_size]
        non_spatial = 2 if input.dim() == n + 2 else 1
        if len(output_size) == n + non_spatial:
            output_size = output_size[non_spatial:]
        if len(output_size) != n:
            raise ValueError(f"{name}: for a {input.dim()}-d input, output_size must have {n} or {n + non_spatial} "
                             f"elements. Got output_size={output_size} ({len(output_size)} elements).")
        pads = [p if isinstance(p, tuple) else (p, p) for p in self.padding]
        spatial = tuple(input.shape[-n:])
        min_sizes = [transposed_output_size(i, k, s, pad, d, 0)
                     for i, s, pad, d, k in zip(spatial, self.stride, pads, self.dilation, self.kernel_size)]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, self.stride)]
        if any(not lo <= o <= hi for o, lo, hi in zip(output_size, min_sizes, max_sizes)):
            raise ValueError(f"{name}: output_size must be reachable with output_padding in [0, stride - 1]. Got "
                             f"output_size={output_size}; valid sizes range from {min_sizes} to {max_sizes} for "
                             f"an input of spatial size {list(spatial)} with stride={self.stride}.")
        return tuple(o - lo for o, lo in zip(output_size, min_sizes))

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return self._op(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                        self.groups, self.dilation)


_CONV_T_DOC = """{n}-d transposed convolution layer (the adjoint of Conv{n}d): F.conv_transpose{n}d with a
    learnable weight and bias.

    Args:
        in_channels (int), out_channels (int): both divisible by groups.
        kernel_size (int or tuple), stride (int or tuple, default 1), padding (int or tuple, default 0),
        output_padding (int or tuple, default 0): extra size on one side, smaller than stride or dilation.
        groups (int, default 1), bias (bool, default True), dilation (int or tuple, default 1).
        padding_mode (str, default 'zeros'): only 'zeros'.

    Shape:
        input (N, C_in, {sp}) or (C_in, {sp}); output (N, C_out, {osp}) with
        {o}_out = ({o} - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
        forward(input, output_size=None): output_size picks output_padding so the output has that size.

    Attributes:
        weight: (in_channels, out_channels / groups, {ks}), bias: (out_channels,).

    Raises:
        ValueError: bad groups/sizes, a padding_mode other than 'zeros', an unreachable output_size.

    Matches torch.nn.ConvTranspose{n}d.

    >>> import cnnlab, cnnlab.nn as nn
    >>> up = nn.ConvTranspose{n}d(4, 2, 3, stride=2, padding=1)
    >>> up(cnnlab.ones({ex}), output_size=[{req}]).shape
    cnnlab.Size([{out}])
"""


def _conv_t_doc(n):
    names = spatial_names(n)
    return _CONV_T_DOC.format(
        n=n, sp=", ".join(names), osp=", ".join(s + "_out" for s in names), o=names[-1],
        ks=", ".join("k" + s for s in names), ex=", ".join(["1", "4"] + ["5"] * n),
        req=", ".join(["10"] * n), out=", ".join(["1", "2"] + ["10"] * n))


class ConvTranspose1d(_ConvTranspose):
    __doc__ = _conv_t_doc(1)
    _n, _op = 1, staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    __doc__ = _conv_t_doc(2)
    _n, _op = 2, staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    __doc__ = _conv_t_doc(3)
    _n, _op = 3, staticmethod(F.conv_transpose3d)
