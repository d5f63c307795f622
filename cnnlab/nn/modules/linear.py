"""Identity, Linear and Bilinear layers (thin classes over F.linear and F.bilinear)."""
import math

from .. import functional as F
from .. import init
from ._utils import check_count, new_parameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear"]


class Identity(Module):
    """Returns its input unchanged; accepts and ignores any constructor arguments. Matches torch.nn.Identity.

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.Identity(54, unused="x")(cnnlab.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b. Matches torch.nn.Linear.

    Args:
        in_features (int), out_features (int), bias (bool, default True),
        device (default None: the CPU), dtype (default None: the default float dtype).

    Shape:
        input (*, in_features) -> output (*, out_features).

    Attributes:
        weight (out_features, in_features) and bias (out_features,), both U(-1/sqrt(in_features),
        1/sqrt(in_features)) (weight through kaiming_uniform_(a=sqrt(5)), as PyTorch).

    >>> import cnnlab, cnnlab.nn as nn
    >>> fc = nn.Linear(250, 32)
    >>> fc
    Linear(in_features=250, out_features=32, bias=True)
    >>> fc(cnnlab.ones(8, 250)).shape
    cnnlab.Size([8, 32])
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = check_count(in_features, "in_features", "Linear", 0)
        self.out_features = check_count(out_features, "out_features", "Linear", 0)
        self.weight = new_parameter((out_features, in_features), device, dtype)
        if bias:
            self.bias = new_parameter((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y_k = x1^T A_k x2 + b_k. Matches torch.nn.Bilinear.

    Args:
        in1_features (int), in2_features (int), out_features (int), bias (bool, default True).

    Shape:
        input1 (*, in1_features), input2 (*, in2_features) -> (*, out_features).

    Attributes:
        weight (out_features, in1_features, in2_features), bias (out_features,), both
        U(-1/sqrt(in1_features), 1/sqrt(in1_features)).

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.Bilinear(2, 3, 4)(cnnlab.ones(5, 2), cnnlab.ones(5, 3)).shape
    cnnlab.Size([5, 4])
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features = check_count(in1_features, "in1_features", "Bilinear")
        self.in2_features = check_count(in2_features, "in2_features", "Bilinear")
        self.out_features = check_count(out_features, "out_features", "Bilinear")
        self.weight = new_parameter((out_features, in1_features, in2_features), device, dtype)
        if bias:
            self.bias = new_parameter((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
