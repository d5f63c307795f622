"""one_hot: class indices to one-hot rows."""
import numpy as np

from ..._memory import check_allocation
from ...errors import DTypeError, ShapeError
from ...tensor import Tensor

__all__ = ["one_hot"]


def one_hot(tensor, num_classes=-1):
    """Class indices -> one-hot vectors: a new last dim of length num_classes with a 1 at each index.

    Args:
        tensor (int64 Tensor of any shape): class indices, each in [0, num_classes).
        num_classes (int, default -1): the length of the new dim; -1 means the largest index + 1.

    Shape:
        (*) -> (*, num_classes), int64.

    Raises:
        DTypeError (a TypeError and RuntimeError): tensor is not int64.
        ShapeError (a ValueError and RuntimeError): a negative index, an index >= num_classes, or
        num_classes=-1 with an empty tensor. Matches torch.nn.functional.one_hot.

    >>> import cnnlab
    >>> from cnnlab.nn.functional.encoding import one_hot
    >>> one_hot(cnnlab.tensor([0, 2]), num_classes=3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    if not isinstance(tensor, Tensor) or tensor._data.dtype != np.int64:
        got = f"dtype={tensor.dtype}" if isinstance(tensor, Tensor) else f"{type(tensor).__name__}"
        raise DTypeError(f"one_hot: the input must be an int64 (long) tensor of class indices. Got {got}.")
    x = tensor._data
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < -1:
        raise ShapeError(f"one_hot: num_classes must be a non-negative int, or -1 to infer it. "
                         f"Got num_classes={num_classes!r}.")
    if x.size and x.min() < 0:
        raise ShapeError(f"one_hot: class values must be non-negative. Got min value {int(x.min())}.")
    if num_classes == -1:
        if x.size == 0:
            raise ShapeError("one_hot: can not infer the number of classes from an empty tensor; pass "
                             f"num_classes. Got shape={tuple(x.shape)}, num_classes=-1.")
        num_classes = int(x.max()) + 1
    elif x.size and x.max() >= num_classes:
        raise ShapeError(f"one_hot: class values must be smaller than num_classes. Got max value {int(x.max())}, "
                         f"num_classes={num_classes}.")
    check_allocation("one_hot", x.shape + (int(num_classes),), np.int64)
    out = np.zeros(x.shape + (int(num_classes),), np.int64)
    np.put_along_axis(out, x[..., None], 1, axis=-1)
    return Tensor._wrap(out)
