"""create_graph formulas for the elementwise unary math ops (ops/elementwise.py's unary table, trig.py,
more_math.py, arith.py's frac, special.py's erf/erfc, clamp with number bounds).

Each formula is the op's first-order derivative written with differentiable cnnlab ops, so the engine can
differentiate it again (to any order). Where the derivative is piecewise constant (abs, clamp, the rounding
ops) the mask or sign is a constant tensor, as in PyTorch's own formulas.
"""
import math

import numpy as np

from ..autograd.graph import register
from ..ops.elementwise import where
from ..tensor import Tensor
from .core import unary_op

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def const(arr, like):
    """A constant (no grad) tensor around an array computed from saved values, in like's dtype (None: as it is):
    the masks and signs of piecewise formulas.

    >>> import cnnlab, numpy as np
    >>> const(np.array([True, False]), cnnlab.ones(2, dtype=cnnlab.float64))
    tensor([1., 0.], dtype=cnnlab.float64)
    """
    return Tensor._wrap(np.asarray(arr, dtype=None if like is None else like._data.dtype))


# d/dx f(x) as a function of (x, out), both differentiable tensors; the formula is grad * d(x, out)
_DERIVATIVES = {
    "ExpBackward0": lambda x, o: o,
    "LogBackward0": lambda x, o: x.reciprocal(),
    "Log1PBackward0": lambda x, o: (x + 1).reciprocal(),
    "Log2Backward0": lambda x, o: (x * _LN2).reciprocal(),
    "Log10Backward0": lambda x, o: (x * _LN10).reciprocal(),
    "Expm1Backward0": lambda x, o: o + 1,
    "SqrtBackward0": lambda x, o: (o * 2).reciprocal(),
    "RsqrtBackward0": lambda x, o: o ** 3 * -0.5,
    "ReciprocalBackward0": lambda x, o: -(o * o),
    "SinBackward0": lambda x, o: x.cos(),
    "CosBackward0": lambda x, o: -x.sin(),
    "TanBackward0": lambda x, o: o * o + 1,
    "AsinBackward0": lambda x, o: (1 - x * x).rsqrt(),
    "AcosBackward0": lambda x, o: -(1 - x * x).rsqrt(),
    "AtanBackward0": lambda x, o: (x * x + 1).reciprocal(),
    "SinhBackward0": lambda x, o: x.cosh(),
    "CoshBackward0": lambda x, o: x.sinh(),
    "Exp2Backward0": lambda x, o: o * _LN2,
    "AsinhBackward0": lambda x, o: (x * x + 1).rsqrt(),
    "AcoshBackward0": lambda x, o: (x * x - 1).rsqrt(),
    "AtanhBackward0": lambda x, o: (1 - x * x).reciprocal(),
    "ErfBackward": lambda x, o: (-(x * x)).exp() * _TWO_OVER_SQRT_PI,
    "ErfcBackward": lambda x, o: (-(x * x)).exp() * -_TWO_OVER_SQRT_PI,
}


def _smooth(ctx, grad):
    if len(ctx.inputs) != 1:
        return NotImplemented
    x, = ctx.inputs
    return (grad * _DERIVATIVES[ctx.op](x, ctx.output),)


for _name in _DERIVATIVES:
    register(_name)(_smooth)


@register("FracBackward0")
def _identity(ctx, grad):
    return (grad,) if unary_op(ctx) == "frac" else NotImplemented


# piecewise constant ops: a zero gradient that does not depend on grad (PyTorch's zeros_like(grad))
@register("SignBackward0")
@register("FloorBackward0")
@register("CeilBackward0")
@register("TruncBackward0")
@register("RoundBackward0")
def _zero(ctx, grad):
    if unary_op(ctx) not in ("sign", "floor", "ceil", "trunc", "round", "_round"):
        return NotImplemented
    x, = ctx.inputs
    return (const(np.zeros(x.shape), x),)


@register("AbsBackward0")
def _abs(ctx, grad):
    if unary_op(ctx) != "abs":
        return NotImplemented
    x, = ctx.inputs
    return (grad * const(np.sign(x._data), grad),)  # abs'(0) = 0, as torch's sgn


@register("ClampBackward1")
def _clamp(ctx, grad):
    # the gradient passes where min <= x <= max, i.e. exactly where clamp left x as it was (nan: nowhere)
    if unary_op(ctx) != "clamp":
        return NotImplemented
    return (where(const(ctx.saved["xa"] == ctx.saved["out"], None), grad, 0.0),)
