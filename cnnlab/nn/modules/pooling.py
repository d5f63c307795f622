"""Pooling layers: Max/Min/Avg/LP pooling, adaptive pooling and MaxUnpool in 1, 2 and 3 dims.

Each class stores its arguments as PyTorch does (so its repr prints the same text) and calls the matching op in
cnnlab.nn.functional. MinPool is an extension (PyTorch has none): min_pool(x) == -max_pool(-x).
"""
from .. import functional as F
from ..functional._args import to_tuple
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "MinPool1d", "MinPool2d", "MinPool3d", "AvgPool1d", "AvgPool2d",
           "AvgPool3d", "LPPool1d", "LPPool2d", "LPPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "MaxUnpool1d",
           "MaxUnpool2d", "MaxUnpool3d"]


class _MaxPoolNd(Module):
    """Max (or min) over each kernel_size window; stride defaults to kernel_size."""
    _op = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def forward(self, input):
        return self._op(input, self.kernel_size, self.stride, self.padding, self.dilation,
                        ceil_mode=self.ceil_mode, return_indices=self.return_indices)


_MAX_DOC = """{n}-d {what} pooling: the {what} of each window. Matches {matches}.

    Args:
        kernel_size (int or tuple), stride (int or tuple, default None = kernel_size), padding (default 0),
        dilation (default 1), return_indices (bool, default False: also return the flat index of each {what},
        for MaxUnpool), ceil_mode (bool, default False: round the output size up).

    Shape:
        (N, C, {sp}) or (C, {sp}) -> {o}_out = floor(({o} + 2 * padding - dilation * (k - 1) - 1) / stride) + 1
        (ceil with ceil_mode=True, the last window starting inside the input or left padding).

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.{cls}(2)(cnnlab.arange(16.0).reshape({shape})).flatten().tolist()
    {result}
"""


class MaxPool1d(_MaxPoolNd):
    __doc__ = _MAX_DOC.format(n=1, what="max", matches="torch.nn.MaxPool1d", sp="L", o="L", cls="MaxPool1d",
                              shape="1, 1, 16", result="[1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0]")
    _op = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    __doc__ = _MAX_DOC.format(n=2, what="max", matches="torch.nn.MaxPool2d", sp="H, W", o="H", cls="MaxPool2d",
                              shape="1, 1, 4, 4", result="[5.0, 7.0, 13.0, 15.0]")
    _op = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    __doc__ = _MAX_DOC.format(n=3, what="max", matches="torch.nn.MaxPool3d", sp="D, H, W", o="H", cls="MaxPool3d",
                              shape="1, 1, 2, 2, 4", result="[13.0, 15.0]")
    _op = staticmethod(F.max_pool3d)


class MinPool1d(_MaxPoolNd):
    __doc__ = _MAX_DOC.format(n=1, what="min", matches="-max_pool1d(-x) (an extension)", sp="L", o="L",
                              cls="MinPool1d", shape="1, 1, 16", result="[0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]")
    _op = staticmethod(F.min_pool1d)


class MinPool2d(_MaxPoolNd):
    __doc__ = _MAX_DOC.format(n=2, what="min", matches="-max_pool2d(-x) (an extension)", sp="H, W", o="H",
                              cls="MinPool2d", shape="1, 1, 4, 4", result="[0.0, 2.0, 8.0, 10.0]")
    _op = staticmethod(F.min_pool2d)


class MinPool3d(_MaxPoolNd):
    __doc__ = _MAX_DOC.format(n=3, what="min", matches="-max_pool3d(-x) (an extension)", sp="D, H, W", o="H",
                              cls="MinPool3d", shape="1, 1, 2, 2, 4", result="[0.0, 2.0]")
    _op = staticmethod(F.min_pool3d)


class AvgPool1d(Module):
    """1-d average pooling. Matches torch.nn.AvgPool1d (which stores its sizes as 1-tuples).

    Args:
        kernel_size, stride (default None = kernel_size), padding (default 0), ceil_mode (default False),
        count_include_pad (bool, default True: padded zeros count in the divisor).

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.AvgPool1d(2)
    AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    >>> nn.AvgPool1d(2)(cnnlab.tensor([[[1.0, 3.0, 5.0, 7.0]]])).tolist()
    [[[2.0, 6.0]]]
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = to_tuple(kernel_size, 1, "kernel_size", "AvgPool1d")
        self.stride = to_tuple(stride if stride is not None else kernel_size, 1, "stride", "AvgPool1d")
        self.padding = to_tuple(padding, 1, "padding", "AvgPool1d")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class _AvgPoolNd(Module):
    _op = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        return self._op(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                        self.count_include_pad, self.divisor_override)


class AvgPool2d(_AvgPoolNd):
    """2-d average pooling. Matches torch.nn.AvgPool2d.

    Args:
        kernel_size, stride (default None = kernel_size), padding (default 0), ceil_mode (default False),
        count_include_pad (default True), divisor_override (int, default None: divide by this instead).

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.AvgPool2d(2)(cnnlab.arange(16.0).reshape(1, 1, 4, 4)).flatten().tolist()
    [2.5, 4.5, 10.5, 12.5]
    """
    _op = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """3-d average pooling (same arguments as AvgPool2d). Matches torch.nn.AvgPool3d."""
    _op = staticmethod(F.avg_pool3d)


class _LPPoolNd(Module):
    _op = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")

    def forward(self, input):
        return self._op(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """Power-average pooling (sum over the window of x^p)^(1/p). Matches torch.nn.LPPool1d.

    Args: norm_type (p), kernel_size, stride (default None = kernel_size), ceil_mode (default False).
    """
    _op = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """2-d power-average pooling. Matches torch.nn.LPPool2d."""
    _op = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """3-d power-average pooling. Matches torch.nn.LPPool3d."""
    _op = staticmethod(F.lp_pool3d)


class _AdaptivePool(Module):
    _op = None
    _indices = False

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        if self._indices:
            self.return_indices = return_indices

    def extra_repr(self):
        return f"output_size={self.output_size}"

    def forward(self, input):
        if self._indices:
            return self._op(input, self.output_size, self.return_indices)
        return self._op(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling to a fixed output length (window i covers [floor(i*L/out), ceil((i+1)*L/out))).
    Matches torch.nn.AdaptiveAvgPool1d."""
    _op = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed output size (an int, a pair, None keeps that dim). Matches
    torch.nn.AdaptiveAvgPool2d.

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.AdaptiveAvgPool2d((1, 1))(cnnlab.ones(2, 3, 7, 5)).shape
    cnnlab.Size([2, 3, 1, 1])
    """
    _op = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptivePool):
    """3-d adaptive average pooling. Matches torch.nn.AdaptiveAvgPool3d."""
    _op = staticmethod(F.adaptive_avg_pool3d)


class AdaptiveMaxPool1d(_AdaptivePool):
    """Max pooling to a fixed output length; return_indices (default False). Matches torch.nn.AdaptiveMaxPool1d."""
    _op, _indices = staticmethod(F.adaptive_max_pool1d), True


class AdaptiveMaxPool2d(_AdaptivePool):
    """2-d adaptive max pooling. Matches torch.nn.AdaptiveMaxPool2d."""
    _op, _indices = staticmethod(F.adaptive_max_pool2d), True


class AdaptiveMaxPool3d(_AdaptivePool):
    """3-d adaptive max pooling. Matches torch.nn.AdaptiveMaxPool3d."""
    _op, _indices = staticmethod(F.adaptive_max_pool3d), True


class _MaxUnpoolNd(Module):
    _op = None
    _n = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name, n = type(self).__name__, self._n
        self.kernel_size = to_tuple(kernel_size, n, "kernel_size", name)
        self.stride = to_tuple(stride if stride is not None else kernel_size, n, "stride", name)
        self.padding = to_tuple(padding, n, "padding", name)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input, indices, output_size=None):
        return self._op(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d: each value goes back to the position its index names, zeros elsewhere.
    forward(input, indices, output_size=None). Matches torch.nn.MaxUnpool1d."""
    _op, _n = staticmethod(F.max_unpool1d), 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of MaxPool2d. Matches torch.nn.MaxUnpool2d.

    >>> import cnnlab, cnnlab.nn as nn
    >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    >>> out, idx = pool(cnnlab.arange(16.0).reshape(1, 1, 4, 4))
    >>> unpool(out, idx)[0, 0].tolist()
    [[0.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 7.0], [0.0, 0.0, 0.0, 0.0], [0.0, 13.0, 0.0, 15.0]]
    """
    _op, _n = staticmethod(F.max_unpool2d), 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of MaxPool3d. Matches torch.nn.MaxUnpool3d."""
    _op, _n = staticmethod(F.max_unpool3d), 3
