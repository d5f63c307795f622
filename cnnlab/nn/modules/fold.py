"""Unfold (im2col) and Fold (col2im) as layers, over F.unfold and F.fold."""
from .. import functional as F
from .module import Module

__all__ = ["Fold", "Unfold"]


class Unfold(Module):
    """Extract sliding blocks: (N, C, H, W) -> (N, C * prod(kernel_size), L), L the number of blocks.

    Args:
        kernel_size, dilation (default 1), padding (default 0), stride (default 1): ints or pairs.

    Matches torch.nn.Unfold.

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.Unfold(2)(cnnlab.ones(1, 3, 4, 4)).shape
    cnnlab.Size([1, 12, 9])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Sum sliding blocks back into an image: (N, C * prod(kernel_size), L) -> (N, C, *output_size); the adjoint
    of Unfold (overlapping values add up).

    Args:
        output_size (int or pair), kernel_size, dilation (default 1), padding (default 0), stride (default 1).

    Matches torch.nn.Fold.

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.Fold((3, 3), 2)(cnnlab.ones(1, 4, 4))[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
