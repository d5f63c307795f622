"""create_graph formulas of the activations and the softmax family (cnnlab/nn/functional/activation.py,
activation_param.py, softmax.py): each returns the input gradient as differentiable cnnlab ops, so any order works.

Every pointwise activation records `lambda g: grad(g, x, out)` (activation._pointwise): one formula serves them
all, dispatching on the op that defined `grad`. Piecewise-linear ones (hardtanh, relu6, threshold, leaky_relu,
hardsigmoid, relu) have a gradient that is linear in g with a fixed mask and a zero second derivative in x: their
formula is linear_op over the op's own array gradient. The smooth ones multiply g by f'(x) written in cnnlab
ops (mostly other activations: sigmoid, tanh, softplus), whose own formulas make the next order; in value f'(x)
is the op's own gradient, so create_graph does not change first-order numbers. At the kinks the first order
follows the op (PyTorch's conventions) and the next order PyTorch's double backward (elu, softplus, prelu).
Dropout (a fixed mask) is here too: its gradient is pointwise.
"""
import functools
import math

import numpy as np

from .._dtypes import float64
from ..autograd.graph import linear_op, register, sum_to
from ..creation import from_numpy
from ..kernels import pointwise as _relu_kernels
from ..nn.functional.activation import sigmoid, softmax, softplus, tanh
from ..ops.shape import cat
from ..ops.special import erfc


def free_vars(fn):
    """The free variables of a closure, by name (what it captured from the op that defined it)."""
    fn = getattr(fn, "__wrapped__", fn)
    return dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ())))


def definer(fn):
    """The name of the function whose body defined fn ('gelu' for gelu's inner grad)."""
    return getattr(fn, "__wrapped__", fn).__qualname__.split(".")[0]


def origin(ctx):
    """'module.qualname' of the function that recorded ctx's node ('activation._pointwise.<locals>.<lambda>'):
    several ops record the same name (MulBackward0...), and a formula serves only its own op's closures."""
    fn = ctx.backward
    return f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__qualname__}"


def formula_for(made_by, *names):
    """Decorator: register fn under each of names, for the nodes whose backward `made_by` defined (see
    origin); for any other node with those names it returns NotImplemented and the registry tries the next."""
    def decorator(fn):
        @functools.wraps(fn)
        def own_nodes_only(ctx, grad):
            return fn(ctx, grad) if origin(ctx) == made_by else NotImplemented
        for name in names:
            register(name)(own_nodes_only)
        return fn
    return decorator


def const(array, dtype):
    """A constant tensor (no graph) of the given NumPy dtype: masks and other fixed factors."""
    return from_numpy(np.array(array, dtype=dtype, order="C"))  # (ascontiguousarray would make a 0-d array 1-d)


def one_minus(t):
    """1 - t as neg and add (core formulas)."""
    return -t + 1


def _linear_in_grad(ctx, grad, fn):
    """The gradient g -> fn(g) of a piecewise-linear op: diagonal (self-adjoint), zero second derivative."""
    return (linear_op(ctx.op, fn, fn, grad),)


# ---- f'(x) of the smooth pointwise activations, in cnnlab ops ---------------------------------------------------
def _d_elu(x, out, fv):
    # x > 0: scale; else scale alpha is exp(is x) (from x, not from the output: no cancellation, as PyTorch's
    # create_graph elu_backward). At x = 0 the value is the left one and the next derivative 0 (PyTorch masks
    # x < 0 there); exp sees min(x, 0), so a large x cannot overflow
    scale, alpha, s_in = fv["scale"], fv["alpha"], fv["input_scale"]
    xd = x._data
    neg = const(xd < 0, xd.dtype)
    at_zero = const((xd == 0) * (scale * alpha * s_in) + (xd > 0) * scale, xd.dtype)
    return at_zero + neg * (x * neg * s_in).exp() * (scale * alpha * s_in)


def _d_gelu(x, out, fv):
    if "k" in fv:  # tanh form: t = tanh(k (x + c x^3)); d = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2)
        k, c = fv["k"], fv["c"]
        t = tanh((x + x * x * x * c) * k)
        return (t + 1) * 0.5 + x * one_minus(t * t) * (x * x * (3 * c) + 1) * (0.5 * k)
    # exact: d = Phi(x) + x phi(x), Phi(x) = erfc(-x / sqrt 2) / 2, phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
    return erfc(x * -math.sqrt(0.5)) * 0.5 + x * (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))


def _d_silu(x, out, fv):
    s = sigmoid(x)  # d/dx x s(x) = s (1 + x (1 - s))
    return s * (x * one_minus(s) + 1)


def _d_mish(x, out, fv):
    t = tanh(softplus(x))  # PyTorch's create_graph mish backward uses softplus's default threshold too
    return t + x * one_minus(t * t) * sigmoid(x)


def _d_softplus(x, out, fv):
    # 1 where beta x > threshold, sigmoid(beta x) elsewhere; the next derivative only where beta x < threshold
    # (PyTorch's softplus_double_backward), so at beta x == threshold sigmoid's value is a constant
    beta, threshold = fv["beta"], fv["threshold"]
    bx = x._data * beta
    below = const(bx < threshold, bx.dtype)
    fixed = (bx > threshold) + (bx == threshold) / (1 + np.exp(-np.where(bx == threshold, bx, 0)))
    return const(fixed, bx.dtype) + below * sigmoid(x * beta)


def _d_hardswish(x, out, fv):
    xd = x._data  # x / 3 + 1/2 strictly inside (-3, 3), 1 from 3 on (and for NaN), 0 up to -3
    inside = const((xd > -3) & (xd < 3), xd.dtype)
    return inside * (x * (1 / 3) + 0.5) + const(~(xd < 3), xd.dtype)


def _d_softsign(x, out, fv):
    # 1 / (1 + |x|)^2, |x| = x sign(x) with sign(x) fixed (abs'(0) = 0, as PyTorch's x / (1 + abs(x)))
    a = x * const(np.sign(x._data), x._data.dtype) + 1
    return 1 / (a * a)


_SMOOTH = {
    "_elu": _d_elu,
    "gelu": _d_gelu,
    "sigmoid": lambda x, out, fv: out * one_minus(out),
    "tanh": lambda x, out, fv: one_minus(out * out),
    "silu": _d_silu,
    "mish": _d_mish,
    "softplus": _d_softplus,
    "hardswish": _d_hardswish,
    "softsign": _d_softsign,
    "logsigmoid": lambda x, out, fv: sigmoid(-x),
}
_PIECEWISE_LINEAR = ("hardtanh", "threshold", "leaky_relu", "hardsigmoid")


# every name activation._pointwise records (selu records EluBackward0, softsign DivBackward0)
@formula_for("activation._pointwise.<locals>.<lambda>", "HardtanhBackward", "ThresholdBackward",
             "LeakyReluBackward", "EluBackward", "CeluBackward", "GeluBackward", "SigmoidBackward", "TanhBackward",
             "SiluBackward", "MishBackward", "SoftplusBackward", "HardsigmoidBackward", "HardswishBackward",
             "LogSigmoidBackward0", "EluBackward0", "DivBackward0")
def pointwise_formula(ctx, grad):
    """The formula of every activation recorded by activation._pointwise."""
    fn = ctx.saved["grad"]
    kind = definer(fn)
    x_arr, out_arr = ctx.saved["x"], ctx.saved["out"]
    if kind in _PIECEWISE_LINEAR:
        return _linear_in_grad(ctx, grad, lambda a: fn(a, x_arr, out_arr))
    d = _SMOOTH.get(kind)
    if d is None:
        return NotImplemented
    x, out = ctx.inputs[0], ctx.output
    dt = x.dtype
    if dt != float64:  # f'(x) of a float16/32 input in float64: 1 - tanh^2 and the like lose digits in float32
        x, out = x.to(float64), out.to(float64)
    slope = d(x, out, free_vars(fn)).to(dt)
    # in value, the slope the op's own gradient uses (its float32 kernels round otherwise), so create_graph does
    # not change first-order numbers; its derivative is the expression's
    with np.errstate(all="ignore"):
        fix = fn(np.ones_like(x_arr), x_arr, out_arr) - slope._data
    return (grad * (slope + const(np.where(np.isfinite(fix), fix, 0), slope._data.dtype)),)


@formula_for("activation.relu.<locals>.backward", "ReluBackward")
def _relu(ctx, grad):
    out = ctx.saved["out"]  # the gradient passes where out != 0 (x > 0, or NaN): the op's own kernel
    return _linear_in_grad(ctx, grad, lambda a: _relu_kernels.relu_grad(np.ascontiguousarray(a), out).reshape(a.shape))


@formula_for("activation_param.prelu.<locals>.backward", "PreluBackward")
def _prelu(ctx, grad):
    # out = x (x > 0) or w x: dx = g (x > 0 ? 1 : w), dw = sum of g x (x <= 0) over the broadcast axes. At x = 0
    # the next order is 0 in x and w, as PyTorch's (masks x < 0); the slope w there is a constant
    x, w = ctx.inputs
    xd, wb_arr = x._data, ctx.saved["wb"]
    neg = const(xd < 0, xd.dtype)
    gx = gw = None
    if ctx.needs_input_grad[0]:
        fixed = const((xd > 0) + (xd == 0) * wb_arr, xd.dtype)
        gx = grad * fixed + grad * neg * w.reshape(wb_arr.shape)
    if ctx.needs_input_grad[1]:
        gw = sum_to(grad * x * neg, wb_arr.shape).reshape(w.shape)
    return gx, gw


@formula_for("activation_param.glu.<locals>.backward", "GluBackward")
def _glu(ctx, grad):
    # out = a s(b) with a, b the halves of x along d: da = g s(b), db = g a s(b) (1 - s(b))
    x = ctx.inputs[0]
    d = ctx.saved["d"]
    half = x.shape[d] // 2
    a, b = x.narrow(d, 0, half), x.narrow(d, half, half)
    s = sigmoid(b)
    return (cat([grad * s, grad * a * s * one_minus(s)], d),)


@formula_for("softmax._softmax_core.<locals>.backward", "SoftmaxBackward", "LogSoftmaxBackward")
def softmax_formula(ctx, grad):
    """softmax y: dx = y (g - sum(g y)); log_softmax y: dx = g - softmax(x) sum(g), along the op's dim."""
    x, d, log = ctx.inputs[0], ctx.saved["d"], ctx.saved["log"]
    if x.ndim == 0:  # a 1-element softmax is constant (1 or log 1 = 0)
        return (grad * 0,)
    if log:
        return (grad - softmax(x, d) * grad.sum(d, keepdim=True),)
    y = ctx.output
    return (y * (grad - (grad * y).sum(d, keepdim=True)),)



# alpha dropout's last op is its shift (AddBackward0)
@formula_for("dropout._apply.<locals>.backward", "MulBackward0", "AddBackward0")
def dropout_formula(ctx, grad):
    """Every dropout form (nn/functional/dropout.py): out = x * scale (+ a shift), the mask fixed by the
    forward pass, so dx = g * scale."""
    scale = np.asarray(ctx.saved["scale"])
    return (grad * const(scale, scale.dtype),)

