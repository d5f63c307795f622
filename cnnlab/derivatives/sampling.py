"""create_graph formulas of the resampling ops: F.interpolate (every mode but 'area', which is adaptive_avg_pool:
derivatives/pooling.py), F.affine_grid and F.grid_sample.

interpolate and affine_grid are linear with fixed taps (or fixed base coordinates), so their gradients are
linear_ops of the op's own array code. grid_sample is bilinear-like in (input, weights(grid)): output p =
sum_t w_t(grid)[p] x[idx_t[p]], with fixed tap indices and weights that are polynomials in the fractional
positions. Its formula rebuilds the weights as Tensors of the grid (through sampling.py's own tap code) and
writes both gradients with differentiable ops, so every order in x, grid and the output gradient follows; this
matches PyTorch, whose grid_sample has double backward in both arguments (checked with its gradgradcheck).
"""
import numpy as np

from ..autograd.graph import linear_op, register
from ..nn.functional.resize import gather_axis
from ..nn.functional.sampling import sampling_coords, sampling_taps
from ..ops.shape import stack
from ..tensor import Tensor
from .pooling import flat_pair, twice


def first_order(ctx):
    """The node's own first-order array map, g -> the gradient of its one input (for linear ops)."""
    return lambda a: ctx.backward(a)[0]


# ---- interpolate: y = W_last (... (W_2 x)), one sparse W per axis ------------------------------------------------

def _interpolate(ctx, grad):
    taps = ctx.saved["taps"]

    def resample(b):
        for axis, (idx, w) in enumerate(taps, start=2):
            b = gather_axis(b, axis, idx, w)
        return b

    return (linear_op(twice(ctx.op), first_order(ctx), resample, grad),)


for _mode in ("Nearest", "NearestExact", "Linear", "Bilinear", "Bicubic", "Trilinear"):
    for _n in (1, 2, 3):
        for _aa in ("", "Aa"):
            register(f"Upsample{_mode}{_n}D{_aa}Backward0")(_interpolate)


# ---- affine_grid: grid[b, p] = theta[b] @ base[p] ------------------------------------------------------------------

@register("AffineGridGeneratorBackward")
def _affine_grid(ctx, grad):
    base, shape = ctx.saved["base"], tuple(grad.shape)

    def grid_of(b):  # (N, n, n + 1) -> (N, *spatial, n)
        return np.matmul(base[None], b.transpose(0, 2, 1)).reshape(shape)

    return (linear_op("AffineGridGeneratorBackwardBackward0", first_order(ctx), grid_of, grad),)


# ---- grid_sample ----------------------------------------------------------------------------------------------------

def _tap_gather(idx, N, C, S):
    """(gather, scatter) of one tap on (N, C, S) arrays: gather reads x[n, c, idx[n, p]] -> (N, C, P)."""
    flat = np.broadcast_to(idx[:, None, :], (N, C, idx.shape[1]))
    return flat_pair(flat, (S,))


@register("GridSampler2DBackward")
@register("GridSampler3DBackward")
def _grid_sample(ctx, grad):
    s = ctx.saved
    x_t, grid_t = ctx.inputs
    N, C, P, S, n, mode, gr = s["N"], s["C"], s["P"], s["S"], s["n"], s["mode"], s["gr"]
    padding_mode, align = s["sampling"]
    spatial, g2 = s["x"].shape[2:], gr.reshape(N, P, n)          # g2 (N, P, n): component 0 is x (last axis)
    coords, mults = sampling_coords(g2, spatial, mode, padding_mode, align, s["dt"])
    coords_t = None
    if mode != "nearest":  # coordinates as Tensors of the grid: the same values, slope d(coord)/d(grid) = mults
        gt = grid_t.reshape(N, P, n)
        coords_t = [gt[..., n - 1 - k] * mults[k] + (coords[k] - g2[..., n - 1 - k] * mults[k]) for k in range(n)]
    taps = sampling_taps(coords, spatial, mode, padding_mode, align, coords_t)
    gf = grad.reshape(N, C, P)
    need_x, need_grid = ctx.needs_input_grad
    gx = ggrid = None
    if need_x:  # dL/dx = sum_t scatter_t(g * w_t)
        for idx, w, _ in taps:
            gather, scatter = _tap_gather(idx, N, C, S)
            part = linear_op("GridSamplerScatter", scatter, gather, gf * _per_position(w, N, P))
            gx = part if gx is None else gx + part
        gx = gx.reshape(s["x"].shape)
    if need_grid:  # dL/dgrid_d = sum_t (sum_c g x[idx_t]) dw_t/dc_d * dc_d/dgrid_d
        if mode == "nearest":
            ggrid = Tensor._wrap(np.zeros(gr.shape, gr.dtype))
        else:
            xf = x_t.reshape(N, C, S)
            gcoord = [None] * n
            for idx, _, dw in taps:
                gather, scatter = _tap_gather(idx, N, C, S)
                dot = (gf * linear_op("GridSamplerGather", gather, scatter, xf)).sum(1)   # (N, P)
                for k in range(n):
                    term = dot * dw[k]
                    gcoord[k] = term if gcoord[k] is None else gcoord[k] + term
            ggrid = stack([gcoord[n - 1 - j] * mults[n - 1 - j] for j in range(n)], -1).reshape(gr.shape)
    return gx, ggrid


def _per_position(w, N, P):
    """A tap's weight (N, P) (a Tensor or an array) shaped to broadcast over the channels: (N, 1, P)."""
    return w.reshape(N, 1, P) if isinstance(w, Tensor) else Tensor._wrap(np.ascontiguousarray(w).reshape(N, 1, P))
