"""create_graph formulas of the normalisation ops (cnnlab/nn/functional/normalization.py): batch norm in
training and evaluation, instance, layer and group norm, local response norm and normalize.

The closed-form first-order gradient is written again in cnnlab ops, with the batch statistics recomputed as
tensors of the input so that their own derivatives enter the next order:
dx = invstd (gxhat - mean(gxhat) - xhat mean(gxhat xhat)), dweight = sum(g xhat), dbias = sum(g).
The ops do not keep eps (or LRN's k): it is read back from the saved arrays as a constant offset
(1 / invstd^2 - var), exact in value, with no gradient, as eps has none.
"""
import numpy as np

from .._dtypes import float64
from ..autograd.graph import linear_op, register
from ..nn.functional.normalization import channel_window_sum
from .activation import const, formula_for, free_vars, origin


def _standardized(xs, axes, invstd_arr):
    """(xhat, invstd) of xs over axes as tensors of xs; invstd_arr (broadcastable to the statistics' shape) is
    the forward's value, from which the variance offset eps is read back."""
    mean = xs.mean(axes, keepdim=True)
    xc = xs - mean
    var = (xc * xc).mean(axes, keepdim=True)
    eps = 1.0 / (invstd_arr.astype(var._data.dtype) ** 2) - var._data
    invstd = (var + const(eps, var._data.dtype)) ** -0.5
    return xc * invstd, invstd


def _sum(t, axes):
    return t.sum(axes) if axes else t  # (sum over dim=() would sum every dim)


def _wide(t):
    """t in float64: a float16/float32 input's statistics are recomputed here, and in its own precision the
    mean of data far from zero would cost more than PyTorch's float32 error."""
    return t if t is None or t._data.dtype == np.float64 else t.to(float64)


def _norm_grads(ctx, grad, x, w, b, param_shape, red, xs_shape, axes, invstd_arr):
    """Gradients of out = xhat * w + b for batch statistics of x.reshape(xs_shape) over axes."""
    x64, g64, w64 = _wide(x), _wide(grad), _wide(w)
    xhat, invstd = _standardized(x64.reshape(xs_shape), axes, invstd_arr)
    gx = gw = gb = None
    if ctx.needs_input_grad[0]:
        gxhat = (g64 if w64 is None else g64 * w64.reshape(param_shape)).reshape(xs_shape)
        gx = invstd * (gxhat - gxhat.mean(axes, keepdim=True) - xhat * (gxhat * xhat).mean(axes, keepdim=True))
        gx = gx.reshape(x.shape)
    if w is not None and ctx.needs_input_grad[1]:
        gw = _sum(g64 * xhat.reshape(x.shape), red).reshape(w.shape)
    if b is not None and ctx.needs_input_grad[-1]:
        gb = _sum(grad, red).reshape(b.shape)
    return tuple(g if g is None else g.to(p.dtype) for g, p in ((gx, x), (gw, w), (gb, b)) if p is not None)


def _inputs(ctx, w_saved, b_saved):
    """(x, weight, bias) among ctx.inputs (weight and bias None where the op had none)."""
    ins = list(ctx.inputs)
    x = ins.pop(0)
    w = ins.pop(0) if w_saved is not None else None
    b = ins.pop(0) if b_saved is not None else None
    return x, w, b


def _batch_norm(ctx, grad):
    s = ctx.saved
    x, w, b = _inputs(ctx, s["w"], s["b"])
    C = s["C"]
    param_shape = (1, C) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    if s["training"]:
        return _norm_grads(ctx, grad, x, w, b, param_shape, axes, x.shape, axes,
                           np.asarray(s["invstd"]).reshape(param_shape))
    # evaluation: xhat = (x - running_mean) * invstd with constant statistics
    dt = x._data.dtype
    invstd = const(s["invstd"].reshape(param_shape), dt)
    xhat = (x - const(s["rm"]._data.reshape(param_shape), dt)) * invstd
    gx = gw = gb = None
    if ctx.needs_input_grad[0]:
        gx = grad * invstd if w is None else grad * (w.reshape(param_shape) * invstd)
    if w is not None and ctx.needs_input_grad[1]:
        gw = (grad * xhat).sum(axes).reshape(w.shape)
    if b is not None and ctx.needs_input_grad[-1]:
        gb = grad.sum(axes).reshape(b.shape)
    return tuple(g for g, p in ((gx, x), (gw, w), (gb, b)) if p is not None)


def _affine(ctx, grad):
    """instance, layer and group norm (normalization._affine with the op's standardize-gradient closure)."""
    s = ctx.saved
    x, w, b = _inputs(ctx, s["w_t"], s["b_t"])
    fv = free_vars(s["xhat_grad_to_x"])
    red = s["red"]
    param_shape = tuple(1 if i in red else n for i, n in enumerate(x.shape))
    if "G" in fv:  # group norm: statistics per (sample, group)
        xs_shape, axes = (fv["N"], fv["G"], -1), (2,)
    else:
        xs_shape, axes = x.shape, fv["axes"]
    return _norm_grads(ctx, grad, x, w, b, param_shape, red, xs_shape, axes, fv["invstd"])


def norm_formula(ctx, grad):
    """batch/instance/layer/group norm (and their empty-input form, whose gradients are zeros)."""
    made_by = origin(ctx)
    if made_by == "normalization.batch_norm.<locals>.backward":
        return _batch_norm(ctx, grad)
    if made_by == "normalization._affine.<locals>.backward":
        return _affine(ctx, grad)
    if made_by == "normalization._empty.<locals>.<lambda>":
        return tuple(const(np.zeros(p._data.shape), p._data.dtype) for p in ctx.inputs)
    return NotImplemented


for _name in ("NativeBatchNormBackward", "NativeLayerNormBackward", "NativeGroupNormBackward"):
    register(_name)(norm_formula)


@formula_for("normalization.local_response_norm.<locals>.backward", "LocalResponseNormBackward")
def _local_response_norm(ctx, grad):
    # out = x q^-beta, q = k + alpha / size * window_sum(x^2); the window sum is linear with fixed geometry:
    # dx = g / d - (2 alpha beta / size) x window_sum^T(g x / (d q)), d = q^beta
    s = ctx.saved
    x = ctx.inputs[0]
    alpha, beta, size = s["alpha"], s["beta"], s["size"]
    before, after = size // 2, (size - 1) // 2
    fwd = lambda a: channel_window_sum(a, before, after)   # noqa: E731
    adj = lambda a: channel_window_sum(a, after, before)   # noqa: E731
    xd = s["x"]
    k = s["q"] - fwd(xd * xd) / size * alpha                # k, read back (a constant)
    q = linear_op("LocalResponseNormWindow", fwd, adj, x * x) * (alpha / size) + const(k, xd.dtype)
    d = q ** beta
    u = grad * x / (d * q)
    return (grad / d - x * linear_op("LocalResponseNormWindow", adj, fwd, u) * (2.0 * alpha * beta / size),)


@formula_for("normalization.normalize.<locals>.backward", "NormalizeBackward")
def _normalize(ctx, grad):
    # y = x / max(n, eps): dx = g / denom - [n >= eps] sum(g x) / denom^2 dn/dx, with n and dn/dx in cnnlab ops
    s = ctx.saved
    t = ctx.inputs[0]
    xd, nd, d, p, eps = s["x"], s["n"], s["d"], s["p"], s["eps"]
    dt = xd.dtype
    x = t.reshape(xd.shape)
    # a slice whose norm is below eps is divided by the constant eps: its norm leaves the graph (ones stand in
    # for it, so no derivative of a norm at 0, inf * 0, reaches the next order)
    keep = np.broadcast_to(nd >= eps, xd.shape)
    xs_d = np.where(keep, xd, 1.0).astype(dt, copy=False)
    xs = x * const(keep, dt) + const(~keep, dt)
    sgn = np.sign(xs_d)
    if p in (float("inf"), float("-inf")):
        ax = np.abs(xs_d)
        hit = ax == (ax.max(axis=d, keepdims=True) if p > 0 else ax.min(axis=d, keepdims=True))
        dn = const(sgn * hit / hit.sum(axis=d, keepdims=True), dt)  # the ties share the gradient, as the op
        n = (xs * dn).sum(d, keepdim=True)                            # = max |x| (or min), with derivative dn
    elif p == 0:
        dn, n = None, const(nd, dt)
    elif p == 1:
        dn = const(sgn, dt)
        n = (xs * dn).sum(d, keepdim=True)
    elif p == 2:
        n = (xs * xs).sum(d, keepdim=True) ** 0.5
        dn = xs / n
    else:
        ax = xs * const(sgn, dt)                             # |x| with sign(x) fixed (abs'(0) = 0)
        n = (ax ** p).sum(d, keepdim=True) ** (1.0 / p)
        nz = const(xs_d != 0, dt)                            # 0 at zeros, as the op (and torch for p < 1)
        dn = const(sgn, dt) * ((ax + const(xs_d == 0, dt)) / n) ** (p - 1) * nz
    big = const(nd >= eps, dt)
    denom = n * big + (1 - big) * eps
    gx = grad.reshape(xd.shape) / denom
    if dn is not None:
        gx = gx - big * (grad.reshape(xd.shape) * x).sum(d, keepdim=True) / (denom * denom) * dn
    return (gx.reshape(t.shape),)
