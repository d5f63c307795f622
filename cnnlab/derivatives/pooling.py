"""create_graph formulas of the pooling ops (nn/functional/pooling.py and adaptive_pooling.py): max/min pooling
through its indices, average, power-average (lp), adaptive average and max, and max_unpool.

Every pooling gradient but lp_pool's is linear in the output gradient with fixed geometry (the windows, the
adaptive bins, the chosen indices), so its formula is a linear_op whose map and adjoint are the op's own kernel
functions: the gradient of the gradient is the forward map again, closed to any order. As in PyTorch, the gradient
of max pooling does not depend on x (the indices are fixed), only on the output gradient. lp_pool is written with
differentiable ops around the same window sum.
"""
import numpy as np

from ..autograd.graph import linear_op, register
from ..kernels import pool as K
from ..ops.elementwise import where
from ..tensor import Tensor


def flat_pair(flat, spatial):
    """(gather, scatter): gather reads arrays (..., *spatial) at the flat spatial indices `flat` (..., *out);
    scatter, its adjoint, adds arrays (..., *out) back into zeros (..., *spatial)."""
    n = len(spatial)

    def gather(a):
        return K.unpool_backward(a, flat, flat.shape, n)

    def scatter(b):
        return K.scatter_flat(b, flat, spatial)

    return gather, scatter


def zero_grads(ctx):
    """The gradients of an op whose output is empty: zeros (constants) for the parents that need one."""
    return tuple(Tensor._wrap(np.zeros(p._data.shape, p._data.dtype)) if need else None
                 for p, need in zip(ctx.inputs, ctx.needs_input_grad))


def twice(name):
    """The name of the gradient's node, PyTorch's way: MaxPool2DWithIndicesBackward0 -> ...BackwardBackward0."""
    return name.replace("Backward", "BackwardBackward", 1)


# ---- max / min pooling: y[o] = x[arg[o]] ------------------------------------------------------------------------

def _extreme(ctx, grad):
    s = ctx.saved
    win, arg, x = s["win"], s["arg"], s["x"]
    gather, _ = flat_pair(win.flat_indices(arg), win.spatial)
    return (linear_op(twice(ctx.op), lambda a: K.extreme_backward(a, arg, win, x.shape), gather, grad),)


# ---- average pooling: y[o] = sum of window o / divisor[o] ----------------------------------------------------------

def _window_mean(win, divisor, x_shape):
    """(mean over each window, its adjoint), the array maps of avg_pool (and of lp_pool's inner average)."""
    def mean(a):
        return K.sum_forward(a, win) / divisor

    def spread(b):
        return K.sum_backward(b / divisor, win, x_shape)

    return mean, spread


def _avg(ctx, grad):
    s = ctx.saved
    mean, spread = _window_mean(s["win"], s["divisor"], s["x"].shape)
    return (linear_op(twice(ctx.op), spread, mean, grad),)


# ---- lp pooling: y = z^(1/p), z = taps * avg(x^p) --------------------------------------------------------------

@register("PowBackward0")  # PyTorch's lp_pool ends in a pow, so the op records that name (as does x ** p)
def _lp(ctx, grad):
    s = ctx.saved
    if "win" not in s or "taps" not in s:
        return NotImplemented  # a plain pow: ops/elementwise's formula
    p, taps, x_t = s["p"], s["taps"], ctx.inputs[0]
    mean, spread = _window_mean(s["win"], s["divisor"], s["x"].shape)
    # PyTorch's sign(a) * relu(|a|) has derivative 0 where a == 0 (relu'(0) = 0), 1 elsewhere: no gradient (of
    # any order) passes there, even where z^(1/p - 1) is infinite
    flat = Tensor._wrap(s["a"] == 0)
    z = where(flat, 0.0, linear_op("AvgPoolBackward0", mean, spread, x_t ** p)) * taps
    ga = where(flat, 0.0, grad * z ** (1.0 / p - 1.0) * (taps / p))
    return (linear_op("AvgPoolBackwardBackward0", spread, mean, ga) * (x_t ** (p - 1.0) * p),)


# ---- adaptive pooling ----------------------------------------------------------------------------------------------

def _adaptive_avg(ctx, grad):
    s = ctx.saved
    divisor, out_size, spatial, x, n = s["divisor"], s["out_size"], s["spatial"], s["x"], s["n"]
    axes = [(x.ndim - n + k, size, o) for k, (size, o) in enumerate(zip(spatial, out_size)) if o != size]

    def mean(a):
        for axis, _, o in axes:
            a = K.adaptive_sum_axis(a, axis, o)[0]
        return a / divisor

    def spread(b):
        b = b / divisor
        for axis, size, _ in reversed(axes):
            b = K.adaptive_sum_axis_backward(b, axis, size)
        return b

    return (linear_op(twice(ctx.op), spread, mean, grad),)


def _adaptive_max(ctx, grad):
    gather, scatter = flat_pair(ctx.saved["flat"], ctx.saved["spatial"])
    return (linear_op(twice(ctx.op), scatter, gather, grad),)


# ---- max_unpool: y[idx[i]] = x[i] ----------------------------------------------------------------------------------

def _unpool(ctx, grad):
    s = ctx.saved
    gather, scatter = flat_pair(s["idx"], tuple(grad.shape[grad.ndim - s["n"]:]))
    return (linear_op(twice(ctx.op), gather, scatter, grad),)


# ---- registration: one name per op and rank (a 1-d pool runs as the 2-d one and records SqueezeBackward1) -------

def _dispatch(ctx, grad):
    """The formula of a pooling node, told apart by its closure's variables; NotImplemented for other ops."""
    s = ctx.saved
    if "win" in s:
        if "arg" in s:
            return _extreme(ctx, grad)
        return NotImplemented if "taps" in s else _avg(ctx, grad)
    if "divisor" in s and "out_size" in s:
        return _adaptive_avg(ctx, grad)
    if "flat" in s and "spatial" in s:
        return _adaptive_max(ctx, grad)
    if "idx" in s and "n" in s:
        return _unpool(ctx, grad)
    if set(s) == {"x"} and grad._data.size == 0:  # an adaptive pool to an empty size
        return zero_grads(ctx)
    return NotImplemented


for _n in (2, 3):
    for _kind in ("MaxPool{}DWithIndices", "MinPool{}DWithIndices", "AvgPool{}D", "AdaptiveAvgPool{}D",
                  "AdaptiveMaxPool{}D", "MaxUnpool{}D"):
        register(_kind.format(_n) + "Backward0")(_dispatch)
register("SqueezeBackward1")(_dispatch)  # the 1-d pools (squeeze itself: derivatives/shape.py)
register("MeanBackward1")(_dispatch)     # adaptive_avg_pool to one value per channel (mean itself: core.py)
