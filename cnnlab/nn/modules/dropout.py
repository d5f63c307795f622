"""Dropout layers: zero random elements (or whole channels) in training mode, the identity in eval mode."""
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"]


class _DropoutNd(Module):
    _op = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1. Got p={p!r}.")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return self._op(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training mode, zero each element with probability p and scale the rest by 1 / (1 - p); in eval mode
    return the input unchanged. Randomness from cnnlab.random (seed with cnnlab.manual_seed).

    Args:
        p (float, default 0.5): the probability of zeroing an element, in [0, 1].
        inplace (bool, default False).

    Raises:
        ValueError: p outside [0, 1].

    Matches torch.nn.Dropout.

    >>> import cnnlab, cnnlab.nn as nn
    >>> drop = nn.Dropout(0.5).eval()
    >>> drop(cnnlab.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """
    _op = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    """Zero whole channels of a (N, C, L) or (C, L) input with probability p. Matches torch.nn.Dropout1d."""
    _op = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """Zero whole channels of a (N, C, H, W) or (C, H, W) input with probability p. Matches torch.nn.Dropout2d."""
    _op = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Zero whole channels of a (N, C, D, H, W) or (C, D, H, W) input. Matches torch.nn.Dropout3d."""
    _op = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU's zero mean and unit variance. Matches torch.nn.AlphaDropout."""
    _op = staticmethod(F.alpha_dropout)
