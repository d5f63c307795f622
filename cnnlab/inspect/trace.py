"""Tracing one forward pass to carry an output position back to the input (receptive fields).

The pass runs on one image with gradients recorded, in eval mode. Forward hooks on every layer, and wrappers put
around the spatial functions of cnnlab.nn.functional for the length of the pass (so that F.avg_pool2d called inside
a forward is seen too), note the geometry of each convolution, pooling, resize, pixel shuffle and pad, keyed by
its output. Everything else is read from the autograd graph: elementwise ops and broadcasting keep positions,
permutes move them to other axes, reshapes keep the trailing axes they leave alone, and any other op (a reduction,
an index) makes its input count in full. The region of every tensor is an interval per axis; where paths meet,
the hull of theirs.
"""
import contextlib
from fractions import Fraction

from .. import nn
from ..autograd import enable_grad
from ..errors import ShapeError
from ..tensor import Tensor
from .geometry import FUNCTIONAL_OPS, functional_geometry, module_geometry

__all__ = ["Trace", "field_of", "centre"]

_GEOMETRIC_NODES = ("Convolution", "Pool", "Upsample", "Im2Col", "Col2Im", "PixelShuffle", "PixelUnshuffle",
                    "GridSampler", "MaxUnpool", "ConstantPadNd", "ReflectionPad", "ReplicationPad")
_PERMUTES = ("Permute", "Transpose")
_RESHAPES = ("View", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Unflatten", "Expand", "Clone", "ToCopy")
# same-shape ops that move values to other positions: their input counts in full (an index or a concatenation
# keeps the positions of the axes whose size it leaves alone, and counts the others in full)
_SCRAMBLES = ("Flip", "Roll", "Rot90", "Gather", "Scatter", "Sort", "Take")


class Trace:
    """Run model(x) once, with gradients recorded, hooks on every submodule and the spatial functions wrapped.

    `calls` lists (name, module, input, output) per module call, in the order the calls finished; region(t, pos)
    carries one position of tensor t back to the input.
    """

    def __init__(self, model, x):
        self.model, self.input, self.calls, self._geometry = model, x, [], {}
        self.n = x.ndim - 2
        handles = [m.register_forward_hook(self._hook(name)) for name, m in model.named_modules()]
        training = [(m, m.training) for m in model.modules()]
        model.eval()  # batch statistics would make every position depend on every other one
        try:
            with enable_grad(), self._functional():
                self.output = model(x)
        finally:
            for h in handles:
                h.remove()
            for m, mode in training:
                m.training = mode

    def _note(self, x, output, g):
        # keyed by the output's parents tuple: still found if an in-place op later rewires the output
        if g is not None and isinstance(output, Tensor) and output is not x and output._parents:
            self._geometry[id(output._parents)] = (output._parents, x, g)

    def _hook(self, name):
        def hook(module, args, output):
            x = args[0] if args else None
            self.calls.append((name, module, x, output))
            if isinstance(x, Tensor) and isinstance(output, Tensor):
                self._note(x, output, module_geometry(module, tuple(x.shape), tuple(output.shape)))
        return hook

    @contextlib.contextmanager
    def _functional(self):
        F = nn.functional
        originals = {name: getattr(F, name) for name in FUNCTIONAL_OPS if hasattr(F, name)}

        def wrap(name, fn):
            def wrapper(*args, **kwargs):
                out = fn(*args, **kwargs)
                first = out[0] if isinstance(out, tuple) else out
                x = args[0] if args else kwargs.get("input")
                if isinstance(x, Tensor) and isinstance(first, Tensor):
                    self._note(x, first, functional_geometry(name, args, kwargs, tuple(x.shape), tuple(first.shape)))
                return out
            return wrapper

        try:
            for name, fn in originals.items():
                setattr(F, name, wrap(name, fn))
            yield
        finally:
            for name, fn in originals.items():
                setattr(F, name, fn)

    def _edges(self, t):
        """(parent, mapper) pairs of tensor t; mapper(region of t) -> region of the parent."""
        rec = self._geometry.get(id(t._parents)) if t._parents else None
        if rec is not None and rec[0] is t._parents:
            _, x, g = rec
            return [(x, lambda iv, x=x, t=t, g=g: _through_layer(iv, g, x, t))]
        op = t._op or ""
        if any(key in op for key in _GEOMETRIC_NODES):
            raise ShapeError(f"receptive_field: a spatial op whose geometry (kernel, stride, padding) cannot be "
                             f"seen; call it through its layer (nn.Conv2d, nn.MaxPool2d, nn.Upsample, ...) or "
                             f"cnnlab.nn.functional. Got an op recorded as {op} on a tensor of shape "
                             f"{tuple(t.shape)}.")
        return [(p, lambda iv, p=p, t=t, op=op: _generic(iv, t, p, op)) for p in t._parents]

    def channels_first(self, t):
        """Whether tensor t is laid out (N, C, *spatial) like the input: the input itself, the output of a spatial
        op, or the same-shaped result of an elementwise op on such a tensor (not a permute's channels-last view)."""
        memo = self.__dict__.setdefault("_layout", {})
        stack = [t]
        while stack:
            node = stack[-1]
            if id(node) in memo:
                stack.pop()
                continue
            if node is self.input or (node._parents and id(node._parents) in self._geometry and
                                      self._geometry[id(node._parents)][0] is node._parents):
                memo[id(node)] = True
                stack.pop()
                continue
            op = node._op or ""
            same = [p for p in node._parents if p.shape == node.shape] if not any(
                key in op for key in _PERMUTES + _SCRAMBLES) else []
            pending = [p for p in same if id(p) not in memo]
            if pending:
                stack.extend(pending)
                continue
            memo[id(node)] = any(memo[id(p)] for p in same)
            stack.pop()
        return memo[id(t)]

    def region(self, t, position):
        """[(lo, hi) per axis] of the input that t at position (a tuple of spatial positions, or None: all of t)
        depends on, or None when it does not depend on the input."""
        start = None if position is None else [(0, 0)] * (t.ndim - len(position)) + [(p, p) for p in position]
        order, seen, stack, edges = [], set(), [(t, False)], {}
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
        for node in reversed(order):  # a tensor's consumers come before it in reversed post-order
            if id(node) not in regions or node is self.input:
                continue
            for parent, mapper in edges.get(id(node), ()):
                piv = mapper(regions[id(node)])
                if piv is _EMPTY:
                    continue
                key = id(parent)
                regions[key] = _hull(regions[key], piv) if key in regions else piv
        if id(self.input) not in regions:
            return None
        got = regions[id(self.input)]
        return [(0, s - 1) for s in self.input.shape] if got is None else got


_EMPTY = object()


def _full(p):
    return [(0, s - 1) for s in p.shape]


def _through_layer(iv, g, x, t):
    if iv is None:
        return None
    out = [iv[0], (0, x.shape[1] - 1)]  # the same image; every input channel
    for i, (lo, hi) in enumerate(iv[2:]):
        r = g.back(i, lo, hi)
        if r is None:
            return _EMPTY
        out.append(r)
    return out


def _generic(iv, t, p, op):
    if iv is None or any(key in op for key in _SCRAMBLES):
        return None if iv is None else _full(p)
    if any(key in op for key in _PERMUTES) and p.ndim == t.ndim:
        axes = _permutation(t, p)
        if axes is None:
            return _full(p)
        out = [None] * p.ndim
        for i, j in enumerate(axes):  # output axis i is parent axis j
            out[j] = iv[i]
        return out
    if any(key in op for key in _RESHAPES) and p.numel() == t.numel():
        # a row-major reshape keeps the trailing axes both shapes share (a linear layer's node is also named
        # View; its input has another size and is read axis by axis below)
        out = [(0, 0) if s == 1 else (0, s - 1) for s in p.shape]
        for k in range(1, min(p.ndim, t.ndim) + 1):
            if p.shape[-k] != t.shape[-k]:
                break
            out[-k] = iv[-k]
        return out
    if p.ndim > t.ndim:  # a reduction or an index: all of the parent
        return _full(p)
    lead = t.ndim - p.ndim  # broadcasting aligns the trailing axes
    return [iv[lead + k] if s == t.shape[lead + k] else ((0, 0) if s == 1 else (0, s - 1))
            for k, s in enumerate(p.shape)]


def _permutation(t, p):
    """For t a permuted view of p: the parent axis of each axis of t, read from the arrays' strides."""
    a, b = t._data, p._data
    if sorted(a.shape) != sorted(b.shape) or a.size == 0:
        return None
    axes, used = [], set()
    for size, stride in zip(a.shape, a.strides):
        match = [j for j in range(b.ndim) if j not in used and b.shape[j] == size and (b.strides[j] == stride or
                                                                                    size == 1)]
        if not match:
            return None
        axes.append(match[0])
        used.add(match[0])
    return axes


def _hull(a, b):
    if a is None or b is None:
        return None  # everything
    return [(min(x[0], y[0]), max(x[1], y[1])) for x, y in zip(a, b)]


def centre(shape):
    return tuple((s - 1) // 2 for s in shape)


def field_of(trace, t, position=None):
    """(region per spatial dim, position, jumps) of tensor t (recorded by trace) at position (default the centre),
    or None when t has no spatial dims or does not depend on the input."""
    n = trace.n
    if t.ndim != n + 2 or n < 1:
        return None
    spatial = tuple(t.shape[2:])
    position = centre(spatial) if position is None else tuple(position)
    region = trace.region(t, position)
    if region is None:
        return None
    jumps = []
    for i, size in enumerate(spatial):
        ends = [trace.region(t, tuple(e if j == i else p for j, p in enumerate(position))) for e in (0, size - 1)]
        if size < 2 or any(e is None for e in ends):
            jumps.append(None)
            continue
        a, b = ends[0][2 + i], ends[1][2 + i]
        step = Fraction(b[0] + b[1] - a[0] - a[1], 2 * (size - 1))
        jumps.append(int(step) if step.denominator == 1 else float(step))
    return region[2:], position, jumps
