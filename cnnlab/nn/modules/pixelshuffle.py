"""PixelShuffle and PixelUnshuffle: layers over F.pixel_shuffle / F.pixel_unshuffle."""
from ..functional.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r), the upsampling step of a sub-pixel convolution. Matches
    torch.nn.PixelShuffle.

    Args:
        upscale_factor (int): r.

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.PixelShuffle(3)(cnnlab.ones(1, 9, 4, 4)).shape
    cnnlab.Size([1, 1, 12, 12])
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W), the inverse of PixelShuffle. Matches torch.nn.PixelUnshuffle.

    Args:
        downscale_factor (int): r.

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.PixelUnshuffle(2)(cnnlab.ones(1, 1, 4, 4)).shape
    cnnlab.Size([1, 4, 2, 2])
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
