"""ConvNeXt's block after its depthwise convolution, for inference, as one pass over tiles of pixels.

The block computes, per pixel (a column of C channel values of the NCHW depthwise output y),
    out = x + gamma * (W2 gelu(W1 layer_norm(y) + b1) + b2)
(layer_norm over the C channels with its weight and bias). The layer-by-layer path permutes to channels-last,
copies, and runs each step over the whole activation, whose 4C-wide hidden layer does not fit in cache. Here a
tile of columns goes through every step while it is in cache, in the NCHW layout itself (W1 @ columns is the
same product as rows @ W1^T), and the tiles run on the kernel threads (kernels/parallel.py). The layers'
operations (nothing is folded into the weights): results differ from theirs only by the order of summation.
float32 or float64. Where numba is installed (kernels/compiled.py), the layer norm and the float32 GELU of a tile
run as compiled loops (kernels/jit/norm.py, jit/activation.py: the same formulas, a few passes instead of ~25).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> C = 4
>>> y, x = rng.standard_normal((2, 2, C, 3, 3), dtype=np.float32)
>>> w1, w2 = rng.standard_normal((4 * C, C), dtype=np.float32), rng.standard_normal((C, 4 * C), dtype=np.float32)
>>> ones, zeros = np.ones(C, np.float32), np.zeros(C, np.float32)
>>> convnext_mlp(y, x, ones, zeros, 1e-6, w1, np.zeros(4 * C, np.float32), w2, zeros, ones).shape
(2, 4, 3, 3)
"""
import math

import numpy as np

from ...kernels import blas, compiled, parallel
from ...ops.special import erfc_array
from . import _activation_f32 as _f32

__all__ = ["convnext_mlp", "channel_layer_norm"]

_TILE_ELEMENTS = 1 << 19   # hidden-layer values (rows x columns) per tile at most (measured: 2^17 slower, 2^20 same)
_MIN_COLUMNS = 128         # narrower products ran measurably slower per multiply-add (the weights' packing)


def _tiles(columns, hidden, k):
    """Work items (first column, last column, first hidden row, last hidden row) over the N*H*W pixel columns
    of all images (a tile may span two images). Column tiles of at most _TILE_ELEMENTS hidden values, a
    multiple of k in number where they stay _MIN_COLUMNS wide; where they would be narrower (the late stages'
    few pixels), each of k parts of the hidden rows takes all columns, in tiles as wide as its rows allow, and
    the second product is summed over the parts afterwards. Items are ordered part by part (one thread's run of
    items then reads one part of the weights)."""
    per = max(k, -(-columns * hidden // _TILE_ELEMENTS))              # column tiles
    while per % k and columns // (per + 1) >= _MIN_COLUMNS:
        per += 1
    parts = 1
    if columns // per < _MIN_COLUMNS or per % k:                     # too narrow, or unequal shares
        parts = max(k, 2) if per > 1 else 1
        per = max(1, -(-columns * (hidden // parts) // _TILE_ELEMENTS))
    return [(columns * i // per, columns * (i + 1) // per, hidden * j // parts, hidden * (j + 1) // parts)
            for j in range(parts) for i in range(per)]


def _segments(c0, c1, P):
    """(image, first pixel, last pixel, offset in the tile) of the flat columns [c0, c1), P pixels an image."""
    return [(n, max(c0, n * P) - n * P, min(c1, n * P + P) - n * P, max(c0, n * P) - c0)
            for n in range(c0 // P, -(-c1 // P))]


def _gelu(h, pads):
    """h = gelu(h) in place (exact GELU, as F.gelu): float32 in one compiled loop where numba is installed
    (kernels/compiled.py; the same formula), else in NumPy passes."""
    flat = h.reshape(-1)
    fast = compiled.kernels("activation") if h.dtype == np.float32 and compiled.available() else None
    if fast is not None:
        fast.gelu(flat, flat)
    elif h.dtype == np.float32:
        for i in range(0, flat.size, pads[0].size):
            b = flat[i:i + pads[0].size]
            _f32.gelu_block(b, b, *(p[:b.size] for p in pads))
    else:
        flat *= 0.5 * erfc_array(flat * -math.sqrt(0.5))


def convnext_mlp(y, x, ln_weight, ln_bias, eps, w1, b1, w2, b2, gamma):
    """x + gamma * linear2(gelu(linear1(layer_norm(y)))) with the norm and both linears over the channel dim of
    the (N, C, H, W) arrays y (the depthwise output) and x (the block input); returns a new (N, C, H, W) array.

    Args:
        y, x (ndarray): (N, C, H, W), one float dtype.
        ln_weight, ln_bias (ndarray or None): (C,), the layer norm's affine map; eps (float).
        w1 (ndarray): (4C, C) and b1 (4C,) or None; w2 (C, 4C) and b2 (C,) or None: the two Linear layers.
        gamma (ndarray): C values, the layer scale.
    """
    N, C, H, W = y.shape
    P, hidden, dtype = H * W, w1.shape[0], y.dtype
    y2, x2 = y.reshape(N, C, P), x.reshape(N, C, P)                   # (N, C, H*W): columns are pixels
    out = np.empty((N, C, P), dtype)
    k = parallel.num_threads()
    tiles = _tiles(N * P, hidden, k)
    parts = sorted({(r0, r1) for _, _, r0, r1 in tiles})
    widest, rows = max(t[1] - t[0] for t in tiles), max(r1 - r0 for r0, r1 in parts)
    col = (slice(None), None)                                         # a (C,) vector as a column
    lnw = None if ln_weight is None else ln_weight.reshape(-1)[col]
    lnb = None if ln_bias is None else ln_bias.reshape(-1)[col]
    b1c = np.zeros((hidden, 1), dtype) if b1 is None else b1.reshape(-1)[col]
    b2c = np.zeros((C, 1), dtype) if b2 is None else b2.reshape(-1)[col]
    gam = gamma.reshape(-1)[col]
    norm = compiled.kernels("norm") if compiled.available() and y2.flags.c_contiguous else None
    lnw1 = lnb1 = None
    if norm is not None:                                              # (C,) vectors, ones and zeros for None
        lnw1 = np.ones(C, dtype) if ln_weight is None else np.ascontiguousarray(ln_weight.reshape(-1), dtype)
        lnb1 = np.zeros(C, dtype) if ln_bias is None else np.ascontiguousarray(ln_bias.reshape(-1), dtype)
    scratch = [(np.empty(C * widest, dtype), np.empty((rows + 1) * widest, dtype), np.empty(C * widest, dtype),
                _f32.scratch(rows * widest) if dtype == np.float32 else None) for _ in range(min(k, len(tiles)))]
    partial = [np.empty((C, N * P), dtype) for _ in parts] if len(parts) > 1 else None   # (C, N*H*W) each

    def work(slot, tile):
        c0, c1, r0, r1 = tile
        w = c1 - c0
        xs, hs, zs, pads = scratch[slot]
        xh, h = xs[:C * w].reshape(C, w), hs[:(r1 - r0) * w].reshape(r1 - r0, w)
        z = partial[parts.index((r0, r1))][:, c0:c1] if partial else zs[:C * w].reshape(C, w)
        segments = _segments(c0, c1, P)
        if norm is not None:                                          # compiled (numba): one call a segment
            for n, a, b, o in segments:
                norm.layer_norm_columns(y2, n, a, b, xh, o, lnw1, lnb1, eps, hs[-widest:], zs)
        else:
            for n, a, b, o in segments:                               # layer norm over the C channels
                yt, xt, vt = y2[n, :, a:b], xh[:, o:o + b - a], hs[-widest:][o:o + b - a]
                np.add.reduce(yt, axis=0, out=vt)
                vt *= 1.0 / C                                         # the mean of each column
                np.subtract(yt, vt, out=xt)                           # (C, b - a): y - mean
            np.multiply(xh, xh, out=z)
            _scale_centred(xh, z.sum(axis=0), eps, lnw, lnb)
        h[...] = b1c[r0:r1]
        blas.gemm(w1[r0:r1], xh, h, beta=1.0)                         # (rows, w) = W1 rows @ xhat (C, w) + b1
        _gelu(h, pads)
        z[...] = b2c if r0 == 0 else 0
        blas.gemm(w2[:, r0:r1], h, z, beta=1.0)                       # (C, w) = W2 columns @ h + b2
        if not partial:
            z *= gam
            for n, a, b, o in segments:
                np.add(x2[n, :, a:b], z[:, o:o + b - a], out=out[n, :, a:b])

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        parallel.run(work, tiles)
        if partial:                                                   # the parts' sums of the second product
            z = parallel.add_up(partial)
            z *= gam
            np.add(x2, z.reshape(C, N, P).transpose(1, 0, 2), out=out)
    return out.reshape(N, C, H, W)


def channel_layer_norm(y, weight, bias, eps):
    """Layer norm over the C channels of each pixel of an (N, C, H, W) array, in that layout (ConvNeXt's
    LayerNorm2d without its two permutes); weight and bias (C,) or None. Returns a new array.

    >>> import numpy as np
    >>> channel_layer_norm(np.array([[[[1.0]], [[3.0]]]]), None, None, 0.0).ravel().tolist()
    [-1.0, 1.0]
    """
    N, C = y.shape[:2]
    y3 = y.reshape(N, C, -1)                                          # (N, C, H*W)
    out = np.empty(y3.shape, y.dtype)
    col = (slice(None), None)                                         # a (C,) vector as a column
    w = None if weight is None else weight.reshape(-1)[col]
    b = None if bias is None else bias.reshape(-1)[col]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for n in range(N):
            o = out[n]
            mean = np.add.reduce(y3[n], axis=0)
            mean *= 1.0 / C
            np.subtract(y3[n], mean, out=o)
            _scale_centred(o, np.einsum("cp,cp->p", o, o), eps, w, b)
    return out.reshape(y.shape)


def _scale_centred(xc, square_sums, eps, weight, bias):
    """The rest of a layer norm over the C rows of xc (C, w), columns already centred, in place:
    xc / sqrt(biased var + eps) * weight + bias. square_sums (w,): the column sums of xc^2 (overwritten);
    weight and bias are (C, 1) columns or None."""
    var = square_sums
    var *= 1.0 / xc.shape[0]
    var += eps
    np.sqrt(var, out=var)
    np.reciprocal(var, out=var)                                       # 1 / sqrt(biased var + eps)
    xc *= var
    if weight is not None:
        xc *= weight
    if bias is not None:
        xc += bias
