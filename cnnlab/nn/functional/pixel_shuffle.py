"""pixel_shuffle and pixel_unshuffle: trading channels for resolution (sub-pixel convolution, ESPCN)."""
import numpy as np

from ...errors import ShapeError, shape_str
from ...tensor import Tensor

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


def _check(input, factor, op, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a tensor. Got {type(input).__name__}.")
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor <= 0:
        raise ShapeError(f"{op}: {name} must be a positive int. Got {name}={factor!r}.")
    if input.ndim < 3:
        raise ShapeError(f"{op}: the input must have at least 3 dims (*, C, H, W). Got "
                         f"shape={shape_str(input.shape)}.")
    return int(factor)


def pixel_shuffle(input, upscale_factor):
    """Rearrange (*, C*r*r, H, W) into (*, C, H*r, W*r): each group of r*r channels fills an r x r block of
    pixels. Matches torch.nn.functional.pixel_shuffle.

    Args:
        input (Tensor): (*, C*r*r, H, W).
        upscale_factor (int): r.

    Shape:
        (*, C*r^2, H, W) -> (*, C, H*r, W*r).

    Raises:
        ShapeError (a ValueError and RuntimeError): fewer than 3 dims, or channels not divisible by r*r.

    >>> import cnnlab
    >>> from cnnlab.nn.functional.pixel_shuffle import pixel_shuffle
    >>> pixel_shuffle(cnnlab.arange(4.0).reshape(1, 4, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    r = _check(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    x = input._data
    *lead, C, H, W = x.shape
    if C % (r * r):
        raise ShapeError(f"pixel_shuffle: the channel dim must be divisible by upscale_factor**2. Got "
                         f"input.shape={shape_str(x.shape)} (C={C}), upscale_factor={r}.")
    c = C // (r * r)
    nl = len(lead)
    perm = tuple(range(nl)) + (nl, nl + 3, nl + 1, nl + 4, nl + 2)
    out = x.reshape(*lead, c, r, r, H, W).transpose(perm).reshape(*lead, c, H * r, W * r)  # (*, c, H, r, W, r)
    inverse = tuple(np.argsort(perm))

    # a pure permutation of elements: the gradient is permuted back the same way
    def backward(g):
        return (g.reshape(*lead, c, H, r, W, r).transpose(inverse).reshape(x.shape),)

    return Tensor._from_op(np.ascontiguousarray(out), (input,), backward, "PixelShuffleBackward0")


def pixel_unshuffle(input, downscale_factor):
    """Rearrange (*, C, H*r, W*r) into (*, C*r*r, H, W): the inverse of pixel_shuffle. Matches
    torch.nn.functional.pixel_unshuffle.

    Args:
        input (Tensor): (*, C, H*r, W*r).
        downscale_factor (int): r.

    Shape:
        (*, C, H*r, W*r) -> (*, C*r^2, H, W).

    Raises:
        ShapeError (a ValueError and RuntimeError): fewer than 3 dims, or H or W not divisible by r.

    >>> import cnnlab
    >>> from cnnlab.nn.functional.pixel_shuffle import pixel_unshuffle
    >>> pixel_unshuffle(cnnlab.arange(4.0).reshape(1, 1, 2, 2), 2).flatten()
    tensor([0., 1., 2., 3.])
    """
    r = _check(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    x = input._data
    *lead, C, Hr, Wr = x.shape
    if Hr % r or Wr % r:
        raise ShapeError(f"pixel_unshuffle: the height and width must be divisible by downscale_factor. Got "
                         f"input.shape={shape_str(x.shape)} (H={Hr}, W={Wr}), downscale_factor={r}.")
    H, W = Hr // r, Wr // r
    nl = len(lead)
    perm = tuple(range(nl)) + (nl, nl + 2, nl + 4, nl + 1, nl + 3)
    out = x.reshape(*lead, C, H, r, W, r).transpose(perm).reshape(*lead, C * r * r, H, W)  # (*, C, r, r, H, W)
    inverse = tuple(np.argsort(perm))

    def backward(g):
        return (g.reshape(*lead, C, r, r, H, W).transpose(inverse).reshape(x.shape),)

    return Tensor._from_op(np.ascontiguousarray(out), (input,), backward, "PixelUnshuffleBackward0")
