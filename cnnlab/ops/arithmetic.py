"""Elementwise arithmetic beyond elementwise.py's core, with gradients: remainders and fractional parts (fmod,
frac) and the overflow-safe forms of log(e^a + e^b) and sqrt(a^2 + b^2) (logaddexp, hypot)."""
import numpy as np

from ._operands import binary_arrays
from .elementwise import binary_op, check_int_zero, unary_op


def fmod(input, other):
    """C-style remainder (the result has the dividend's sign). Matches torch.fmod.

    >>> import cnnlab
    >>> cnnlab.fmod(cnnlab.tensor([-3.0, 3.0]), 2)
    tensor([-1.,  1.])
    """
    # a - trunc(a / b) * b  =>  d/da = 1, d/db = -trunc(a / b)
    _, _, xa, xb = binary_arrays(input, other, "fmod")
    check_int_zero(xa, xb, "fmod")
    return binary_op(input, other, "fmod", np.fmod, lambda g, a, b, o: g,
                   lambda g, a, b, o: (-g * np.trunc(a / b)).astype(g.dtype, copy=False))


def frac(input):
    """The fractional part, x - trunc(x). Matches torch.frac.

    >>> import cnnlab
    >>> cnnlab.frac(cnnlab.tensor([2.5, -1.25]))
    tensor([ 0.5000, -0.2500])
    """
    return unary_op(input, "frac", lambda x: x - np.trunc(x), lambda g, x, o: g)


def logaddexp(input, other):
    """log(exp(input) + exp(other)) without overflow. Matches torch.logaddexp.

    >>> import cnnlab
    >>> cnnlab.logaddexp(cnnlab.tensor([0.0, 1000.0]), cnnlab.tensor([0.0, 1000.0]))
    tensor([6.9315e-01, 1.0007e+03])
    """
    # the gradients are the softmax weights 1 / (1 + exp(b - a)), finite also at inf and near overflow
    return binary_op(input, other, "logaddexp", np.logaddexp, lambda g, a, b, o: g / (1 + np.exp(b - a)),
                   lambda g, a, b, o: g / (1 + np.exp(a - b)))


def hypot(input, other):
    """sqrt(input**2 + other**2) without overflow; the gradient at (0, 0) is NaN (0 / 0), as torch's. Matches
    torch.hypot.

    >>> import cnnlab
    >>> cnnlab.hypot(cnnlab.tensor([3.0, 5.0]), cnnlab.tensor([4.0, 12.0]))
    tensor([ 5., 13.])
    """
    return binary_op(input, other, "hypot", np.hypot, lambda g, a, b, o: g * (a / o), lambda g, a, b, o: g * (b / o))
