"""create_graph formulas for the elementwise binary math ops: pow in its three forms (and square, which shares
PowBackward0), rsub, maximum/minimum, remainder, fmod, logaddexp, hypot, atan2, copysign, where and clamp with
tensor bounds.

The binary ops' closures (ops/elementwise.py's binary op) hold ta/tb (the operand tensors, None for a Python
number) and xa/xb (the operands as arrays of the result dtype); a formula returns one gradient per tensor
operand, summed back to its shape (`sum_to`) and cast to its dtype. Masks of piecewise definitions are
constants, as in PyTorch's formulas; where a masked branch would be inf or nan at the masked points its input is
made safe first, so that its own derivative is 0 there rather than nan.
"""
import numpy as np

from ..autograd.graph import register, sum_to
from ..ops.elementwise import where
from ..tensor import Tensor
from .core import binary_op, unary_op
from .unary import const


def _number(v):
    return v.item() if isinstance(v, (np.generic, np.ndarray)) else v


def _operands(ctx):
    """(a, b): each operand as its tensor, or as the Python number it was."""
    s = ctx.saved
    return (s["ta"] if s["ta"] is not None else _number(s["xa"]),
            s["tb"] if s["tb"] is not None else _number(s["xb"]))


def fit(g, t):
    """g summed to t's shape and cast to t's dtype (a gradient for parent t).

    >>> import cnnlab
    >>> fit(cnnlab.ones(2, 3), cnnlab.zeros(3, dtype=cnnlab.float64))
    tensor([2., 2., 2.], dtype=cnnlab.float64)
    """
    if tuple(g.shape) != tuple(t.shape):
        g = sum_to(g, t.shape)
    return g if g.dtype == t.dtype else g.to(t.dtype)


def _result(ctx, grad_a, grad_b):
    """One gradient per tensor operand; grad_a / grad_b are called only for operands that need one (that require
    grad and lead to what is differentiated: ctx.needs_input_grad)."""
    s = ctx.saved
    fns = [fn for t, fn in ((s["ta"], grad_a), (s["tb"], grad_b)) if t is not None]
    return tuple(fit(fn(), t) if need else None for t, fn, need in zip(ctx.inputs, fns, ctx.needs_input_grad))


def _masks(ctx, fn):
    """fn(xa, xb) on the operand arrays broadcast to the result's shape, as a constant bool tensor."""
    s = ctx.saved
    with np.errstate(all="ignore"):
        return const(np.broadcast_to(fn(s["xa"], s["xb"]), s["out"].shape), None)


@register("PowBackward0")
def _pow_number_exponent(ctx, grad):
    if unary_op(ctx) == "square":  # square(x): the unary table's name for x ** 2
        x, = ctx.inputs
        return (grad * x * 2,)
    if binary_op(ctx) != "pow":
        return NotImplemented
    x, e = _operands(ctx)
    if e == 0:  # d/dx x^0 = 0, also at x = 0
        return (const(np.zeros(x.shape), x),)
    return (grad * (x ** (e - 1) * e),)


# d(a^b)/da = b a^(b-1) (0 where b == 0); d(a^b)/db = a^b log a (0 where a == 0 and b >= 0)
@register("PowBackward1")
def _pow(ctx, grad):
    if binary_op(ctx) != "pow":
        return NotImplemented
    a, b = _operands(ctx)

    def grad_a():
        b0 = _masks(ctx, lambda xa, xb: xb == 0)
        return where(b0, 0.0, grad * b * a ** where(b0, 1.0, b - 1))

    def grad_b():
        flat = _masks(ctx, lambda xa, xb: (xa == 0) & (xb >= 0))
        return where(flat, 0.0, grad * ctx.output * where(flat, 1.0, a).log())

    return _result(ctx, grad_a, grad_b)


@register("PowBackward2")
def _pow_number_base(ctx, grad):
    if binary_op(ctx) != "pow":
        return NotImplemented
    a, b = _operands(ctx)  # a is a number
    with np.errstate(all="ignore"):
        log_a = float(np.log(float(a)))
    if a == 0:  # 0^b: flat for b >= 0 (a zero factor, not a masked -inf, so that d/dg is 0 there too)
        log_a = const(np.where(np.broadcast_to(ctx.saved["xb"], ctx.saved["out"].shape) >= 0, 0.0, log_a), grad)
    return (fit(grad * ctx.output * log_a, b),)


@register("RsubBackward1")
def _rsub(ctx, grad):  # number - x
    if binary_op(ctx) != "sub":
        return NotImplemented
    return (fit(-grad, ctx.inputs[0]),)


def _extreme(ctx, grad, wins):
    """maximum/minimum: the gradient goes to the operand that won, split evenly on ties."""
    if binary_op(ctx) not in ("maximum", "minimum"):
        return NotImplemented
    ties = _masks(ctx, lambda xa, xb: xa == xb)
    a_wins, b_wins = _masks(ctx, wins), _masks(ctx, lambda xa, xb: wins(xb, xa))
    half = grad * 0.5
    return _result(ctx, lambda: where(ties, half, where(a_wins, grad, 0.0)),
                   lambda: where(ties, half, where(b_wins, grad, 0.0)))


@register("MaximumBackward0")
def _maximum(ctx, grad):
    return _extreme(ctx, grad, np.greater)


@register("MinimumBackward0")
def _minimum(ctx, grad):
    return _extreme(ctx, grad, np.less)


# a - round(a / b) * b: d/da = 1, d/db = -round(a / b), a step function (a constant to differentiate)
def _modulus(ctx, grad, rounding):
    if binary_op(ctx) not in ("remainder", "fmod"):
        return NotImplemented
    s = ctx.saved
    return _result(ctx, lambda: grad, lambda: -grad * const(rounding(s["xa"], s["xb"]), grad))


@register("RemainderBackward0")
def _remainder(ctx, grad):
    return _modulus(ctx, grad, np.floor_divide)


@register("FmodBackward0")
def _fmod(ctx, grad):
    return _modulus(ctx, grad, lambda a, b: np.trunc(a / b))


@register("LogaddexpBackward0")
def _logaddexp(ctx, grad):
    if binary_op(ctx) != "logaddexp":
        return NotImplemented
    a, b = _operands(ctx)
    return _result(ctx, lambda: grad / ((b - a).exp() + 1), lambda: grad / ((a - b).exp() + 1))


@register("HypotBackward0")
def _hypot(ctx, grad):
    if binary_op(ctx) != "hypot":
        return NotImplemented
    a, b = _operands(ctx)
    out = ctx.output
    return _result(ctx, lambda: grad * a / out, lambda: grad * b / out)


@register("Atan2Backward0")
def _atan2(ctx, grad):
    # d/dy atan2(y, x) = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2); 0 at the origin, as the first order
    if binary_op(ctx) != "atan2":
        return NotImplemented
    y, x = _operands(ctx)
    origin = _masks(ctx, lambda ya, xa: (ya * ya + xa * xa) == 0)
    r = where(origin, 0.0, where(origin, 1.0, x * x + y * y).reciprocal())
    return _result(ctx, lambda: grad * x * r, lambda: -grad * y * r)


@register("CopysignBackward0")
def _copysign(ctx, grad):
    # d/da = +-1 (the sign flip), 0 at a == 0; other gets a zero gradient (a step function)
    if binary_op(ctx) != "copysign":
        return NotImplemented
    s = ctx.saved
    flip = np.where(s["xa"] == 0, 0, np.where(s["out"] == s["xa"], 1, -1))
    return _result(ctx, lambda: grad * const(flip, grad), lambda: const(np.zeros(s["tb"].shape), s["tb"]))


@register("WhereBackward")
def _where(ctx, grad):
    s = ctx.saved
    if "cond" not in s:
        return NotImplemented
    cond = const(s["cond"], None)
    return _result(ctx, lambda: where(cond, grad, 0.0), lambda: where(cond, 0.0, grad))


@register("ClampBackward0")
def _clamp_tensor_bounds(ctx, grad):
    # x gets g where lo <= x <= hi; min gets g where x < min (and min < max); max where x > max (or max < min)
    s = ctx.saved
    if not {"x", "lo", "hi", "shape", "min", "max"} <= s.keys():
        return NotImplemented
    x, lo, hi, shape = s["x"], s["lo"], s["hi"], s["shape"]
    keep = np.ones(shape, bool)
    if lo is not None:
        keep &= x >= lo
    if hi is not None:
        keep &= x <= hi
    bounds = [b for b in (s["min"], s["max"]) if isinstance(b, Tensor)]
    masks = [keep]
    for b in bounds:
        if b is s["min"]:
            masks.append((x < lo) & (lo < hi) if hi is not None else x < lo)
        else:
            masks.append((x > hi) | (hi < lo) if lo is not None else x > hi)
    return tuple(fit(where(const(np.broadcast_to(m, shape), None), grad, 0.0), p) if need else None
                 for p, m, need in zip(ctx.inputs, masks, ctx.needs_input_grad))
