"""Trigonometric and hyperbolic functions beyond sin/cos, with gradients: tan, asin, acos, atan, atan2, sinh,
cosh. (sin and cos live in elementwise.py.)"""
import numpy as np

from ._operands import binary_arrays
from .elementwise import binary_op, unary_op


def tan(input):
    """Elementwise tangent. Matches torch.tan.

    >>> import cnnlab
    >>> cnnlab.tan(cnnlab.tensor([0.0, 0.7853981633974483]))
    tensor([0., 1.])
    """
    # d tan x = 1 + tan^2 x
    return unary_op(input, "tan", np.tan, lambda g, x, o: g * (1 + o * o))


def asin(input):
    """Elementwise arcsine. Matches torch.asin.

    >>> import cnnlab
    >>> cnnlab.asin(cnnlab.tensor([0.0, 1.0]))
    tensor([0.0000, 1.5708])
    """
    return unary_op(input, "asin", np.arcsin, lambda g, x, o: g / np.sqrt(1 - x * x))


def acos(input):
    """Elementwise arccosine. Matches torch.acos.

    >>> import cnnlab
    >>> cnnlab.acos(cnnlab.tensor([1.0, 0.0]))
    tensor([0.0000, 1.5708])
    """
    return unary_op(input, "acos", np.arccos, lambda g, x, o: -g / np.sqrt(1 - x * x))


def atan(input):
    """Elementwise arctangent. Matches torch.atan.

    >>> import cnnlab
    >>> cnnlab.atan(cnnlab.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7854])
    """
    return unary_op(input, "atan", np.arctan, lambda g, x, o: g / (1 + x * x))


def sinh(input):
    """Elementwise hyperbolic sine. Matches torch.sinh.

    >>> import cnnlab
    >>> cnnlab.sinh(cnnlab.tensor([0.0, 1.0]))
    tensor([0.0000, 1.1752])
    """
    return unary_op(input, "sinh", np.sinh, lambda g, x, o: g * np.cosh(x))


def cosh(input):
    """Elementwise hyperbolic cosine. Matches torch.cosh.

    >>> import cnnlab
    >>> cnnlab.cosh(cnnlab.tensor([0.0, 1.0]))
    tensor([1.0000, 1.5431])
    """
    return unary_op(input, "cosh", np.cosh, lambda g, x, o: g * np.sinh(x))


def atan2(input, other):
    """The angle of the point (other, input), in (-pi, pi]. Matches torch.atan2.

    >>> import cnnlab
    >>> cnnlab.atan2(cnnlab.tensor([1.0]), cnnlab.tensor([-1.0]))
    tensor([2.3562])
    """
    # d/dy atan2(y, x) = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2)
    _, _, xa, xb = binary_arrays(input, other, "atan2")
    if np.result_type(xa, xb).kind != "f":
        input, other = (v.float() if hasattr(v, "float") else float(v) for v in (input, other))
    return binary_op(input, other, "atan2", np.arctan2, lambda g, y, x, o: g * x * _inv_square_radius(y, x),
                   lambda g, y, x, o: -g * y * _inv_square_radius(y, x))


def _inv_square_radius(y, x):
    """1 / (x^2 + y^2), with 0 where that is inf (at the origin), as torch's atan2 gradient has it."""
    r = 1 / (x * x + y * y)
    return np.where(np.isinf(r), 0, r)
