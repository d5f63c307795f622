"""create_graph formulas of indexing: getitem (int, slice, None, Ellipsis, integer arrays, masks) and the ops made
from it (index_select, take, masked_select, narrow, select, split's pieces), gather/scatter/scatter_add/index_add,
scatter_reduce, masked_fill, setitem's CopySlices, and the ops that read back at their sort or running-extreme
indices (sort, topk, kthvalue, median, cummax, cummin).

Each gradient here is linear in the upstream gradient with indices fixed at forward time, so each is a linear_op
over two array maps that are adjoints of each other: the op's own backward (ctx.backward, or the scatter below
that several ops share) and a read at the same indices. Their own derivatives are the same pair swapped, so every
order follows. scatter_reduce's prod is the one gradient that depends on the values: it is written in cnnlab ops,
as PyTorch's (zeros handled the same way).
"""
import numpy as np

from ..autograd.engine import ScatterGrad
from ..autograd.graph import linear_op, register, sum_to
from ..errors import GradError
from ..ops.indexing import masked_fill
from ..ops.more_math import scatter_reduce


# the op PyTorch computes these gradients with, which names their nodes; others are named as PyTorch names a
# gradient's own node, SelectBackward0 -> SelectBackwardBackward0
_TORCH_NAMES = {"IndexBackward0": "IndexPutImplBackward0", "IndexSelectBackward0": "IndexAddBackward0",
                "GatherBackward": "ScatterAddBackward0", "SplitBackward0": "CatBackward0",
                "SplitWithSizesBackward0": "CatBackward0", "RepeatBackward": "SumBackward1",
                "CummaxBackward0": "ScatterAddBackward0", "CumminBackward0": "ScatterAddBackward0",
                "SortBackward": "ScatterBackward0", "TopkBackward": "ScatterBackward0",
                "KthvalueBackward0": "ScatterBackward0", "MedianBackward1": "ScatterBackward0",
                "NanmedianBackward1": "ScatterBackward0", "MaskedFillBackward0": "MaskedFillBackward0",
                "AsStridedBackward0": "AsStridedBackward0"}


def _name(op):
    return _TORCH_NAMES.get(op) or op.rstrip("0123456789") + "Backward0"


def linear(ctx, grad, apply, adjoint):
    """grad -> apply(grad) as a differentiable op whose backward is adjoint (ctx names both nodes)."""
    return linear_op(_name(ctx.op), apply, adjoint, grad, adjoint_name=ctx.op)


def from_closure(ctx, k=0):
    """The k-th gradient of the node's own array backward as a function of the upstream gradient (dense)."""
    def apply(a):
        pg = ctx.backward(a)[k]
        return pg.dense() if type(pg) is ScatterGrad else pg
    return apply


def bound_defaults(fn):
    """The default values of fn's parameters, by name (loop variables a closure binds as `index=index`)."""
    code, defaults = fn.__code__, fn.__defaults__ or ()
    names = code.co_varnames[code.co_argcount - len(defaults):code.co_argcount]
    return dict(zip(names, defaults))


def _copy(a):
    return np.array(a)  # a fresh array: an indexed read may be a view or a NumPy scalar


# ---- getitem and the ops recorded as it ----------------------------------------------------------------------
def key_scatter(shape, key, pre=None, repeats=False):
    """(put, read): put(values) is a zero array of shape with values added at key (after the basic key pre, with
    repeated indices adding up when repeats), read(a) = a[pre][key]; each is the other's adjoint."""
    def put(values):
        return ScatterGrad(shape, values.dtype, key, values, repeats=repeats, pre=pre).dense()

    def read(a):
        return _copy(a[key] if pre is None else a[pre][key])
    return put, read


@register("IndexBackward0")
@register("SelectBackward0")
@register("SliceBackward0")
@register("AliasBackward0")
@register("UnsqueezeBackward0")
@register("IndexSelectBackward0")
@register("SplitBackward0")
@register("SplitWithSizesBackward0")
def _getitem(ctx, grad):
    s = ctx.saved
    if "key" in s:  # getitem: x[key] or x[pre][key]
        put, read = key_scatter(s["x"].shape, s["key"], s["pre"], s["advanced"] and not s["masks_only"])
    elif "t" in s:  # a piece of split/chunk: t[index], index bound as the closure's default argument
        put, read = key_scatter(s["t"]._data.shape, bound_defaults(ctx.backward)["index"])
    else:
        return NotImplemented  # unsqueeze recorded as a reshape: shape.py's formula
    return (linear(ctx, grad, put, read),)


# ---- gather, scatter, scatter_add, index_add: one scatter/read pair along a dim ------------------------------
def along_dim(shape, src_shape, key, part):
    """(read, spread) for an index along a dim: read(a) is src-shaped, a[key] placed at part (zeros elsewhere);
    spread(b) adds b[part] into a zero array of shape at key (repeats add up). Adjoints of each other."""
    def read(a):
        out = np.zeros(src_shape, a.dtype)
        out[part] = a[key]
        return out

    def spread(b):
        out = np.zeros(shape, b.dtype)
        np.add.at(out, key, b[part])
        return out
    return read, spread


def _full(shape):
    return tuple(slice(0, n) for n in shape)


@register("GatherBackward")
def _gather(ctx, grad):
    s = ctx.saved
    key = s["key"]
    read, spread = along_dim(s["x"].shape, grad.shape, key, _full(grad.shape))
    return (linear(ctx, grad, spread, read),)


def _scattered_src(ctx, grad, src, key, part):
    """src's gradient: grad read back at the positions src's values went to."""
    read, spread = along_dim(grad.shape, src.shape, key, part)
    return linear(ctx, grad, read, spread)


def _outside(ctx, grad, written):
    """grad where nothing was written (zero where something was): diagonal, so self-adjoint."""
    def keep(a):
        return np.where(written, 0, a).astype(a.dtype, copy=False)
    return linear(ctx, grad, keep, keep)


@register("ScatterBackward0")
@register("ScatterBackward1")
def _scatter(ctx, grad):
    s = ctx.saved
    if "written" not in s:  # scatter(reduce=...) has no derivative: its first-order backward raises, as torch's
        ctx.backward(grad._data)
        return NotImplemented
    t, src_t, key = s["t"], s["src_t"], s["key"]
    gi = _outside(ctx, grad, s["written"]) if t._requires_grad else None
    if src_t is None:
        return (gi,)
    gs = _scattered_src(ctx, grad, src_t, key, _full(s["idx"].shape)) if src_t._requires_grad else None
    return gi, gs


@register("ScatterAddBackward0")
def _scatter_add(ctx, grad):
    s = ctx.saved
    t, src = s["t"], s["s"]
    gs = _scattered_src(ctx, grad, src, s["key"], s["part"]) if src._requires_grad else None
    return (grad if t._requires_grad else None), gs


# ---- scatter_reduce ------------------------------------------------------------------------------------------
@register("ScatterReduceBackward0")
def _scatter_reduce(ctx, grad):
    s = ctx.saved
    reduce, include_self, key, idx = s["reduce"], s["include_self"], s["key"], s["idx"]
    if reduce == "prod":
        return _scatter_prod(ctx, grad)
    x, src, hit = s["x"], s["s"], s["hit"]
    part = _full(idx.shape)
    own = ~hit | include_self  # where input's own value took part
    if reduce in ("sum", "mean"):
        scale = (1 / np.maximum(s["count"] + (1 if include_self else 0), 1)).astype(x.dtype) if reduce == "mean" \
            else None
        keep_x, keep_src = own, None
    else:  # amax/amin: the gradient shared evenly by the tied values (input's own counted as the first order does)
        out = ctx.output._data
        ties = np.where(x == out, 1, 0)
        np.add.at(ties, key, (s["vals"] == out[key]).astype(np.int64))
        scale = (1 / np.maximum(ties, 1)).astype(x.dtype)
        keep_x, keep_src = own & (x == out), s["vals"] == out[key]
    read, spread = along_dim(x.shape, src.shape, key, part)

    def to_input(a):
        return np.where(keep_x, a * scale if scale is not None else a, 0).astype(a.dtype, copy=False)

    def to_src(a):
        b = read(a * scale if scale is not None else a)
        if keep_src is not None:
            b[part] = np.where(keep_src, b[part], 0)
        return b

    def from_src(b):
        if keep_src is not None:
            b = b.copy()
            b[part] = np.where(keep_src, b[part], 0)
        c = spread(b)
        return c * scale if scale is not None else c

    t_in, s_in = ctx.inputs
    gi = linear(ctx, grad, to_input, to_input) if t_in._requires_grad else None
    gs = linear(ctx, grad, to_src, from_src) if s_in._requires_grad else None
    return gi, gs


def _scatter_prod(ctx, grad):
    """PyTorch's rule: input's gradient is grad times the product of the others, computed by reducing into the
    input with its zeros replaced by 1; a src value that is the only zero reaching its place gets grad times
    the product of the others the same way; any other src value gets grad * result / src."""
    s = ctx.saved
    x_t, s_t = ctx.inputs
    idx, include_self, key = s["idx"], s["include_self"], s["key"]
    dim = next(d for d, k in enumerate(key) if k is idx)  # the along-dim key holds idx itself at dim
    part = _full(idx.shape)
    result = ctx.output
    gi = gs = None
    if x_t._requires_grad:
        masked_x = masked_fill(x_t, x_t._data == 0, 1.0)
        gi = grad * scatter_reduce(masked_x, dim, idx, s_t, "prod", include_self=include_self) / masked_x
        if not include_self:
            gi = masked_fill(gi, s["hit"], 0.0)
    if s_t._requires_grad:
        read, spread = along_dim(x_t.shape, s_t.shape, key, part)
        src_zero = s_t._data == 0
        zeros_at = spread(src_zero.astype(np.float64))  # zeros of src reaching each place
        single = src_zero & (read(zeros_at) == 1)
        masked_src = masked_fill(s_t, single, 1.0)
        others = scatter_reduce(x_t, dim, idx, masked_src, "prod", include_self=include_self)
        to_src = linear(ctx, grad * others, read, spread)
        plain = linear(ctx, grad * result, read, spread) / masked_fill(s_t, src_zero, 1.0)
        gs = masked_fill(to_src, ~single, 0.0) + masked_fill(plain, single, 0.0)
        if (zeros_at > 1).any():  # as PyTorch: refused when differentiated again
            gs = linear_op("ScatterReduceBackwardBackward0", np.copy, _two_zeros, gs)
    return gi, gs


def _two_zeros(g):
    raise GradError("scatter_reduce: double backward is unsupported for src when more than one zero in src is "
                    "scattered to the same position in input (as in PyTorch).")


# ---- masked_fill (recorded as a where), setitem ----------------------------------------------------------------
@register("MaskedFillBackward0")
def _masked_fill(ctx, grad):
    s = ctx.saved
    cond = s["cond"]
    out = []
    for p in ctx.inputs:
        keep = cond if p is s["ta"] else ~cond

        def mask(a, keep=keep):
            return np.where(keep, a, 0).astype(a.dtype, copy=False)
        out.append(sum_to(linear(ctx, grad, mask, mask), p.shape) if p._requires_grad else None)
    return tuple(out)


@register("CopySlices")
def _copy_slices(ctx, grad):
    s = ctx.saved
    key, before, value = s["key"], s["before"], s["v_t"]
    out = []
    for p in ctx.inputs:
        if not p._requires_grad:
            out.append(None)
        elif p is before:  # the old value: grad with the written region zeroed (self-adjoint)
            def clear(a):
                a = a.copy()
                a[key] = 0
                return a
            out.append(linear(ctx, grad, clear, clear))
        else:  # the written value: grad read at the region, summed down to the value's shape
            parts = key if isinstance(key, tuple) else (key,)
            put, read = key_scatter(grad.shape, key, repeats=any(isinstance(k, np.ndarray) for k in parts))
            out.append(sum_to(linear(ctx, grad, read, put), value.shape))
    return tuple(out)


# ---- sort, topk, kthvalue, median, cummax, cummin: values read back at their indices --------------------------
@register("SortBackward")
@register("TopkBackward")
@register("KthvalueBackward0")
@register("MedianBackward1")
@register("NanmedianBackward1")
def _sorted_values(ctx, grad):
    s = ctx.saved
    if "idx" not in s:
        if "x" in s:
            return NotImplemented  # the keepdim=False squeeze, recorded as a reshape: shape.py's formula
        return (grad,)  # a 0-d input: the value is the input
    idx, axis = s["idx"], s["axis"]
    return (linear(ctx, grad, from_closure(ctx), lambda b: np.take_along_axis(b, idx, axis)),)


@register("CummaxBackward0")
@register("CumminBackward0")
def _cum_extreme(ctx, grad):
    s = ctx.saved
    idx, axis, x = s["idx"], s["axis"], s["x"]
    shape = tuple(grad.shape)
    return (linear(ctx, grad, from_closure(ctx),
                   lambda b: np.take_along_axis(b.reshape(x.shape), idx, axis).reshape(shape)),)


@register("MedianBackward0")
@register("NanmedianBackward0")
def _median_all(ctx, grad):
    s = ctx.saved
    t, value = s["t"], s["value"]
    hit = np.isnan(t._data) if np.isnan(value) else t._data == value

    def share(b):  # the adjoint of spreading g evenly over the hits: their mean
        return np.asarray(np.where(hit, b, 0).sum() / hit.sum(), dtype=b.dtype)
    return (linear(ctx, grad, from_closure(ctx), share),)
