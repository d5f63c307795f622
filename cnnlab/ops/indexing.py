"""Indexing: reading with ints, slices, None, Ellipsis, integer arrays and boolean masks (with gradients),
and writing into tensors outside the graph; gather/index_select for the losses."""
import numpy as np

from .. import autograd
from ..errors import GradError, ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg


def _key_part(k):
    if isinstance(k, Tensor):
        return k._data
    if isinstance(k, list):
        return np.asarray([_key_part(v) for v in k]) if any(isinstance(v, Tensor) for v in k) else np.asarray(k)
    return k


def normalize_key(key):
    """The key with tensors and lists replaced by arrays; also whether it uses advanced (array) indexing."""
    parts = key if isinstance(key, tuple) else (key,)
    parts = tuple(_key_part(k) for k in parts)
    for k in parts:
        if isinstance(k, np.ndarray) and k.dtype.kind not in "biu":
            raise TypeError(f"index: tensors used as indices must be long, int or bool. Got dtype={k.dtype}.")
    advanced = any(isinstance(k, np.ndarray) for k in parts)
    return (parts if isinstance(key, tuple) else parts[0]), advanced


def getitem(t, key):
    """t[key] with PyTorch's (= NumPy's) indexing rules; the gradient scatters back, summing repeats."""
    key, advanced = normalize_key(key)
    x = t._data
    try:
        out = x[key]
    except IndexError as e:
        raise IndexError(f"index: {e}. Got shape={shape_str(x.shape)}.") from None

    def backward(g):
        grad = np.zeros_like(x)
        if advanced:
            np.add.at(grad, key, g)  # repeated indices add up
        else:
            grad[key] = g
        return (grad,)

    return Tensor._from_op(np.array(out, copy=advanced) if advanced else np.asarray(out), (t,), backward,
                           "IndexBackward")


def check_writable(t, op):
    """In-place writes are allowed on tensors outside the graph (or on any tensor inside no_grad())."""
    if t.requires_grad and autograd.is_grad_enabled():
        raise GradError(f"{op}: a tensor that requires grad cannot be modified in place while gradients are "
                        "recorded (the graph needs its old values). Wrap the update in cnnlab.no_grad(), or "
                        f"work on a copy made with .clone(). Got requires_grad=True, is_leaf={t.is_leaf}.")


def setitem(t, key, value):
    """t[key] = value, in place."""
    check_writable(t, "setitem")
    key, _ = normalize_key(key)
    v = value._data if isinstance(value, Tensor) else value
    try:
        t._data[key] = v
    except ValueError:
        raise ShapeError(f"setitem: the value cannot be broadcast to the indexed region. Got value shape "
                         f"{shape_str(np.shape(v))}, region shape {shape_str(t._data[key].shape)}.") from None


def gather(input, dim, index):
    """out[i][j] = input[i][index[i][j]] along dim (index has input's number of dims). Matches torch.gather."""
    t = as_tensor_arg(input, "gather", "input")
    idx = as_tensor_arg(index, "gather", "index")._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather: index must be an integer tensor. Got dtype={idx.dtype}.")
    axis = t._dim(dim, "gather")
    if idx.ndim != t.ndim:
        raise ShapeError(f"gather: index must have as many dims as input. Got input.shape={shape_str(t.shape)}, "
                         f"index.shape={shape_str(idx.shape)}.")
    x = t._data
    out = np.take_along_axis(x, idx, axis=axis)

    def backward(g):
        grad = np.zeros_like(x)
        np.add.at(grad, _along_axis_key(idx, axis), g)
        return (grad,)

    return Tensor._from_op(out, (t,), backward, "GatherBackward")


def _along_axis_key(idx, axis):
    """A fancy-index tuple that addresses x[..., idx, ...] the way take_along_axis does."""
    grids = list(np.ogrid[tuple(slice(s) for s in idx.shape)])
    grids[axis] = idx
    return tuple(grids)


def index_select(input, dim, index):
    """The entries of input at the given indices along dim. Matches torch.index_select."""
    t = as_tensor_arg(input, "index_select", "input")
    axis = t._dim(dim, "index_select")
    idx = as_tensor_arg(index, "index_select", "index")._data
    return getitem(t, (slice(None),) * axis + (Tensor._wrap(idx.reshape(-1)),))


def masked_fill(input, mask, value):
    """Copy of input with value where mask is True. Matches torch.masked_fill."""
    from .elementwise import where
    t = as_tensor_arg(input, "masked_fill", "input")
    v = value.item() if isinstance(value, Tensor) else value
    return where(mask, Tensor._wrap(np.asarray(v, dtype=t._data.dtype)), t)
