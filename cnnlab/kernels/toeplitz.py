"""Convolution as one matmul with a banded (Toeplitz) weight matrix over the last spatial dim, for 2-d layers with
few input channels on narrow feature maps (LeNet-5's conv1 and conv2).

The im2col column matrix of such a layer is C*KH*KW values per output position: 25-150 short rows copied in runs
one output row long, a copy that costs more than its matmul. Here only the KH rows each output row reads are
gathered, whole: (n, oh) x (kh, c, w) runs of the padded row length Wp, KW times fewer values. The kernel's
sliding along the width moves into the weight: T[(o, ow), (kh, c, w)] = w[o, c, kh, (w - ow*sw) / dw] where that
is a kernel tap, else 0 (a band of KW entries per row of Wp). The matmul then does Wp/KW times the multiply-adds
of direct convolution, but as one well-shaped GEMM on every BLAS thread:

    forward           Y (N*OH, O*OW) = R @ T^T,  R[(n, oh), (kh, c, w)] = xpad[n, c, oh*sh + kh*dh, w]
    backward_weight   dT = G^T @ R, G = g as (N*OH, O*OW); dw[o, c, kh, kw] = sum over ow of dT's band
    backward_input    dR = G @ T, added back into xpad one kernel row kh at a time (contiguous rows of Wp)

2-d, groups == 1, any stride, padding and dilation; it wins where T stays small (`_wins`). Where the band is
narrow against Wp (LeNet-5's conv1: 5 taps of 32 columns), the forward and the weight gradient cut the output
width into two blocks of columns, each reading only its own window of the row (`_blocks`): T shrinks to the
block's width and the matmul does about half the multiply-adds, on twice the rows. With several input channels
the rows can come from a channel-last copy of the input instead, a window being one run of (w, c) values, which
allows narrower blocks (`_nhwc_blocks`: LeNet-5's conv2).

>>> from cnnlab.kernels.geometry import ConvGeometry
>>> x, w = np.ones((2, 1, 3, 3)), np.ones((1, 1, 2, 2))
>>> geom = ConvGeometry.of(x.shape, w.shape, (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
>>> forward(x, w, geom)[0, 0].tolist()
[[4.0, 4.0], [4.0, 4.0]]
>>> backward_input(np.ones((2, 1, 2, 2)), w, geom)[0, 0].tolist()
[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
"""
import numpy as np

from . import registry, workspace
from .common import padded

MAX_ENTRIES = 2**17  # entries of the banded weight matrix (O*OW x C*KH*Wp) up to which 'toeplitz' wins


def supports(geom):
    """2-d convolutions with groups == 1."""
    return geom.n == 2 and geom.groups == 1


def matrix_entries(geom):
    """Entries of the banded weight matrix T: O*OW x C*KH*Wp."""
    return geom.out_channels * geom.out_size[1] * geom.in_channels * geom.kernel[0] * geom.pad_shape[1]


def _wins(op, geom, precise):
    if not registry.wide(geom) and supports(geom) and matrix_entries(geom) <= MAX_ENTRIES:
        return "few input channels on a narrow 2-d map: one matmul with a banded weight matrix over the width, " \
               "whose input rows are copied whole"


SPLIT_MAX_WORK = 0.6  # two column blocks where they leave at most this share of the band matrix's multiply-adds


def _blocks(geom):
    """(blocks, output columns per block, input columns per block) of the forward and the weight gradient: two
    blocks of OW/2 columns where OW is even and they leave at most SPLIT_MAX_WORK of the multiply-adds (each
    block reads (OW/2 - 1)*sw + (KW - 1)*dw + 1 of the Wp columns), else the whole row."""
    ow, kw, sw, dw, wp = geom.out_size[1], geom.kernel[1], geom.stride[1], geom.dilation[1], geom.pad_shape[1]
    half = ow // 2
    window = (half - 1) * sw + (kw - 1) * dw + 1
    if ow % 2 == 0 and half and 2 * half * window <= SPLIT_MAX_WORK * ow * wp:
        return 2, half, window
    return 1, ow, wp


NHWC_MAX_SHARE = 0.7  # channel-last blocks where they do at most this share of the (kh, c, w) blocks' multiply-adds
MIN_COLUMNS = 64      # channel-last blocks as narrow as keep O * width >= this many product columns


def _nhwc_blocks(geom):
    """(blocks, width, window) of channel-last rows for the forward and the weight gradient, or None. With
    several input channels, an (N, Hp, Wp, C) copy of the input makes a block's window one run of window*C
    values, so blocks can be narrower than `_blocks`' halves: the narrowest width dividing OW that keeps the
    product's O*width columns at MIN_COLUMNS or more. Taken where that cuts the multiply-adds (window/Wp of the
    band's) to at most NHWC_MAX_SHARE of `_blocks`' choice: the transposing copies of the input and of the
    narrower output blocks cost the rest (LeNet-5's conv2: blocks of 5 columns reading 9 of 14)."""
    ow, kw, sw, dw, wp = geom.out_size[1], geom.kernel[1], geom.stride[1], geom.dilation[1], geom.pad_shape[1]
    if geom.in_channels < 2:
        return None
    width = next(b for b in range(1, ow + 1) if ow % b == 0 and (geom.out_channels * b >= MIN_COLUMNS or b == ow))
    window = (width - 1) * sw + (kw - 1) * dw + 1
    if window <= NHWC_MAX_SHARE * _blocks(geom)[2]:
        return ow // width, width, window
    return None


def _band(t, kw, sw, dw):
    """The writeable view (O, BW, C, KH, KW) of T (O, BW, KH, C, Wb) at the kernel taps: T[o, j, kh, c, j*sw +
    kw*dw] (distinct entries for every index, so assigning through it is safe)."""
    s = t.strides
    return np.lib.stride_tricks.as_strided(t, shape=(t.shape[0], t.shape[1], t.shape[3], t.shape[2], kw),
                                           strides=(s[0], s[1] + sw * s[4], s[3], s[2], dw * s[4]))


def _matrix(w, out_w, wp, stride, dilation):
    """T (O, OW, KH, C, Wp): the columns in (kh, c, w) order, so the input gradient adds whole (c, w) rows.
    With column blocks, out_w and wp are one block's output and input widths."""
    t = np.zeros((w.shape[0], out_w, w.shape[2], w.shape[1], wp), w.dtype)
    _band(t, w.shape[3], stride[1], dilation[1])[...] = w[:, None]
    return t


def _rows(xp, kh, out_h, sh, dh, blocks=1, step=0, window=None):
    """R (N*OH*blocks, KH*C*window): the input rows each output row reads (block b: the window of columns from
    b*step), one contiguous copy (a reused buffer)."""
    n, c, _, wp = xp.shape
    s = xp.strides
    view = np.lib.stride_tricks.as_strided(xp, shape=(n, out_h, blocks, kh, c, window or wp),
                                           strides=(s[0], sh * s[2], step * s[3], dh * s[2], s[1], s[3]),
                                           writeable=False)
    r = workspace.empty("toeplitz.rows", view.shape, xp.dtype)
    np.copyto(r, view)
    return r.reshape(n * out_h * blocks, -1)


def _grad_rows(g, blocks=1):
    """g (N, O, OH, OW) as G (N*OH*blocks, O*OW/blocks)."""
    n, o, oh, ow = g.shape
    g5 = g.reshape(n, o, oh, blocks, ow // blocks).transpose(0, 2, 3, 1, 4)  # (N, OH, blocks, O, OW/blocks)
    return np.ascontiguousarray(g5).reshape(n * oh * blocks, o * ow // blocks)


def _band_nhwc(t, kw, sw, dw):
    """The writeable view (O, BW, KH, KW, C) of a channel-last block's T (O, BW, KH, Wb, C) at the kernel taps:
    T[o, j, kh, j*sw + kw*dw, c] (distinct entries, so assigning through it is safe)."""
    s = t.strides
    return np.lib.stride_tricks.as_strided(t, shape=t.shape[:3] + (kw, t.shape[4]),
                                           strides=(s[0], s[1] + sw * s[3], s[2], dw * s[3], s[4]))


def _matrix_nhwc(w, width, window, stride, dilation):
    """A channel-last block's T (O*width, KH*window*C), its columns in the rows' (kh, w, c) order."""
    o, c, kh, kw = w.shape
    t = np.zeros((o, width, kh, window, c), w.dtype)
    _band_nhwc(t, kw, stride[1], dilation[1])[...] = w.transpose(0, 2, 3, 1)[:, None]   # (O, 1, KH, KW, C)
    return t.reshape(o * width, -1)


def _rows_nhwc(x, geom, blocks, width, window):
    """R (N*OH*blocks, KH*window*C): block b's window of columns from b*width*sw in (kh, w, c) order, copied from
    a zero-padded (N, Hp, Wp, C) copy of x in runs of window*C values (both reused buffers)."""
    n, c, h, w = x.shape
    (p0, p1), (q0, q1) = geom.pads
    xh = workspace.empty("toeplitz.nhwc", (n, h + p0 + p1, w + q0 + q1, c), x.dtype)
    if p0 or p1 or q0 or q1:
        xh[:, :p0], xh[:, p0 + h:], xh[:, p0:p0 + h, :q0], xh[:, p0:p0 + h, q0 + w:] = 0, 0, 0, 0
    np.copyto(xh[:, p0:p0 + h, q0:q0 + w], x.transpose(0, 2, 3, 1))
    (sh, sw), dh, kh, oh = geom.stride, geom.dilation[0], geom.kernel[0], geom.out_size[0]
    s = xh.strides
    view = np.lib.stride_tricks.as_strided(xh, shape=(n, oh, blocks, kh, window * c),
                                           strides=(s[0], sh * s[1], width * sw * s[2], dh * s[1], s[3]),
                                           writeable=False)
    r = workspace.empty("toeplitz.rows", view.shape, x.dtype)
    np.copyto(r, view)
    return r.reshape(n * oh * blocks, -1)


def _forward_rows(x, w, geom):
    """(R, T, blocks, width, window, nhwc) of the forward and the weight gradient: channel-last blocks where
    `_nhwc_blocks` takes them, else `_blocks`' (kh, c, w) rows."""
    nhwc = _nhwc_blocks(geom)
    if nhwc:
        blocks, width, window = nhwc
        r = _rows_nhwc(x, geom, blocks, width, window)
        t = None if w is None else _matrix_nhwc(w, width, window, geom.stride, geom.dilation)
        return r, t, blocks, width, window, True
    blocks, width, window = _blocks(geom)
    xp = padded(x, geom.pads)
    r = _rows(xp, geom.kernel[0], geom.out_size[0], geom.stride[0], geom.dilation[0], blocks, width * geom.stride[1],
              window)
    t = None if w is None else _matrix(w, width, window, geom.stride, geom.dilation).reshape(w.shape[0] * width, -1)
    return r, t, blocks, width, window, False


def forward(x, w, geom):
    """conv_forward (2-d, groups == 1) through the banded weight matrix of a block of output columns."""
    n, o, (oh, ow) = x.shape[0], w.shape[0], geom.out_size
    if n == 0 or oh == 0 or ow == 0:
        return np.zeros((n, o, oh, ow), x.dtype)
    r, t, blocks, bw, _, _ = _forward_rows(x, w.astype(x.dtype, copy=False), geom)
    y = (r @ t.T).reshape(n, oh, blocks, o, bw)                                  # (N*OH*blocks, O*BW)
    out = np.empty((n, o, oh, ow), y.dtype)
    np.copyto(out.reshape(n, o, oh, blocks, bw), y.transpose(0, 3, 1, 2, 4))
    return out


def backward_weight(x, g, geom):
    """conv_backward_weight (2-d, groups == 1): dT = G^T @ R, then each tap's band summed over a block's columns."""
    w_shape, stride, dilation = geom.w_shape, geom.stride, geom.dilation
    n, (oh, ow) = x.shape[0], g.shape[2:]
    if n == 0 or oh == 0 or ow == 0:
        return np.zeros(w_shape, x.dtype)
    (o, c, kh, kw) = w_shape
    r, _, blocks, bw, window, nhwc = _forward_rows(x, None, geom)
    dt = _grad_rows(g, blocks).T @ r                                            # (O*BW, KH*C*window)
    if nhwc:                                                                    # (KH*window*C): (O, KH, KW, C)
        dw = _band_nhwc(dt.reshape(o, bw, kh, window, c), kw, stride[1], dilation[1]).sum(axis=1)
        return np.ascontiguousarray(dw.transpose(0, 3, 1, 2))
    return _band(dt.reshape(o, bw, kh, c, window), kw, stride[1], dilation[1]).sum(axis=1)


def backward_input(g, w, geom):
    """conv_backward_input (2-d, groups == 1): dR = G @ T, added into the padded input one kernel row at a time,
    in an (N, H, C, W) layout where each add moves whole (c, w) rows; one transposing copy out."""
    x_shape, stride, dilation = geom.x_shape, geom.stride, geom.dilation
    n, c, kh = x_shape[0], x_shape[1], w.shape[2]
    (ph0, ph1), (pw0, pw1) = geom.pads
    hp, wp = x_shape[2] + ph0 + ph1, x_shape[3] + pw0 + pw1
    oh, ow = g.shape[2:]
    dxp = np.zeros((n, hp, c, wp), g.dtype)
    if n and oh and ow:
        t = _matrix(w.astype(g.dtype, copy=False), ow, wp, stride, dilation).reshape(w.shape[0] * ow, -1)
        dr = (_grad_rows(g) @ t).reshape(n, oh, kh, c, wp)
        sh, dh = stride[0], dilation[0]
        for k in range(kh):
            dxp[:, k * dh:k * dh + (oh - 1) * sh + 1:sh] += dr[:, :, k]
    return np.ascontiguousarray(dxp[:, ph0:ph0 + x_shape[2], :, pw0:pw0 + x_shape[3]].transpose(0, 2, 1, 3))


# one thread (BLAS held there, as for the other algorithms): its matmuls of 50-90 MFLOP gained nothing on BLAS's own
# threads back to back, and cost a wake-up after any pause and their spinning on a loaded machine (NOTES.md)
ALGORITHMS = (registry.Algorithm("toeplitz", supports, forward, backward_input, backward_weight,
                                 rules=((30, _wins),)),)
