"""ChannelShuffle: the layer over F.channel_shuffle."""
from ..functional.channel_shuffle import channel_shuffle
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """Interleave the channels of `groups` groups (ShuffleNet). Matches torch.nn.ChannelShuffle.

    Args:
        groups (int): how many groups the channels form; must divide C.

    Shape:
        (N, C, *) -> (N, C, *).

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.ChannelShuffle(3)
    ChannelShuffle(groups=3)
    >>> nn.ChannelShuffle(3)(cnnlab.arange(6.0).reshape(1, 6, 1)).flatten()
    tensor([0., 2., 4., 1., 3., 5.])
    """
    _op = staticmethod(channel_shuffle)

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return self._op(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
