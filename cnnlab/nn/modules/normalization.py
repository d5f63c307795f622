"""LayerNorm, GroupNorm and LocalResponseNorm (the per-sample normalisations; BatchNorm is in batchnorm.py)."""
import numbers

from .. import functional as F
from .. import init
from ._utils import check_count, new_parameter
from .module import Module

__all__ = ["LayerNorm", "GroupNorm", "LocalResponseNorm"]


def _register_affine(module, affine, bias, shape, device, dtype):
    """The learnable scale (`weight`) and shift (`bias`) of a normalisation layer, or None where switched off."""
    module.register_parameter("weight", new_parameter(shape, device, dtype) if affine else None)
    module.register_parameter("bias", new_parameter(shape, device, dtype) if affine and bias else None)


def _reset_affine(module):
    """Scale 1 and shift 0: the layer starts as a plain normalisation."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Normalise over the last len(normalized_shape) dims of each sample, then scale and shift elementwise.

    Args:
        normalized_shape (int or tuple): the trailing shape to normalise over, e.g. (C, H, W).
        eps (float, default 1e-5).
        elementwise_affine (bool, default True): learnable weight (init 1) and bias (init 0) of that shape.
        bias (bool, default True): with elementwise_affine, whether there is a bias.

    Shape:
        (*, *normalized_shape) -> same shape.

    Matches torch.nn.LayerNorm.

    >>> import cnnlab, cnnlab.nn as nn
    >>> ln = nn.LayerNorm(4)
    >>> ln
    LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
    >>> [round(v, 4) for v in ln(cnnlab.tensor([[1.0, 1.0, 3.0, 3.0]]))[0].tolist()]
    [-1.0, -1.0, 1.0, 1.0]
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, elementwise_affine, bias, self.normalized_shape, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Split the channels into num_groups groups and normalise each group of each sample, then scale and shift
    per channel.

    Args:
        num_groups (int): divides num_channels.
        num_channels (int), eps (float, default 1e-5), affine (bool, default True), bias (bool, default True).

    Shape:
        (N, C, *) -> same shape.

    Raises:
        ValueError: num_channels not divisible by num_groups.

    Matches torch.nn.GroupNorm.

    >>> import cnnlab.nn as nn
    >>> nn.GroupNorm(2, 4)
    GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.num_groups = check_count(num_groups, "num_groups", "GroupNorm")
        self.num_channels = check_count(num_channels, "num_channels", "GroupNorm")
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels must be divisible by num_groups. Got "
                             f"num_channels={num_channels}, num_groups={num_groups}.")
        self.eps = eps
        self.affine = affine
        _register_affine(self, affine, bias, (num_channels,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """Divide each value by (k + alpha / size * sum of squares over `size` neighbouring channels)^beta
    (AlexNet's normalisation).

    Args:
        size (int), alpha (float, default 1e-4), beta (float, default 0.75), k (float, default 1.0).

    Matches torch.nn.LocalResponseNorm.

    >>> import cnnlab.nn as nn
    >>> nn.LocalResponseNorm(5)
    LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=1.0)
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
