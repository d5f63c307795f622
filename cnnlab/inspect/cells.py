"""explain_cell(layer, x, index): one output value of a convolution or pooling layer worked out by hand, as the
lecture notes do (seed 002): the input window it sees (padding shown as such), the weights, the products, the
bias, and the sum "1*1 + 0*2 + ... = 12".
"""
import numpy as np

from .. import nn
from ..errors import ShapeError
from ..nn.functional._args import resolve_padding, to_tuple
from ..tensor import Tensor

__all__ = ["explain_cell", "CellExplanation"]

_NP_PAD = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _num(v):
    v = float(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


class CellExplanation:
    """One output value explained. Attributes:

    - ``window``: the input values the value is made of, (channels, *kernel), padding filled with what the
      layer uses (0 for zero padding, the mirrored/replicated/wrapped value for the other modes, -inf for max
      pooling); ``is_padding``: True where the window lies outside the input;
    - ``weight``: the kernel slice (channels, *kernel) for a convolution, None for pooling;
    - ``products``: window * weight (convolution), ``bias``: a float or None, ``value``: the output value;
    - ``input_region``: (channel slice, then one slice per spatial dim with step = dilation) in input
      coordinates; negative starts and stops past the input's size are padding;
    - ``index``: the output index explained, ``formula``: the sum as text; str() prints everything.
    """

    def __init__(self, kind, index, window, is_padding, weight, bias, value, region, formula, detail):
        self.kind, self.index, self.window, self.is_padding = kind, index, window, is_padding
        self.weight, self.bias, self.value, self.input_region = weight, bias, value, region
        self.products = window * weight if weight is not None else None
        self.formula, self._detail = formula, detail

    def __str__(self):
        return "\n".join(self._detail + [self.formula])

    __repr__ = __str__


def _layer_kind(layer):
    mods = nn.modules
    if isinstance(layer, mods.conv._ConvNd) and not layer.transposed:
        return "conv"
    if isinstance(layer, mods.pooling._MaxPoolNd):
        return "min" if type(layer).__name__.startswith("Min") else "max"
    if isinstance(layer, (mods.pooling._AvgPoolNd, nn.AvgPool1d)):
        return "avg"
    if isinstance(layer, mods.pooling._LPPoolNd):
        return "lp"
    raise TypeError(f"explain_cell: the layer must be a convolution (Conv1d/2d/3d) or a pooling layer (MaxPool, "
                    f"MinPool, AvgPool, LPPool). Got {type(layer).__name__}.")


def _n_spatial(layer, kind):
    if kind == "conv":
        return layer._n
    name = type(layer).__name__
    return int(name[-2]) if name[-2].isdigit() else 2


def explain_cell(layer, x, index):
    """Explain one output value of a convolution or pooling layer as a sum of products.

    Args:
        layer: nn.Conv1d/2d/3d (any stride, padding, dilation, groups, padding_mode) or a pooling layer
            (MaxPool, MinPool, AvgPool with count_include_pad/divisor_override/ceil_mode, LPPool).
        x (Tensor or array): the layer's input, (N, C, *spatial) or unbatched (C, *spatial).
        index (tuple): the output index, (n, channel, *position) (or (channel, *position) for an unbatched x);
            negative entries count from the end.

    Returns:
        CellExplanation: .window, .is_padding, .weight, .products, .bias, .value, .input_region; str() shows it.

    Raises:
        ShapeError: an index outside the output, or an input that does not fit the layer.

    >>> import cnnlab, cnnlab.nn as nn
    >>> from cnnlab.inspect import explain_cell
    >>> conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    >>> _ = conv.weight.data.copy_(cnnlab.tensor([[[[1., 0., 1.], [0., 1., 0.], [1., 0., 1.]]]]))
    >>> x = cnnlab.arange(25.).reshape(1, 1, 5, 5)
    >>> cell = explain_cell(conv, x, (0, 0, 0, 1))
    >>> print(cell.formula)
    [0]*1 + [0]*0 + [0]*1 + 0*0 + 1*1 + 2*0 + 5*1 + 6*0 + 7*1 = 13
    >>> cell.value == conv(x)[0, 0, 0, 1].item(), cell.input_region
    (True, (slice(0, 1, None), slice(-1, 2, 1), slice(0, 3, 1)))
    """
    kind = _layer_kind(layer)
    n = _n_spatial(layer, kind)
    arr = x._data if isinstance(x, Tensor) else np.asarray(x)
    unbatched = arr.ndim == n + 1
    if arr.ndim not in (n + 1, n + 2):
        raise ShapeError(f"explain_cell: expects a {n + 1}-d (unbatched) or {n + 2}-d (batched) input for "
                         f"{type(layer).__name__}. Got x.shape={arr.shape}.")
    if unbatched:
        arr = arr[None]
    if kind == "conv" and arr.dtype != layer.weight._data.dtype:  # an array of another precision: the layer's
        arr = arr.astype(layer.weight._data.dtype)
    out = layer(Tensor._wrap(np.ascontiguousarray(arr)))  # the layer's own checks; and its output to index
    out_shape = tuple(out.shape)
    idx = tuple(index) if isinstance(index, (tuple, list)) else (index,)
    if unbatched:
        idx = (0,) + idx
    if len(idx) != n + 2 or any(not -s <= i < s for i, s in zip(idx, out_shape)):
        shown = out_shape[1:] if unbatched else out_shape
        raise ShapeError(f"explain_cell: index must address one value of the output. Got index={tuple(index)} for "
                         f"an output of shape {shown}.")
    idx = tuple(i % s for i, s in zip(idx, out_shape))
    b, c, pos = idx[0], idx[1], idx[2:]
    spatial = arr.shape[2:]

    if kind == "conv":
        k, s, d = layer.kernel_size, layer.stride, layer.dilation
        pads = resolve_padding(layer.padding, n, "explain_cell", k, s, d, spatial)
        per_group = layer.in_channels // layer.groups
        g = c // (layer.out_channels // layer.groups)
        chans = slice(g * per_group, (g + 1) * per_group)
        pad_mode = layer.padding_mode
    else:
        k = to_tuple(layer.kernel_size, n, "kernel_size", "explain_cell")
        stride = layer.stride if layer.stride is not None else layer.kernel_size
        s = to_tuple(stride, n, "stride", "explain_cell")
        d = to_tuple(getattr(layer, "dilation", 1), n, "dilation", "explain_cell")
        pads = resolve_padding(getattr(layer, "padding", 0), n, "explain_cell", k, s, d, spatial)
        chans = slice(c, c + 1)
        pad_mode = "zeros"

    starts = [p * st - pb for p, st, (pb, _) in zip(pos, s, pads)]
    region = (chans,) + tuple(slice(a, a + dd * (kk - 1) + 1, dd) for a, dd, kk in zip(starts, d, k))
    # gather the window from the input padded as the layer pads it; positions past the padded input (a ceil_mode
    # window's overhang) are marked too
    grids = np.meshgrid(*[np.arange(kk) * dd + a for kk, dd, a in zip(k, d, starts)], indexing="ij")
    inside = np.ones(k, bool)
    for g_, size in zip(grids, spatial):
        inside &= (g_ >= 0) & (g_ < size)
    src = arr[b, chans].astype(np.float64)
    if pad_mode != "zeros" and any(v for pair in pads for v in pair):
        padded = np.pad(src, ((0, 0),) + tuple(pads), mode=_NP_PAD[pad_mode])
        window = padded[(slice(None),) + tuple(g_ + pb for g_, (pb, _) in zip(grids, pads))]
    else:
        clipped = tuple(np.clip(g_, 0, size - 1) for g_, size in zip(grids, spatial))
        window = np.where(inside, src[(slice(None),) + clipped], 0.0)
    is_padding = np.broadcast_to(~inside, window.shape).copy()
    if pad_mode != "zeros":
        is_padding[:] = False if not any(v for pair in pads for v in pair) else is_padding

    actual = float(out._data[idx])
    where = ", ".join(f"{name} {r.start}..{r.stop - 1}" + (f" step {r.step}" if r.step != 1 else "")
                      for name, r in zip(("d", "h", "w")[3 - n:] if n <= 3 else [""] * n, region[1:]))
    detail = [f"{type(layer).__name__} output{list(index)} from input channels {chans.start}..{chans.stop - 1}, "
              f"positions {where} (negative or past {tuple(spatial)} = padding)"]
    flat_w = window.reshape(-1)
    flat_pad = is_padding.reshape(-1)
    terms = [f"[{_num(v)}]" if p else _num(v) for v, p in zip(flat_w, flat_pad)]
    if kind == "conv":
        weight = layer.weight._data[c].astype(np.float64)
        bias = float(layer.bias._data[c]) if layer.bias is not None else None
        value = float((window * weight).sum() + (bias or 0.0))
        parts = [f"{t}*{_factor(w)}" for t, w in zip(terms, weight.reshape(-1))]
        formula = _join(parts, " + ") + (f" + {_factor(bias)}" if bias is not None else "") + f" = {_num(value)}"
        scale = float(np.abs(window * weight).sum()) + abs(bias or 0.0)
        if abs(value - actual) > 1e-4 * scale + 1e-6:  # internal check: the explanation must be the layer's value
            raise AssertionError(f"explain_cell: worked {value} but the layer gives {actual} at {idx}")
        if bias is not None:
            detail.append(f"bias {_num(bias)}")
        return CellExplanation("conv", idx, window, is_padding, weight, bias, value, region, formula, detail)

    # pooling: which window positions count
    beyond = np.zeros(k, bool)  # past the padded input (ceil_mode): not even padding
    for g_, size, (_, pa) in zip(grids, spatial, pads):
        beyond |= g_ >= size + pa
    beyond = np.broadcast_to(beyond, window.shape)
    real = window[~is_padding]
    if kind in ("max", "min"):
        value = float(real.max() if kind == "max" else real.min())
        shown = [t for t, p in zip(terms, flat_pad) if not p] + ["pad"] * int(flat_pad.sum())
        formula = f"{kind}({', '.join(_cut(shown))}) = {_num(value)}"
        window = np.where(is_padding, -np.inf if kind == "max" else np.inf, window)
    elif kind == "avg":
        override = getattr(layer, "divisor_override", None)
        count = override or (int((~beyond).sum()) if layer.count_include_pad else int((~is_padding).sum()))
        value = float(real.sum() / count)
        shown = [t for t, out_ in zip(terms, beyond.reshape(-1)) if not out_]
        formula = f"({_join(shown, ' + ')}) / {count} = {_num(value)}"
    else:
        p = float(layer.norm_type)
        total, count = float(np.sum(real ** p)), int((~is_padding).sum())
        sums = _join([f"{t}^{_num(p)}" for t, pad in zip(terms, flat_pad) if not pad], " + ")
        if count < window.size:  # PyTorch's lp_pool: a partial (ceil_mode) window's mean times the full window
            total = total / count * window.size
            sums = f"({sums}) / {count} * {window.size}"
        value = float(total ** (1 / p))
        formula = f"({sums})^(1/{_num(p)}) = {_num(value)}"
    if not np.isclose(value, actual, rtol=1e-4, atol=1e-6):  # internal check: the explanation must be the layer's
        raise AssertionError(f"explain_cell: worked {value} but the layer gives {actual} at {idx}")
    return CellExplanation(kind, idx, window, is_padding, None, None, value, region, formula, detail)


def _factor(v):
    return f"({_num(v)})" if v < 0 else _num(v)


def _cut(parts, limit=27):
    return parts if len(parts) <= limit else parts[:limit] + [f"... ({len(parts)} in all)"]


def _join(parts, sep):
    return sep.join(_cut(parts))
