"""In-place activations inside a recorded graph, as PyTorch's relu_ (and hardtanh_, relu6): the result overwrites
its input's array.

A recorded op's output stays alive as long as the graph does (the next op's node holds it as a parent), so
`relu(bn(conv(x)), inplace=True)` kept both the batch norm's output and the ReLU's (in a training step, a third of
the activations held for backward; PyTorch overwrites the first). Where nothing can tell the difference, the
activation now writes into its input and the input tensor becomes the activation's output, keeping its identity:
its old place in the graph moves to a new node that holds the same (overwritten) array, whose values no gradient
reads. That holds when

- the input was made by an op whose gradients (first order and create_graph formula) never read its result
  (RESULT_FREE_OPS: convolution, batch norm, addition and subtraction);
- no recorded op has taken the input yet (it would see the new values), and it has no hooks and retains no grad
  (their gradient is the one before the write);
- its array is a float32/float64 C-contiguous array of its own, and no ONNX export is tracing.

Otherwise the activation returns a new tensor as before. As in PyTorch, a tensor sharing the input's memory
(`.detach()`, `.numpy()`) sees the new values.

>>> import cnnlab
>>> x = cnnlab.tensor([[-1.0, 2.0]], requires_grad=True)
>>> y = x + 1                                  # AddBackward0 does not read its result
>>> overwritable(y)
True
>>> z = cnnlab.nn.functional.relu(y, inplace=True)
>>> z is y, z.grad_fn.name(), y.tolist()
(True, 'ReluBackward0', [[0.0, 3.0]])
>>> z.sum().backward(); x.grad.tolist()
[[0.0, 1.0]]
"""
import sys

import numpy as np

from ...tensor import Tensor

_TENSOR_MODULE = sys.modules[Tensor.__module__]  # (cnnlab.tensor is the function) its _trace_hook: ONNX tracing

__all__ = ["RESULT_FREE_OPS", "overwritable", "rebase"]

#: grad_fn names of ops whose backward closure and create_graph formula read inputs and saved values only
RESULT_FREE_OPS = frozenset({"ConvolutionBackward", "NativeBatchNormBackward", "AddBackward0", "SubBackward0"})

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def overwritable(t):
    """Whether an in-place activation recorded in the graph may write into t's array (see the module's notes)."""
    x = t._data
    return (t._op in RESULT_FREE_OPS and not t._used and not t._hooks and not t._retains_grad
            and type(x) is np.ndarray and x.ndim > 0 and x.dtype in _FLOATS and x.dtype.metadata is None
            and x.flags.writeable and x.flags.c_contiguous and _TENSOR_MODULE._trace_hook is None)


def rebase(t, backward, op):
    """Make t the output of the op `op` (grad_fn name) with `backward`, whose one parent is t's old place in the
    graph: a new node holding t's array. t keeps its identity, as an in-place op's result does in PyTorch."""
    before = Tensor._wrap(t._data)
    before._requires_grad, before._parents, before._backward, before._op = True, t._parents, t._backward, t._op
    before._used = True
    t._parents, t._backward, t._op = (before,), backward, op
    return t
