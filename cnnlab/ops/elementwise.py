"""Elementwise math with gradients: arithmetic, comparisons, exp/log/sqrt/abs/clamp and friends.

Binary ops broadcast like NumPy; each gradient is summed back to its operand's shape (unbroadcast).
"""
import numpy as np

from .. import _dtypes
from .._memory import MACHINE_BYTES
from ..errors import ArgumentError, DTypeError, ShapeError, shape_str
from ..tensor import Tensor
from ._operands import as_tensor_arg, binary_arrays, check_allocation, quiet, unbroadcast
from .logic import nonzero
from .writes import write_out


def binary_op(a, b, op, forward, grad_a, grad_b):
    """Run forward(xa, xb); grad_a/grad_b(g, xa, xb, out) give the gradients before unbroadcasting.
    grad_fn names follow PyTorch's overloads: `1 - x` is RsubBackward1, `2 / x` MulBackward0, `x ** y`
    PowBackward1 and `2 ** x` PowBackward2."""
    ta, tb, xa, xb = binary_arrays(a, b, op)
    # an expanded operand (a 0 stride) holds far less memory than its size: the result needs all of it
    if (type(xa) is _ndarray and xa.nbytes > MACHINE_BYTES) or (type(xb) is _ndarray and xb.nbytes > MACHINE_BYTES):
        check_allocation(op, np.broadcast_shapes(np.shape(xa), np.shape(xb)), np.result_type(xa, xb))
    with np.errstate(all="ignore"):  # inf/nan silently, as PyTorch
        out = forward(xa, xb)
    parents = (ta, tb) if ta is not None and tb is not None else ((ta,) if tb is None else (tb,))

    def backward(g):  # runs under the walks' np.errstate(all="ignore") (engine.py, graph.py): no quiet() here
        grads = []
        if ta is not None:
            grads.append(unbroadcast(grad_a(g, xa, xb, out), ta._data.shape) if ta._requires_grad else None)
        if tb is not None:
            grads.append(unbroadcast(grad_b(g, xa, xb, out), tb._data.shape) if tb._requires_grad else None)
        return grads

    if ta is None:
        name = _REFLECTED_NAMES.get(op) or op.capitalize() + "Backward0"
    else:
        name = ("PowBackward1" if tb is not None else "PowBackward0") if op == "pow" else op.capitalize() + "Backward0"
    return Tensor._from_op(out, parents, backward, name)


_ndarray = np.ndarray  # a global name: cheaper than np.ndarray on every op
_REFLECTED_NAMES = {"sub": "RsubBackward1", "div": "MulBackward0", "pow": "PowBackward2"}


def add(input, other, alpha=1, out=None):
    """input + alpha * other, broadcasting. Matches torch.add."""
    if alpha != 1:
        other = mul(other, alpha)
    r = binary_op(input, other, "add", np.add, lambda g, a, b, o: g, lambda g, a, b, o: g)
    return r if out is None else write_out(r, out, "add")


def sub(input, other, alpha=1, out=None):
    """input - alpha * other, broadcasting. Matches torch.sub."""
    if alpha != 1:
        other = mul(other, alpha)
    r = binary_op(input, other, "sub", np.subtract, lambda g, a, b, o: g, lambda g, a, b, o: -g)
    return r if out is None else write_out(r, out, "sub")


def mul(input, other, out=None):
    """Elementwise product, broadcasting. Matches torch.mul."""
    r = binary_op(input, other, "mul", np.multiply, lambda g, a, b, o: g * b, lambda g, a, b, o: g * a)
    return r if out is None else write_out(r, out, "mul")


def div(input, other, rounding_mode=None, out=None):
    """Elementwise quotient; integer inputs give a float result unless rounding_mode is 'trunc' or 'floor'.
    Matches torch.div."""
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor'. Got rounding_mode={rounding_mode!r}.")
        fn = np.floor_divide if rounding_mode == "floor" else (lambda a, b: np.trunc(a / b).astype(np.result_type(a, b)))
        _, _, xa, xb = binary_arrays(input, other, "div")
        check_int_zero(xa, xb, "div")
        r = Tensor._wrap(np.asarray(fn(xa, xb)))
        return r if out is None else write_out(r, out, "div")
    ta, tb, xa, xb = binary_arrays(input, other, "div")
    if np.result_type(xa, xb).kind != "f":  # int / int is a float division, as in PyTorch
        dt = _dtypes.get_default_dtype().np
        input = input.to(dt) if isinstance(input, Tensor) else input
        other = other.to(dt) if isinstance(other, Tensor) else other
    r = binary_op(input, other, "div", np.divide, lambda g, a, b, o: g / b, lambda g, a, b, o: -g * o / b)
    return r if out is None else write_out(r, out, "div")


def check_int_zero(xa, xb, op):
    if np.result_type(xa, xb).kind in "iub" and np.any(np.asarray(xb) == 0):
        raise ShapeError(f"{op}: integer division by zero (PyTorch raises ZeroDivisionError here). Got a divisor "
                         "with zeros; use a floating dtype for inf/nan results.")


def pow(input, exponent):
    """input ** exponent, elementwise. Matches torch.pow."""
    ta, tb, xa, xb = binary_arrays(input, exponent, "pow")
    fn = np.power
    if np.result_type(xa, xb).kind in "iu" and np.any(np.asarray(xb) < 0):
        if tb is None:  # torch refuses a negative number as the exponent, but computes a negative tensor's
            raise ArgumentError("pow: integers cannot be raised to negative integer powers (use a float base). "
                                f"Got dtype={np.result_type(xa, xb)}, exponent={exponent}.")
        fn = _int_power

    # d(a^b)/da = b a^(b-1) (0 where b == 0); d(a^b)/db = a^b log a (0 where a == 0 and b >= 0)
    def grad_base(g, a, b, o):
        if np.ndim(b) == 0:
            if b == 0:
                return np.zeros_like(g)
            return g * (2 * a) if b == 2 else g * (b * a ** (b - 1))
        return np.where(b == 0, 0, g * (b * a ** (b - 1))).astype(g.dtype, copy=False)

    def grad_exponent(g, a, b, o):  # both run inside binary_op's quiet backward
        return np.where((a == 0) & (b >= 0), 0, g * o * np.log(a)).astype(g.dtype, copy=False)

    return binary_op(ta if ta is not None else input, tb if tb is not None else exponent, "pow", fn,
                   grad_base, grad_exponent)


def _int_power(a, b):
    """Integer a ** b with negative b as torch computes it: 1 ** b = 1, (-1) ** b = +-1, anything else 0
    (the quotient 1 / a ** |b| truncated; torch gives 0 for 0 ** -n too)."""
    a, b = np.broadcast_arrays(a, b)
    neg = b < 0
    out = np.power(a, np.where(neg, 0, b))
    small = np.where(a == 1, 1, np.where(a == -1, 1 - 2 * (b % 2), 0))
    return np.where(neg, small, out).astype(out.dtype, copy=False)


def maximum(input, other):
    """Elementwise maximum; ties split the gradient evenly. Matches torch.maximum."""
    return binary_op(input, other, "maximum", np.maximum, lambda g, a, b, o: _tie_split(g, a > b, a == b),
                   lambda g, a, b, o: _tie_split(g, b > a, a == b))


def _tie_split(g, wins, ties):
    """g where this operand wins, g/2 where both tie, 0 elsewhere (in g's dtype)."""
    return np.where(wins, g, np.where(ties, g * 0.5, 0)).astype(g.dtype, copy=False)


def minimum(input, other):
    """Elementwise minimum; ties split the gradient evenly. Matches torch.minimum."""
    return binary_op(input, other, "minimum", np.minimum, lambda g, a, b, o: _tie_split(g, a < b, a == b),
                   lambda g, a, b, o: _tie_split(g, b < a, a == b))


def where(condition, input=None, other=None):
    """Elements of input where condition is True, else of other (broadcasting); `where(condition)` alone is
    `nonzero(condition, as_tuple=True)`. Matches torch.where."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    cond = as_tensor_arg(condition, "where", "condition")._data
    if cond.dtype != np.bool_:
        raise DTypeError(f"where: condition must be a bool tensor. Got dtype={cond.dtype}.")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):  # where(c, 1.0, 0.0)
        input = as_tensor_arg(input, "where", "input")
    ta, tb, xa, xb = binary_arrays(input, other, "where")
    if cond.size * np.size(xa) * np.size(xb) * np.dtype(np.result_type(xa, xb)).itemsize > MACHINE_BYTES:
        try:
            shape = np.broadcast_shapes(cond.shape, np.shape(xa), np.shape(xb))
        except ValueError:
            shape = ()  # the error is raised below, with every shape
        check_allocation("where", shape, np.result_type(xa, xb))
    try:
        out = np.where(cond, xa, xb)
    except ValueError:
        raise ShapeError(f"where: condition, input and other cannot be broadcast together. Got shapes "
                         f"{shape_str(cond.shape)}, {shape_str(np.shape(xa))}, {shape_str(np.shape(xb))}.") from None
    parents = tuple(t for t in (ta, tb) if t is not None)

    def backward(g):
        grads = []
        if ta is not None:
            grads.append(unbroadcast(np.where(cond, g, 0).astype(g.dtype), ta.shape) if ta.requires_grad else None)
        if tb is not None:
            grads.append(unbroadcast(np.where(cond, 0, g).astype(g.dtype), tb.shape) if tb.requires_grad else None)
        return grads

    return Tensor._from_op(out, parents, backward, "WhereBackward")


def matmul(input, other, out=None):
    """Matrix product with PyTorch's rules for 1-D operands and broadcast batch dimensions (out=: written into
    that tensor). Matches torch.matmul."""
    if out is not None:
        return write_out(matmul(input, other), out, "matmul")
    a, b = as_tensor_arg(input, "matmul", "input"), as_tensor_arg(other, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both arguments need at least 1 dimension. Got shapes {shape_str(a.shape)} "
                         f"and {shape_str(b.shape)}.")
    xa, xb = a._data, b._data
    if xa.dtype != xb.dtype:
        dt = _dtypes.result_type([xa.dtype, xb.dtype])
        xa, xb = xa.astype(dt), xb.astype(dt)
    a2 = xa if xa.ndim > 1 else xa[None, :]  # (1, K) for a 1-D left operand
    b2 = xb if xb.ndim > 1 else xb[:, None]  # (K, 1) for a 1-D right operand
    if a2.shape[-1] != b2.shape[-2]:
        raise ShapeError(f"matmul: the inner dimensions must match (input.shape[-1] == other.shape[-2]). Got "
                         f"input.shape={shape_str(a.shape)}, other.shape={shape_str(b.shape)}.")
    try:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ShapeError(f"matmul: the batch dimensions cannot be broadcast together. Got input.shape="
                         f"{shape_str(a.shape)}, other.shape={shape_str(b.shape)}.") from None
    if a2.size * b2.size * a2.itemsize > MACHINE_BYTES or not a2.size:  # the product bounds the result's size
        check_allocation("matmul", batch + (a2.shape[-2], b2.shape[-1]), a2.dtype)
    out2 = np.matmul(a2, b2)  # (*batch, M, N)
    out = out2
    if xa.ndim == 1:
        out = out.squeeze(-2)
    if xb.ndim == 1:
        out = out.squeeze(-1)

    # out = A B  =>  dA = G B^T, dB = A^T G, summed over broadcast batch dims.
    def backward(g):
        g2 = g.reshape(batch + out2.shape[-2:])
        ga = unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(xa.shape) if a.requires_grad else None
        gb = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(xb.shape) if b.requires_grad else None
        return ga, gb

    return Tensor._from_op(out, (a, b), backward, _MATMUL_NAMES.get((xa.ndim, xb.ndim), "UnsafeViewBackward0"))


_MATMUL_NAMES = {(2, 2): "MmBackward0", (1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4"}


# ---- unary ------------------------------------------------------------------------------------------------
def unary_op(x, op, forward, grad, float_only=True):
    """forward(x_array); grad(g, x_array, out) the input gradient."""
    t = as_tensor_arg(x, op, "input")
    xa = t._data
    if xa.nbytes > MACHINE_BYTES:  # an expanded input: its result is the full size
        check_allocation(op, xa.shape, xa.dtype)
    if float_only and xa.dtype.kind != "f":
        xa = xa.astype(_dtypes.get_default_dtype().np)
    with np.errstate(all="ignore"):  # inf/nan silently, as PyTorch
        out = forward(xa)
    return Tensor._from_op(out, (t,), quiet(lambda g: (grad(g, xa, out),)),
                           _UNARY_NAMES.get(op) or op.capitalize() + "Backward0")


_UNARY_NAMES = {"log1p": "Log1PBackward0", "square": "PowBackward0", "clamp": "ClampBackward1"}


def neg(input):
    """-input. Matches torch.neg."""
    return unary_op(input, "neg", np.negative, lambda g, x, o: -g, float_only=False)


def exp(input):
    """e ** input. Matches torch.exp."""
    return unary_op(input, "exp", np.exp, lambda g, x, o: g * o)


def log(input):
    """Natural logarithm. Matches torch.log."""
    return unary_op(input, "log", np.log, lambda g, x, o: g / x)


def log1p(input):
    """log(1 + input), accurate for small input. Matches torch.log1p."""
    return unary_op(input, "log1p", np.log1p, lambda g, x, o: g / (1 + x))


def log2(input):
    """Base-2 logarithm. Matches torch.log2."""
    return unary_op(input, "log2", np.log2, lambda g, x, o: g / (x * np.log(2.0)).astype(x.dtype, copy=False))


def log10(input):
    """Base-10 logarithm. Matches torch.log10."""
    return unary_op(input, "log10", np.log10, lambda g, x, o: g / (x * np.log(10.0)).astype(x.dtype, copy=False))


def expm1(input):
    """exp(input) - 1, accurate for small input. Matches torch.expm1."""
    return unary_op(input, "expm1", np.expm1, lambda g, x, o: g * (o + 1))


def sqrt(input):
    """Square root. Matches torch.sqrt."""
    return unary_op(input, "sqrt", np.sqrt, lambda g, x, o: g / (2 * o))


def rsqrt(input):
    """1 / sqrt(input). Matches torch.rsqrt."""
    return unary_op(input, "rsqrt", lambda x: 1 / np.sqrt(x), lambda g, x, o: -0.5 * g * o ** 3)


def square(input):
    """input ** 2. Matches torch.square."""
    return unary_op(input, "square", np.square, lambda g, x, o: 2 * g * x, float_only=False)


def reciprocal(input):
    """1 / input. Matches torch.reciprocal."""
    return unary_op(input, "reciprocal", np.reciprocal, lambda g, x, o: -g * o * o)


def abs(input):
    """|input|; the gradient at 0 is 0. Matches torch.abs."""
    return unary_op(input, "abs", np.abs, lambda g, x, o: g * np.sign(x), float_only=False)


def sin(input):
    """Sine. Matches torch.sin."""
    return unary_op(input, "sin", np.sin, lambda g, x, o: g * np.cos(x))


def cos(input):
    """Cosine. Matches torch.cos."""
    return unary_op(input, "cos", np.cos, lambda g, x, o: -g * np.sin(x))


def sign(input):
    """-1, 0 or 1 by the sign of input (zero gradient). Matches torch.sign."""
    return unary_op(input, "sign", np.sign, lambda g, x, o: np.zeros_like(g), float_only=False)


def floor(input):
    """Round down (zero gradient). Matches torch.floor."""
    return unary_op(input, "floor", _keep_ints(np.floor), lambda g, x, o: np.zeros_like(g), float_only=False)


def ceil(input):
    """Round up (zero gradient). Matches torch.ceil."""
    return unary_op(input, "ceil", _keep_ints(np.ceil), lambda g, x, o: np.zeros_like(g), float_only=False)


def trunc(input):
    """Round toward zero (zero gradient). Matches torch.trunc."""
    return unary_op(input, "trunc", _keep_ints(np.trunc), lambda g, x, o: np.zeros_like(g), float_only=False)


def _keep_ints(fn):
    """Rounding leaves integer tensors as they are (NumPy would return float64)."""
    return lambda x: x.copy() if x.dtype.kind in "biu" else fn(x)


def round(input, decimals=0):
    """Round half to even, to `decimals` places (zero gradient). Matches torch.round."""
    if decimals:
        return unary_op(input, "round", lambda x: np.round(x, decimals), lambda g, x, o: np.zeros_like(g),
                      float_only=False)
    return _round(input)


def _round(input):
    """Round half to even (zero gradient). Matches torch.round."""
    return unary_op(input, "round", _keep_ints(np.round), lambda g, x, o: np.zeros_like(g), float_only=False)


def remainder(input, other):
    """Python-style modulus (the result has the divisor's sign). Matches torch.remainder."""
    # a - floor(a / b) * b  =>  d/da = 1, d/db = -floor(a / b)
    _, _, xa, xb = binary_arrays(input, other, "remainder")
    check_int_zero(xa, xb, "remainder")
    return binary_op(input, other, "remainder", np.remainder, lambda g, a, b, o: g,
                   lambda g, a, b, o: (-g * np.floor_divide(a, b)).astype(g.dtype, copy=False))


def dot(input, other):
    """Inner product of two 1-D tensors of one length. Matches torch.dot."""
    a, b = as_tensor_arg(input, "dot", "input"), as_tensor_arg(other, "dot")
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ShapeError(f"dot: expects two 1-D tensors of the same length. Got input.shape={shape_str(a.shape)}, "
                         f"other.shape={shape_str(b.shape)}.")
    return matmul(a, b)


def outer(input, vec2):
    """Outer product of two 1-D tensors: out[i, j] = input[i] * vec2[j]. Matches torch.outer."""
    a, b = as_tensor_arg(input, "outer", "input"), as_tensor_arg(vec2, "outer", "vec2")
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"outer: expects two 1-D tensors. Got input.shape={shape_str(a.shape)}, "
                         f"vec2.shape={shape_str(b.shape)}.")
    return mul(a.reshape(-1, 1), b.reshape(1, -1))


# comparisons and logic live in logic.py; re-exported here for code that imports them from this module
from .logic import (allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, ge, gt, isfinite,  # noqa: E402,F401
                    isinf, isnan, le, logical_and, logical_not, logical_or, logical_xor, lt, ne)
