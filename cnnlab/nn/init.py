"""Weight initialisation with PyTorch's distributions and signatures (`import cnnlab.nn.init as init`).

Every function fills its tensor in place, records no graph, returns the tensor, and draws its numbers from
`cnnlab.random` (the default generator, seeded by `cnnlab.manual_seed`, or the `generator=` given). The numbers
differ from PyTorch's for the same seed (another bit generator); the distributions are the same.

Fans: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and fan_out = out * prod(kernel).
"""
import math
import numbers
import warnings

import numpy as np

from ..random import rng
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain (std multiplier) for a nonlinearity. Matches torch.nn.init.calculate_gain.

    Args:
        nonlinearity (str): 'linear', 'conv1d'..'conv_transpose3d', 'sigmoid' (1); 'tanh' (5/3);
            'relu' (sqrt(2)); 'leaky_relu' (sqrt(2 / (1 + negative_slope^2))); 'selu' (3/4).
        param (float, default None): negative_slope for 'leaky_relu' (None means 0.01).

    Returns:
        float: the gain.

    Raises:
        ValueError: an unknown nonlinearity or a non-numeric negative_slope.

    >>> round(calculate_gain("leaky_relu", 0.2), 6)
    1.38675
    """
    if nonlinearity in _LINEAR_FNS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _check(tensor, op):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: tensor must be a cnnlab.Tensor. Got {type(tensor).__name__}.")


def _fill(tensor, values):
    """Write values into tensor's memory (cast to its dtype); in place, outside the graph."""
    np.copyto(tensor._data, values, casting="unsafe")
    return tensor


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight: in * prod(kernel) and out * prod(kernel) for shape (out, in, *kernel)."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    shape = tensor.shape
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b). Matches torch.nn.init.uniform_.

    >>> import cnnlab
    >>> w = uniform_(cnnlab.empty(1000), -0.5, 0.5)
    >>> bool(w.min() >= -0.5 and w.max() < 0.5)
    True
    """
    _check(tensor, "uniform_")
    return _fill(tensor, rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2). Matches torch.nn.init.normal_."""
    _check(tensor, "normal_")
    return _fill(tensor, rng(generator).normal(mean, std, tensor.shape))


def _std_normal_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) restricted to [a, b] (absolute bounds, as PyTorch). Matches
    torch.nn.init.trunc_normal_.

    Sampling is by rejection: from the normal itself when [a, b] holds at least 5% of its mass, else uniformly
    over [a, b] (cut 8 standard deviations past its end nearest the mean, where the density has fallen below
    e^-32 of its peak there) with acceptance exp(-(z^2 - z0^2) / 2).

    >>> import cnnlab
    >>> w = trunc_normal_(cnnlab.empty(1000), std=0.02, a=-0.04, b=0.04)
    >>> bool(w.abs().max() <= 0.04)
    True
    """
    _check(tensor, "trunc_normal_")
    if not b > a:
        raise ValueError(f"trunc_normal_: b must be greater than a. Got a={a}, b={b}.")
    if std <= 0:
        raise ValueError(f"trunc_normal_: std must be positive. Got std={std}.")
    g = rng(generator)
    lo, hi = (a - mean) / std, (b - mean) / std  # bounds in standard units
    n = tensor.numel()
    mass = _std_normal_cdf(hi) - _std_normal_cdf(lo)
    out = np.empty(0)
    if mass >= 0.05:
        while out.size < n:
            need = n - out.size
            z = g.standard_normal(int(need / mass * 1.2) + 16)
            out = np.concatenate([out, z[(z >= lo) & (z <= hi)][:need]])
    else:
        z0 = lo if lo > 0 else (hi if hi < 0 else 0.0)  # the point of [lo, hi] nearest 0
        lo_c, hi_c = (lo, min(hi, lo + 8.0)) if lo > 0 else ((max(lo, hi - 8.0), hi) if hi < 0 else (lo, hi))
        while out.size < n:
            need = n - out.size
            z = g.uniform(lo_c, hi_c, 4 * need + 64)
            keep = g.random(z.size) < np.exp(-(z * z - z0 * z0) / 2)
            out = np.concatenate([out, z[keep][:need]])
    return _fill(tensor, np.clip(out.reshape(tensor.shape) * std + mean, a, b))


def constant_(tensor, val):
    """Fill with val. Matches torch.nn.init.constant_."""
    _check(tensor, "constant_")
    tensor._data.fill(val)
    return tensor


def ones_(tensor):
    """Fill with 1. Matches torch.nn.init.ones_."""
    return constant_(tensor, 1)


def zeros_(tensor):
    """Fill with 0. Matches torch.nn.init.zeros_."""
    return constant_(tensor, 0)


def eye_(tensor):
    """The identity matrix (2-d tensors only). Matches torch.nn.init.eye_."""
    _check(tensor, "eye_")
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """A convolution weight that passes its input through unchanged (channel i -> channel i in each group).
    Matches torch.nn.init.dirac_.

    Args:
        tensor: a 3-, 4- or 5-d weight (out, in, *kernel).
        groups (int, default 1): the number of groups of the conv.
    """
    _check(tensor, "dirac_")
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    shape = tensor.shape
    if shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = shape[0] // groups
    m = min(out_per_group, shape[1])
    w = np.zeros(shape)
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):  # loops over groups only; the diagonal is one fancy-index write
        d = np.arange(m)
        w[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, w)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010). Matches
    torch.nn.init.xavier_uniform_."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). Matches torch.nn.init.xavier_normal_."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity, op):
    _check(tensor, op)
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015). Matches
    torch.nn.init.kaiming_uniform_.

    Args:
        a (float, default 0): the negative slope of the leaky_relu that follows (for the gain).
        mode (str, default 'fan_in'): 'fan_in' keeps the forward variance, 'fan_out' the backward one.
        nonlinearity (str, default 'leaky_relu'): see calculate_gain.

    >>> import math, cnnlab
    >>> w = kaiming_uniform_(cnnlab.empty(64, 3, 5, 5), a=math.sqrt(5))   # Conv2d's default
    >>> bool(w.abs().max() <= 1 / math.sqrt(75))
    True
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan). Matches torch.nn.init.kaiming_normal_."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, over dims 1.. flattened
    (Saxe et al., 2013). Matches torch.nn.init.orthogonal_."""
    _check(tensor, "orthogonal_")
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T  # (cols, rows): QR needs at least as many rows as columns
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # a unique, uniformly distributed Q
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


# Deprecated spellings that old tutorials use.
uniform, normal, constant = uniform_, normal_, constant_
xavier_uniform, xavier_normal = xavier_uniform_, xavier_normal_
kaiming_uniform, kaiming_normal = kaiming_uniform_, kaiming_normal_
orthogonal = orthogonal_
