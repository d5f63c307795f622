"""Drawing indices from weights: multinomial."""
import numpy as np

from ..errors import ShapeError, shape_str
from ..random import rng
from ..tensor import Tensor
from ._operands import as_tensor_arg


def multinomial(input, num_samples, replacement=False, generator=None):
    """Draw num_samples category indices per row of non-negative weights (rows normalised), without
    replacement unless replacement=True; int64, (num_samples,) or (rows, num_samples). Uses cnnlab's generator
    (the same seed gives the same draws, not PyTorch's draws). Matches torch.multinomial in distribution.

    >>> import cnnlab
    >>> _ = cnnlab.manual_seed(0)
    >>> cnnlab.multinomial(cnnlab.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])
    """
    t = as_tensor_arg(input, "multinomial", "input")
    w = t._data.astype(np.float64)
    if t.ndim not in (1, 2) or w.shape[-1] == 0:
        raise ShapeError(f"multinomial: input must be a 1-D or 2-D tensor of weights. Got "
                         f"shape={shape_str(t.shape)}.")
    rows = w.reshape(-1, w.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(1) <= 0).any():
        raise ShapeError(f"multinomial: weights must be finite, non-negative, with a positive sum in every row. "
                         f"Got min weight {rows.min()}, smallest row sum {rows.sum(1).min()}, "
                         f"{int((~np.isfinite(rows)).sum())} non-finite weight(s).")
    if not replacement and num_samples > rows.shape[1]:
        raise ShapeError(f"multinomial: cannot draw more samples than categories without replacement. Got "
                         f"num_samples={num_samples}, categories={rows.shape[1]}.")
    g = rng(generator)
    if replacement:
        out = np.stack([g.choice(rows.shape[1], num_samples, replace=True, p=r / r.sum()) for r in rows])
    else:  # weighted sampling without replacement: the largest keys u ** (1 / w); zero weights come last, as torch
        u = g.random(rows.shape)
        with np.errstate(divide="ignore"):
            keys = np.where(rows > 0, u ** (1.0 / np.where(rows > 0, rows, 1.0)), -u)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    return Tensor._wrap(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))
