"""Dropout: zero random elements (or whole channels) while training and rescale the rest by 1 / (1 - p).

The mask comes from `cnnlab.random.rng(generator)`: the default generator (seeded by `cnnlab.manual_seed`)
or the `generator=` given, so the same seed draws the same mask. The numbers differ from PyTorch's (another
generator), the distribution is the same. In eval mode (training=False) every op returns its input unchanged.
`inplace=` is accepted for PyTorch code; the result is always a new tensor.
"""
import warnings

import numpy as np

from ...errors import DTypeError, ShapeError, shape_str
from ...ops._operands import as_tensor_arg
from ...random import rng
from ...tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

# SELU's fixed point: alpha' = -SELU_SCALE * SELU_ALPHA, the value a dropped unit is set to by alpha dropout
_ALPHA_PRIME = 1.7580993408473766


def _check_p(p, op):
    if not 0.0 <= p <= 1.0:  # ShapeError: PyTorch raises ValueError for 2.0 and RuntimeError for nan
        raise ShapeError(f"{op}: dropout probability p must be between 0 and 1. Got p={p}.")


def _apply(input, p, training, generator, op, mask_shape=None, alpha=False):
    """Draw a keep-mask of mask_shape (default: input's shape, else broadcast over the trailing dims) and apply
    plain dropout (x * keep / (1 - p)) or alpha dropout (a * (x * keep + alpha' * (1 - keep)) + b)."""
    _check_p(p, op)
    t = as_tensor_arg(input, op, "input")
    if not training or p == 0 or t._data.size == 0:
        return t
    x = t._data
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be a floating-point tensor. Got dtype={t.dtype}.")
    shape = x.shape if mask_shape is None else mask_shape
    keep = (rng(generator).random(shape) >= p).astype(x.dtype)  # Bernoulli(1 - p), float64 draws for any dtype
    if p == 1:
        scale, shift = keep, 0.0  # all zeros, gradient zero, as PyTorch (no division by 1 - p = 0)
    elif alpha:
        # dropped units go to -alpha'; a and b keep mean 0 and variance 1: a = ((1 - p)(1 + p alpha'^2))^-1/2
        a = 1.0 / np.sqrt((_ALPHA_PRIME * _ALPHA_PRIME * p + 1) * (1 - p))
        scale, shift = keep * float(a), (keep - 1) * float(_ALPHA_PRIME * a) + float(_ALPHA_PRIME * a * p)
    else:
        scale, shift = keep / (1.0 - p), 0.0
    out = x * scale + shift if alpha else x * scale

    # out = x * scale (+ shift independent of x)  =>  dx = g * scale, with the same mask as the forward pass
    def backward(g):
        return (g * scale,)

    # PyTorch's grad_fn: the mask's multiply, or alpha dropout's final add (p = 1 is a plain multiply by 0)
    name = "AddBackward0" if alpha and p != 1 else "MulBackward0"
    return Tensor._from_op(out.astype(x.dtype, copy=False), (t,), backward, name)


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero each element with probability p and scale the kept ones by 1 / (1 - p), so the mean is unchanged.
    Matches torch.nn.functional.dropout (plus `generator=`).

    Args:
        input (Tensor): any shape, floating point.
        p (float, default 0.5): probability of zeroing an element; p=1 gives zeros.
        training (bool, default True): apply dropout; False returns input itself.
        inplace (bool, default False): accepted for PyTorch code; the result is a new tensor.
        generator (cnnlab.Generator, default None): the source of the mask; None uses the default generator.
    Shape: output has the input's shape.
    Raises: ValueError if p is not in [0, 1].

    >>> import cnnlab
    >>> x = cnnlab.ones(1000)
    >>> y = dropout(x, 0.5, generator=cnnlab.Generator().manual_seed(0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> dropout(x, 0.5, training=False) is x
    True
    """
    return _apply(input, p, training, generator, "dropout")


def _feature_mask_shape(shape, batched):
    """(N, C, 1, ..., 1) for a batched input, (C, 1, ..., 1) for an unbatched one: one draw per channel."""
    lead = 2 if batched else 1
    return tuple(shape[:lead]) + (1,) * (len(shape) - lead)


def dropout1d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels (every position of a (n, c) slice) with probability p, scaling the rest by
    1 / (1 - p). Matches torch.nn.functional.dropout1d.

    Args: as dropout. Shape: (N, C, L) or (C, L); output the same.
    Raises: ShapeError for other ranks; ValueError for p outside [0, 1].

    >>> import cnnlab
    >>> y = dropout1d(cnnlab.ones(4, 8, 5), 0.5, generator=cnnlab.Generator().manual_seed(0))
    >>> bool((y.amax(2) == y.amin(2)).all())  # each channel is all zeros or all 2s
    True
    """
    _check_p(p, "dropout1d")
    t = as_tensor_arg(input, "dropout1d", "input")
    if t.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expects a 2-d (C, L) or 3-d (N, C, L) input. Got input.shape="
                         f"{shape_str(t.shape)}.")
    return _apply(t, p, training, generator, "dropout1d", _feature_mask_shape(t.shape, t.ndim == 3))


def dropout2d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels of (N, C, H, W) or (C, H, W) inputs with probability p, scaling the rest by
    1 / (1 - p). Matches torch.nn.functional.dropout2d, including its legacy treatment of 3-d input as
    (N, C, L) (with PyTorch's warning) and its warning for other ranks.

    Args: as dropout. Shape: output has the input's shape.

    >>> import cnnlab
    >>> y = dropout2d(cnnlab.ones(2, 6, 3, 3), 0.5, generator=cnnlab.Generator().manual_seed(0))
    >>> bool((y.amax((2, 3)) == y.amin((2, 3))).all())
    True
    """
    _check_p(p, "dropout2d")
    t = as_tensor_arg(input, "dropout2d", "input")
    if t.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {t.ndim}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout "
                      "on inputs with 2 spatial dimensions, a channel dimension, and an optional batch "
                      "dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if t.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                      "dim. This behavior will change in a future release to interpret the input as one "
                      "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.", stacklevel=2)
    mask = _feature_mask_shape(t.shape, True) if t.ndim >= 2 else None
    return _apply(t, p, training, generator, "dropout2d", mask)


def dropout3d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability p, scaling the rest by
    1 / (1 - p). Matches torch.nn.functional.dropout3d.

    Args: as dropout. Shape: output has the input's shape.

    >>> import cnnlab
    >>> dropout3d(cnnlab.ones(2, 3, 2, 2, 2), 0.5, training=False).shape
    cnnlab.Size([2, 3, 2, 2, 2])
    """
    _check_p(p, "dropout3d")
    t = as_tensor_arg(input, "dropout3d", "input")
    if t.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {t.ndim}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout3d exists to provide channel-wise dropout "
                      "on inputs with 3 spatial dimensions, a channel dimension, and an optional batch "
                      "dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    mask = _feature_mask_shape(t.shape, t.ndim == 5) if t.ndim >= 1 else None  # like PyTorch: not 5-d = unbatched
    return _apply(t, p, training, generator, "dropout3d", mask)


def alpha_dropout(input, p=0.5, training=False, inplace=False, generator=None):
    """Dropout for SELU networks: dropped units are set to SELU's negative saturation and an affine map keeps
    mean 0 and variance 1. Matches torch.nn.functional.alpha_dropout (training defaults to False there too).

    Args: as dropout, except training (bool, default False).

    >>> import cnnlab
    >>> x = cnnlab.zeros(3)
    >>> alpha_dropout(x, 0.5) is x
    True
    """
    return _apply(input, p, training, generator, "alpha_dropout", alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False, generator=None):
    """alpha_dropout with one draw per channel of an (N, C, *) input. Matches
    torch.nn.functional.feature_alpha_dropout.

    >>> import cnnlab
    >>> feature_alpha_dropout(cnnlab.ones(2, 3, 4), 0.2, training=True).shape
    cnnlab.Size([2, 3, 4])
    """
    t = as_tensor_arg(input, "feature_alpha_dropout", "input")
    mask = _feature_mask_shape(t.shape, True) if t.ndim >= 2 else None
    return _apply(t, p, training, generator, "feature_alpha_dropout", mask, alpha=True)
