"""create_graph formulas of the shape ops (cnnlab/ops/shape.py, matrix.py's layout ops, strided.py): permute,
transpose, t, squeeze/unsqueeze/unbind and the other ops recorded as a reshape under PyTorch's name, repeat, flip,
roll, rot90, cat, stack, contiguous, diagonal, diag (both directions), Tensor.unfold and as_strided.

A layout op's gradient is the inverse layout (permute by the inverse order, roll back, rotate back, reshape to
the input's shape, split what cat joined, unbind what stack joined): the formula calls the op itself, whose
formula is in turn this file's, so every order follows. Where the gradient is a scatter with fixed geometry
(repeat's sum of copies, diagonal, unfold's overlapping windows, as_strided's shared storage), it is a linear_op
over the op's own array backward and its forward read.
"""
import numpy as np

from ..autograd.graph import register
from ..ops import matrix as M, shape as S
from .indexing import from_closure, linear


def _recorded_as(ctx, *ops):
    """Whether the node's backward closure was defined by one of ops (several ops record the same name)."""
    return getattr(ctx.backward, "__qualname__", "").split(".")[0] in ops


# ---- ops recorded as a reshape under their own name ------------------------------------------------------------
@register("TBackward0")
@register("SqueezeBackward0")
@register("SqueezeBackward1")
@register("SqueezeBackward2")
@register("UnsqueezeBackward0")
@register("UnbindBackward0")
@register("KthvalueBackward0")
@register("MedianBackward1")
@register("NanmedianBackward1")
def _reshaped(ctx, grad):
    if not _recorded_as(ctx, "reshape", "view"):
        return NotImplemented  # transpose's t(), getitem's None, the sort family's gather: their own formulas
    return (S.reshape(grad, ctx.inputs[0].shape),)


@register("CloneBackward0")
def _contiguous(ctx, grad):
    return (grad,)


# ---- layout ops: the gradient is the inverse layout, done by the op itself -------------------------------------
@register("PermuteBackward")
def _permute(ctx, grad):
    return (S.permute(grad, ctx.saved["inverse"]),)


@register("TransposeBackward")
@register("TBackward0")
def _transpose(ctx, grad):
    s = ctx.saved
    if "a" not in s:
        return NotImplemented  # t() of a 1-D tensor: a reshape
    return (S.t(grad) if ctx.op == "TBackward0" else S.transpose(grad, s["a"], s["b"]),)


@register("FlipBackward")
def _flip(ctx, grad):
    return (S.flip(grad, ctx.saved["axes"]),)


@register("RollBackward")
def _roll(ctx, grad):
    s = ctx.saved
    return (S.roll(grad, tuple(-k for k in s["shifts_t"]), s["axes"]),)


@register("Rot90Backward0")
def _rot90(ctx, grad):
    s = ctx.saved
    return (M.rot90(grad, -s["k"], (s["d0"], s["d1"])),)


@register("CatBackward")
def _cat(ctx, grad):
    sizes = [p.shape[ctx.saved["axis"]] for p in ctx.inputs]
    pieces = S.split(grad, sizes, ctx.saved["axis"])
    return tuple(g if p._requires_grad else None for g, p in zip(pieces, ctx.inputs))


@register("StackBackward")
def _stack(ctx, grad):
    pieces = S.unbind(grad, ctx.saved["axis"])
    return tuple(g if p._requires_grad else None for g, p in zip(pieces, ctx.inputs))


# ---- scatters with fixed geometry: the op's array backward and its forward read ---------------------------------
@register("RepeatBackward")
def _repeat(ctx, grad):
    s = ctx.saved
    reps, shape = s["reps"], s["shape"]
    return (linear(ctx, grad, from_closure(ctx), lambda b: np.tile(b.reshape(shape), reps)),)


@register("DiagonalBackward0")
def _diagonal(ctx, grad):
    s = ctx.saved
    d1, d2, i, j = s["d1"], s["d2"], s["i"], s["j"]
    return (linear(ctx, grad, from_closure(ctx), lambda b: np.moveaxis(b, (d1, d2), (-2, -1))[..., i, j]),)


@register("DiagEmbedBackward0")
def _diag_embed(ctx, grad):
    s = ctx.saved
    i, j, shape = s["i"], s["j"], tuple(grad.shape)

    def embed(b):  # the forward: b on the (i, j) diagonal of a zero matrix
        out = np.zeros(shape, b.dtype)
        out[i, j] = b
        return out
    return (linear(ctx, grad, from_closure(ctx), embed),)


@register("DiagonalBackward0_copy")
def _diagonal_copy(ctx, grad):
    return (grad,)


@register("UnfoldBackward0")
def _unfold(ctx, grad):
    s = ctx.saved
    x, d, shape, step = s["x"], s["d"], s["shape"], s["step"]
    out_shape = tuple(grad.shape)

    def windows(b):  # the forward's strided read, on b
        b = np.ascontiguousarray(b).reshape(x.shape)
        st = b.strides
        view = np.lib.stride_tricks.as_strided(b, shape, st[:d] + (step * st[d],) + st[d + 1:] + (st[d],))
        return view.reshape(out_shape)
    return (linear(ctx, grad, from_closure(ctx), windows),)


@register("AsStridedBackward0")
def _as_strided(ctx, grad):
    s = ctx.saved
    n, offset, own = s["flat"].size, s["offset"], s["own"]
    index = np.arange(n, dtype=np.int64)
    item = index.itemsize
    at_input = np.lib.stride_tricks.as_strided(index[own:], s["x"].shape, tuple(k * item for k in s["own_strides"]))
    at_output = np.lib.stride_tricks.as_strided(index[min(offset, n):], s["size"], tuple(k * item for k in s["stride"]))

    def read(b):  # input's values placed in their storage (shared places add up), read where the view looks
        storage = np.zeros(n, b.dtype)
        np.add.at(storage, at_input, b)
        return storage[at_output]
    return (linear(ctx, grad, from_closure(ctx), read),)
