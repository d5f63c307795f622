"""Flatten a model's parameters into one vector and back (for line searches, second-order methods and other
algorithms written for a single flat vector)."""
from ...errors import ShapeError
from ...ops.shape import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """The parameters flattened and joined into one 1-d tensor (in the order given).

    Args:
        parameters (iterable of Tensors): e.g. model.parameters().

    Returns:
        Tensor: 1-d, of length the total number of elements. Like torch's it is made by differentiable ops
        (reshape and cat), so it records a graph when the parameters require grad.

    Raises:
        ValueError: no parameters. TypeError: an element that is not a tensor.

    Matches torch.nn.utils.parameters_to_vector.

    >>> import cnnlab, cnnlab.nn as nn
    >>> parameters_to_vector(nn.Linear(3, 2).parameters()).shape
    cnnlab.Size([8])
    """
    op = "parameters_to_vector"
    flat = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters must be tensors. Got an element of type {type(p).__name__} "
                            f"at index {i}.")
        flat.append(p.reshape(-1))
    if not flat:
        raise ValueError(f"{op}: expects a non-empty iterable of tensors. Got no parameters.")
    return cat(flat)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of a 1-d vector into the parameters (each takes as many values as it holds).

    As in PyTorch, each parameter's data becomes a view of `vec` (they share memory afterwards, and a
    parameter takes vec's dtype); no graph is recorded. Values past the last parameter are ignored.

    Args:
        vec (Tensor): 1-d, at least as long as the parameters' total number of elements.
        parameters (iterable of Tensors): e.g. model.parameters().

    Returns:
        None.

    Raises:
        TypeError: vec is not a tensor. ShapeError (a ValueError and RuntimeError): vec is too short for
        the parameters, or a slice of it cannot take a parameter's shape.

    Matches torch.nn.utils.vector_to_parameters.

    >>> import cnnlab, cnnlab.nn as nn
    >>> layer = nn.Linear(2, 1)
    >>> vector_to_parameters(cnnlab.tensor([1.0, 2.0, 3.0]), layer.parameters())
    >>> layer.weight.tolist(), layer.bias.tolist()
    ([[1.0, 2.0]], [3.0])
    """
    op = "vector_to_parameters"
    if not isinstance(vec, Tensor):
        raise TypeError(f"{op}: expected a cnnlab Tensor for vec. Got {type(vec).__name__}.")
    arr = vec._data
    if arr.ndim == 0:
        raise ShapeError(f"{op}: vec must have at least one dimension. Got vec.shape=().")
    pointer = 0
    for i, param in enumerate(parameters):
        if not isinstance(param, Tensor):
            raise TypeError(f"{op}: parameters must be tensors. Got an element of type {type(param).__name__} "
                            f"at index {i}.")
        n = param._data.size
        piece = arr[pointer:pointer + n]
        if piece.size != n:  # PyTorch: "shape '[...]' is invalid for input of size ..."
            raise ShapeError(f"{op}: vec is too short for the parameters (or its slices have another size). "
                             f"Got parameter {i} of shape {tuple(param.shape)} ({n} values) at offset {pointer}, "
                             f"vec[{pointer}:{pointer + n}] holds {piece.size} values, vec.shape={tuple(vec.shape)}.")
        param._data = piece.reshape(param._data.shape)  # a view of vec, as PyTorch's param.data = vec[...].view_as
        pointer += n
