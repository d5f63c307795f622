"""F.affine_grid: the sampling grid of a batch of affine transforms, for grid_sample (spatial transformers).

Every output pixel's normalised position (x, y[, z], 1) goes through the batch's affine matrices. The positions
are PyTorch's, bit for bit, so a grid that lands on pixel centers takes the same one-sided gradients there.
"""
import fractions
import functools
import warnings

import numpy as np

from ..._memory import check_allocation
from ...errors import ShapeError, shape_str
from ...ops._operands import as_tensor_arg
from ...tensor import Tensor

__all__ = ["affine_grid"]

_DEFAULT_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since "
                          "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
                          "documentation of grid_sample for details.")


class AffineGridRankError(ValueError, NotImplementedError):
    """affine_grid with a size that is not 4-d or 5-d: a ValueError, and the NotImplementedError PyTorch raises."""


def resolve_align_corners(align_corners):
    """None means False, with PyTorch's warning that the default changed in 1.3.0."""
    if align_corners is None:
        warnings.warn(_DEFAULT_ALIGN_WARNING, UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


@functools.lru_cache(maxsize=256)
def _linspace_neg_one(steps, dtype):
    """PyTorch's CPU linspace(-1, 1, steps) bit for bit: start + step * i for the first half and
    end - step * (steps - 1 - i) for the rest, each rounded once (a fused multiply-add), step rounded to dtype.
    Exact positions matter: a pixel-center grid lands on integer pixel coordinates, where the bilinear
    grid gradient switches between neighbours. Read-only: the result is cached."""
    dt = np.dtype(dtype).type
    step = dt(2) / dt(steps - 1)
    i = np.arange(steps)
    first = i < steps // 2
    k = np.where(first, i, steps - 1 - i)
    if dt is np.float64:  # exact rational arithmetic, one rounding (float(Fraction) rounds correctly)
        f_step = fractions.Fraction(float(step))
        vals = [float((-1 + f_step * int(j)) if fst else (1 - f_step * int(j))) for j, fst in zip(k, first)]
        r = np.array(vals, dtype=dt)
    else:  # float32 and float16: exact in float64, then one rounding
        exact = np.where(first, -1.0, 1.0) + np.where(first, 1.0, -1.0) * np.float64(step) * k
        r = exact.astype(dt)
    r.flags.writeable = False
    return r


def _base_coords(steps, align_corners, dt):
    """PyTorch's linspace_from_neg_one: -1 .. 1 in `steps` steps, shrunk by (steps - 1) / steps when the
    positions are pixel centers (align_corners=False); a single step sits at 0."""
    if steps <= 1:
        return np.zeros(steps, dtype=dt)
    r = _linspace_neg_one(steps, np.dtype(dt).str)
    if not align_corners:
        r = r * dt(steps - 1) / dt(steps)
    return r


def affine_grid(theta, size, align_corners=None):
    """Sampling grid of a batch of affine transforms, for grid_sample. Matches torch.nn.functional.affine_grid.

    Output pixel (i, j) of an (H, W) grid has the normalised position (x_j, y_i) (from -1 to 1, as grid_sample
    reads it); its grid entry is theta @ (x_j, y_i, 1). 5-d sizes use (x, y, z, 1) and 3x4 matrices.

    Args:
        theta (Tensor): (N, 2, 3) for a 4-d size, (N, 3, 4) for a 5-d size, floating point.
        size (tuple): the target output size (N, C, H, W) or (N, C, D, H, W).
        align_corners (bool, default None = False, with PyTorch's warning): True puts -1 and 1 on the corner
            pixel centers, False on the corner pixels' outer edges.

    Shape:
        theta (N, 2, 3) -> grid (N, H, W, 2); theta (N, 3, 4) -> grid (N, D, H, W, 3).

    Returns:
        Tensor of theta's dtype.

    Raises:
        ValueError: theta not floating point or not of shape (N, 2, 3) / (N, 3, 4).
        ShapeError (ValueError, RuntimeError): size's batch differs from theta's.
        AffineGridRankError (ValueError, NotImplementedError): size is not 4-d or 5-d.

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> theta = cnnlab.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        >>> F.affine_grid(theta, (1, 1, 2, 2), align_corners=True).tolist()
        [[[[-1.0, -1.0], [1.0, -1.0]], [[-1.0, 1.0], [1.0, 1.0]]]]
    """
    t = as_tensor_arg(theta, "affine_grid", "theta")
    th = t._data
    if th.dtype.kind != "f":
        raise ValueError(f"affine_grid: theta must be floating point. Got theta.dtype={t.dtype}.")
    try:
        size = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"affine_grid: size must be a tuple of ints (N, C, H, W) or (N, C, D, H, W). "
                        f"Got size={size!r}.") from None
    if len(size) not in (4, 5):
        raise AffineGridRankError(f"affine_grid: only 4-d and 5-d sizes are supported, for 2-d and 3-d affine "
                                  f"transforms. Got size={size}.")
    if min(size) < 1:
        raise ShapeError(f"affine_grid: every entry of size must be positive. Got size={size}.")
    n = len(size) - 2
    if th.ndim != 3 or th.shape[1:] != (n, n + 1):
        raise ValueError(f"affine_grid: theta must be a batch of {n}-d affine matrices of shape (N, {n}, {n + 1}) "
                         f"for a {len(size)}-d size. Got theta.shape={shape_str(th.shape)}, size={size}.")
    if th.shape[0] != size[0]:
        raise ShapeError(f"affine_grid: theta's batch must equal size[0]. Got theta.shape={shape_str(th.shape)}, "
                         f"size={size}.")
    align = resolve_align_corners(align_corners)
    if align and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the "
                      "documentation of affine_grid for details.", UserWarning, stacklevel=2)
    spatial = size[2:]
    check_allocation("affine_grid", (size[0],) + spatial + (n,), th.dtype)
    dt = th.dtype.type
    axes = [_base_coords(s, align, dt) for s in spatial]             # in order (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")                          # each (*spatial)
    base = np.stack(list(mesh[::-1]) + [np.ones(spatial, dtype=dt)], -1)    # (*spatial, n + 1): x, y[, z], 1
    base = base.reshape(-1, n + 1)                                    # (P, n + 1)
    grid = np.matmul(base[None], th.transpose(0, 2, 1))               # (N, P, n)
    out = grid.reshape((size[0],) + spatial + (n,))

    # grid[b, p] = theta[b] @ base[p], so dL/dtheta[b] = sum_p g[b, p] base[p]^T = g[b]^T @ base.
    def backward(g):
        gp = g.reshape(size[0], -1, n)                                # (N, P, n)
        return (np.matmul(gp.transpose(0, 2, 1), base).astype(th.dtype, copy=False),)

    return Tensor._from_op(out, (t,), backward, "AffineGridGeneratorBackward")
