"""Sampling at arbitrary positions, with gradients: F.grid_sample (spatial transformers; F.affine_grid makes
the grids). It reads the input at the grid's positions: the grid value -1 is the left/top edge and +1 the
right/bottom edge (align_corners=False: the outer edges of the corner pixels; True: the corner pixel centers).

Every mode is a weighted sum of a few taps: output p = sum_t w_t[p] * x[idx_t[p]], with the weights functions of
the sampling position. The backward pass scatters the gradient back through the same taps (input gradient) and
differentiates the weights (grid gradient). Positions, padding rules and their derivatives follow PyTorch's
CPU grid sampler.
"""
import numpy as np

from ...errors import DTypeError, ShapeError, shape_str
from ...ops._operands import as_tensor_arg
from ...tensor import Tensor
from .affine_grid import resolve_align_corners
from .resize import cubic_far, cubic_near

__all__ = ["grid_sample"]

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")


# ---- grid_sample: positions ----------------------------------------------------------------------------------

def _unnormalize(coord, size, align_corners):
    """Grid value in [-1, 1] -> pixel coordinate, and d(pixel)/d(grid)."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1), (size - 1) / 2
    return ((coord + 1) * size - 1) / 2, size / 2


def _clip(c, size):
    """Clamp into [0, size - 1] (NaN to 0, as PyTorch); the derivative is 1 strictly inside and 0 elsewhere."""
    r = np.clip(c, 0, size - 1)
    return np.where(np.isnan(r), 0, r).astype(c.dtype, copy=False), ((c > 0) & (c < size - 1)).astype(c.dtype)


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

def _axis_index(c, size):
    """Integer-valued float coordinates along one axis as int64 indices, set to 0 where outside [0, size) or
    not finite (their weight is zeroed), and the in-bounds mask. Only in-bounds values are cast."""
    ok = (c >= 0) & (c < size)
    return np.where(ok, c, 0).astype(np.int64), ok


def _flat_index(parts, spatial):
    """Flat spatial index and in-bounds mask of one tap from its per-axis (index, mask), outermost first."""
    flat, ok = parts[0]
    for (i, o), s in zip(parts[1:], spatial[1:]):
        flat = flat * s + i
        ok = ok & o
    return flat, ok


def _linear_taps(coords, spatial, coords_t=None):
    """2^n corners around each position, weight prod_d (t_d or 1 - t_d), t_d = c_d - floor(c_d). coords_t:
    differentiable coordinates (Tensors equal to coords) that make the weights Tensors (create_graph formula)."""
    lows = [np.floor(c) for c in coords]
    fracs = [c - lo for c, lo in zip(coords if coords_t is None else coords_t, lows)]
    axis_parts = [[_axis_index(lo + b, s) for b in (0, 1)] for lo, s in zip(lows, spatial)]
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
    idx, ok = _flat_index([_axis_index(np.rint(c), s) for c, s in zip(coords, spatial)], spatial)
    return [(idx, ok.astype(coords[0].dtype), None)]


def _cubic_weights(t, a=-0.75):
    """Weights of the taps at offsets -1, 0, 1, 2 for fraction t (Keys' kernel, resize.py's), and their
    derivatives in t."""
    def dnear(x):
        return (3 * (a + 2) * x - 2 * (a + 3)) * x

    def dfar(x):
        return (3 * a * x - 10 * a) * x + 8 * a

    weights = [cubic_far(t + 1, a), cubic_near(t, a), cubic_near(1 - t, a), cubic_far(2 - t, a)]
    return weights, [dfar(t + 1), dnear(t), -dnear(1 - t), -dfar(2 - t)]


def _bicubic_taps(coords, spatial, padding_mode, align_corners, coords_t=None):
    """4 x 4 taps around floor(c); each tap's integer position goes through the padding rule on its own."""
    (cy, cx), (H, W) = coords, spatial
    y0, x0 = np.floor(cy), np.floor(cx)
    ty, tx = coords if coords_t is None else coords_t
    wy, dwy = _cubic_weights(ty - y0)
    wx, dwx = _cubic_weights(tx - x0)
    taps = []
    iys = [_axis_index(np.trunc(_pad_coords(y0 - 1 + a, H, padding_mode, align_corners)[0]), H)
           for a in range(4)]
    ixs = [_axis_index(np.trunc(_pad_coords(x0 - 1 + b, W, padding_mode, align_corners)[0]), W)
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


@np.errstate(invalid="ignore", over="ignore")  # NaN and infinite positions are masked out, as in PyTorch
def _sampling_taps(g2, spatial, mode, padding_mode, align, dt):
    """The taps of every output position, and per spatial axis d(pixel coordinate)/d(grid value)."""
    coords, mults = sampling_coords(g2, spatial, mode, padding_mode, align, dt)
    return sampling_taps(coords, spatial, mode, padding_mode, align), mults


def sampling_coords(g2, spatial, mode, padding_mode, align, dt):
    """Per spatial axis (outermost first) the pixel coordinate of every position (after the padding rule, except
    for bicubic, whose taps apply it one by one) and d(coordinate)/d(grid value)."""
    n = len(spatial)
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
    return coords, mults


def sampling_taps(coords, spatial, mode, padding_mode, align, coords_t=None):
    """The mode's taps (idx, w, dw) at the coordinates; w and dw are Tensors when coords_t is given."""
    if mode == "bilinear":
        return _linear_taps(coords, spatial, coords_t)
    if mode == "nearest":
        return _nearest_taps(coords, spatial)
    return _bicubic_taps(coords, spatial, padding_mode, align, coords_t)


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
    align = resolve_align_corners(align_corners)
    N, C = x.shape[:2]
    spatial = x.shape[2:]
    n = len(spatial)
    out_spatial = gr.shape[1:-1]
    dt = x.dtype.type
    S = int(np.prod(spatial))
    P = int(np.prod(out_spatial))  # not -1 in the reshape: a 0 batch leaves it undetermined
    g2 = gr.reshape(N, P, n)                                    # (N, P, n), component 0 is x (the last axis)
    taps, mults = _sampling_taps(g2, spatial, mode, padding_mode, align, dt)
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

    backward.sampling = (padding_mode, align)  # for the create_graph formula (derivatives/sampling.py)
    name = "GridSampler2DBackward" if n == 2 else "GridSampler3DBackward"
    return Tensor._from_op(out, (tx, tg), backward, name)
