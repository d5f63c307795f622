"""Activation functions and softmax, with PyTorch's formulas, defaults and gradients at the kinks.

Every op is elementwise (any shape in, the same shape out) except softmax, log_softmax and softmin, which work
along one dim; prelu and glu, the activations with a weight or a dim, are activation_param.py's. `inplace=` is
accepted so PyTorch code runs; relu writes into its input where no gradient is recorded through it or the graph
cannot tell (graph_inplace.py), every other op returns a new tensor (the input is left as it was). Integer inputs
are accepted where PyTorch accepts them (relu, relu6, hardtanh, threshold keep the integer dtype; sigmoid and tanh
return the default float dtype); other ops need floats.
Exact GELU needs erf, which NumPy lacks: it uses the float64 interpolants in cnnlab/ops/special.py (also
imported here as `erf` / `erfc`, the array functions). Float32 inputs of the smooth activations go through the
blocked kernels in _activation_f32.py (within PyTorch's own float32 error, several times faster).
"""
import math

import numpy as np

from ... import _dtypes
from ...autograd import grad_owned
from ...grad_mode import records
from ...errors import DTypeError, ShapeError
from ...kernels import pointwise as _relu_kernels
from ...ops._operands import as_tensor_arg, quiet
from . import _activation_f32 as _f32, graph_inplace as _graph_inplace
from .softmax import log_softmax, softmax, softmin  # noqa: F401 (re-exported)
from ...ops.special import erf_array as erf, erfc_array as erfc  # noqa: F401 (re-exported: the array functions)
from ...tensor import Tensor

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "sigmoid", "tanh", "silu", "mish",
           "softplus", "hardtanh", "hardsigmoid", "hardswish", "softsign", "logsigmoid", "threshold",
           "softmax", "log_softmax", "softmin"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# ---- the pointwise machinery ---------------------------------------------------------------------------------
def _pointwise(input, op, forward, grad, ints="error", in_place=None):
    """Apply forward(x) elementwise; grad(g, x, out) is the input gradient. ints: 'error' (float-only op),
    'keep' (integer in, integer out) or 'promote' (integer in, default float out). in_place: a function writing
    the result into x's array, for an op whose grad(g, out, out) is grad(g, x, out): used inside a recorded graph
    where the input may be overwritten (nn/functional/graph_inplace.py), which keeps the input tensor."""
    t = as_tensor_arg(input, op, "input")
    x = t._data
    if x.dtype.kind != "f":
        if ints == "promote":
            x = x.astype(_dtypes.get_default_dtype().np)
        elif ints == "error" or x.dtype.kind == "b":
            raise DTypeError(f"{op}: input must be a floating-point tensor. Got dtype={t.dtype}.")
    in_graph = in_place is not None and _graph_inplace.overwritable(t)
    with np.errstate(all="ignore"):  # PyTorch gives inf/NaN silently (-inf * 0 in hardswish, ...)
        out = in_place(x) if in_graph else np.asarray(forward(x))
    backward = quiet(lambda g: (grad(g, x, out),))
    name = _GRAD_FN_NAMES.get(op) or op.title().replace("_", "") + "Backward"
    if in_graph:
        return _graph_inplace.rebase(t, backward, name)
    return Tensor._from_op(out, (t,), backward, name)


# grad_fn names PyTorch shows that are not the op's own (selu runs as elu; softsign ends in a division)
_GRAD_FN_NAMES = {"selu": "EluBackward0", "softsign": "DivBackward0", "logsigmoid": "LogSigmoidBackward0"}


def _stable_sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: exp only ever sees -|x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def relu(input, inplace=False):
    """max(0, x) elementwise; the gradient at 0 is 0. Matches torch.nn.functional.relu.

    Args:
        input (Tensor): any shape, float or integer.
        inplace (bool, default False): write the result into the input and return it, as PyTorch does, where
            no gradient is recorded through the input (inside no_grad(), or an input that does not require grad)
            or where the graph cannot tell (an input fresh from a convolution, batch norm or addition:
            nn/functional/graph_inplace.py); otherwise the result is a new tensor.
    Shape: output has the input's shape (as for every pointwise activation here).

    >>> import cnnlab
    >>> relu(cnnlab.tensor([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 2.0]
    """
    t = as_tensor_arg(input, "relu", "input")
    x = t._data
    if x.dtype.kind == "b":
        raise DTypeError(f"relu: input must be a floating-point tensor. Got dtype={t.dtype}.")
    if inplace and not records(t) and isinstance(x, np.ndarray) and \
            x.flags.writeable:
        _relu_kernels.relu(x, out=x)                 # no fresh array: inference on large maps
        return t
    in_graph = inplace and _graph_inplace.overwritable(t)   # over its input, which the graph no longer reads
    out = _relu_kernels.relu(x, out=x if in_graph else None) if isinstance(x, np.ndarray) and x.ndim else \
        np.asarray(np.maximum(x, x.dtype.type(0)))

    # d/dx max(0, x) = 1 where x > 0, else 0 (PyTorch's choice at x == 0); a NaN passes its gradient, as
    # PyTorch's `out <= 0 ? 0 : g`, which for out = max(x, 0) (>= 0 or NaN) is `out != 0`. The backward reads
    # only the output, so the input (often a batch norm's output) can be freed
    def backward(g):
        owned = grad_owned() and g.dtype == out.dtype and g.flags.writeable   # in place: no fresh array
        return (_relu_kernels.relu_grad(g, out, into=g if owned else None),)

    if in_graph:
        return _graph_inplace.rebase(t, backward, "ReluBackward")
    return Tensor._from_op(out, (t,), backward, "ReluBackward")


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp to [min_val, max_val]; the gradient is 0 on and beyond the bounds. Matches
    torch.nn.functional.hardtanh.

    Raises: ValueError if min_val > max_val.

    >>> import cnnlab
    >>> hardtanh(cnnlab.tensor([-2.0, 0.5, 3.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val. Got min_val={min_val}, "
                         f"max_val={max_val}.")
    t = as_tensor_arg(input, "hardtanh", "input")
    x = t._data

    def clamp_(x):  # in place, as PyTorch's hardtanh_: no fresh array (a NaN stays NaN through both)
        np.maximum(x, x.dtype.type(min_val), out=x)
        return np.minimum(x, x.dtype.type(max_val), out=x)

    if inplace and not records(t) and isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.flags.writeable:
        clamp_(x)
        return t
    # identity strictly inside (min_val, max_val), constant (zero gradient) elsewhere: the same mask read from
    # the output, so inside a graph the result may overwrite a fresh convolution or batch norm output
    return _pointwise(t, "hardtanh", lambda x: np.clip(x, min_val, max_val).astype(x.dtype, copy=False),
                      lambda g, x, o: g * ((x > min_val) & (x < max_val)), ints="keep",
                      in_place=clamp_ if inplace else None)


def relu6(input, inplace=False):
    """min(max(0, x), 6) = hardtanh(x, 0, 6). Matches torch.nn.functional.relu6.

    >>> import cnnlab
    >>> relu6(cnnlab.tensor([-1.0, 3.0, 7.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return hardtanh(input, 0, 6, inplace)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value. Matches torch.nn.functional.threshold.

    >>> import cnnlab
    >>> threshold(cnnlab.tensor([0.5, 2.0]), 1.0, -1.0).tolist()
    [-1.0, 2.0]
    """
    # gradient 1 where x passes through, 0 where it is replaced by the constant
    return _pointwise(input, "threshold", lambda x: np.where(x > threshold, x, np.asarray(value, x.dtype)),
                      lambda g, x, o: g * (x > threshold), ints="keep")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise. Matches torch.nn.functional.leaky_relu.

    >>> import cnnlab
    >>> leaky_relu(cnnlab.tensor([-2.0, 3.0]), 0.5).tolist()
    [-1.0, 3.0]
    """
    # slope 1 for x > 0, negative_slope for x <= 0
    return _pointwise(input, "leaky_relu", lambda x: np.where(x > 0, x, x * negative_slope),
                      lambda g, x, o: np.where(x > 0, g, g * negative_slope))


def _elu(input, op, alpha, scale, input_scale):
    """PyTorch's ELU family: scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1))."""
    def forward(x):
        if x.dtype == np.float32:
            return _f32.elu(x, alpha, scale, input_scale)
        neg_part = alpha * np.expm1(np.minimum(x, 0) * input_scale)
        return scale * np.where(x > 0, x, neg_part) if scale != 1 else np.where(x > 0, x, neg_part)

    # d/dx = scale for x > 0, else scale * alpha * input_scale * exp(x * input_scale) (also at x == 0)
    def grad(g, x, o):
        if x.dtype == np.float32:
            return _f32.elu_grad(g, x, alpha, scale, input_scale)
        return np.where(x > 0, g * scale, g * (scale * alpha * input_scale) * np.exp(np.minimum(x, 0) * input_scale))

    return _pointwise(input, op, forward, grad)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise. Matches torch.nn.functional.elu.

    >>> import cnnlab
    >>> elu(cnnlab.tensor([0.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    return _elu(input, "elu", alpha, 1.0, 1.0)


def selu(input, inplace=False):
    """SELU_SCALE * elu(x, SELU_ALPHA) with the self-normalising constants. Matches torch.nn.functional.selu.

    >>> import cnnlab
    >>> round(selu(cnnlab.tensor([1.0])).item(), 4)
    1.0507
    """
    return _elu(input, "selu", SELU_ALPHA, SELU_SCALE, 1.0)


def celu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise. Matches torch.nn.functional.celu.

    Raises: ValueError if alpha == 0.

    >>> import cnnlab
    >>> celu(cnnlab.tensor([0.0, 2.0]), alpha=2.0).tolist()
    [0.0, 2.0]
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides the input). Got alpha=0.")
    return _elu(input, "celu", alpha, 1.0, 1.0 / alpha)


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses
    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))). Matches torch.nn.functional.gelu.

    Args:
        input (Tensor): any shape, floating point.
        approximate (str, default 'none'): 'none' (exact, via erf) or 'tanh'.
    Raises: ShapeError (a ValueError) for another approximate.

    >>> import cnnlab
    >>> round(gelu(cnnlab.tensor([1.0])).item(), 4)
    0.8413
    """
    if approximate == "none":
        cache = {}
        keep = isinstance(input, Tensor) and records(input)  # Phi is kept only for a backward

        def forward(x):  # Phi(x) = erfc(-x / sqrt(2)) / 2, accurate in the negative tail too
            if x.dtype == np.float32:
                out, cache["cdf"] = _f32.gelu(x, keep)
                return out
            x64 = x.astype(np.float64, copy=False)
            cache["cdf"] = 0.5 * erfc(x64 * -math.sqrt(0.5))
            return (x64 * cache["cdf"]).astype(x.dtype, copy=False)

        # d/dx x Phi(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
        def grad(g, x, o):
            if x.dtype == np.float32:
                return _f32.gelu_grad(g, x, cache["cdf"])
            x64 = x.astype(np.float64, copy=False)
            d = cache["cdf"] + x64 * np.exp(-0.5 * x64 * x64) * (1 / math.sqrt(2 * math.pi))
            return g * d.astype(x.dtype, copy=False)
    elif approximate == "tanh":
        k, c = math.sqrt(2 / math.pi), 0.044715

        def forward(x):
            if x.dtype == np.float32:
                return _f32.gelu_tanh(x, k, c)
            return 0.5 * x * (1 + np.tanh(k * (x + c * x * x * x)))

        # with t = tanh(k (x + c x^3)): d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2)
        def grad(g, x, o):
            if x.dtype == np.float32:
                return _f32.gelu_tanh_grad(g, x, k, c)
            t = np.tanh(k * (x + c * x * x * x))
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x))
    else:
        raise ShapeError(f"gelu: approximate must be 'none' or 'tanh'. Got approximate={approximate!r}.")
    return _pointwise(input, "gelu", forward, grad)


def sigmoid(input):
    """1 / (1 + exp(-x)), without overflow for large |x|. Matches torch.sigmoid.

    >>> import cnnlab
    >>> sigmoid(cnnlab.tensor([0.0, -1e4])).tolist()
    [0.5, 0.0]
    """
    # s' = s (1 - s)
    return _pointwise(input, "sigmoid", _stable_sigmoid, lambda g, x, s: g * s * (1 - s), ints="promote")


def tanh(input):
    """Hyperbolic tangent. Matches torch.tanh.

    >>> import cnnlab
    >>> tanh(cnnlab.tensor([0.0])).tolist()
    [0.0]
    """
    # tanh' = 1 - tanh^2
    return _pointwise(input, "tanh", np.tanh, lambda g, x, o: g * (1 - o * o), ints="promote")


def silu(input, inplace=False):
    """x * sigmoid(x) (swish). Matches torch.nn.functional.silu.

    >>> import cnnlab
    >>> silu(cnnlab.tensor([0.0])).tolist()
    [0.0]
    """
    # d/dx x s(x) = s + x s (1 - s) = s (1 + x (1 - s))
    def grad(g, x, o):
        if x.dtype == np.float32:
            return _f32.silu_grad(g, x)
        s = _stable_sigmoid(x)
        return g * s * (1 + x * (1 - s))

    return _pointwise(input, "silu", lambda x: _f32.silu(x) if x.dtype == np.float32 else x * _stable_sigmoid(x),
                      grad)


def mish(input, inplace=False):
    """x * tanh(softplus(x)). Matches torch.nn.functional.mish.

    >>> import cnnlab
    >>> mish(cnnlab.tensor([0.0])).tolist()
    [0.0]
    """
    # with t = tanh(softplus(x)): d/dx x t = t + x (1 - t^2) sigmoid(x), since softplus' = sigmoid
    def grad(g, x, o):
        if x.dtype == np.float32:
            return _f32.mish_grad(g, x)
        t = np.tanh(np.logaddexp(0, x))
        return g * (t + x * (1 - t * t) * _stable_sigmoid(x))

    return _pointwise(input, "mish", lambda x: _f32.mish(x) if x.dtype == np.float32 else
                      x * np.tanh(np.logaddexp(0, x)), grad)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold. Matches
    torch.nn.functional.softplus (computed as logaddexp, so no overflow for any threshold).

    >>> import cnnlab
    >>> softplus(cnnlab.tensor([0.0, 1e4])).tolist()
    [0.6931471824645996, 10000.0]
    """
    def forward(x):
        if x.dtype == np.float32:
            return _f32.softplus(x, beta, threshold)
        bx = x * beta
        return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)

    # d/dx log(1 + e^(bx)) / b = sigmoid(bx); 1 in the linear region
    def grad(g, x, o):
        if x.dtype == np.float32:
            return _f32.softplus_grad(g, x, beta, threshold)
        return np.where(x * beta > threshold, g, g * _stable_sigmoid(x * beta))

    return _pointwise(input, "softplus", forward, grad)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6. Matches torch.nn.functional.hardsigmoid.

    >>> import cnnlab
    >>> hardsigmoid(cnnlab.tensor([-4.0, 0.0, 4.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    # slope 1/6 strictly inside (-3, 3), 0 elsewhere
    return _pointwise(input, "hardsigmoid", lambda x: np.clip(x + 3, 0, 6) / 6,
                      lambda g, x, o: g * ((x > -3) & (x < 3)) / 6)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6. Matches torch.nn.functional.hardswish.

    >>> import cnnlab
    >>> hardswish(cnnlab.tensor([-4.0, 0.0, 4.0])).tolist()
    [-0.0, 0.0, 4.0]
    """
    # 0 up to -3, x / 3 + 1/2 strictly inside (-3, 3), 1 from 3 on (PyTorch's choices at the kinks) and for NaN.
    # Masks times values, not np.where: a random mask makes np.where ~40x slower than arithmetic
    def grad(g, x, o):
        inside = (x > -3) & (x < 3)
        slope = (np.fmax(np.fmin(x, 3), -3) / 3 + 0.5) * inside      # fmin/fmax: NaN becomes 3, masked off
        slope += ~(x < 3)
        return g * slope.astype(x.dtype, copy=False)

    return _pointwise(input, "hardswish", lambda x: x * np.clip(x + 3, 0, 6) / 6, grad)


def softsign(input):
    """x / (1 + |x|). Matches torch.nn.functional.softsign.

    >>> import cnnlab
    >>> softsign(cnnlab.tensor([1.0])).tolist()
    [0.5]
    """
    # d/dx x / (1 + |x|) = 1 / (1 + |x|)^2
    return _pointwise(input, "softsign", lambda x: x / (1 + np.abs(x)),
                      lambda g, x, o: g / ((1 + np.abs(x)) * (1 + np.abs(x))))


def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), stable for large |x|. Matches
    torch.nn.functional.logsigmoid.

    >>> import cnnlab
    >>> logsigmoid(cnnlab.tensor([-1e4])).tolist()
    [-10000.0]
    """
    # d/dx log s(x) = 1 - s(x) = s(-x)
    return _pointwise(input, "logsigmoid", lambda x: np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))),
                      lambda g, x, o: g * _stable_sigmoid(-x))
