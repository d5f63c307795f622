"""Receptive fields through any graph: the input region that one output value depends on.

One forward pass (batch 1, gradients recorded, eval mode) records the graph. Every convolution, pooling,
upsampling and pixel-shuffle layer is seen by a forward hook, which notes its geometry; everything between
layers (additions of skip connections, concatenation, activations, normalisation, flatten, ...) is read from
the autograd graph. The region is then carried from one output position back to the input, interval by
interval: a conv maps output positions [lo, hi] to input positions [lo*s - pad, hi*s - pad + d*(k-1)], and
where paths meet the region is the union (hull) of theirs. Positions are not clipped to the input, so the size
is the theoretical one of Araujo, Norris & Sim (Distill, 2019): VGG-16's features see 212 pixels.
"""
import math
from fractions import Fraction

import numpy as np

from .. import nn
from ..autograd import enable_grad
from ..creation import randn
from ..errors import ShapeError
from ..nn.functional._args import resolve_padding, to_tuple
from ..tensor import Tensor

__all__ = ["receptive_field", "ReceptiveField", "Trace"]

# autograd nodes of spatial ops whose geometry only a layer (with its hook) can tell
_GEOMETRIC_NODES = ("Convolution", "Pool", "Upsample", "Im2Col", "Col2Im", "PixelShuffle", "PixelUnshuffle",
                    "GridSampler", "MaxUnpool")


class ReceptiveField(tuple):
    """The receptive-field size per spatial dim (a tuple of ints), with

    - ``region``: ((first, last), ...) input positions (unclipped: negative or past the end means padding)
      that the output at ``position`` depends on;
    - ``position``: the output position used, the centre ((size - 1) // 2 per dim) unless one was given;
    - ``jump``: the distance in input pixels between neighbouring outputs (the product of the strides), an int,
      a float for fractional strides, or None for a 1-wide output.
    """

    def __new__(cls, region, position, jump):
        self = super().__new__(cls, tuple(hi - lo + 1 for lo, hi in region))
        self.region, self.position, self.jump = tuple(region), tuple(position), tuple(jump)
        return self

    def __repr__(self):
        return f"ReceptiveField(size={tuple(self)}, jump={self.jump}, region={self.region}, position={self.position})"


# ---- geometry of the layers ------------------------------------------------------------------------------------
def _window(lo, hi, k, s, pad_before, d):
    return lo * s - pad_before, hi * s - pad_before + d * (k - 1)


def _transposed(lo, hi, k, s, pad_before, d):
    """Input positions i with lo <= i*s - pad + j*d <= hi for some tap j; None when no tap lands."""
    firsts, lasts = [], []
    for j in range(k):
        a, b = -((-(lo + pad_before - j * d)) // s), (hi + pad_before - j * d) // s
        if a <= b:
            firsts.append(a)
            lasts.append(b)
    return (min(firsts), max(lasts)) if firsts else None


def _adaptive(lo, hi, size_in, size_out):
    return (lo * size_in) // size_out, -((-(hi + 1) * size_in) // size_out) - 1


def _resize(lo, hi, size_in, size_out, mode, align_corners, scale):
    if mode in ("nearest", "nearest-exact"):
        offset = 0.5 if mode == "nearest-exact" else 0.0
        return math.floor((lo + offset) * scale), math.floor((hi + offset) * scale)
    taps = (-1, 2) if mode == "bicubic" else (0, 1)
    if align_corners:
        step = (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        x0, x1 = lo * step, hi * step
    else:
        x0, x1 = max((lo + 0.5) * scale - 0.5, 0.0), max((hi + 0.5) * scale - 0.5, 0.0)
    last = math.floor(x1) + taps[1] if x1 != math.floor(x1) or mode == "bicubic" else math.floor(x1)
    return math.floor(x0) + taps[0], last


def layer_geometry(module, input_shape, output_shape):
    """A function (dim, lo, hi) -> input interval (or None) for a layer that moves positions, else None.

    Also used by the summary for its kernel/stride/padding/dilation columns (through .kernel etc.)."""
    n = len(input_shape) - 2
    spatial_in, spatial_out = tuple(input_shape[2:]), tuple(output_shape[2:])
    if n < 1 or len(output_shape) != len(input_shape):
        return None
    g = None
    if isinstance(module, nn.modules.conv._ConvNd):
        k, s, d = module.kernel_size, module.stride, module.dilation
        if module.transposed:
            pads = resolve_padding(module.padding, n, "receptive_field", k, s, d, spatial_in)
            g = _Geometry(lambda i, lo, hi: _transposed(lo, hi, k[i], s[i], pads[i][0], d[i]), k, s, pads, d)
        else:
            pads = resolve_padding(module.padding, n, "receptive_field", k, s, d, spatial_in)
            g = _Geometry(lambda i, lo, hi: _window(lo, hi, k[i], s[i], pads[i][0], d[i]), k, s, pads, d)
    elif isinstance(module, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, nn.AvgPool1d,
                             nn.modules.pooling._LPPoolNd, nn.modules.pooling._MaxUnpoolNd)):
        k = to_tuple(module.kernel_size, n, "kernel_size", "receptive_field")
        stride = module.stride if module.stride is not None else module.kernel_size
        s = to_tuple(stride, n, "stride", "receptive_field")
        d = to_tuple(getattr(module, "dilation", 1), n, "dilation", "receptive_field")
        pads = resolve_padding(getattr(module, "padding", 0), n, "receptive_field", k, s, d, spatial_in)
        if isinstance(module, nn.modules.pooling._MaxUnpoolNd):  # each input lands in its window: a transposed map
            g = _Geometry(lambda i, lo, hi: _transposed(lo, hi, k[i], s[i], pads[i][0], d[i]), k, s, pads, d)
        else:
            g = _Geometry(lambda i, lo, hi: _window(lo, hi, k[i], s[i], pads[i][0], d[i]), k, s, pads, d)
    elif isinstance(module, nn.modules.pooling._AdaptivePool):
        g = _Geometry(lambda i, lo, hi: _adaptive(lo, hi, spatial_in[i], spatial_out[i]))
    elif isinstance(module, nn.Upsample):
        factors = module.scale_factor
        if factors is not None and not module.recompute_scale_factor:
            factors = factors if isinstance(factors, tuple) else (factors,) * n
            scales = tuple(1.0 / f for f in factors)
        else:
            scales = tuple(a / b for a, b in zip(spatial_in, spatial_out))
        g = _Geometry(lambda i, lo, hi: _resize(lo, hi, spatial_in[i], spatial_out[i], module.mode,
                                                module.align_corners, scales[i]))
    elif isinstance(module, nn.PixelShuffle):
        r = module.upscale_factor
        g = _Geometry(lambda i, lo, hi: (lo // r, hi // r))
    elif isinstance(module, nn.PixelUnshuffle):
        r = module.downscale_factor
        g = _Geometry(lambda i, lo, hi: (lo * r, hi * r + r - 1))
    return g


class _Geometry:
    def __init__(self, back, kernel=None, stride=None, padding=None, dilation=None):
        self.back, self.kernel, self.stride, self.padding, self.dilation = back, kernel, stride, padding, dilation


# ---- tracing ---------------------------------------------------------------------------------------------------
class Trace:
    """Run model(x) once with gradients recorded and hooks on every submodule; keeps what receptive fields need.

    `calls` lists (name, module, input, output) per module call in the order the calls finished; `region(t)`
    carries one position of tensor t back to the input.
    """

    def __init__(self, model, x):
        self.model, self.input, self.calls, self._geometry = model, x, [], {}
        self.n = x.ndim - 2
        handles = [m.register_forward_hook(self._hook(name)) for name, m in model.named_modules()]
        training = [(m, m.training) for m in model.modules()]
        model.eval()  # batch statistics would make every position depend on every other one
        try:
            with enable_grad():
                self.output = model(x)
        finally:
            for h in handles:
                h.remove()
            for m, mode in training:
                m.training = mode

    def _hook(self, name):
        def hook(module, args, output):
            x = args[0] if args else None
            self.calls.append((name, module, x, output))
            if not (isinstance(x, Tensor) and isinstance(output, Tensor)) or output is x or not output._parents:
                return
            g = layer_geometry(module, tuple(x.shape), tuple(output.shape))
            if g is not None:
                # keyed by the output's parents tuple: still found if an in-place op later rewires the output
                self._geometry[id(output._parents)] = (output._parents, x, g)
        return hook

    def _edges(self, t):
        """(parent, mapper) pairs of tensor t; mapper(intervals of t) -> intervals of the parent."""
        rec = self._geometry.get(id(t._parents)) if t._parents else None
        if rec is not None and rec[0] is t._parents:
            _, x, g = rec
            return [(x, lambda iv, x=x, g=g: _through_layer(iv, g, x))]
        if t._op is not None and any(key in t._op for key in _GEOMETRIC_NODES):
            raise ShapeError(f"receptive_field: a spatial op called as a function inside forward() hides its "
                             f"geometry (kernel, stride, padding); use its layer (nn.Conv2d, nn.MaxPool2d, "
                             f"nn.Upsample, ...) instead. Got an op recorded as {t._op} on a tensor of shape "
                             f"{tuple(t.shape)}.")
        return [(p, lambda iv, p=p, t=t: self._elementwise(iv, t, p)) for p in t._parents]

    def _spatial(self, t):
        return t.ndim == self.n + 2

    def _elementwise(self, iv, t, p):
        """Ops between layers keep positions where the sizes agree; a broadcast (size 1) dim is position 0;
        anything that reshapes or reduces the spatial dims depends on all of them."""
        if not self._spatial(p):
            return None
        full = [(0, s - 1) for s in p.shape[2:]]
        if iv is None or not self._spatial(t):
            return full
        return [ivd if sp == st else ((0, 0) if sp == 1 else f)
                for ivd, sp, st, f in zip(iv, p.shape[2:], t.shape[2:], full)]

    def region(self, t, position):
        """((lo, hi), ...) of the input that position (a tuple, or None for a non-spatial t) of t depends on."""
        start = [(p, p) for p in position] if position is not None else None
        order, seen, stack = [], set(), [(t, False)]
        edges = {}
        while stack:  # depth-first post-order over the tensors t depends on
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            if node is self.input:
                continue
            edges[id(node)] = self._edges(node)
            stack.extend((p, False) for p, _ in edges[id(node)] if id(p) not in seen)
        regions = {id(t): start}
        reached = {id(t)}
        for node in reversed(order):  # a tensor's consumers come before it in reversed post-order
            if id(node) not in reached or node is self.input:
                continue
            iv = regions[id(node)]
            for parent, mapper in edges.get(id(node), ()):
                piv = mapper(iv)
                if piv is _EMPTY:
                    continue
                key = id(parent)
                if key in reached:
                    regions[key] = _hull(regions[key], piv)
                else:
                    regions[key], _ = piv, reached.add(key)
        if id(self.input) not in reached or regions[id(self.input)] is None:
            return None
        return regions[id(self.input)]


_EMPTY = object()


def _through_layer(iv, g, x):
    full = [(0, s - 1) for s in x.shape[2:]]
    if iv is None:
        return full
    out = []
    for i, (lo, hi) in enumerate(iv):
        r = g.back(i, lo, hi)
        if r is None:
            return _EMPTY
        out.append(r)
    return out


def _hull(a, b):
    if a is None or b is None:
        return a if b is None else b
    return [(min(x[0], y[0]), max(x[1], y[1])) for x, y in zip(a, b)]


def centre(shape):
    return tuple((s - 1) // 2 for s in shape)


def field_of(trace, t, position=None):
    """The ReceptiveField of tensor t (an output recorded by trace) at position (default: the centre), or None
    when t has no spatial dims or does not depend on the input."""
    if t.ndim != trace.n + 2 or trace.n < 1:
        return None
    spatial = tuple(t.shape[2:])
    position = centre(spatial) if position is None else tuple(position)
    region = trace.region(t, position)
    if region is None:
        return None
    jumps = []
    for i, size in enumerate(spatial):
        if size < 2:
            jumps.append(None)
            continue
        ends = [trace.region(t, tuple(0 if j == i else p for j, p in enumerate(position))),
                trace.region(t, tuple(size - 1 if j == i else p for j, p in enumerate(position)))]
        if any(e is None for e in ends):
            jumps.append(None)
            continue
        step = Fraction(ends[1][i][0] + ends[1][i][1] - ends[0][i][0] - ends[0][i][1], 2 * (size - 1))
        jumps.append(int(step) if step.denominator == 1 else float(step))
    return ReceptiveField(region, position, jumps)


def _input(input_size, input_data, op):
    if input_data is not None:
        x = input_data if isinstance(input_data, Tensor) else Tensor(np.asarray(input_data))
        return x[:1].detach().requires_grad_(True) if x.ndim >= 3 else x.detach().requires_grad_(True)
    if input_size is None:
        raise TypeError(f"{op}: give input_size (for example (1, 3, 224, 224)) or input_data.")
    size = tuple(input_size)
    if not all(isinstance(v, (int, np.integer)) and v > 0 for v in size) or len(size) < 3:
        raise ShapeError(f"{op}: input_size must be (N, C, *spatial) with positive ints. Got "
                         f"input_size={input_size!r}.")
    return randn(1, *size[1:], requires_grad=True)


def receptive_field(module, input_size=None, input_data=None, position=None):
    """The size, per spatial dim, of the input region that one output value of module depends on.

    Follows every path from the output back to the input (skip connections, concatenation, dilation,
    transposed convolution, upsampling, adaptive and global pooling) and takes the union of the regions.
    The size is the theoretical one (Araujo et al., 2019): not clipped by the input's borders. The input size
    fixes every layer's shape (and so adaptive pooling's windows).

    Args:
        module (nn.Module): a model or a part of one (e.g. ``model.features``).
        input_size (tuple): (N, C, *spatial); N is ignored (one image is traced). Or
        input_data (Tensor): an input to trace (its first image).
        position (tuple, default None): the output position; None takes the centre, (size - 1) // 2 per dim.

    Returns:
        ReceptiveField: a tuple of sizes with .region, .position and .jump (see ReceptiveField).

    Raises:
        ShapeError: an output that does not depend on the input, or no spatial output and no spatial input;
        a conv, pool or resize called as a function inside forward() (its geometry cannot be seen).

    >>> import cnnlab.nn as nn
    >>> from cnnlab.inspect import receptive_field
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, dilation=2))
    >>> rf = receptive_field(net, (1, 1, 32, 32))
    >>> rf
    ReceptiveField(size=(12, 12), jump=(2, 2), region=((10, 21), (10, 21)), position=(5, 5))
    >>> rf == (12, 12)
    True
    """
    x = _input(input_size, input_data, "receptive_field")
    trace = Trace(module, x)
    out = trace.output
    if not isinstance(out, Tensor):
        raise TypeError(f"receptive_field: the module must return one tensor. Got {type(out).__name__}.")
    if out.ndim == trace.n + 2:
        rf = field_of(trace, out, position)
    else:  # a classifier: every output depends on the whole input, or on what its last spatial layer sees
        region = trace.region(out, None)
        rf = ReceptiveField(region, (), [None] * trace.n) if region is not None else None
    if rf is None:
        raise ShapeError(f"receptive_field: the output does not depend on the input at this position. Got "
                         f"output shape={tuple(out.shape)}, position={position}.")
    return rf
