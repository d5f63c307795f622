"""create_graph formulas of the fused losses (cnnlab/nn/functional/loss.py, loss_elementwise.py): cross_entropy
and nll_loss on class indices or probabilities, and every elementwise loss.

The losses built from smaller recorded ops (loss_margin.py, loss_likelihood.py, distance.py, attention.py) need
no formula of their own: their nodes are those ops'. PyTorch has no double backward for multi_margin_loss and
multilabel_margin_loss ("derivative for aten::multi_margin_loss_backward is not implemented"); cnnlab composes
them too and only renames the last node (a mean, sum, division or reshape) to PyTorch's grad_fn name, so that
node's own formula gives every order: better than PyTorch's error.
"""
import numpy as np

from ..autograd.graph import formulas, register, sum_to
from ..nn.functional.activation import log_softmax, sigmoid, softmax, softplus
from ..tensor import Tensor
from ..nn.functional.loss_elementwise import elementwise_loss
from .activation import const, definer, formula_for, free_vars


def _cast(t, dtype):
    return t if t._data.dtype == dtype else t.to(dtype)


def _expand(t, shape):
    """t broadcast to shape (a no-op when it has it): a product with a constant or a reduced upstream gradient
    may be smaller than the operands' broadcast shape."""
    return t if tuple(t.shape) == tuple(shape) else t.expand(*shape)


def _upstream(grad, reduction, denom, shape):
    """Tensor form of loss._upstream: d(out)/d(per-element loss) * grad, broadcastable to shape. A zero count
    (an empty input, every target ignored) multiplies only zeros: 1 stands in for it, so no 0/0 reaches the
    next order (PyTorch's gradients are 0 there, not NaN)."""
    if reduction == "none":
        return grad.reshape(shape)
    if reduction == "sum":
        return grad
    if isinstance(denom, (int, float, np.number)):
        return grad / (denom or 1)
    return grad / (denom + const(denom._data == 0, denom._data.dtype))


# ---- elementwise losses (loss_elementwise.elementwise_loss) ---------------------------------------------
def _sign(a, b):
    return np.sign(a - b)


def _d_l1(xs, arrays, fv):
    s = _sign(*arrays[:2])
    return [const(s, s.dtype), const(-s, s.dtype)]


def _d_smooth_l1(xs, arrays, fv):
    if "beta" not in fv:  # beta = 0 is l1_loss
        return _d_l1(xs, arrays, fv)
    d = arrays[0] - arrays[1]
    quad = const(np.abs(d) < fv["beta"], d.dtype)  # d / beta inside |d| < beta, sign(d) outside
    dd = (xs[0] - xs[1]) * quad * (1 / fv["beta"]) + const((1 - quad._data) * np.sign(d), d.dtype)
    return [dd, -dd]


def _d_huber(xs, arrays, fv):
    d = arrays[0] - arrays[1]
    quad = const(np.abs(d) < fv["delta"], d.dtype)  # d inside |d| < delta, delta sign(d) outside
    dd = (xs[0] - xs[1]) * quad + const((1 - quad._data) * fv["delta"] * np.sign(d), d.dtype)
    return [dd, -dd]


def _d_bce(xs, arrays, fv):
    # the input's gradient is a node of its own (_bce_input_grad); the target's is log(1 - x) - log(x)
    a = xs[0]
    return [None, (-a).log1p() - a.log()]


_BCE_EPS = 1e-12


def _bce_input_grad(x, t, gw):
    """binary_cross_entropy's input gradient gw (x - t) / max(x (1 - x), eps) (x, t, gw of one shape) as a node
    whose derivatives are PyTorch's binary_cross_entropy double backward, which places eps differently:
    d/dx = gw (x^2 - 2 x t + t) / ((x + eps)^2 (1 - x + eps)^2), d/dt = -gw / max(x (1 - x), eps),
    d/dgw = (x - t) / ((x + eps) (1 - x + eps)). They equal the derivatives of the value except within ~eps
    of 0 and 1, where PyTorch's are the reference."""
    def parts(lib_x, lib_t, lib_w, floor_den):
        eps = _BCE_EPS
        dx = lib_w * (lib_x * lib_x - 2 * lib_x * lib_t + lib_t) / ((lib_x + eps) ** 2 * (1 - lib_x + eps) ** 2)
        return dx, -lib_w / floor_den, (lib_x - lib_t) / ((lib_x + eps) * (1 - lib_x + eps))

    xd, td, wd = x._data, t._data, gw._data
    with np.errstate(all="ignore"):
        floor_den = np.maximum(xd * (1 - xd), _BCE_EPS)
        value = wd * (xd - td) / floor_den

    def backward(g):
        with np.errstate(all="ignore"):
            return tuple(g * d for d in parts(xd, td, wd, floor_den))

    def formula(ctx, g):
        xx, tt, ww = ctx.inputs
        den = xx * (1 - xx)  # the floor acts on the value only (PyTorch clamps it in place, untracked)
        den = den + const(np.maximum(den._data, _BCE_EPS) - den._data, den._data.dtype)
        return tuple(g * d for d in parts(xx, tt, ww, den))

    backward._formula = formula
    return Tensor._from_op(value, (x, t, gw), backward, "BinaryCrossEntropyBackwardBackward0")


def _d_bce_logits(xs, arrays, fv):
    # l = (1 - t) x + lw softplus(-x), lw = 1 + (pw - 1) t
    a, b = xs[:2]
    sn, sp = sigmoid(-a), softplus(-a, 1.0, float("inf"))
    if len(xs) == 2:
        return [(1 - b) - sn, -a]
    pw = xs[2]
    return [(1 - b) - (1 + (pw - 1) * b) * sn, (pw - 1) * sp - a, b * sp]


def _d_kl_div(xs, arrays, fv, der):
    a, b = xs
    if "exp" in der.__code__.co_names:  # log_target: l = exp(t) (t - x)
        eb = b.exp()
        return [-eb, eb * (b - a + 1)]
    return [-b, b.log() + 1 - a]  # l = t log t - t x


def _d_soft_margin(xs, arrays, fv):
    a, b = xs
    s = sigmoid(-b * a)  # l = log(1 + exp(-t x))
    return [-b * s, -a * s]


def _d_margin_ranking(xs, arrays, fv):
    a, b, y = xs
    act = const(fv["act"](*arrays), a._data.dtype)  # the op's own active-pair mask
    return [-y * act, y * act, (b - a) * act]


_ELEMENTWISE = {
    "mse_loss": lambda xs, arrays, fv: [(xs[0] - xs[1]) * 2, (xs[1] - xs[0]) * 2],
    "l1_loss": _d_l1,
    "smooth_l1_loss": _d_smooth_l1,
    "huber_loss": _d_huber,
    "binary_cross_entropy": _d_bce,
    "binary_cross_entropy_with_logits": _d_bce_logits,
    "soft_margin_loss": _d_soft_margin,
    "margin_ranking_loss": _d_margin_ranking,
}


# the fused node's own name, and the names PyTorch shows for the losses it composes (see loss_elementwise)
@formula_for("loss_elementwise.elementwise_loss.<locals>.backward", "MseLossBackward", "L1LossBackward",
             "SmoothL1LossBackward", "HuberLossBackward", "BinaryCrossEntropyBackward",
             "BinaryCrossEntropyWithLogitsBackward", "KlDivBackward", "SoftMarginLossBackward",
             "MarginRankingLossBackward", "MulBackward0", "DivBackward0", "AbsBackward0", "SumBackward0",
             "MeanBackward0", "SubBackward0", "ClampMinBackward0")
def elementwise_loss_formula(ctx, grad):
    """loss_elementwise.elementwise_loss: dl/d(operand) * upstream * weight, summed to each operand's shape; the
    weight's gradient is the per-element loss (a node of the same op, so its formula is this one) times the
    upstream, less out / sum(weight) for a 'mean' over the weight."""
    s = ctx.saved
    der = s["der"]
    tensors, weight, arrays = s["tensors"], s["weight"], s["arrays"]
    dt = arrays[0].dtype
    xs = [_cast(p, dt) for p in ctx.inputs[:len(tensors)]]
    w = _cast(ctx.inputs[-1], dt) if weight is not None else None
    reduction, shape = s["reduction"], s["shape"]
    over_weight = s["mean_over_weight"] and w is not None
    denom = w.sum() if over_weight else s["denom"]
    gl = _upstream(grad, reduction, denom, shape)
    kind = definer(der)
    ders = (_d_kl_div(xs, arrays, free_vars(der), der) if kind == "kl_div" else
            _ELEMENTWISE[kind](xs, arrays, free_vars(der)))
    gw_el = gl if w is None else gl * w
    grads = [sum_to(_expand(d * gw_el, shape), p.shape).to(p.dtype) if need and d is not None else None
             for p, d, need in zip(ctx.inputs, ders, ctx.needs_input_grad)]
    if kind == "binary_cross_entropy" and ctx.needs_input_grad[0]:
        grads[0] = _bce_input_grad(xs[0], xs[1], _expand(gw_el, shape)).to(ctx.inputs[0].dtype)
    if weight is not None:
        gw = None
        if ctx.needs_input_grad[-1]:
            el = elementwise_loss(kind, xs, "none", lambda *a: s["el"], der)
            gw = sum_to(gl * el, weight.shape)
            if over_weight and reduction == "mean":
                gw = gw - grad * ctx.output / denom
            gw = gw.to(weight.dtype)
        grads.append(gw)
    return tuple(grads)


# ---- class losses: nll_loss and cross_entropy (loss._index_loss, loss._prob_cross_entropy) -------------------
@formula_for("loss._index_loss.<locals>.backward", "NllLossBackward0", "NllLoss2DBackward0", "ViewBackward0",
             "AddBackward0")
def index_loss_formula(ctx, grad):
    """nll_loss / cross_entropy on class indices. With G the (constant) weight on -L per class and c the
    per-sample upstream (divided by W = sum of w[y] for 'mean'): dL = -c G, through log_softmax when fused;
    dw[k] = -sum c L[k] G'[k] (G' = G without w), less grad * out / W * count[k] for a weighted 'mean'."""
    s = ctx.saved
    x_arr, ys, valid, eps, C = s["x"], s["ys"], s["valid"], s["eps"], s["C"]
    dt = x_arr.dtype
    xin = ctx.inputs[0]
    onehot = np.zeros(x_arr.shape, dt)                                 # (N, C, *rest), 0 where ignored
    np.put_along_axis(onehot, ys, valid[:, None].astype(dt), axis=1)
    coef = (1.0 - eps) * onehot + (eps / C) * valid[:, None]          # G' (no class weight)
    weighted = s["w_t"] is not None
    wb = ctx.inputs[1].reshape(s["wb"].shape) if weighted else None
    G = const(coef, dt) * wb if weighted else const(coef, dt)
    W = (const(onehot, dt) * wb).sum() if weighted else s["denom"]
    c = _upstream(grad, s["reduction"], W, s["y"].shape)
    c = c.unsqueeze(1) if c.ndim else c                                # (N, 1, *rest)
    x = xin.reshape(x_arr.shape)
    L = log_softmax(x, 1) if s["fused_softmax"] else x
    gx = gw = None
    if ctx.needs_input_grad[0]:
        gL = -c * G
        gx = (gL - softmax(x, 1) * gL.sum(1, keepdim=True) if s["fused_softmax"] else gL).reshape(xin.shape)
    if weighted and ctx.needs_input_grad[1]:
        axes = (0,) + tuple(range(2, x_arr.ndim))
        gw = (-(c * L * const(coef, dt))).sum(axes)
        if s["reduction"] == "mean":
            gw = gw - grad * ctx.output / W * const(onehot.sum(axes), dt)
    return (gx, gw) if weighted else (gx,)


@formula_for("loss._plain_cross_entropy.<locals>.backward", "NllLossBackward0")
def plain_cross_entropy_formula(ctx, grad):
    """cross_entropy's common case (loss._plain_cross_entropy: (N, C) logits, every target valid, no weight or
    smoothing): dx = c (softmax(x) - onehot(y)), c = grad (/ N for 'mean')."""
    s = ctx.saved
    x_arr = s["x"]
    if not ctx.needs_input_grad[0]:
        return (None,)
    onehot = np.zeros(x_arr.shape, x_arr.dtype)
    onehot[s["rows"], s["y"]] = 1
    c = _upstream(grad, s["reduction"], s["n"], ())
    return ((softmax(ctx.inputs[0], 1) - const(onehot, x_arr.dtype)) * c,)


@formula_for("loss._prob_cross_entropy.<locals>.backward", "DivBackward1", "NegBackward0")
def prob_cross_entropy_formula(ctx, grad):
    """cross_entropy with probabilities t' = (1 - eps) t + eps / C and wt = t' w: dx = c (softmax(x) sum(wt)
    - wt), dt = -(1 - eps) c w L, dw = -sum c t' L over all but the classes."""
    s = ctx.saved
    L_arr, eps = s["L"], s["eps"]
    dt, C = L_arr.dtype, L_arr.shape[1]
    inp, tgt = ctx.inputs[:2]
    x = _cast(inp, dt).reshape(L_arr.shape)
    t = _cast(tgt, dt).reshape(L_arr.shape)
    weighted = s["w_t"] is not None
    wb = _cast(ctx.inputs[2], dt).reshape(s["wb"].shape) if weighted else None
    L = log_softmax(x, 1)
    tp = t * (1.0 - eps) + eps / C if eps else t
    wt = tp * wb if weighted else tp
    loss = s["loss"]
    c = _upstream(grad, s["reduction"], loss.size, loss.shape)
    c = c.unsqueeze(1) if c.ndim else c
    gx = gt = gw = None
    if ctx.needs_input_grad[0]:
        gx = (c * (softmax(x, 1) * wt.sum(1, keepdim=True) - wt)).reshape(inp.shape).to(inp.dtype)
    if ctx.needs_input_grad[1]:
        gt = (-(1.0 - eps) * c * (L * wb if weighted else L)).reshape(tgt.shape).to(tgt.dtype)
    if weighted and ctx.needs_input_grad[2]:
        gw = (-(c * tp * L)).sum((0,) + tuple(range(2, L_arr.ndim))).to(ctx.inputs[2].dtype)
    return (gx, gt, gw) if weighted else (gx, gt)


@register("MultiMarginLossBackward")
@register("MultilabelMarginLossBackward")
def renamed_reduction_formula(ctx, grad):
    """The margin losses' last node, renamed (ops.shape._renamed): the formula of the op it really is."""
    for name in ("MeanBackward0", "SumBackward0", "DivBackward0", "ViewBackward0", "UnsafeViewBackward0"):
        for formula in formulas(name):
            result = formula(ctx, grad)
            if result is not NotImplemented:
                return result
    return NotImplemented
