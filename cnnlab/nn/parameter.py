"""Parameter and Buffer: the tensors a Module registers when they are assigned as attributes.

A `Parameter` is a Tensor subclass that requires grad by default and shares memory with the tensor it was made
from. Assigning one to a module attribute registers it, so `module.parameters()` (and an optimizer) find it.
A `Buffer` marks a tensor to be registered as a buffer (running statistics and other state that is saved in
the state_dict but not trained).
"""
import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module parameter: registered on attribute assignment, requires grad by default.

    Args:
        data (Tensor or array, default None): the values; a Tensor's memory is shared, not copied.
            None gives an empty (0-element) float tensor.
        requires_grad (bool, default True): record gradients for it.

    Returns:
        Parameter: a leaf tensor. Ops on it return plain Tensors. Matches torch.nn.Parameter.

    Raises:
        DTypeError (a TypeError and RuntimeError): requires_grad=True with integer or bool data (PyTorch
        raises RuntimeError).

    >>> import cnnlab
    >>> from cnnlab.nn import Parameter
    >>> p = Parameter(cnnlab.zeros(2))
    >>> p
    Parameter containing:
    tensor([0., 0.], requires_grad=True)
    >>> p.requires_grad, isinstance(p, cnnlab.Tensor)
    (True, True)
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            arr = np.zeros((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            arr = np.asarray(data)
        self._init(arr, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self):
        return (_rebuild_parameter, (self._data, self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(np.array(self._data, copy=True), self.requires_grad)
        if self.grad is not None:
            p.grad = Tensor._wrap(np.array(self.grad._data, copy=True))
        memo[id(self)] = p
        return p


def _rebuild_parameter(arr, requires_grad):
    return Parameter(arr, requires_grad)


class Buffer(Tensor):
    """A tensor to be registered as a buffer when assigned to a module attribute.

    `self.scale = nn.Buffer(t)` is the same as `self.register_buffer("scale", t)`; the module stores a plain
    Tensor sharing t's memory.

    Args:
        data (Tensor or array): the values (memory shared with a Tensor).
        persistent (bool, default True): whether the buffer is part of the module's state_dict.

    Matches torch.nn.Buffer.

    >>> import cnnlab, cnnlab.nn as nn
    >>> m = nn.Module()
    >>> m.scale = nn.Buffer(cnnlab.ones(3))
    >>> [name for name, _ in m.named_buffers()]
    ['scale']
    """

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            arr = np.zeros((0,), dtype=np.float32)
        else:
            arr = data._data if isinstance(data, Tensor) else np.asarray(data)
        self._init(arr, False)
        self.persistent = bool(persistent)
