"""create_graph formulas of the module backward hooks' nodes (nn/modules/hooks.py: one Join node per module call
and a Pass node per tensor, all named BackwardHookFunctionBackward): gradients pass through them unchanged and
stay differentiable; a gradient a hook replaced is known only by its values (its derivative raises)."""
import numpy as np

from ..autograd.graph import opaque, register
from ..tensor import Tensor

_TENSORS = ("create_graph tensors",)  # a key of the hooks' table no position can take


@register("BackwardHookFunctionBackward")
def _hook_node(ctx, grad):
    saved = ctx.saved
    if "args" in saved and "on_join" not in saved:  # a Pass node: file the gradient's values for the Join
        table, i = saved["args"]
        table[i] = grad._data
        table.setdefault(_TENSORS, {})[id(grad._data)] = grad
        return (Tensor._wrap(np.zeros(0)),)  # the Join's own (empty) gradient
    if "on_join" not in saved:
        return NotImplemented
    table, diff = saved["table"], saved["diff"]
    tensors = table.pop(_TENSORS, {})
    arrays = saved["on_join"](table, diff)  # the hooks run here, on the values
    out = []
    for arr in arrays:
        if arr is None:
            out.append(None)
        elif id(arr) in tensors and tensors[id(arr)]._data is arr:  # passed through: keep the recorded gradient
            out.append(tensors[id(arr)])
        else:
            out.append(opaque(arr, (grad,) + tuple(tensors.values()) + tuple(ctx.inputs), ctx.op))
    return tuple(out)
