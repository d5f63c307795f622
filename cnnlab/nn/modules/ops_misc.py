"""The building blocks torchvision's architectures share (torchvision.ops.misc and torchvision.ops.StochasticDepth),
with torchvision's class names, attributes and printed forms: Conv2dNormActivation, SqueezeExcitation,
StochasticDepth, Permute and MLP."""
from ..functional.stochastic_depth import stochastic_depth
from .activation import ReLU, Sigmoid
from .batchnorm import BatchNorm2d
from .container import Sequential
from .conv import Conv2d
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .pooling import AdaptiveAvgPool2d

__all__ = ["Conv2dNormActivation", "SqueezeExcitation", "StochasticDepth", "Permute", "MLP"]


def _same_padding(kernel_size, dilation):
    """(k - 1) // 2 * d per dim: the padding that keeps the size at stride 1 for odd k."""
    if isinstance(kernel_size, int) and isinstance(dilation, int):
        return (kernel_size - 1) // 2 * dilation
    n = len(kernel_size) if isinstance(kernel_size, (tuple, list)) else len(dilation)
    ks = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * n
    ds = tuple(dilation) if isinstance(dilation, (tuple, list)) else (dilation,) * n
    return tuple((k - 1) // 2 * d for k, d in zip(ks, ds))


class Conv2dNormActivation(Sequential):
    """Conv2d, then a normalisation layer, then an activation, as one Sequential ('0', '1', '2').
    Matches torchvision.ops.Conv2dNormActivation.

    Args:
        in_channels (int), out_channels (int).
        kernel_size (int or tuple, default 3), stride (int or tuple, default 1).
        padding (int, tuple or str, default None): None means (kernel_size - 1) // 2 * dilation ('same' at
            stride 1 for odd kernels).
        groups (int, default 1).
        norm_layer (callable, default nn.BatchNorm2d): called with out_channels; None leaves it out.
        activation_layer (callable, default nn.ReLU): None leaves it out.
        dilation (int or tuple, default 1).
        inplace (bool or None, default True): passed to the activation as `inplace` (None passes nothing).
        bias (bool or None, default None): None means a bias only when there is no norm layer.

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, H_out, W_out) with Conv2d's output-size formula.

    >>> import cnnlab, cnnlab.nn as nn
    >>> block = nn.Conv2dNormActivation(3, 8, stride=2)
    >>> block
    Conv2dNormActivation(
      (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)
      (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
      (2): ReLU(inplace=True)
    )
    >>> block(cnnlab.randn(1, 3, 16, 16)).shape
    cnnlab.Size([1, 8, 8, 8])
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=BatchNorm2d, activation_layer=ReLU, dilation=1, inplace=True, bias=None):
        if padding is None:
            padding = _same_padding(kernel_size, dilation)
        if bias is None:
            bias = norm_layer is None
        layers = [Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, groups=groups,
                         bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(Module):
    """Squeeze-and-excitation (Hu et al., 2018): scale each channel by a gate computed from the channel means,
    input * sigma(fc2(delta(fc1(mean_hw(input))))), with fc1/fc2 as 1x1 convolutions.
    Matches torchvision.ops.SqueezeExcitation.

    Args:
        input_channels (int), squeeze_channels (int): the bottleneck width.
        activation (callable, default nn.ReLU): delta.
        scale_activation (callable, default nn.Sigmoid): sigma.

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    >>> import cnnlab, cnnlab.nn as nn
    >>> se = nn.SqueezeExcitation(16, 4)
    >>> se(cnnlab.randn(2, 16, 5, 5)).shape
    cnnlab.Size([2, 16, 5, 5])
    """

    def __init__(self, input_channels, squeeze_channels, activation=ReLU, scale_activation=Sigmoid):
        super().__init__()
        self.avgpool = AdaptiveAvgPool2d(1)
        self.fc1 = Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input):
        scale = self.avgpool(input)  # (N, C, 1, 1)
        return self.scale_activation(self.fc2(self.activation(self.fc1(scale))))

    def forward(self, input):
        return self._scale(input) * input


class StochasticDepth(Module):
    """Drop a residual branch at random while training: F.stochastic_depth(input, p, mode, self.training).
    Matches torchvision.ops.StochasticDepth.

    Args:
        p (float): the drop probability.
        mode (str): 'row' (per sample) or 'batch' (the whole batch at once).

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.StochasticDepth(0.1, "row")
    StochasticDepth(p=0.1, mode=row)
    """
    _op = staticmethod(stochastic_depth)

    def __init__(self, p, mode):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input):
        return self._op(input, self.p, self.mode, self.training)

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"


class Permute(Module):
    """Reorder the dims of the input: input.permute(*dims) (ConvNeXt's NCHW <-> NHWC step).
    Matches torchvision.ops.Permute.

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.Permute([0, 2, 3, 1])(cnnlab.zeros(1, 3, 4, 5)).shape
    cnnlab.Size([1, 4, 5, 3])
    """

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class MLP(Sequential):
    """Linear layers with a norm, an activation and dropout after each but the last (dropout after the last too).
    Matches torchvision.ops.MLP.

    Args:
        in_channels (int), hidden_channels (list of int): the width of each Linear, the last one the output.
        norm_layer (callable, default None), activation_layer (callable, default nn.ReLU).
        inplace (bool or None, default None): passed to the activation and dropout when not None.
        bias (bool, default True), dropout (float, default 0.0).

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.MLP(8, [16, 4])(cnnlab.randn(2, 8)).shape
    cnnlab.Size([2, 4])
    """

    def __init__(self, in_channels, hidden_channels, norm_layer=None, activation_layer=ReLU, inplace=None,
                 bias=True, dropout=0.0):
        params = {} if inplace is None else {"inplace": inplace}
        layers = []
        in_dim = in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            layers.append(activation_layer(**params))
            layers.append(Dropout(dropout, **params))
            in_dim = hidden_dim
        layers.append(Linear(in_dim, hidden_channels[-1], bias=bias))
        layers.append(Dropout(dropout, **params))
        super().__init__(*layers)
