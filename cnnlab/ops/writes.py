"""The checks before writing into an existing tensor (in-place ops, setitem, `out=`), and the `out=` write.

Shared by the in-place ops, indexing's setitem and every function with an `out=` argument; they know Tensor and
the grad mode, not the ops.
"""
import numpy as np

from .. import autograd
from ..errors import DTypeError, GradError, ShapeError, shape_str
from ..tensor import Tensor


def element_strides(x):
    """x's strides counted in elements, as torch's Tensor.stride() gives them."""
    return tuple(st // x.itemsize for st in x.strides)


def check_not_read_only(t, op, refusal):
    """ShapeError when t's array is a read-only view (expand, broadcast: a 0 stride repeats one element)."""
    if not t._data.flags.writeable:
        raise ShapeError(f"{op}: this tensor is a read-only view (made by expand or a broadcast) and cannot be "
                         f"{refusal}. Got shape={shape_str(t.shape)}, strides={element_strides(t._data)} (a 0 "
                         "repeats one element).")


def check_writable(t, op):
    """In-place writes are allowed on tensors outside the graph (or on any tensor inside no_grad())."""
    if t.requires_grad and autograd.is_grad_enabled():
        raise GradError(f"{op}: a tensor that requires grad cannot be modified in place while gradients are "
                        "recorded (the graph needs its old values). Wrap the update in cnnlab.no_grad(), or "
                        f"work on a copy made with .clone(). Got requires_grad=True, is_leaf={t.is_leaf}.")


def check_unused(t, op):
    """A tensor that recorded ops have already taken as input cannot be changed in place inside the graph: those
    ops refer to it, and would see the new value. (PyTorch allows some of these cases; cnnlab refuses them.)"""
    if t._used:
        raise GradError(f"{op}: this tensor was already used as an input of another op in the graph, so changing "
                        "it in place would change what that op sees; use an out-of-place op (x = x + y, "
                        "torch.where, torch.cat) or modify a .clone().")


def check_not_a_graph_view(t, op):
    """GradError when t is a view (a slice, view, transpose, diagonal, ...) of a tensor in the graph: recording an
    in-place op gives t new memory, so the base would silently keep its old values and gradient. PyTorch rebases
    the base's graph onto the write instead; cnnlab does not (yet), so it refuses rather than lose the write."""
    if t._op == "CopySlices":  # t's parent is its own value before an earlier write, not a base tensor
        return
    for p in t._parents:
        try:
            shared = np.shares_memory(t._data, p._data, max_work=100_000)
        except np.exceptions.TooHardError:  # strides too intricate to decide quickly: assume the worst
            shared = True
        if shared:
            raise GradError(f"{op}: this tensor is a view of another tensor that requires grad (made by slicing, "
                            "view, t(), diagonal, ...), and an in-place change of it would not reach that base "
                            "tensor's values or gradient. Use an out-of-place op on the base (torch.where, "
                            f"torch.cat, x * mask) or change a .clone(). Got shape={shape_str(t.shape)}, base "
                            f"shape={shape_str(p.shape)}.")


def write_out(result, out, op):
    """The `out=` argument of PyTorch's functions: result written into out (resized when its shape differs),
    which is returned. Refused when the result requires grad, as in PyTorch."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: out must be a tensor. Got {type(out).__name__}.")
    if result._requires_grad:
        raise GradError(f"{op}: functions with out=... arguments don't support automatic differentiation, but one "
                        "of the arguments requires grad; call it without out= (or inside cnnlab.no_grad()).")
    if not out._data.flags.writeable:
        raise ShapeError(f"{op}: out is a read-only view (made by expand or a broadcast; several of its elements "
                         f"may share one memory location) and cannot be written; pass a .clone() or a new tensor. "
                         f"Got out.shape={shape_str(out.shape)}, result shape={shape_str(result.shape)}.")
    r = result._data
    if not np.can_cast(r.dtype, out._data.dtype, "same_kind"):
        raise DTypeError(f"{op}: the result dtype {result.dtype} can't be cast to the dtype of out. Got "
                         f"out.dtype={out.dtype}.")
    if r.shape == out._data.shape and out._data.flags.writeable:
        np.copyto(out._data, r, casting="same_kind")
    else:
        out._data = r.astype(out._data.dtype)
    return out
