"""Padding with PyTorch's semantics: `F.pad(input, pad, mode, value)` for 'constant', 'reflect', 'replicate' and
'circular', with gradients for every mode.

`pad` lists (before, after) pairs starting from the LAST dim: (left, right, top, bottom, front, back).
Negative values crop. The non-constant modes follow PyTorch's rules exactly, including how a negative value on
one side combines with a positive one on the other:
    reflect, replicate: pad the whole dim first, then crop (a reflection/edge of the uncropped input);
    circular:           crop first, then wrap around inside what is left.
The forward pass uses np.pad; the backward pass folds each padded dim back onto the input, one strided slice-add
per run of the dim's index map (a reflected strip adds reversed, a replicated strip adds its sum to the edge).
"""
import numbers

import numpy as np

from ..._memory import check_allocation
from ...errors import ShapeError, shape_str
from ...ops._operands import as_tensor_arg, quiet
from ...tensor import Tensor

__all__ = ["pad"]

MODES = ("constant", "reflect", "replicate", "circular")
_NP_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
_GRAD_NAME = {"reflect": "ReflectionPad{n}DBackward0", "replicate": "ReplicationPad{n}DBackward0",
              "circular": "torch::autograd::CopySlices"}  # PyTorch's printed names; n = the padded dims


def _grad_name(mode, dims):
    return _GRAD_NAME[mode].format(n=len(dims))


class PadNotSupportedError(ShapeError, NotImplementedError):
    """A mode or a (pad length, input rank) combination that PyTorch does not implement either (PyTorch raises
    NotImplementedError; this is also a ValueError and a RuntimeError like every cnnlab shape error)."""


def _pad_values(pad):
    """`pad` as a tuple of Python ints (NumPy ints and 0-d integer tensors are accepted, as PyTorch does)."""
    if isinstance(pad, (tuple, list)):
        out = []
        for v in pad:
            if isinstance(v, Tensor) and v.ndim == 0 and v._data.dtype.kind in "iu":
                v = v._data.item()
            if not isinstance(v, (numbers.Integral, np.integer)) or isinstance(v, (bool, np.bool_)):
                break
            out.append(int(v))
        else:
            return tuple(out)
    raise TypeError(f"pad: pad must be a tuple of ints. Got pad={pad!r}.")


def _check(x_shape, pad, mode, value):
    """Every rule PyTorch applies, in its order; returns [(dim, before, after), ...] for the padded dims."""
    ndim = len(x_shape)
    if not isinstance(mode, str) or mode not in MODES:
        raise PadNotSupportedError(f"pad: mode must be one of 'constant', 'reflect', 'replicate', 'circular'. "
                                   f"Got mode={mode!r}.")
    if len(pad) % 2:
        raise ShapeError(f"pad: pad must have an even length, one (before, after) pair per padded dim, starting "
                         f"from the last dim. Got pad={pad} ({len(pad)} values).")
    if len(pad) > 2 * ndim:
        raise ShapeError(f"pad: pad can have at most 2 values per input dim (2 * {ndim} = {2 * ndim}). Got pad="
                         f"{pad} ({len(pad)} values), input.shape={shape_str(x_shape)}.")
    k = len(pad) // 2
    dims = [(ndim - 1 - i, pad[2 * i], pad[2 * i + 1]) for i in range(k)]
    if mode != "constant":
        if value is not None and value != 0:
            raise ShapeError(f"pad: mode={mode!r} takes no fill value (value is for mode='constant' only). "
                             f"Got value={value!r}.")
        if k not in (1, 2, 3) or ndim not in (k + 1, k + 2):
            raise PadNotSupportedError(
                f"pad: mode={mode!r} pads the last 1, 2 or 3 dims of an unbatched (C, *spatial) or batched "
                f"(N, C, *spatial) input: 2 values need a 2-d or 3-d input, 4 values a 3-d or 4-d input, 6 values "
                f"a 4-d or 5-d input. Got pad={pad} ({len(pad)} values), input.shape={shape_str(x_shape)}.")
        if mode != "circular" and any(s == 0 for s in x_shape[ndim - k - 1:]):
            raise ShapeError(f"pad: mode={mode!r} needs every dim except the batch dim to be non-empty. "
                             f"Got input.shape={shape_str(x_shape)}.")
    outs = [x_shape[dim] + before + after for dim, before, after in dims]
    empty = any(s == 0 for s in x_shape) or 0 in outs  # an empty result has no values to get wrong
    for (dim, before, after), out in zip(dims, outs):
        size = x_shape[dim]
        where = f"pad ({before}, {after}) for dim {dim} of size {size} (input.shape={shape_str(x_shape)})"
        kept = size + min(before, 0) + min(after, 0)
        if mode == "constant" and kept < 0:
            raise ShapeError(f"pad: negative padding can crop a dim at most down to size 0. Got {where}: "
                             f"{size} + {min(before, 0)} + {min(after, 0)} = {kept}.")
        if mode == "reflect" and (before >= size or after >= size):
            raise ShapeError(f"pad: reflect padding must be smaller than the size of the padded dim. Got {where}.")
        if mode == "circular" and (before > size or after > size):
            raise ShapeError(f"pad: circular padding can be at most the size of the padded dim, so that it wraps "
                             f"around at most once. Got {where}.")
        if mode != "constant" and out < 0:
            raise ShapeError(f"pad: negative padding can crop a dim at most down to size 0. Got {where}: "
                             f"{size} + {before} + {after} = {out}.")
        if mode == "circular" and out >= 0:
            # PyTorch copies x[max(-before, 0) : size - max(-after, 0)] into out[max(before, 0) : out - max(after,
            # 0)] (Python slice clamping); when that empties the result, the copy still has to broadcast.
            n_in = len(range(size)[max(-before, 0):size - max(-after, 0)])
            n_out = len(range(out)[max(before, 0):out - max(after, 0)])
            if n_in not in (n_out, 1):
                raise ShapeError(f"pad: circular padding crops more than the dim holds: the input elements left "
                                 f"between the crops do not fit the places left between the pads (as in PyTorch)."
                                 f" Got {where}: {n_in} elements for {n_out} places.")
        if mode == "circular" and not empty and max(before, after) > kept:
            # PyTorch copies the wrapped strips out of the kept part; a strip longer than the kept part reads
            # memory it has not written yet (garbage, or its overlap error), so the result has no meaning.
            raise ShapeError(f"pad: circular padding can be at most the size of the padded dim after cropping by "
                             f"any negative padding (PyTorch leaves such a result undefined). Got {where}, {kept} "
                             f"left after cropping.")
    if mode in ("reflect", "replicate") and outs and all(o < 1 for o in outs):
        # PyTorch refuses only when every padded dim ends up empty; an empty result along some of them is fine.
        got = ", ".join(f"{x_shape[d]} + {b} + {a} = {o}" for (d, b, a), o in zip(dims, outs))
        raise ShapeError(f"pad: mode={mode!r} must leave at least one padded dim with size 1 or more. Got pad={pad}"
                         f", input.shape={shape_str(x_shape)}: {got}.")
    return dims


def _index_map(mode, size, before, after):
    """For each output position along one dim, the input position it copies (int64, length size+before+after)."""
    j = np.arange(size + before + after)
    if mode == "circular":  # crop, then wrap inside the kept part [start, start + kept)
        start, kept = max(-before, 0), size + min(before, 0) + min(after, 0)
        return start + (j - max(before, 0)) % max(kept, 1)
    p = j - before  # reflect/replicate: position in the uncropped input's coordinates
    if mode == "replicate":
        return np.clip(p, 0, size - 1)
    return np.where(p < 0, -p, np.where(p >= size, 2 * (size - 1) - p, p))


def _runs(idx):
    """Split an index map into runs (out_start, out_stop, first_in, step) with step -1, 0 or +1.

    A reflected strip is one run of step -1, a replicated edge one run of step 0, each wrap of the circular
    mode one run of step +1: a handful of runs per dim, whatever its size.
    """
    runs, i, n = [], 0, len(idx)
    d = np.diff(idx)
    while i < n:
        step = int(d[i]) if i < n - 1 else 1
        if step not in (-1, 0, 1):
            end = i + 1
        else:
            other = np.flatnonzero(d[i:] != step)
            end = i + 1 + (int(other[0]) if len(other) else n - 1 - i)
        runs.append((i, end, int(idx[i]), step if end - i > 1 else 1))
        i = end
    return runs


@quiet
def fold_dim(g, axis, size, runs):
    """Adjoint of indexing one axis with the index map: sum g's entries back onto the `size` input positions."""
    shape = list(g.shape)
    shape[axis] = size
    gx = np.zeros(shape, dtype=g.dtype)
    lead = (slice(None),) * axis
    for o0, o1, i0, step in runs:
        part = g[lead + (slice(o0, o1),)]
        if step == 0:  # a replicated edge: every copy's gradient lands on the edge element
            gx[lead + (slice(i0, i0 + 1),)] += part.sum(axis=axis, keepdims=True)
        elif step == 1:
            gx[lead + (slice(i0, i0 + o1 - o0),)] += part
        else:  # a reflected strip, read backwards
            gx[lead + (slice(i0 - (o1 - o0) + 1, i0 + 1),)] += part[lead + (slice(None, None, -1),)]
    return gx


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative values, crop) the last dims of a tensor.

    Args:
        input (Tensor): any shape for mode='constant'; for the other modes a 2-d/3-d input (pad has 2 values),
            3-d/4-d (4 values) or 4-d/5-d (6 values): (C, *spatial) unbatched or (N, C, *spatial) batched.
        pad (tuple of ints): (before, after) pairs starting from the last dim: (left, right) pads the last dim,
            (left, right, top, bottom) the last two, and so on; at most 2 * input.dim() values. Negative values
            crop.
        mode (str, default 'constant'): 'constant' (fill with value), 'reflect' (mirror without repeating the
            edge: [1, 2, 3] -> [3, 2, 1, 2, 3]), 'replicate' (repeat the edge), 'circular' (wrap around).
        value (number, default None = 0): the fill value of mode='constant'.

    Shape:
        Each padded dim grows from size to size + before + after; the other dims are unchanged.

    Returns:
        Tensor: the padded tensor, with the input's dtype. Gradients of every mode flow back to the input (a
        border that copies an input element adds its gradient to that element).

    Raises:
        TypeError: pad is not a sequence of ints.
        ShapeError: an odd number of pad values, more than 2 per dim, reflect padding not smaller than the padded
            dim, circular padding larger than it or than the part its crop keeps (PyTorch's result is undefined
            there), a crop below size 0, reflect/replicate crops that empty every padded dim, a fill value with
            a non-constant mode. A crop that empties a dim otherwise gives an empty result, as PyTorch.
        PadNotSupportedError (a ShapeError and NotImplementedError): an unknown mode, or a non-constant mode
            with a pad length and input rank PyTorch does not support.

    Matches torch.nn.functional.pad.

    >>> import cnnlab, cnnlab.nn.functional as F
    >>> x = cnnlab.tensor([[[1.0, 2.0, 3.0]]])
    >>> F.pad(x, (2, 1), mode="reflect").tolist()
    [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
    >>> F.pad(x, (1, -1), value=9.0).tolist()
    [[[9.0, 1.0, 2.0]]]
    """
    t = as_tensor_arg(input, "pad", "input")
    pad_ = _pad_values(pad)
    x = t._data
    dims = _check(x.shape, pad_, mode, value)
    padded = list(x.shape)
    for dim, before, after in dims:
        padded[dim] += before + after
    check_allocation("pad", padded, x.dtype)

    if mode == "constant":
        # out[dst] = x[src]: src crops the negative sides, dst skips the positive ones; the rest is the fill.
        src = [slice(None)] * x.ndim
        dst = [slice(None)] * x.ndim
        out_shape = list(x.shape)
        for dim, before, after in dims:
            size = x.shape[dim]
            kept = size + min(before, 0) + min(after, 0)
            src[dim] = slice(max(-before, 0), max(-before, 0) + kept)
            dst[dim] = slice(max(before, 0), max(before, 0) + kept)
            out_shape[dim] = size + before + after
        src, dst = tuple(src), tuple(dst)
        out = np.full(out_shape, 0 if value is None else value, dtype=x.dtype)
        out[dst] = x[src]

        # d out[dst] / d x[src] is the identity; the fill does not depend on x.
        def backward(g):
            gx = np.zeros(x.shape, dtype=g.dtype)
            gx[src] = g[dst]
            return (gx,)

        return Tensor._from_op(out, (t,), backward, "ConstantPadNdBackward")

    out_shape = list(x.shape)
    for dim, before, after in dims:
        out_shape[dim] += before + after
    if 0 in out_shape or x.size == 0:  # nothing to copy (PyTorch gives the same empty tensor)
        return Tensor._from_op(np.zeros(out_shape, x.dtype), (t,), lambda g: (np.zeros(x.shape, g.dtype),),
                               _grad_name(mode, dims))

    widths = [(0, 0)] * x.ndim
    crop = [slice(None)] * x.ndim
    for dim, before, after in dims:
        size = x.shape[dim]
        if mode == "circular":  # crop first, wrap afterwards
            crop[dim] = slice(max(-before, 0), size - max(-after, 0))
            widths[dim] = (max(before, 0), max(after, 0))
        else:  # pad first, crop afterwards
            widths[dim] = (max(before, 0), max(after, 0))
            crop[dim] = slice(max(-before, 0), size + max(before, 0) + after)
    if mode == "circular":
        out = np.pad(x[tuple(crop)], widths, mode="wrap")
    else:
        out = np.pad(x, widths, mode=_NP_MODE[mode])
        if any(before < 0 or after < 0 for _, before, after in dims):
            out = out[tuple(crop)].copy()
    plans = [(dim, x.shape[dim], _runs(_index_map(mode, x.shape[dim], before, after)))
             for dim, before, after in dims]

    # out = x indexed along each padded dim by its index map; the adjoint folds one dim at a time, adding every
    # output position's gradient onto the input position it copied (borders add up onto the edges they mirror).
    def backward(g):
        for dim, size, runs in plans:
            g = fold_dim(g, dim, size, runs)
        return (g,)

    return Tensor._from_op(out, (t,), backward, _grad_name(mode, dims))
