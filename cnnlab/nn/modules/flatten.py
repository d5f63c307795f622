"""Flatten and Unflatten: reshape layers for the step between convolutional and fully connected parts."""
import numbers

import numpy as np

from ...errors import ShapeError, shape_str
from .module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Merge dims start_dim..end_dim into one (by default everything but the batch dim). Matches torch.nn.Flatten.

    Args:
        start_dim (int, default 1), end_dim (int, default -1).

    Shape:
        (N, C, H, W) -> (N, C*H*W) with the defaults.

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.Flatten()(cnnlab.ones(8, 10, 5, 5)).shape
    cnnlab.Size([8, 250])
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split one dim into several: the inverse of Flatten. Matches torch.nn.Unflatten.

    Args:
        dim (int): the dim to split (negative counts from the end).
        unflattened_size (tuple or list of ints): the new sizes; their product must equal the dim's size
            (one of them may be -1).

    Raises:
        TypeError: unflattened_size is not a tuple or list of ints.
        ShapeError: the sizes do not multiply to the dim's size.

    >>> import cnnlab, cnnlab.nn as nn
    >>> nn.Unflatten(1, (2, 5))(cnnlab.ones(3, 10)).shape
    cnnlab.Size([3, 2, 5])
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not (isinstance(unflattened_size, (tuple, list)) and
                all(isinstance(s, (numbers.Integral, np.integer)) and not isinstance(s, bool)
                    for s in unflattened_size)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple or list of ints. Got "
                            f"unflattened_size={unflattened_size!r}.")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        axis = input._dim(self.dim, "Unflatten")
        sizes = tuple(int(s) for s in self.unflattened_size)
        n = input.shape[axis]
        known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
        bad = sizes.count(-1) > 1 or (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n)
        if bad:
            raise ShapeError(f"Unflatten: unflattened_size must multiply to the size of dim {self.dim}. Got "
                             f"unflattened_size={self.unflattened_size}, input.shape={shape_str(input.shape)}.")
        return input.reshape(tuple(input.shape[:axis]) + sizes + tuple(input.shape[axis + 1:]))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
