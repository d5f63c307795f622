"""Activation layers: each stores its options and calls the op of the same name in cnnlab.nn.functional.

Shapes: any input shape, output of the same shape (Softmax/LogSoftmax/Softmin normalise along `dim`; GLU halves
`dim`). Every class matches the torch.nn class of the same name, repr included.

>>> import cnnlab, cnnlab.nn as nn
>>> nn.LeakyReLU(0.2)
LeakyReLU(negative_slope=0.2)
>>> nn.LeakyReLU(0.2)(cnnlab.tensor([-1.0, 2.0])).tolist()
[-0.20000000298023224, 2.0]
>>> nn.Softmax(dim=1)(cnnlab.zeros(1, 4)).tolist()
[[0.25, 0.25, 0.25, 0.25]]
"""
from .. import functional as F
from .. import init
from ...errors import ShapeError, shape_str
from ._utils import check_count, new_parameter
from .module import Module

__all__ = ["Threshold", "ReLU", "ReLU6", "LeakyReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Sigmoid",
           "Tanh", "Softplus", "Hardtanh", "Hardsigmoid", "Hardswish", "Softsign", "LogSigmoid", "PReLU", "GLU",
           "Softmax", "LogSoftmax", "Softmin", "Softmax2d"]


def _inplace(inplace, lead=""):
    return (lead + "inplace=True") if inplace else ""


class _InplaceActivation(Module):
    """An activation whose only option is inplace (printed only when True)."""
    _op = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return self._op(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class ReLU(_InplaceActivation):
    """max(0, x). Args: inplace (bool, default False). Matches torch.nn.ReLU."""
    _op = staticmethod(F.relu)


class SELU(_InplaceActivation):
    """scale * elu(x, alpha) with the self-normalising constants. Matches torch.nn.SELU."""
    _op = staticmethod(F.selu)


class SiLU(_InplaceActivation):
    """x * sigmoid(x). Matches torch.nn.SiLU."""
    _op = staticmethod(F.silu)


class Mish(_InplaceActivation):
    """x * tanh(softplus(x)). Matches torch.nn.Mish."""
    _op = staticmethod(F.mish)


class Hardsigmoid(_InplaceActivation):
    """relu6(x + 3) / 6. Matches torch.nn.Hardsigmoid (whose repr never shows inplace)."""
    _op = staticmethod(F.hardsigmoid)

    def extra_repr(self):
        return ""


class Hardswish(_InplaceActivation):
    """x * relu6(x + 3) / 6. Matches torch.nn.Hardswish (whose repr never shows inplace)."""
    _op = staticmethod(F.hardswish)

    def extra_repr(self):
        return ""


class Threshold(Module):
    """x where x > threshold, else value. Args: threshold, value, inplace (default False). Matches
    torch.nn.Threshold."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace(self.inplace, ', ')}"


class Hardtanh(Module):
    """Clamp to [min_val, max_val]. Args: min_val (default -1.0), max_val (default 1.0), inplace. Matches
    torch.nn.Hardtanh."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if not max_val > min_val:
            raise ValueError(f"Hardtanh: max_val must be greater than min_val. Got min_val={min_val}, "
                             f"max_val={max_val}.")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace(self.inplace, ', ')}"


class ReLU6(Hardtanh):
    """min(max(0, x), 6). Matches torch.nn.ReLU6."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise. Args: negative_slope (default 0.01), inplace. Matches
    torch.nn.LeakyReLU."""

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace(self.inplace, ', ')}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise. Args: alpha (default 1.0), inplace. Matches torch.nn.ELU."""
    _op = staticmethod(F.elu)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return self._op(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace(self.inplace, ', ')}"


class CELU(ELU):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise. Matches torch.nn.CELU."""
    _op = staticmethod(F.celu)


class GELU(Module):
    """x * Phi(x); approximate='tanh' uses the tanh formula. Args: approximate (default 'none'). Matches
    torch.nn.GELU."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class _Plain(Module):
    """An activation without options."""
    _op = None

    def forward(self, input):
        return self._op(input)


class Sigmoid(_Plain):
    """1 / (1 + exp(-x)). Matches torch.nn.Sigmoid."""
    _op = staticmethod(F.sigmoid)


class Tanh(_Plain):
    """tanh(x). Matches torch.nn.Tanh."""
    _op = staticmethod(F.tanh)


class Softsign(_Plain):
    """x / (1 + |x|). Matches torch.nn.Softsign."""
    _op = staticmethod(F.softsign)


class LogSigmoid(_Plain):
    """log(sigmoid(x)). Matches torch.nn.LogSigmoid."""
    _op = staticmethod(F.logsigmoid)


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta (x where beta * x > threshold). Args: beta (default 1.0), threshold
    (default 20.0). Matches torch.nn.Softplus."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class PReLU(Module):
    """x for x > 0, a * x otherwise, with a learnable slope a (one, or one per channel = dim 1).

    Args: num_parameters (int, default 1: shared; or the number of channels), init (float, default 0.25).
    Matches torch.nn.PReLU.
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = check_count(num_parameters, "num_parameters", "PReLU")
        self.init = init
        self.weight = new_parameter((self.num_parameters,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """a * sigmoid(b) with a, b the halves of the input along dim. Args: dim (default -1). Matches torch.nn.GLU."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class _SoftmaxBase(Module):
    """Softmax-like along dim; dim=None picks PyTorch's legacy implicit dim (with its warning)."""
    _op = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return self._op(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """exp(x) / sum(exp(x)) along dim: the rescaled entries are in [0, 1] and sum to 1. Args: dim (int,
    default None). Matches torch.nn.Softmax."""
    _op = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxBase):
    """log(softmax(x)) along dim, computed stably. Matches torch.nn.LogSoftmax."""
    _op = staticmethod(F.log_softmax)


class Softmin(_SoftmaxBase):
    """softmax(-x) along dim. Matches torch.nn.Softmin."""
    _op = staticmethod(F.softmin)


class Softmax2d(Module):
    """Softmax over the channels at every spatial position of a (N, C, H, W) or (C, H, W) input. Matches
    torch.nn.Softmax2d."""

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ShapeError(f"Softmax2d: expects a 3-d (C, H, W) or 4-d (N, C, H, W) input. Got "
                             f"input.shape={shape_str(input.shape)}.")
        return F.softmax(input, -3)
