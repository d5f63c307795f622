"""Ops PyTorch tutorials use that are built from the core ones (so their gradients come from those): fused
multiply-adds (addcmul, addcdiv, lerp, addmm), selections (masked_select, narrow, select, take), NaN-aware sums,
scatter_add/index_add, diff, cdist and multinomial. The rearrangements (movedim, tile, repeat_interleave, hstack,
...) live in ops/arrange.py and are re-exported here."""
import numpy as np

from .. import _dtypes
from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor
from . import elementwise as E, indexing as I, reduction as R, shape as S
from ._operands import as_tensor_arg, quiet
from .arrange import (atleast_1d, atleast_2d, broadcast_tensors, broadcast_to, column_stack, hstack,  # noqa: F401
                      movedim, repeat_interleave, tile, unflatten, vstack)


def addcmul(input, tensor1, tensor2, value=1):
    """input + value * tensor1 * tensor2. Matches torch.addcmul.

    >>> import cnnlab
    >>> cnnlab.addcmul(cnnlab.tensor([1.0, 1.0]), cnnlab.tensor([2.0, 3.0]), cnnlab.tensor([4.0, 5.0]), value=0.5)
    tensor([5.0000, 8.5000])
    """
    return E.add(input, E.mul(E.mul(tensor1, tensor2), value))


def addcdiv(input, tensor1, tensor2, value=1):
    """input + value * tensor1 / tensor2. Matches torch.addcdiv.

    >>> import cnnlab
    >>> cnnlab.addcdiv(cnnlab.tensor([1.0, 1.0]), cnnlab.tensor([2.0, 3.0]), cnnlab.tensor([4.0, 6.0]), value=2)
    tensor([2., 2.])
    """
    return E.add(input, E.mul(E.div(tensor1, tensor2), value))


def lerp(input, end, weight):
    """input + weight * (end - input). Matches torch.lerp.

    >>> import cnnlab
    >>> cnnlab.lerp(cnnlab.tensor([0.0, 10.0]), cnnlab.tensor([4.0, 20.0]), 0.25)
    tensor([ 1.0000, 12.5000])
    """
    return E.add(input, E.mul(E.sub(end, input), weight))


def addmm(input, mat1, mat2, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2). Matches torch.addmm.

    >>> import cnnlab
    >>> cnnlab.addmm(cnnlab.ones(2, 2), cnnlab.eye(2), cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]]), beta=0.5)
    tensor([[1.5000, 2.5000],
            [3.5000, 4.5000]])
    """
    prod = E.matmul(mat1, mat2)
    return E.add(E.mul(input, beta) if beta != 1 else input, E.mul(prod, alpha) if alpha != 1 else prod)


def mv(input, vec):
    """Matrix-vector product. Matches torch.mv.

    >>> import cnnlab
    >>> cnnlab.mv(cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]]), cnnlab.tensor([1.0, -1.0]))
    tensor([-1., -1.])
    """
    a, v = as_tensor_arg(input, "mv", "input"), as_tensor_arg(vec, "mv", "vec")
    if a.ndim != 2 or v.ndim != 1:
        raise ShapeError(f"mv: expects a 2-D matrix and a 1-D vector. Got input.shape={shape_str(a.shape)}, "
                         f"vec.shape={shape_str(v.shape)}.")
    return E.matmul(a, v)


def masked_select(input, mask):
    """The elements of input where mask (broadcast together) is True, as a 1-D tensor. Matches torch.masked_select.

    >>> import cnnlab
    >>> x = cnnlab.tensor([[1, 2], [3, 4]])
    >>> cnnlab.masked_select(x, x > 2)
    tensor([3, 4])
    """
    t, m = as_tensor_arg(input, "masked_select", "input"), as_tensor_arg(mask, "masked_select", "mask")
    if m._data.dtype != np.bool_:
        raise DTypeError(f"masked_select: mask must be a bool tensor. Got dtype={m.dtype}.")
    try:
        shape = np.broadcast_shapes(t.shape, m.shape)
    except ValueError:
        raise ShapeError(f"masked_select: input and mask cannot be broadcast together. Got shapes "
                         f"{shape_str(t.shape)} and {shape_str(m.shape)}.") from None
    x = S.expand(t, shape) if tuple(t.shape) != shape else t
    return I.getitem(x, Tensor._wrap(np.broadcast_to(m._data, shape)))


def narrow(input, dim, start, length):
    """The slice start:start+length along dim (a view). Matches torch.narrow.

    >>> import cnnlab
    >>> cnnlab.arange(6).narrow(0, 1, 3)
    tensor([1, 2, 3])
    """
    t = as_tensor_arg(input, "narrow", "input")
    axis = t._dim(dim, "narrow")
    n = t.shape[axis]
    start = int(start) + (n if int(start) < 0 else 0)
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise IndexError(f"narrow: start and length must select a range inside the dim. Got start={start}, "
                         f"length={length}, dim={dim}, size={n}.")
    return I.getitem(t, (slice(None),) * axis + (slice(start, start + length),))


def select(input, dim, index):
    """input[..., index, ...] at dim (the dim removed). Matches torch.select.

    >>> import cnnlab
    >>> cnnlab.arange(6).reshape(2, 3).select(1, -1)
    tensor([2, 5])
    """
    t = as_tensor_arg(input, "select", "input")
    axis = t._dim(dim, "select")
    n = t.shape[axis]
    if not -n <= index < n:
        raise IndexError(f"select: index out of range. Got index={index}, dim={dim}, size={n}.")
    return I.getitem(t, (slice(None),) * axis + (int(index),))


def take(input, index):
    """Elements of the flattened input at the given indices, in index's shape (negative indices count from
    the end). Matches torch.take.

    >>> import cnnlab
    >>> cnnlab.tensor([[1, 2], [3, 4]]).take(cnnlab.tensor([0, -1]))
    tensor([1, 4])
    """
    t = as_tensor_arg(input, "take", "input")
    idx = as_tensor_arg(index, "take", "index")
    if idx._data.dtype.kind not in "iu":
        raise DTypeError(f"take: index must be an integer tensor. Got dtype={idx._data.dtype}.")
    n = t._data.size
    if idx._data.size and (idx._data.min() < -n or idx._data.max() >= n):
        raise IndexError(f"take: index out of range for a tensor of {n} elements (values must be in [-{n}, {n})). "
                         f"Got index values in [{idx._data.min()}, {idx._data.max()}], input.shape="
                         f"{shape_str(t.shape)}.")
    return I.getitem(S.reshape(t, -1), idx)


def nansum(input, dim=None, keepdim=False):
    """Sum treating NaN as 0 (NaN positions get no gradient). Matches torch.nansum.

    >>> import cnnlab
    >>> cnnlab.tensor([1.0, float("nan"), 2.0]).nansum()
    tensor(3.)
    """
    t = as_tensor_arg(input, "nansum", "input")
    return R.sum(E.where(E.isnan(t), Tensor._wrap(np.zeros((), t._data.dtype)), t), dim, keepdim)


def nanmean(input, dim=None, keepdim=False):
    """Mean over the non-NaN elements. Matches torch.nanmean.

    >>> import cnnlab
    >>> cnnlab.tensor([1.0, float("nan"), 2.0]).nanmean()
    tensor(1.5000)
    """
    t = as_tensor_arg(input, "nanmean", "input")
    count = R.sum(E.logical_not(E.isnan(t)), dim, keepdim)
    return E.div(nansum(t, dim, keepdim), count.to(t.dtype))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by nan, posinf and neginf (by default the dtype's largest and smallest
    values); the gradient passes where the input was finite. Matches torch.nan_to_num.

    >>> import cnnlab
    >>> cnnlab.nan_to_num(cnnlab.tensor([float("nan"), float("inf"), -1.0]), posinf=9.0)
    tensor([ 0.,  9., -1.])
    """
    t = as_tensor_arg(input, "nan_to_num", "input")
    if t._data.dtype.kind != "f":
        return t.clone()
    info = np.finfo(t._data.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    x = t._data
    fill = np.where(np.isnan(x), nan, np.where(x > 0, hi, lo)).astype(x.dtype)
    return E.where(E.isfinite(t), t, Tensor._wrap(fill))


def scatter_add(input, dim, index, src):
    """A copy of input with src's values added at index along dim (repeated indices add up). Matches
    torch.scatter_add.

    >>> import cnnlab
    >>> cnnlab.zeros(3).scatter_add(0, cnnlab.tensor([0, 0, 2]), cnnlab.tensor([1.0, 2.0, 3.0]))
    tensor([3., 0., 3.])
    """
    t = as_tensor_arg(input, "scatter_add", "input")
    s = as_tensor_arg(src, "scatter_add", "src")
    idx = as_tensor_arg(index, "scatter_add", "index")._data
    axis = t._dim(dim, "scatter_add")
    I.check_index_along("scatter_add", t, idx, axis, dim, s.shape)
    return _scatter_add(t, axis, idx, s)


def _scatter_add(t, axis, idx, s):
    """scatter_add after its checks: t (Tensor) + s (Tensor) scattered at idx (ndarray) along axis."""
    key = I._along_axis_key(idx, axis)
    part = tuple(slice(0, n) for n in idx.shape)  # the part of src that is used
    dt = _dtypes.promote_arrays([t._data, s._data])
    out = t._data.astype(dt, copy=True)
    np.add.at(out, key, s._data[part])

    # out = input + (src scattered): input gets g, src gets g read back at the same positions
    @quiet
    def backward(g):
        gs = None
        if s._requires_grad:
            gs = np.zeros(s._data.shape, g.dtype)
            gs[part] = g[key]
        return (g if t._requires_grad else None), gs

    return Tensor._from_op(out, (t, s), backward, "ScatterAddBackward0")


def index_add(input, dim, index, source, alpha=1):
    """A copy of input with alpha * source's slices added at the indices along dim (repeated indices add up):
    source has input's shape except source.shape[dim] == len(index). Matches torch.index_add.

    >>> import cnnlab
    >>> cnnlab.zeros(3, 2).index_add(0, cnnlab.tensor([2, 0, 2]), cnnlab.ones(3, 2))
    tensor([[1., 1.],
            [0., 0.],
            [2., 2.]])
    """
    t = as_tensor_arg(input, "index_add", "input")
    src = as_tensor_arg(source, "index_add", "source")
    idx = as_tensor_arg(index, "index_add", "index")._data
    axis = t._dim(dim, "index_add")
    I.check_index_select("index_add", t, idx, axis, dim)
    idx = idx.reshape(-1)
    want = tuple(len(idx) if d == axis else n for d, n in enumerate(t.shape)) if t.ndim else (len(idx),)
    if (src.shape if src.ndim else (1,)) != want and not (t.ndim == 0 and src.ndim == 0 and len(idx) == 1):
        raise ShapeError(f"index_add: source must have input's shape except source.shape[dim] == len(index). "
                         f"Got input.shape={shape_str(t.shape)}, source.shape={shape_str(src.shape)}, "
                         f"len(index)={len(idx)}, dim={dim}.")
    shape = list(src.shape) if src.ndim else [1]
    full = np.broadcast_to(idx.reshape([-1 if i == axis else 1 for i in range(t.ndim)]), shape)
    return _scatter_add(t, axis, np.ascontiguousarray(full), E.mul(src, alpha) if alpha != 1 else src)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along dim, out[i] = x[i+1] - x[i], after prepend and append (tensors with
    input's shape except along dim) are joined to input's ends; they get gradients too. Matches torch.diff.

    >>> import cnnlab
    >>> cnnlab.diff(cnnlab.tensor([1.0, 3.0, 6.0]), prepend=cnnlab.tensor([0.0]), append=cnnlab.tensor([10.0]))
    tensor([1., 2., 3., 4.])
    """
    t = as_tensor_arg(input, "diff", "input")
    if t.ndim == 0:
        raise ShapeError("diff: input must have at least one dim. Got shape=().")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ShapeError(f"diff: n (the order) must be a non-negative int. Got n={n!r}.")
    axis = t._dim(dim, "diff")
    if n == 0:
        return t.clone()  # as torch: a copy of the input, prepend and append unused
    parts = []
    for name, extra in (("prepend", prepend), (None, t), ("append", append)):
        if extra is None:
            continue
        if name is not None:
            if not isinstance(extra, Tensor):
                raise TypeError(f"diff: {name} must be a tensor. Got {type(extra).__name__}.")
            if extra.ndim != t.ndim or any(a != b for d, (a, b) in enumerate(zip(extra.shape, t.shape)) if d != axis):
                raise ShapeError(f"diff: {name} must have input's shape except along dim. Got input.shape="
                                 f"{shape_str(t.shape)}, {name}.shape={shape_str(extra.shape)}, dim={dim}.")
        parts.append(extra)
    if len(parts) > 1:
        t = S.cat(parts, axis)
    for _ in range(n):
        k = t.shape[axis]
        t = E.sub(narrow(t, axis, 1, max(k - 1, 0)), narrow(t, axis, 0, max(k - 1, 0)))
    return t


def cdist(x1, x2, p=2.0):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and of x2 (..., R, M): (..., P, R); the
    gradient at a zero distance is 0. Matches torch.cdist.

    >>> import cnnlab
    >>> cnnlab.cdist(cnnlab.tensor([[0.0, 0.0]]), cnnlab.tensor([[3.0, 4.0], [0.0, 1.0]]))
    tensor([[5., 1.]])
    """
    from .products import norm
    a, b = as_tensor_arg(x1, "cdist", "x1"), as_tensor_arg(x2, "cdist", "x2")
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"cdist: x1 and x2 must be (..., P, M) and (..., R, M) with the same M. Got "
                         f"x1.shape={shape_str(a.shape)}, x2.shape={shape_str(b.shape)}.")
    d = E.sub(S.unsqueeze(a, -2), S.unsqueeze(b, -3))  # (..., P, R, M)
    return norm(d, p, -1)


def multinomial(input, num_samples, replacement=False, generator=None):
    """Draw num_samples category indices per row of non-negative weights (rows normalised), without
    replacement unless replacement=True; int64, (num_samples,) or (rows, num_samples). Uses cnnlab's generator
    (the same seed gives the same draws, not PyTorch's draws). Matches torch.multinomial in distribution.

    >>> import cnnlab
    >>> _ = cnnlab.manual_seed(0)
    >>> cnnlab.multinomial(cnnlab.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])
    """
    from ..random import rng
    t = as_tensor_arg(input, "multinomial", "input")
    w = t._data.astype(np.float64)
    if t.ndim not in (1, 2) or w.shape[-1] == 0:
        raise ShapeError(f"multinomial: input must be a 1-D or 2-D tensor of weights. Got "
                         f"shape={shape_str(t.shape)}.")
    rows = w.reshape(-1, w.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(1) <= 0).any():
        raise ShapeError(f"multinomial: weights must be finite, non-negative, with a positive sum in every row. "
                         f"Got min weight {rows.min()}, smallest row sum {rows.sum(1).min()}, "
                         f"{int((~np.isfinite(rows)).sum())} non-finite weight(s).")
    if not replacement and num_samples > rows.shape[1]:
        raise ShapeError(f"multinomial: cannot draw more samples than categories without replacement. Got "
                         f"num_samples={num_samples}, categories={rows.shape[1]}.")
    g = rng(generator)
    if replacement:
        out = np.stack([g.choice(rows.shape[1], num_samples, replace=True, p=r / r.sum()) for r in rows])
    else:  # weighted sampling without replacement: the largest keys u ** (1 / w); zero weights come last, as torch
        u = g.random(rows.shape)
        with np.errstate(divide="ignore"):
            keys = np.where(rows > 0, u ** (1.0 / np.where(rows > 0, rows, 1.0)), -u)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    return Tensor._wrap(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))
