"""Sampling at arbitrary positions, with gradients: F.affine_grid and F.grid_sample (spatial transformers).

affine_grid maps every output pixel's normalised position (x, y[, z], 1) through a batch of affine matrices.
grid_sample reads the input at those positions: the grid value -1 is the left/top edge and +1 the right/bottom
edge (align_corners=False: the outer edges of the corner pixels; True: the corner pixel centers).

Every mode is a weighted sum of a few taps: output p = sum_t w_t[p] * x[idx_t[p]], with the weights functions of
the sampling position. The backward pass scatters the gradient back through the same taps (input gradient) and
differentiates the weights (grid gradient). Positions, padding rules and their derivatives follow PyTorch's
CPU grid sampler.
"""
import fractions
import functools
import warnings

import numpy as np

from ...errors import DTypeError, ShapeError, shape_str
from ...ops._operands import as_tensor_arg
from ...tensor import Tensor

__all__ = ["affine_grid", "grid_sample"]

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")
_DEFAULT_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since "
                          "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
                          "documentation of grid_sample for details.")


class AffineGridRankError(ValueError, NotImplementedError):
    """affine_grid with a size that is not 4-d or 5-d: a ValueError, and the NotImplementedError PyTorch raises."""


def _resolve_align_corners(align_corners):
    """None means False, with PyTorch's warning that the default changed in 1.3.0."""
    if align_corners is None:
        warnings.warn(_DEFAULT_ALIGN_WARNING, UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


# ---- affine_grid ---------------------------------------------------------------------------------------------

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
    n = len(size) - 2
    if th.ndim != 3 or th.shape[1:] != (n, n + 1):
        raise ValueError(f"affine_grid: theta must be a batch of {n}-d affine matrices of shape (N, {n}, {n + 1}) "
                         f"for a {len(size)}-d size. Got theta.shape={shape_str(th.shape)}, size={size}.")
    if th.shape[0] != size[0]:
        raise ShapeError(f"affine_grid: theta's batch must equal size[0]. Got theta.shape={shape_str(th.shape)}, "
                         f"size={size}.")
    if align_corners is None:
        align = _resolve_align_corners(None)
    else:
        align = bool(align_corners)
        if align and min(size[2:]) == 1:
            warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                          "align_corners=True. This is not an intended use case of affine_grid. See the "
                          "documentation of affine_grid for details.", UserWarning, stacklevel=2)
    spatial = size[2:]
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


# ---- grid_sample: positions ----------------------------------------------------------------------------------

def _unnormalize(coord, size, align_corners):
    """Grid value in [-1, 1] -> pixel coordinate, and d(pixel)/d(grid)."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1), (size - 1) / 2
    return ((coord + 1) * size - 1) / 2, size / 2


def _clip(c, size):
    """Clamp into [0, size - 1]; the derivative is 1 strictly inside and 0 where clamped."""
    return np.clip(c, 0, size - 1), ((c > 0) & (c < size - 1)).astype(c.dtype)


def _reflect(c, twice_low, twice_high):
    """Reflect c about the bounds low = twice_low / 2 and high = twice_high / 2 until it lies between them;
    the derivative is +1 or -1 by the number of reflections (PyTorch's reflect_coordinates)."""
    if twice_low == twice_high:
        return np.zeros_like(c), np.zeros_like(c)
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = c - lo
    sign = np.where(c < 0, -1, 1).astype(c.dtype)
    c = np.abs(c)
    extra = np.fmod(c, span)
    flips = np.floor(c / span)
    even = np.fmod(flips, 2) == 0
    return np.where(even, extra + lo, span - extra + lo).astype(c.dtype), np.where(even, sign, -sign)


def _pad_coords(c, size, padding_mode, align_corners):
    """PyTorch's compute_coordinates: the pixel coordinate after the padding rule, and its derivative."""
    if padding_mode == "border":
        return _clip(c, size)
    if padding_mode == "reflection":
        if align_corners:
            r, dr = _reflect(c, 0, 2 * (size - 1))
        else:
            r, dr = _reflect(c, -1, 2 * size - 1)
        r, dc = _clip(r, size)
        return r, dr * dc
    return c, np.ones_like(c)


# ---- grid_sample: taps ---------------------------------------------------------------------------------------
# A tap is (idx, w, dw): flat spatial index (N, P), weight (N, P) with 0 where the tap lies outside the input,
# and dw[d] = d w / d coordinate d (before the padding rule's derivative, applied afterwards).

def _axis_index(i, size):
    """Integer coordinates along one axis: set to 0 where outside [0, size) (their weight is zeroed), and the
    in-bounds mask."""
    ok = (i >= 0) & (i < size)
    return np.where(ok, i, 0), ok


def _flat_index(parts, spatial):
    """Flat spatial index and in-bounds mask of one tap from its per-axis (index, mask), outermost first."""
    flat, ok = parts[0]
    for (i, o), s in zip(parts[1:], spatial[1:]):
        flat = flat * s + i
        ok = ok & o
    return flat, ok


def _linear_taps(coords, spatial):
    """2^n corners around each position, weight prod_d (t_d or 1 - t_d), t_d = c_d - floor(c_d)."""
    lows = [np.floor(c) for c in coords]
    fracs = [c - lo for c, lo in zip(coords, lows)]
    axis_parts = [[_axis_index(lo.astype(np.int64) + b, s) for b in (0, 1)] for lo, s in zip(lows, spatial)]
    n = len(coords)
    taps = []
    for corner in range(2 ** n):
        bits = [(corner >> (n - 1 - d)) & 1 for d in range(n)]
        ws = [f if b else 1 - f for f, b in zip(fracs, bits)]
        idx, ok = _flat_index([axis_parts[d][b] for d, b in enumerate(bits)], spatial)
        okf = ok.astype(coords[0].dtype)
        w = okf
        for wd in ws:
            w = w * wd
        dw = []
        for d in range(n):
            part = okf if bits[d] else -okf
            for e in range(n):
                if e != d:
                    part = part * ws[e]
            dw.append(part)
        taps.append((idx, w, dw))
    return taps


def _nearest_taps(coords, spatial):
    """One tap at the nearest pixel (halfway cases to even, as nearbyint); no gradient for the grid."""
    idx, ok = _flat_index([_axis_index(np.rint(c).astype(np.int64), s) for c, s in zip(coords, spatial)], spatial)
    return [(idx, ok.astype(coords[0].dtype), None)]


def _cubic(x, a=-0.75):
    """Keys' cubic convolution kernel for |x| <= 1 (near) and 1 < |x| < 2 (far), and their derivatives."""
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    dnear = (3 * (a + 2) * x - 2 * (a + 3)) * x
    dfar = (3 * a * x - 10 * a) * x + 8 * a
    return near, far, dnear, dfar


def _cubic_weights(t):
    """Weights of the taps at offsets -1, 0, 1, 2 for fraction t, and their derivatives in t."""
    n1, _, dn1, _ = _cubic(t)
    n2, _, dn2, _ = _cubic(1 - t)
    _, f0, _, df0 = _cubic(t + 1)
    _, f3, _, df3 = _cubic(2 - t)
    return [f0, n1, n2, f3], [df0, dn1, -dn2, -df3]


def _bicubic_taps(coords, spatial, padding_mode, align_corners):
    """4 x 4 taps around floor(c); each tap's integer position goes through the padding rule on its own."""
    (cy, cx), (H, W) = coords, spatial
    y0, x0 = np.floor(cy), np.floor(cx)
    wy, dwy = _cubic_weights(cy - y0)
    wx, dwx = _cubic_weights(cx - x0)
    taps = []
    iys = [_axis_index(_pad_coords(y0 - 1 + a, H, padding_mode, align_corners)[0].astype(np.int64), H)
           for a in range(4)]
    ixs = [_axis_index(_pad_coords(x0 - 1 + b, W, padding_mode, align_corners)[0].astype(np.int64), W)
           for b in range(4)]
    for a, iy in enumerate(iys):
        for b, ix in enumerate(ixs):
            idx, ok = _flat_index([iy, ix], spatial)
            okf = ok.astype(cy.dtype)
            taps.append((idx, okf * wy[a] * wx[b], [okf * dwy[a] * wx[b], okf * wy[a] * dwx[b]]))
    return taps


# ---- grid_sample ---------------------------------------------------------------------------------------------

def _check_grid_sample(x, grid, mode, padding_mode, x_dtype, grid_dtype):
    if mode not in MODES:
        raise ValueError(f"grid_sample: mode must be one of {', '.join(MODES)}. Got mode={mode!r}.")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"grid_sample: padding_mode must be one of {', '.join(PADDING_MODES)}. "
                         f"Got padding_mode={padding_mode!r}.")
    if x.ndim not in (4, 5) or grid.ndim != x.ndim:
        raise ShapeError(f"grid_sample: input and grid must both be 4-d ((N, C, H, W) and (N, H_out, W_out, 2)) "
                         f"or both 5-d ((N, C, D, H, W) and (N, D_out, H_out, W_out, 3)). "
                         f"Got input.shape={shape_str(x.shape)}, grid.shape={shape_str(grid.shape)}.")
    n = x.ndim - 2
    if grid.shape[-1] != n:
        raise ShapeError(f"grid_sample: grid's last dimension must be {n} (one coordinate per spatial dim of a "
                         f"{x.ndim}-d input). Got input.shape={shape_str(x.shape)}, "
                         f"grid.shape={shape_str(grid.shape)}.")
    if grid.shape[0] != x.shape[0]:
        raise ShapeError(f"grid_sample: input and grid must have the same batch size. "
                         f"Got input.shape={shape_str(x.shape)}, grid.shape={shape_str(grid.shape)}.")
    if min(x.shape[2:]) == 0:
        raise ShapeError(f"grid_sample: input must have non-empty spatial dimensions. "
                         f"Got input.shape={shape_str(x.shape)}.")
    if mode == "bicubic" and n != 2:
        raise ShapeError(f"grid_sample: mode='bicubic' needs a 4-d input. Got input.shape={shape_str(x.shape)}.")
    if x.dtype.kind != "f":
        raise DTypeError(f"grid_sample: input must be floating point. Got input.dtype={x_dtype}.")
    if grid.dtype != x.dtype:
        raise DTypeError(f"grid_sample: input and grid must have the same dtype. Got input.dtype={x_dtype}, "
                         f"grid.dtype={grid_dtype}.")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Read the input at the normalised positions in grid. Matches torch.nn.functional.grid_sample.

    grid[n, i, j] = (x, y) picks input[n, :] at x across the width and y down the height, -1 and 1 being the
    edges (see align_corners); 5-d inputs take (x, y, z) with z across the depth. Positions outside the input
    read zeros ('zeros'), the nearest edge pixel ('border') or the mirror image ('reflection').

    Args:
        input (Tensor): (N, C, H, W) or (N, C, D, H, W), floating point.
        grid (Tensor): (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3), the input's dtype.
        mode (str, default 'bilinear'): 'bilinear' (trilinear for 5-d input), 'nearest', or 'bicubic' (4-d).
        padding_mode (str, default 'zeros'): 'zeros', 'border' or 'reflection'.
        align_corners (bool, default None = False, with PyTorch's warning): True puts -1 and 1 on the corner
            pixel centers, False on the corner pixels' outer edges. Pixel coordinate:
            (g + 1) / 2 * (size - 1) (True) or ((g + 1) * size - 1) / 2 (False).

    Shape:
        input (N, C, *in), grid (N, *out, n) -> (N, C, *out).

    Returns:
        Tensor of the input's dtype; differentiable in both input and grid ('nearest' gives grid a zero gradient).

    Raises:
        ValueError: an unknown mode or padding_mode.
        ShapeError (ValueError, RuntimeError): ranks that do not fit, grid's last dim not n, batch sizes that
            differ, an empty input, 'bicubic' on a 5-d input.
        DTypeError (TypeError, RuntimeError): non-float input, or grid of another dtype.

    Example:
        >>> import cnnlab, cnnlab.nn.functional as F
        >>> x = cnnlab.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
        >>> grid = cnnlab.tensor([[[[0.0, 0.0], [1.0, -1.0]]]])
        >>> F.grid_sample(x, grid, align_corners=True).tolist()
        [[[[1.5, 1.0]]]]
    """
    tx = as_tensor_arg(input, "grid_sample", "input")
    tg = as_tensor_arg(grid, "grid_sample", "grid")
    x, gr = tx._data, tg._data
    _check_grid_sample(x, gr, mode, padding_mode, tx.dtype, tg.dtype)
    align = _resolve_align_corners(align_corners)
    N, C = x.shape[:2]
    spatial = x.shape[2:]
    n = len(spatial)
    out_spatial = gr.shape[1:-1]
    dt = x.dtype.type
    S = int(np.prod(spatial))
    g2 = gr.reshape(N, -1, n)                                   # (N, P, n), component 0 is x (the last axis)
    coords, mults = [], []                                      # per spatial axis, outermost first
    for k, size in enumerate(spatial):
        c, dscale = _unnormalize(g2[..., n - 1 - k], size, align)
        if mode == "bicubic":
            coords.append(c)
            mults.append(np.full_like(c, dscale))
        else:
            c, dpad = _pad_coords(c, size, padding_mode, align)
            coords.append(c.astype(dt, copy=False))
            mults.append(dpad * dt(dscale))
    if mode == "bilinear":
        taps = _linear_taps(coords, spatial)
    elif mode == "nearest":
        taps = _nearest_taps(coords, spatial)
    else:
        taps = _bicubic_taps(coords, spatial, padding_mode, align)
    P = g2.shape[1]
    # Channels-last rows make every tap one row gather: input pixel (n, s) is row n * S + s of xr.
    xr = np.ascontiguousarray(x.reshape(N, C, S).transpose(0, 2, 1)).reshape(N * S, C)   # (N*S, C)
    row0 = (np.arange(N, dtype=np.int64) * S)[:, None]                                    # (N, 1)
    rows = [(idx + row0).ravel() for idx, _, _ in taps]                                   # each (N*P,)
    acc = np.zeros((N * P, C), dtype=dt)
    for r, (_, w, _) in zip(rows, taps):
        acc += np.take(xr, r, axis=0) * w.reshape(-1, 1).astype(dt, copy=False)
    out = np.ascontiguousarray(acc.reshape(N, P, C).transpose(0, 2, 1)).reshape((N, C) + out_spatial)

    # out[n, c, p] = sum_t w_t[n, p] x[n, c, idx_t[n, p]]: dL/dx scatters g * w_t back to idx_t, and
    # dL/dgrid_d = sum_t (sum_c g x[idx_t]) dw_t/dc_d * dc_d/dgrid_d (padding rule times unnormalise scale).
    def backward(g):
        gf = g.reshape(N, C, P)
        gx = ggrid = None
        if tx._requires_grad:
            all_rows = np.concatenate(rows)                                                # (T*N*P,)
            w_all = np.stack([w.reshape(N, P) for _, w, _ in taps])                        # (T, N, P)
            gx = np.empty((N, C, S), dtype=dt)
            for c in range(C):  # one bincount per channel over every tap's rows
                part = np.bincount(all_rows, weights=(w_all * gf[None, :, c, :]).ravel(), minlength=N * S)
                gx[:, c, :] = part.reshape(N, S)
            gx = gx.reshape(x.shape)
        if tg._requires_grad:
            gcoord = [np.zeros(N * P, dtype=dt) for _ in range(n)]
            if mode != "nearest":
                gr_rows = np.ascontiguousarray(gf.transpose(0, 2, 1)).reshape(N * P, C)    # (N*P, C)
                for r, (_, _, dw) in zip(rows, taps):
                    dot = np.einsum("pc,pc->p", gr_rows, np.take(xr, r, axis=0))
                    for k in range(n):
                        gcoord[k] += dot * dw[k].ravel()
            ggrid = np.stack([gcoord[n - 1 - j] * mults[n - 1 - j].ravel() for j in range(n)], -1)
            ggrid = ggrid.astype(dt, copy=False).reshape(gr.shape)
        return gx, ggrid

    name = "GridSampler2DBackward" if n == 2 else "GridSampler3DBackward"
    return Tensor._from_op(out, (tx, tg), backward, name)
