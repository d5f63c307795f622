"""The loader's ops whose geometry ONNX spells differently from cnnlab: Pad (every opset's form), Resize (nearest
and linear, every coordinate_transformation_mode and nearest_mode) and the auto_pad attribute of Conv and pooling.

Resize runs as per-axis gathers (and a weighted sum for linear) so that every ONNX coordinate rule has one code
path and its gradient comes from index_select's."""
import numpy as np

from ..nn import functional as F
from ..ops.indexing import index_select
from ..tensor import Tensor
from .graph import ExportError


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def _ints(v):
    return [int(i) for i in np.asarray(v._data if isinstance(v, Tensor) else v).reshape(-1)]


def _floats(v):
    return [float(i) for i in np.asarray(v._data if isinstance(v, Tensor) else v).reshape(-1)]


def _given(v):
    """An optional input that is present and not the empty tensor opset 11 writes for 'absent'."""
    return v is not None and np.asarray(v._data if isinstance(v, Tensor) else v).size > 0


def symmetric(pairs):
    """(before, after) pairs -> plain ints when every pair is symmetric (what cnnlab's ops take fastest)."""
    return tuple(b for b, _ in pairs) if all(b == a for b, a in pairs) else tuple(pairs)


def resolve_pads(op, x_shape, a, kernel, strides, dilations):
    """The per-side pads of a Conv or pool node over its spatial dims: from `pads`, or from `auto_pad`.

    SAME_* pads so that out = ceil(in / stride); the odd pixel goes at the end (UPPER) or the start (LOWER)."""
    n = len(kernel)
    mode = _text(a.get("auto_pad", "NOTSET"))
    if mode == "NOTSET":
        p = a.get("pads") or [0] * (2 * n)
        return symmetric([(p[i], p[i + n]) for i in range(n)])
    if mode == "VALID":
        return (0,) * n
    if mode not in ("SAME_UPPER", "SAME_LOWER"):
        raise ExportError(f"onnx.load: {op} auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID. "
                          f"Got auto_pad={mode!r}.")
    pairs = []
    for size, k, s, d in zip(x_shape[2:], kernel, strides, dilations):
        out = -(-size // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        small, big = total // 2, total - total // 2
        pairs.append((small, big) if mode == "SAME_UPPER" else (big, small))
    return symmetric(pairs)


PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def pad(x, pads=None, constant_value=None, axes=None, mode="constant", value=0.0, paddings=None):
    """ONNX Pad: pads as an input (opset >= 11, with optional constant_value and axes) or as the `pads`/`paddings`
    attribute with `value` (older opsets). ONNX pads are [begin of each axis..., end of each axis...]."""
    mode = _text(mode)
    if mode not in PAD_MODES:
        raise ExportError(f"onnx.load: Pad mode must be one of {', '.join(PAD_MODES)}. Got mode={mode!r}.")
    p = _ints(pads if pads is not None else paddings)
    r = x.ndim
    ax = list(range(r)) if not _given(axes) else [a % r for a in _ints(axes)]
    if len(p) != 2 * len(ax):
        raise ExportError(f"onnx.load: Pad needs 2 pads per padded axis. Got pads={p}, axes={ax}, "
                          f"input.shape={tuple(x.shape)}.")
    begin, end = [0] * r, [0] * r
    for i, a in enumerate(ax):
        begin[a], end[a] = p[i], p[i + len(ax)]
    first = next((d for d in range(r) if begin[d] or end[d]), r)
    flat = []  # F.pad's order: the last dim's (before, after) first, down to the first padded dim
    for d in range(r - 1, first - 1, -1):
        flat += [begin[d], end[d]]
    if not flat:
        return x
    if mode == "constant":
        fill = float(_floats(constant_value)[0]) if _given(constant_value) else float(value)
        return F.pad(x, tuple(flat), "constant", fill)
    return F.pad(x, tuple(flat), PAD_MODES[mode])


def _source_coords(ctm, dst, size, out, scale):
    """Where output index dst samples the input, in input pixels (ONNX's coordinate_transformation_mode).
    float32 arithmetic as ONNX Runtime's, so that a nearest pick on a near-tie rounds the same way."""
    if ctm == "half_pixel":
        return (dst + 0.5) / scale - 0.5
    if ctm == "pytorch_half_pixel":
        return (dst + 0.5) / scale - 0.5 if out > 1 else np.zeros_like(dst)
    if ctm == "align_corners":
        return dst * (size - 1) / (out - 1) if out > 1 else np.zeros_like(dst)
    if ctm == "asymmetric":
        return dst / scale
    if ctm == "half_pixel_symmetric":
        offset = size / 2 * (1 - out / (size * scale))
        return offset + (dst + 0.5) / scale - 0.5
    raise ExportError(f"onnx.load: Resize coordinate_transformation_mode must be half_pixel, pytorch_half_pixel, "
                      f"align_corners, asymmetric or half_pixel_symmetric. Got {ctm!r}.")


NEAREST = {"round_prefer_floor": lambda c: np.ceil(c - 0.5), "round_prefer_ceil": lambda c: np.floor(c + 0.5),
           "floor": np.floor, "ceil": np.ceil}


def resize(x, roi=None, scales=None, sizes=None, mode="nearest", coordinate_transformation_mode="half_pixel",
           nearest_mode="round_prefer_floor", axes=None, antialias=0, keep_aspect_ratio_policy="stretch",
           cubic_coeff_a=-0.75, exclude_outside=0, extrapolation_value=0.0):
    """ONNX Resize (opset 10's (X, scales) form too) in modes nearest and linear."""
    if roi is not None and scales is None and sizes is None:  # opset 10: the second input is scales
        roi, scales = None, roi
    mode, ctm = _text(mode), _text(coordinate_transformation_mode)
    if mode not in ("nearest", "linear"):
        raise ExportError(f"onnx.load: Resize runs modes nearest and linear. Got mode={mode!r}.")
    if antialias and mode != "nearest":
        raise ExportError(f"onnx.load: Resize with antialias=1 is not supported. Got antialias={antialias}.")
    if _given(sizes) and _text(keep_aspect_ratio_policy) != "stretch":
        raise ExportError(f"onnx.load: Resize runs keep_aspect_ratio_policy='stretch' only. Got "
                          f"keep_aspect_ratio_policy={_text(keep_aspect_ratio_policy)!r}.")
    rank = x.ndim
    ax = list(range(rank)) if axes is None else [a % rank for a in axes]
    shape = tuple(x.shape)
    if _given(sizes):
        given = _ints(sizes)
        outs = {a: given[i] for i, a in enumerate(ax)}
        factors = {a: np.float32(outs[a]) / np.float32(shape[a]) for a in ax}
    elif _given(scales):
        given = np.asarray(_floats(scales), np.float32)
        factors = {a: given[i] for i, a in enumerate(ax)}
        outs = {a: int(np.floor(shape[a] * float(factors[a]))) for a in ax}
    else:
        raise ExportError("onnx.load: Resize needs scales or sizes. Got neither.")
    pick = NEAREST.get(_text(nearest_mode))
    if mode == "nearest" and pick is None:
        raise ExportError(f"onnx.load: Resize nearest_mode must be one of {', '.join(NEAREST)}. "
                          f"Got nearest_mode={_text(nearest_mode)!r}.")
    y = x
    for a in ax:
        size, out, scale = shape[a], outs[a], factors[a]
        if out == size and scale == 1.0:
            continue
        if out < 1 or size < 1:
            raise ExportError(f"onnx.load: Resize needs non-empty input and output sizes. Got axis {a}: input "
                              f"size {size}, output size {out}.")
        src = _source_coords(ctm, np.arange(out, dtype=np.float32), size, out, scale).astype(np.float64)
        if mode == "nearest":
            y = index_select(y, a, Tensor._wrap(np.clip(pick(src), 0, size - 1).astype(np.int64)))
            continue
        lo = np.floor(src)
        w = (src - lo).reshape([-1 if d == a else 1 for d in range(rank)]).astype(x._data.dtype)
        i0 = Tensor._wrap(np.clip(lo, 0, size - 1).astype(np.int64))
        i1 = Tensor._wrap(np.clip(lo + 1, 0, size - 1).astype(np.int64))
        y = index_select(y, a, i0) * Tensor._wrap(1 - w) + index_select(y, a, i1) * Tensor._wrap(w)
    return y
