"""stochastic_depth: drop whole residual branches at random while training (Huang et al., 2016)."""
import numpy as np

from ... import random as _random
from ...tensor import Tensor

__all__ = ["stochastic_depth"]


def stochastic_depth(input, p, mode, training=True):
    """Zero the whole input (mode 'batch') or whole samples of it (mode 'row') with probability p, scaling what
    survives by 1/(1-p) so the expected value is unchanged. Used on residual branches: a dropped branch leaves
    only the skip connection. Matches torchvision.ops.stochastic_depth (its random draws differ).

    Args:
        input (Tensor): (N, *).
        p (float): the probability of zeroing, in [0, 1].
        mode (str): 'row' draws once per sample (along dim 0), 'batch' once for the whole tensor.
        training (bool, default True): when False, or when p == 0, the input is returned unchanged.

    Shape:
        (N, *) -> (N, *).

    Raises:
        ValueError: p outside [0, 1] or an unknown mode.

    >>> import cnnlab
    >>> import cnnlab.nn.functional as F
    >>> x = cnnlab.ones(4, 3)
    >>> F.stochastic_depth(x, 0.5, "row", training=False) is x
    True
    >>> y = F.stochastic_depth(x, 0.5, "row")
    >>> sorted(set(y.flatten().tolist()) - {0.0, 2.0})
    []
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"stochastic_depth: p must be a number in [0, 1]. Got p={p!r}.")
    if mode not in ("batch", "row"):
        raise ValueError(f"stochastic_depth: mode must be 'batch' or 'row'. Got mode={mode!r}.")
    if not isinstance(input, Tensor):
        raise TypeError(f"stochastic_depth: input must be a tensor. Got {type(input).__name__}.")
    if not training or p == 0.0:
        return input
    survival = 1.0 - float(p)
    size = (input.shape[0],) + (1,) * (input.ndim - 1) if mode == "row" and input.ndim else (1,) * input.ndim
    noise = (_random.rng().random(size) < survival).astype(input._data.dtype)  # (N, 1, ...) or (1, ..., 1)
    if survival > 0.0:
        noise /= survival
    return input * Tensor._wrap(noise)
