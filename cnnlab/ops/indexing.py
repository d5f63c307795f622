"""Indexing: reading with ints, slices, None, Ellipsis, integer arrays and boolean masks (with gradients),
and writing into tensors outside the graph; gather/index_select for the losses."""
import numpy as np

from .. import autograd
from ..autograd import ScatterGrad
from ..errors import ArgumentError, DTypeError, GradError, IndexRangeError, ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg, unbroadcast
from .elementwise import where
from .logic import nonzero  # noqa: F401  (re-exported: cnnlab.ops.indexing.nonzero)
from .writes import check_not_a_graph_view, check_not_read_only, check_unused, check_writable


def _key_part(k):
    if isinstance(k, Tensor):
        if k._data.ndim == 0 and k._data.dtype.kind in "iu":
            return int(k._data)  # a 0-d integer tensor indexes like an int (a view), as in PyTorch
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
    advanced = any(isinstance(k, (np.ndarray, bool)) for k in parts)  # a Python bool is an advanced index too
    return (parts if isinstance(key, tuple) else parts[0]), advanced


def _is_int(k):
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def split_ints(key, ndim):
    """PyTorch applies int indices as selects before any advanced (array) index, so that the advanced indices
    left may become adjacent and keep their place; NumPy counts ints as advanced indices, which moves the result
    dims to the front whenever a slice stands between. For a key that mixes ints and arrays, (ints, rest): x[key]
    in PyTorch is x[ints][rest] in NumPy (x[ints] a view). None when NumPy's x[key] is already PyTorch's."""
    parts = key if isinstance(key, tuple) else (key,)
    if not any(isinstance(k, (np.ndarray, bool, np.bool_)) for k in parts) or not any(_is_int(k) for k in parts):
        return None  # a Python bool is an advanced index too (an unsqueeze indexed by [0] or by [])
    parts = expand_ellipsis(parts, ndim)
    ints, rest = [], []
    for k in parts:
        if _is_int(k):
            ints.append(k)
        else:
            ints.extend([slice(None)] * _consumed(k))
            rest.append(k)
    return tuple(ints) + (Ellipsis,), tuple(rest)  # the Ellipsis keeps x[ints] a (0-d) view, not a scalar


def _consumed(k):
    """How many dims of x the index part k uses."""
    if k is None or k is Ellipsis or isinstance(k, (bool, np.bool_)):
        return 0
    return k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else 1


def expand_ellipsis(key, ndim):
    """The key with its Ellipsis written out as slices. PyTorch expands it before placing advanced indices,
    so `x[[0], ..., [0, 0]]` on a 2-d x has adjacent indices; NumPy counts even an empty Ellipsis as a
    separator and moves the result dims to the front."""
    parts = key if isinstance(key, tuple) else (key,)
    for at, k in enumerate(parts):
        if k is Ellipsis:
            fill = max(ndim - sum(_consumed(k) for k in parts), 0)
            return parts[:at] + (slice(None),) * fill + parts[at + 1:]
    return key


def getitem(t, key):
    """t[key] with PyTorch's indexing rules; the gradient scatters back, summing repeats. They are NumPy's except
    that ints select first and an Ellipsis is written out before advanced indices are placed (see split_ints).

    Ints, slices (negative steps too), None and Ellipsis give a view that shares memory, as in PyTorch;
    integer arrays and boolean masks give a copy.

    >>> import cnnlab
    >>> x = cnnlab.arange(6.0).reshape(2, 3)
    >>> x[:, [0, 0, 2]]
    tensor([[0., 0., 2.],
            [3., 3., 5.]])
    """
    key, advanced = normalize_key(key)
    x = t._data
    pre = None
    if advanced:
        key = expand_ellipsis(key, x.ndim)
        split = split_ints(key, x.ndim)
        if split is not None:
            pre, key = split
    else:  # a trailing Ellipsis makes NumPy return a 0-d view instead of a scalar copy
        parts = key if isinstance(key, tuple) else (key,)
        if not any(k is Ellipsis for k in parts):
            key = parts + (Ellipsis,)
    try:
        out = x[key] if pre is None else x[pre][key]
    except IndexError as e:
        raise IndexError(f"index: {e}. Got shape={shape_str(x.shape)}.") from None
    masks_only = advanced and all(not isinstance(k, np.ndarray) or k.dtype == np.bool_
                                  for k in (key if isinstance(key, tuple) else (key,)))

    # each selected element passes its gradient back to where it came from; repeated indices add up
    # (a ScatterGrad: run_backward adds it into the input's gradient without a full-size array per slice)
    def backward(g):
        return (ScatterGrad(x.shape, x.dtype, key, g, repeats=advanced and not masks_only, pre=pre),)

    return Tensor._from_op(out, (t,), backward, "IndexBackward0" if advanced else _basic_name(key))


def _basic_name(key):
    """PyTorch applies a basic index one part at a time; its grad_fn is the last step that did something: an int
    selects (SelectBackward0), a slice other than `:` slices, None unsqueezes, and `...` alone aliases."""
    name = "AliasBackward0"
    for k in (key if isinstance(key, tuple) else (key,)):
        if k is None:
            name = "UnsqueezeBackward0"
        elif isinstance(k, slice):
            if k != slice(None):
                name = "SliceBackward0"
        elif k is not Ellipsis:
            name = "SelectBackward0"
    return name


def setitem(t, key, value):
    """t[key] = value, in place. Outside the graph it is a plain write. When value requires grad (or t is an
    intermediate result that does), the write is recorded like PyTorch's CopySlices: t becomes the output of an
    op whose gradient flows to value from the written region and to t's old value everywhere else.

    >>> import cnnlab
    >>> w = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    >>> out = cnnlab.zeros(3)
    >>> out[1:] = w * 3
    >>> out.sum().backward()
    >>> w.grad
    tensor([3., 3.])
    """
    key, advanced = normalize_key(key)
    if advanced:
        key = expand_ellipsis(key, t._data.ndim)
    split = split_ints(key, t._data.ndim) if advanced else None
    if split is not None:  # PyTorch's order (ints first): write into the view t[ints] at the rest of the key
        return _setitem_split(t, split, value)
    v_t = value if isinstance(value, Tensor) else None
    v = v_t._data if v_t is not None else value
    recording = autograd.is_grad_enabled() and (t._requires_grad or (v_t is not None and v_t._requires_grad))
    if recording and t._requires_grad and t._backward is None:
        check_writable(t, "setitem")  # a leaf that requires grad: refused, as in PyTorch
    check_not_read_only(t, "setitem", "written; write into a .clone() instead")
    if recording and t._data.base is not None and t._backward is None:
        raise GradError("setitem: writing a value that requires grad into a view (a slice or reshape of another "
                        "tensor) would not reach the base tensor's gradient; index the base tensor directly "
                        "(out[i, j] = v instead of out[i][j] = v).")
    if recording:
        check_unused(t, "setitem")
        check_not_a_graph_view(t, "setitem")
    target = t._data
    if recording and t._backward is not None and t._op != "CopySlices":
        target = target.copy()  # the earlier op's backward may still need the old values
    try:
        target[key] = v
    except IndexError as e:
        raise IndexError(f"setitem: {e}. Got shape={shape_str(t._data.shape)}.") from None
    except ValueError:
        raise ShapeError(f"setitem: the value cannot be broadcast to the indexed region. Got value shape "
                         f"{shape_str(np.shape(v))}, region shape {shape_str(t._data[key].shape)}.") from None
    if recording:
        _record_copy_slices(t, key, v_t, target)
    else:
        t._data = target


def _setitem_split(t, split, value):
    """setitem for a key whose ints PyTorch applies first (see split_ints)."""
    pre, rest = split
    try:
        region = t._data[pre]
    except IndexError as e:
        raise IndexError(f"setitem: {e}. Got shape={shape_str(t._data.shape)}.") from None
    v_t = value if isinstance(value, Tensor) else None
    recording = autograd.is_grad_enabled() and (t._requires_grad or (v_t is not None and v_t._requires_grad))
    if not recording:
        check_not_read_only(t, "setitem", "written; write into a .clone() instead")
        try:
            region[rest] = v_t._data if v_t is not None else value
        except IndexError as e:
            raise IndexError(f"setitem: {e}. Got shape={shape_str(t._data.shape)}.") from None
        except ValueError:
            raise ShapeError(f"setitem: the value cannot be broadcast to the indexed region. Got value shape "
                             f"{shape_str(np.shape(v_t._data if v_t is not None else value))}, region shape "
                             f"{shape_str(region[rest].shape)}.") from None
        return None
    # with a graph: the same write through one combined index array per dim of x (a plain NumPy key)
    return setitem(t, _combined_key(t._data.shape, pre, rest), value)


def _combined_key(shape, pre, rest):
    """One NumPy advanced key equal to x[pre][rest] as PyTorch orders it: the flat positions of the selected
    elements, unravelled per dim (a tuple of index arrays of the result's shape)."""
    pos = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    flat = pos[pre][rest]
    return np.unravel_index(flat, shape)


def _record_copy_slices(t, key, v_t, data):
    """Make t the output of `before with before[key] = value`, keeping t's identity (the user holds it)."""
    before = Tensor.__new__(Tensor)
    before._init(t._data)
    before._requires_grad, before._parents, before._backward, before._op = (t._requires_grad, t._parents,
                                                                           t._backward, t._op)
    parents = tuple(p for p in (before, v_t) if p is not None and p._requires_grad)

    # out = before outside key, value inside key: before gets g with the region zeroed, value gets g[key]
    def backward(g):
        grads = []
        if before._requires_grad:
            gb = g.copy()
            gb[key] = 0
            grads.append(gb)
        if v_t is not None and v_t._requires_grad:
            grads.append(unbroadcast(g[key], v_t._data.shape).astype(v_t._data.dtype, copy=False))
        return grads

    t._data, t._used = data, False
    t._requires_grad, t._parents, t._backward, t._op = True, parents, backward, "CopySlices"


def _check_index_dtype(op, idx):
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{op}: index must be an integer tensor. Got dtype={idx.dtype}.")


def _check_index_range(op, idx, n, dim):
    """Index values in [0, n) (no wrapping of negative values, as torch)."""
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexRangeError(f"{op}: index out of range for dim {dim} of size {n} (values must be in [0, {n})). "
                              f"Got index values in [{idx.min()}, {idx.max()}].")


def check_index_along(op, t, idx, axis, dim, src_shape=None):
    """torch's rules for the index of gather/scatter/scatter_add: integers, as many dims as input (and src),
    index.size(d) <= input.size(d) for d != dim and <= src.size(d) for every d, values in [0, input.size(dim))
    (no wrapping of negative values)."""
    _check_index_dtype(op, idx)
    names = f"input.shape={shape_str(t.shape)}, index.shape={shape_str(idx.shape)}"
    if src_shape is not None:
        names += f", src.shape={shape_str(src_shape)}"
    if idx.ndim != t.ndim or (src_shape is not None and len(src_shape) != t.ndim):
        raise ShapeError(f"{op}: index must have as many dims as input" + (" and src" if src_shape else "")
                         + f". Got {names}.")
    for d in range(t.ndim):
        if d != axis and idx.shape[d] > t.shape[d]:
            raise ShapeError(f"{op}: index.size({d}) must not exceed input.size({d}) outside dim. Got {names}, "
                             f"dim={dim}.")
        if src_shape is not None and idx.shape[d] > src_shape[d]:
            raise ShapeError(f"{op}: index.size({d}) must not exceed src.size({d}). Got {names}, dim={dim}.")
    _check_index_range(op, idx, t.shape[axis] if t.ndim else 1, dim)


def gather(input, dim, index):
    """out[i][j] = input[i][index[i][j]] along dim (index has input's number of dims). Matches torch.gather."""
    t = as_tensor_arg(input, "gather", "input")
    idx = as_tensor_arg(index, "gather", "index")._data
    axis = t._dim(dim, "gather")
    check_index_along("gather", t, idx, axis, dim)
    if t.ndim == 0:  # torch treats a 0-d input (and its 0-d index) as one element along dim 0
        return gather(t.reshape(1), 0, Tensor._wrap(idx.reshape(1))).reshape(())
    x = t._data
    key = along_axis_key(idx, axis)  # index.shape may be smaller than input.shape outside dim, as in torch
    out = x[key]

    # each output element came from x[key]; repeated indices add their gradients
    def backward(g):
        grad = np.zeros_like(x)
        np.add.at(grad, key, g)
        return (grad,)

    return Tensor._from_op(out, (t,), backward, "GatherBackward")


def along_axis_key(idx, axis):
    """A fancy-index tuple that addresses x[..., idx, ...] the way take_along_axis does."""
    grids = list(np.ogrid[tuple(slice(s) for s in idx.shape)])
    grids[axis] = idx
    return tuple(grids)


def check_index_select(op, t, idx, axis, dim):
    """torch's rules for index_select/index_add indices: a 0-d or 1-D integer tensor with values in
    [0, input.size(dim)) (negative values are refused, as torch does)."""
    _check_index_dtype(op, idx)
    if idx.ndim > 1:
        raise ShapeError(f"{op}: index must be a 0-d or 1-D tensor. Got index.shape={shape_str(idx.shape)}.")
    _check_index_range(op, idx, t.shape[axis] if t.ndim else 1, dim)


def index_select(input, dim, index):
    """The entries of input at the given indices along dim. Matches torch.index_select."""
    t = as_tensor_arg(input, "index_select", "input")
    axis = t._dim(dim, "index_select")
    idx = as_tensor_arg(index, "index_select", "index")._data
    check_index_select("index_select", t, idx, axis, dim)
    if t.ndim == 0:  # the one element (torch allows a single index on a 0-d input)
        return getitem(t.reshape(1), Tensor._wrap(idx.reshape(-1))).reshape(())
    out = getitem(t, (slice(None),) * axis + (Tensor._wrap(idx.reshape(-1)),))
    if out._backward is not None:
        out._op = "IndexSelectBackward0"
    return out


def scatter(input, dim, index, src=None, value=None, reduce=None):
    """A copy of input with values from src (a tensor or a number) written at index along dim:
    out[i][index[i][j]] = src[i][j] for dim=1. The gradient flows to input where nothing was written, and to
    src from where its values landed. Matches torch.scatter (without reduce).

    >>> import cnnlab
    >>> cnnlab.zeros(2, 3).scatter(1, cnnlab.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    t = as_tensor_arg(input, "scatter", "input")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise ArgumentError(f"scatter: reduce must be 'add' or 'multiply'. Got reduce={reduce!r}.")
    if src is None:
        src = value
    if isinstance(src, Tensor) and src._data.dtype != t._data.dtype:
        raise DTypeError(f"scatter: src must have input's dtype. Got input.dtype={t.dtype}, src.dtype={src.dtype}.")
    idx = as_tensor_arg(index, "scatter", "index")._data
    axis = t._dim(dim, "scatter")
    check_index_along("scatter", t, idx, axis, dim, src.shape if isinstance(src, Tensor) else None)
    if t.ndim == 0:  # one element along dim 0, as torch treats it
        src1 = src.reshape(1) if isinstance(src, Tensor) else src
        return scatter(t.reshape(1), 0, Tensor._wrap(idx.reshape(1)), src1, reduce=reduce).reshape(())
    src_t = src if isinstance(src, Tensor) else None
    key = along_axis_key(idx, axis)
    if reduce is not None:
        return _scatter_reduce_legacy(t, key, src_t, src, idx, reduce)
    out = t._data.copy()
    if src_t is not None:
        s = src_t._data[tuple(slice(0, n) for n in idx.shape)]  # (index.shape): the part of src that is used
        out[key] = s
    else:
        out[key] = src
    written = np.zeros(t.shape, dtype=bool)
    written[key] = True

    def backward(g):
        gi = np.where(written, 0, g).astype(g.dtype, copy=False) if t.requires_grad else None
        if src_t is None:
            return (gi,)
        gs = None
        if src_t.requires_grad:
            gs = np.zeros_like(src_t._data)
            gs[tuple(slice(0, n) for n in idx.shape)] = g[key]
        return gi, gs

    return Tensor._from_op(out, (t,) if src_t is None else (t, src_t), backward,
                           "ScatterBackward1" if src_t is None else "ScatterBackward0")


def _scatter_reduce_legacy(t, key, src_t, src, idx, reduce):
    """scatter(reduce='add'|'multiply'): src's values added into (multiplied into) input at key, repeated
    indices adding up (multiplying). torch has no derivative for it, so backward refuses, as torch's does."""
    out = t._data.copy()
    vals = src_t._data[tuple(slice(0, n) for n in idx.shape)] if src_t is not None else \
        np.full(idx.shape, src, dtype=out.dtype)
    (np.add if reduce == "add" else np.multiply).at(out, key, vals.astype(out.dtype, copy=False))

    def backward(g):
        raise GradError(f"scatter: the derivative of scatter with reduce is not implemented (as in torch; use "
                        f"scatter_add or scatter_reduce). Got reduce={reduce!r}.")

    parents = (t,) if src_t is None else (t, src_t)
    return Tensor._from_op(out, parents, backward, "ScatterBackward1" if src_t is None else "ScatterBackward0")


def masked_fill(input, mask, value):
    """Copy of input with value where mask is True. Matches torch.masked_fill."""
    t = as_tensor_arg(input, "masked_fill", "input")
    v = value.item() if isinstance(value, Tensor) else value
    out = where(mask, Tensor._wrap(np.asarray(v, dtype=t._data.dtype)), t)
    if out._backward is not None:
        out._op = "MaskedFillBackward0"
    return out
