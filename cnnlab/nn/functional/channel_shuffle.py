"""channel_shuffle: interleave the channels of `groups` groups (ShuffleNet's step between grouped convolutions)."""
import numpy as np

from ...errors import ShapeError, shape_str
from ...tensor import Tensor

__all__ = ["channel_shuffle"]


def channel_shuffle(input, groups):
    """Split the C channels into `groups` groups of C/groups and interleave them: channel g*(C/groups) + k moves
    to k*groups + g. Matches torch.nn.functional.channel_shuffle.

    Args:
        input (Tensor): (N, C, *), at least 3 dims.
        groups (int): how many groups the channels form; must divide C.

    Shape:
        (N, C, *) -> (N, C, *).

    Raises:
        ShapeError (a ValueError and RuntimeError): fewer than 3 dims, groups not positive, or C not divisible
            by groups.

    >>> import cnnlab
    >>> import cnnlab.nn.functional as F
    >>> F.channel_shuffle(cnnlab.arange(6.0).reshape(1, 6, 1), 2).flatten()
    tensor([0., 3., 1., 4., 2., 5.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"channel_shuffle: input must be a tensor. Got {type(input).__name__}.")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"channel_shuffle: groups must be an int. Got groups={groups!r}.")
    if groups <= 0:
        raise ShapeError(f"channel_shuffle: groups must be positive. Got groups={groups}.")
    if input.ndim < 3:
        raise ShapeError(f"channel_shuffle: the input must have at least 3 dims (N, C, *). Got "
                         f"shape={shape_str(input.shape)}.")
    x = input._data
    N, C, *rest = x.shape
    if C % groups:
        raise ShapeError(f"channel_shuffle: the channel count must be divisible by groups. Got "
                         f"input.shape={shape_str(x.shape)} (C={C}), groups={groups}.")
    g = int(groups)
    out = x.reshape(N, g, C // g, *rest).swapaxes(1, 2).reshape(x.shape)  # (N, C/g, g, *) flattened back

    # a permutation of the channels: the gradient goes back through the inverse permutation
    def backward(grad_out):
        return (grad_out.reshape(N, C // g, g, *rest).swapaxes(1, 2).reshape(x.shape),)

    return Tensor._from_op(np.ascontiguousarray(out), (input,), backward, "ChannelShuffleBackward")
