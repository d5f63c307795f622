"""create_graph formulas of the ops that move elements of an image around: F.pad (every mode), F.unfold/F.fold,
pixel_shuffle/pixel_unshuffle and channel_shuffle.

Each gradient is a linear map with fixed geometry. pad and unfold/fold use linear_op with the op's own array code
(pad's index maps, im2col/col2im) as the map and its adjoint; the shuffles are permutations whose inverse is the
other public op (pixel_shuffle <-> pixel_unshuffle, channel_shuffle by C / groups), as in PyTorch.
"""
import numpy as np

from ..autograd.graph import linear_op, register
from ..kernels.im2col import col2im, im2col
from ..nn.functional.channel_shuffle import channel_shuffle
from ..nn.functional.padding import fold_dim
from ..nn.functional.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from .pooling import twice, zero_grads


# ---- pad --------------------------------------------------------------------------------------------------------

def _constant_pad(ctx, grad):
    """out[dst] = x[src], the fill elsewhere: the gradient reads g[dst] into x[src]."""
    s = ctx.saved
    src, dst, x_shape = s["src"], s["dst"], s["x"].shape

    def crop(a):
        gx = np.zeros(x_shape, a.dtype)
        gx[src] = a[dst]
        return gx

    def embed(b):
        out = np.zeros(tuple(grad.shape), b.dtype)
        out[dst] = b[src]
        return out

    return (linear_op(twice(ctx.op), crop, embed, grad),)


def _index_pad(ctx, grad):
    """reflect/replicate/circular: out = x indexed by one index map per padded dim (rebuilt from the op's runs);
    the gradient folds each dim back (the op's fold_dim)."""
    plans = ctx.saved["plans"]
    maps = []
    for dim, _, runs in plans:
        idx = np.empty(runs[-1][1], np.int64)
        for o0, o1, i0, step in runs:
            idx[o0:o1] = i0 + step * np.arange(o1 - o0)
        maps.append((dim, idx))

    def fold(a):
        for dim, size, runs in plans:
            a = fold_dim(a, dim, size, runs)
        return a

    def index(b):
        for dim, idx in maps:
            b = np.take(b, idx, axis=dim)
        return b

    return (linear_op(twice(ctx.op), fold, index, grad),)


def _pad(ctx, grad):
    s = ctx.saved
    if "plans" in s:
        return _index_pad(ctx, grad)
    if "src" in s and "dst" in s:
        return _constant_pad(ctx, grad)
    return zero_grads(ctx)  # an empty input or result: the gradient is zero


register("ConstantPadNdBackward")(_pad)
register("torch::autograd::CopySlices")(_pad)  # PyTorch's name for the circular pad's node
for _n in (1, 2, 3):
    register(f"ReflectionPad{_n}DBackward0")(_pad)
    register(f"ReplicationPad{_n}DBackward0")(_pad)


# ---- unfold / fold: adjoints of each other -----------------------------------------------------------------------

def _im2col_pair(x_shape, k, s, pads, d, unbatched):
    """(to_cols, to_image): unfold's array map from (N, C, *S) (or unbatched (C, *S)) to (N, C*K, L), and fold's,
    its adjoint."""
    N, C = x_shape[:2]
    CK = C * int(np.prod(k))

    def to_cols(a):
        cols = im2col(a[None] if unbatched else a, k, s, pads, d).reshape(N, CK, -1)  # (N, C*K, L)
        return np.ascontiguousarray(cols[0] if unbatched else cols)

    def to_image(b):
        out = col2im((b[None] if unbatched else b).reshape(N, CK, -1), x_shape, k, s, pads, d)  # (N, C, *S)
        return out[0] if unbatched else out

    return to_cols, to_image


@register("Im2ColBackward")
def _unfold(ctx, grad):
    s = ctx.saved
    to_cols, to_image = _im2col_pair(s["xb"].shape, s["k"], s["s"], s["pads"], s["d"], s["unbatched"])
    return (linear_op("Im2ColBackwardBackward0", to_image, to_cols, grad),)


@register("Col2ImBackward")
def _fold(ctx, grad):
    s = ctx.saved
    x_shape = ((1,) if s["unbatched"] else ()) + tuple(grad.shape)  # fold's output, batched
    to_cols, to_image = _im2col_pair(x_shape, s["k"], s["s"], s["pads"], s["d"], s["unbatched"])
    return (linear_op("Col2ImBackwardBackward0", to_cols, to_image, grad),)


# ---- shuffles: permutations -----------------------------------------------------------------------------------------

@register("PixelShuffleBackward0")
def _pixel_shuffle(ctx, grad):
    return (pixel_unshuffle(grad, ctx.saved["r"]),)


@register("PixelUnshuffleBackward0")
def _pixel_unshuffle(ctx, grad):
    return (pixel_shuffle(grad, ctx.saved["r"]),)


@register("ChannelShuffleBackward")
def _channel_shuffle(ctx, grad):
    s = ctx.saved  # channel c*g + i <- i*(C/g) + c: the inverse shuffle has C/g groups
    return (channel_shuffle(grad, s["C"] // s["g"]),)
