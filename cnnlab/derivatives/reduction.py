"""create_graph formulas for the math reductions and scans: max/min (full and along a dim), amax/amin, var,
std, logsumexp, prod, cumsum, cumprod, logcumsumexp and the vector norm. (Sum and mean are in core.py.)

Gradients that only route g by fixed indices or masks (max/min, amax/amin, the inf-norms, cumsum) are linear
in g with constant weights; the others are written with differentiable cnnlab ops, following PyTorch's
formulas (prod and cumprod have an exact path for inputs with zeros).
"""
import numpy as np

from ..autograd.graph import linear_op, register
from ..ops.elementwise import where
from ..ops.shape import cat
from .unary import const


def _keep(t, shape, axes, keepdim):
    """A reduction's result (or its gradient) t with the reduced axes back as size-1 dims (keepdim form)."""
    if keepdim or len(t.shape) == len(shape):
        return t
    return t.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


@register("MaxBackward1")
@register("MinBackward1")
def _full_extreme(ctx, grad):
    # ties share the gradient evenly: g * mask / count, the mask a constant
    if not {"x", "out"} <= ctx.saved.keys():
        return NotImplemented
    s = ctx.saved
    x, out = s["x"], s["out"]
    mask = (x == out) | (np.isnan(x) & np.isnan(out)) if x.dtype.kind == "f" else x == out
    return (grad * const(mask / max(int(mask.sum()), 1), grad),)


@register("MaxBackward")
@register("MinBackward")
def _extreme_along(ctx, grad):
    # the gradient goes to the element each index names: a scatter with fixed indices (a gather is its adjoint)
    if not {"x", "idx", "axis", "keepdim"} <= ctx.saved.keys():
        return NotImplemented
    s = ctx.saved
    x, idx, axis, keepdim = s["x"], s["idx"], s["axis"], s["keepdim"]
    if not x.ndim:
        return (grad,)

    def gather(h):
        v = np.take_along_axis(h, idx, axis=axis)
        return v if keepdim else v.squeeze(axis)

    return (linear_op(ctx.op, lambda g: ctx.backward(g)[0], gather, grad),)


@register("AmaxBackward")
@register("AminBackward")
def _amax_amin(ctx, grad):
    if not {"x", "out", "axes", "keepdim"} <= ctx.saved.keys():
        return NotImplemented
    s = ctx.saved
    x, axes, keepdim = s["x"], s["axes"], s["keepdim"]
    mask = x == (s["out"] if keepdim else np.expand_dims(s["out"], axes))
    with np.errstate(all="ignore"):  # a nan maximum: no element equals it, nan gradients, as torch
        weight = mask / mask.sum(axis=axes, keepdims=True)
    return (_keep(grad, x.shape, axes, keepdim) * const(weight, grad),)


def _centred(x, axes):
    return x - x.mean(dim=axes, keepdim=True)


@register("VarBackward")
def _var(ctx, grad):
    # var = sum((x - mean)^2) / (n - c)  =>  dvar/dx = 2 (x - mean) / (n - c)
    if not {"axes", "keepdim", "scale", "centred"} <= ctx.saved.keys():
        return NotImplemented
    s = ctx.saved
    x, = ctx.inputs
    return ((_keep(grad, x.shape, s["axes"], s["keepdim"]) * s["scale"]) * _centred(x, s["axes"]),)  # torch's order


@register("StdBackward")
def _std(ctx, grad):
    # dstd/dx = (x - mean) / ((n - c) std), 0 where std == 0 (as PyTorch's masked var backward)
    if not {"axes", "keepdim", "denom", "out", "centred"} <= ctx.saved.keys():
        return NotImplemented
    s = ctx.saved
    x, = ctx.inputs
    axes, keepdim = s["axes"], s["keepdim"]
    zero = const((s["out"] if keepdim else np.expand_dims(s["out"], axes)) == 0, None)
    std = _keep(ctx.output, x.shape, axes, keepdim)
    scale = where(zero, 0.0, _keep(grad, x.shape, axes, keepdim) / where(zero, 1.0, std))
    return (scale * _centred(x, axes) / s["denom"],)


@register("LogsumexpBackward")
def _logsumexp(ctx, grad):
    # d lse / dx = exp(x - lse), the softmax along the reduced axes
    if not {"axes", "keepdim", "e", "s"} <= ctx.saved.keys():
        return NotImplemented
    s = ctx.saved
    x, = ctx.inputs
    axes, keepdim = s["axes"], s["keepdim"]
    return (_keep(grad, x.shape, axes, keepdim) * (x - _keep(ctx.output, x.shape, axes, keepdim)).exp(),)


def _prod_of_others(x, axis):
    """For each element, the product of the others along axis (exclusive running products from both ends),
    exact where x has zeros."""
    n = x.shape[axis]
    ones = const(np.ones(tuple(1 if i == axis else s for i, s in enumerate(x.shape))), x)
    left = cat([ones, x.narrow(axis, 0, n - 1)], axis).cumprod(axis)
    right = cat([ones, x.narrow(axis, 1, n - 1).flip(axis)], axis).cumprod(axis).flip(axis)
    return left * right


def _prod_grad(grad_k, x, out_k, axis):
    """grad * d prod / dx: out / x without zeros (as torch), the exclusive products with them."""
    if not x._data.size:
        return const(np.zeros(x.shape), x)
    if not np.any(x._data == 0):
        return grad_k * (out_k / x)
    if axis is None:
        return grad_k * _prod_of_others(x.reshape(-1), 0).reshape(x.shape)
    return grad_k * _prod_of_others(x, axis)


@register("ProdBackward0")
def _prod_all(ctx, grad):
    if "flat" not in ctx.saved:
        return NotImplemented
    x, = ctx.inputs
    return (_prod_grad(grad, x, ctx.output, None),)


@register("ProdBackward1")
def _prod_along(ctx, grad):
    if not {"x", "axis", "keepdim"} <= ctx.saved.keys():
        return NotImplemented
    s = ctx.saved
    x, = ctx.inputs
    if not x.ndim:
        return (grad,)
    axis, keepdim = s["axis"], s["keepdim"]
    return (_prod_grad(_keep(grad, x.shape, (axis,), keepdim), x, _keep(ctx.output, x.shape, (axis,), keepdim), axis),)


def _reverse_cumsum(t, axis):
    """sum_{j >= i} t_j along axis, differentiable (cumsum is its adjoint)."""
    def rev(a):
        return np.flip(np.cumsum(np.flip(a, axis), axis=axis), axis).copy()
    return linear_op("CumsumBackward", rev, lambda a: np.cumsum(a, axis=axis), t)


@register("CumsumBackward")
def _cumsum(ctx, grad):
    # out_j = sum_{i <= j} x_i  =>  dx_i = sum_{j >= i} g_j
    if not {"x", "axis"} <= ctx.saved.keys():
        return NotImplemented
    x, = ctx.inputs
    return (grad if not x.ndim else _reverse_cumsum(grad, ctx.saved["axis"]),)


@register("CumprodBackward0")
def _cumprod(ctx, grad):
    # out_j = prod_{i <= j} x_i  =>  dx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k; without zeros that is
    # reverse_cumsum(g out)_i / x_i (as torch); with zeros the products leaving x_i out, an (n, n) table per row
    if not {"x", "axis", "out"} <= ctx.saved.keys():
        return NotImplemented
    x, = ctx.inputs
    axis = ctx.saved["axis"]
    if not x.ndim or x.shape[axis] <= 1:
        return (grad,)
    if not np.any(x._data == 0):
        return (_reverse_cumsum(grad * ctx.output, axis) / x,)
    n = x.shape[axis]
    xm, gm = x.transpose(axis, -1), grad.transpose(axis, -1)  # (..., n)
    eye = const(np.eye(n, dtype=bool), None)
    left_out = where(eye, 1.0, xm.unsqueeze(-2)).cumprod(-1)  # (..., i, j): prod_{k <= j, k != i} x_k
    later = const(np.triu(np.ones((n, n))), x)  # j >= i
    return ((left_out * (gm.unsqueeze(-2) * later)).sum(-1).transpose(axis, -1),)


@register("LogcumsumexpBackward0")
def _logcumsumexp(ctx, grad):
    # dx_i = sum_{j >= i} g_j exp(x_i - out_j), summed in log space with the positive and negative parts of g
    # apart (as torch's formula), so that nothing overflows; log's input is made safe where a part is empty
    if not {"x", "axis", "out"} <= ctx.saved.keys():
        return NotImplemented
    x, = ctx.inputs
    if not x.ndim:
        return (grad,)
    axis, out = ctx.saved["axis"], ctx.output
    lowest = float(np.finfo(grad._data.dtype).min)

    def part(sign):
        on = const(sign * grad._data > 0, None)
        log_g = where(on, where(on, grad * sign, 1.0).log(), lowest)
        return ((log_g - out).flip(axis).logcumsumexp(axis).flip(axis) + x).exp()

    return (part(1) - part(-1),)


@register("LinalgVectorNormBackward0")
def _vector_norm(ctx, grad):
    # d|x|_p / dx = sign(x) |x|^(p-1) / |x|_p^(p-1) (0 at a zero norm); the inf-norms pass g to the extreme
    # elements (ties share), the 1-norm is g sign(x), the 0-norm has a zero gradient
    if not {"x", "a", "p", "out_k", "axes", "keepdim"} <= ctx.saved.keys():
        return NotImplemented
    s = ctx.saved
    t, = ctx.inputs
    x, p, axes, keepdim = s["x"], s["p"], s["axes"], s["keepdim"]
    xt = t if t._data.dtype == x.dtype else t.to(x.dtype)
    gk = _keep(grad, x.shape, axes, keepdim)
    sign = np.sign(x)
    if p in (float("inf"), -float("inf")):
        mask = s["a"] == s["out_k"]
        d = gk * const(sign * mask / mask.sum(axis=axes, keepdims=True), gk)
    elif p == 0:
        d = const(np.zeros(x.shape), xt)
    elif p == 1:
        d = gk * const(sign, gk)
    else:
        zero = const(s["out_k"] == 0, None)
        norm = where(zero, 1.0, _keep(ctx.output, x.shape, axes, keepdim))
        scale = where(zero, 0.0, gk / (norm if p == 2 else norm ** (p - 1)))
        if p == 2:
            d = xt * scale
        else:
            xz = const(x == 0, None)
            d = const(sign, xt) * where(xz, 1.0, xt).abs() ** (p - 1) * scale
    return (d if d.dtype == t.dtype else d.to(t.dtype),)
