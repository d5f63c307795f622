"""Depthwise 2-d convolution (groups == in_channels) as banded matmuls, one band matrix per channel.

A depthwise conv has one k x k filter per channel (times a channel multiplier m = out/in), so there is no
channel sum for a matmul to use; elementwise NumPy would need 2*k*k passes over the output. Instead each
filter becomes a banded matrix T (L*Bw, B) that maps a window of L input rows x Bw columns to B outputs of one
output row ("Toeplitz" form), and BLAS does the multiply-adds:

    y[row i, columns jb*B : jb*B + B] = window(i, jb) @ T           window: L*Bw values, L = R*stride rows

The input is laid out per channel as (W-block jb, stacked rows of all images, Bw): each image padded to
`period` rows (a multiple of the stride), so output rows i = R*q + r of one residue class r read windows that
lie back to back in memory, and the windows of a class form a plain strided matrix A_r (Q, L*Bw) that BLAS
reads in place (no im2col). The band wastes K/(k*k) of the multiply-adds (about 3x for 7x7 with B = 16), at
BLAS speed. Output rows past an image's end (and columns past the last) are computed and dropped.
A forward whose W-blocks tile the output columns (one output per channel, enough rows per image) has its
matmuls write into the output in place instead (`_forward_direct`: no copy out, no dropped rows).

    forward          Y_r = A_r @ T                     (one batched matmul per residue class r)
    backward_input   dA_r = dY_r @ T^T added into the window rows (classes overlap), then the W-blocks'
                     overlapping columns added into dx
    backward_weight  dT = sum_r A_r^T @ dY_r, and dw[kh, kw] = the sum of dT along the band diagonal of that tap

Blocks of channels (copy in, matmuls, copy out) run on parallel threads (kernels/parallel.py). A narrow map's
forward (ConvNeXt's and MobileNet's 14x14 and 7x7) takes kernels/depthwise_rows.py instead: one matmul per channel
over whole rows, no W-blocks and no residue classes.
"""
import numpy as np

from . import depthwise_rows, nonfinite, parallel, registry
from .common import input_gradient_geometry

BLOCK_W = 16          # output columns per band matrix: fewer waste fewer multiply-adds, but make smaller matmuls
BLOCK_BYTES = 2**20   # a block of channels holds about this many bytes of laid-out input
DIRECT_MIN_ROWS = 16  # in-place forward from this many output rows per image and class (fewer: tiny matmuls; one
                      # image makes no more matmuls than the copying path, so always in place)


def supports(geom):
    """Whether this algorithm applies: 2-d with one input channel per group (depthwise, any multiplier)."""
    return geom.n == 2 and geom.groups > 1 and geom.groups == geom.in_channels


class _Bands:
    """Index arithmetic of one call (see the module docstring for the names)."""

    def __init__(self, geom, direct=False):
        self.n, self.c, self.h, self.w = geom.x_shape
        self.m, (self.kh, self.kw) = geom.out_channels // self.c, geom.kernel
        (self.sh, self.sw), (self.dh, self.dw) = geom.stride, geom.dilation
        (self.top, _), (self.left, _) = geom.pads
        self.oh, self.ow = geom.out_size
        span_h, span_w = (self.kh - 1) * self.dh + 1, (self.kw - 1) * self.dw + 1
        self.r = -(-span_h // self.sh)                           # residue classes of output rows
        self.l = self.r * self.sh                                # input rows per window
        self.b = min(BLOCK_W, self.ow)
        # direct: the matmuls write into the output itself (no copy out); needs W-blocks that tile the output
        # columns exactly, one output per channel, and images stacked L rows apart (each class starts alike)
        divisor = max(b for b in range(1, self.b + 1) if self.ow % b == 0)
        self.direct = direct and self.m == 1 and 2 * divisor > self.b and (self.n == 1 or self.oh >= DIRECT_MIN_ROWS * self.r)
        if self.direct:
            self.b = divisor
        period = max(self.top + self.h, (self.oh - 1) * self.sh + span_h)
        step = self.l if self.direct else self.sh
        self.period = -(-period // step) * step                  # input rows per image (stacked)
        self.ohp = self.period // self.sh                        # output rows per image (stacked)
        self.nb = -(-self.ow // self.b)
        self.bw = (self.b - 1) * self.sw + span_w                # input columns per W-block
        self.q = -(-self.n * self.ohp // self.r)                 # windows per residue class
        self.rows = self.q * self.l + (self.r - 1) * self.sh     # laid-out input rows
        self.k = self.l * self.bw
        self.kr = span_h * self.bw                               # what a filter reads of a window (< k at stride > 1)
        kh, kw, jo = np.meshgrid(np.arange(self.kh), np.arange(self.kw), np.arange(self.b), indexing="ij")
        self.band = (kh * self.dh * self.bw + jo * self.sw + kw * self.dw, jo)   # T[c, band rows, j, band cols]
        per_channel = self.nb * self.rows * self.bw * 8
        self.cc = int(max(1, min(self.c, BLOCK_BYTES // per_channel)))
        self.blocks = [(c0, min(self.cc, self.c - c0)) for c0 in range(0, self.c, self.cc)]

    def bands(self, w):
        """T (C, L*Bw, m*B): the band matrices of the filters w (C*m, 1, kh, kw)."""
        t = np.zeros((self.c, self.k, self.m, self.b), dtype=w.dtype)
        taps = w.reshape(self.c, self.m, self.kh, self.kw).transpose(2, 3, 0, 1)   # (kh, kw, C, m)
        t[:, self.band[0], :, self.band[1]] = taps[:, :, None]
        return t.reshape(self.c, self.k, self.m * self.b)

    def taps(self, dt):
        """The adjoint of bands(): dw (C*m, 1, kh, kw) from dT (C, L*Bw, m*B)."""
        d = dt.reshape(self.c, self.k, self.m, self.b)[:, self.band[0], :, self.band[1]]  # (kh, kw, B, C, m)
        return np.ascontiguousarray(d.sum(axis=2).transpose(2, 3, 0, 1)).reshape(self.c * self.m, 1, self.kh,
                                                                                  self.kw)

    def columns(self, jb):
        """(x columns j0:j1, their columns in W-block jb's window); both empty where the block's window lies
        wholly in the padding (padding wider than the kernel's span)."""
        lo = jb * self.b * self.sw - self.left
        j0 = min(max(0, lo), self.w)
        j1 = max(j0, min(self.w, lo + self.bw))
        return slice(j0, j1), slice(j0 - lo, j1 - lo)

    def window_rows(self, buf):
        """buf (cc, nb, rows, Bw) -> its image rows (cc, nb, N, H, Bw) as a view."""
        v = buf[:, :, :self.n * self.period].reshape(buf.shape[:2] + (self.n, self.period, self.bw))
        return v[:, :, :, self.top:self.top + self.h]

    def windows(self, buf, r):
        """A_r (cc, nb, Q, L*Bw): the windows of residue class r, a view of buf (cc, nb, rows, Bw)."""
        flat = buf.reshape(buf.shape[:2] + (-1,))
        start = r * self.sh * self.bw
        return flat[:, :, start:start + self.q * self.k].reshape(buf.shape[:2] + (self.q, self.k))

    def outputs(self, buf, jb):
        """buf (cc, nb, R*Q, m*B) -> the real outputs of W-block jb, (cc, N, m, OH, B') as a view."""
        cnt = min(self.b, self.ow - jb * self.b)
        v = buf[:, jb, :self.n * self.ohp].reshape(buf.shape[0], self.n, self.ohp, self.m, self.b)
        return v[:, :, :self.oh, :, :cnt].transpose(0, 1, 3, 2, 4)

    def out_columns(self, jb):
        return slice(jb * self.b, min(self.ow, (jb + 1) * self.b))


def _scratch(geo, width, dtype, zero):
    make = np.zeros if zero else np.empty
    return [(np.zeros((geo.cc, geo.nb, geo.rows, geo.bw), dtype=dtype),
             make((geo.cc, geo.nb, geo.r * geo.q, width), dtype=dtype)) for _ in range(parallel.num_threads())]


def _load(geo, x, c0, cc, buf):
    """buf[:cc] = channels c0..c0+cc of x laid out as (cc, nb, rows, Bw); the zero padding is never written."""
    rows = geo.window_rows(buf[:cc])
    for jb in range(geo.nb):
        src, dst = geo.columns(jb)
        rows[:, jb, :, :, dst] = x[:, c0:c0 + cc, :, src].swapaxes(0, 1)


def forward(x, w, geom, seen=None):
    """conv_forward for depthwise 2-d convolutions (any stride, dilation, padding, multiplier). seen: a list that
    gets, per block, whether its outputs are all finite (checked while in cache; kernels/conv.py)."""
    if depthwise_rows.applies(geom):
        return depthwise_rows.forward(x, w, geom, seen)
    geo = _Bands(geom, direct=True)
    out = np.empty((geo.n, w.shape[0]) + geom.out_size, dtype=x.dtype)
    if geo.n == 0:
        return out
    t = geo.bands(w)
    if geo.direct:
        return _forward_direct(geo, x, t, out, seen)
    scratch = _scratch(geo, geo.m * geo.b, x.dtype, zero=False)

    def work(slot, block):
        c0, cc = block
        xb, yb = (a[:cc] for a in scratch[slot])
        _load(geo, x, c0, cc, xb)
        for r in range(geo.r):
            np.matmul(geo.windows(xb, r)[..., :geo.kr], t[c0:c0 + cc, None, :geo.kr], out=yb[:, :, r::geo.r])
        if seen is not None:
            seen.append(nonfinite.finite(yb))
        for jb in range(geo.nb):
            dst = out[:, c0 * geo.m:(c0 + cc) * geo.m, :, geo.out_columns(jb)]
            dst.reshape(geo.n, cc, geo.m, geo.oh, -1)[...] = geo.outputs(yb, jb).swapaxes(0, 1)

    parallel.run(work, geo.blocks)
    return out


def _forward_direct(geo, x, t, out, seen):
    """forward() where geo.direct: class r's matmul writes output rows r, r+R, ... of every image in place."""
    scratch = [np.zeros((geo.cc, geo.nb, geo.rows, geo.bw), dtype=x.dtype) for _ in range(parallel.num_threads())]
    per_image = geo.ohp // geo.r

    def work(slot, block):
        c0, cc = block
        xb = scratch[slot][:cc]
        _load(geo, x, c0, cc, xb)
        dst = out[:, c0:c0 + cc]
        for r in range(min(geo.r, geo.oh)):
            y = dst[:, :, r::geo.r]                                           # (N, cc, qn, OW)
            qn = y.shape[2]
            y = y.reshape(y.shape[:3] + (geo.nb, geo.b)).transpose(1, 3, 0, 2, 4)  # (cc, nb, N, qn, B)
            a = geo.windows(xb, r).reshape(cc, geo.nb, geo.n, per_image, geo.k)[:, :, :, :qn, :geo.kr]
            np.matmul(a, t[c0:c0 + cc, None, None, :geo.kr], out=y)
        if seen is not None:
            seen.extend(nonfinite.finite(image) for image in dst)

    parallel.run(work, geo.blocks)
    return out


def _load_grad(geo, g, c0, cc, buf):
    """buf[:cc] (cc, nb, R*Q, m*B) = g's channels for input channels c0..c0+cc; other entries stay 0."""
    for jb in range(geo.nb):
        src = g[:, c0 * geo.m:(c0 + cc) * geo.m, :, geo.out_columns(jb)]
        geo.outputs(buf[:cc], jb)[...] = src.reshape(geo.n, cc, geo.m, geo.oh, -1).swapaxes(0, 1)


def backward_input(g, w, geom, seen=None):
    """conv_backward_input for depthwise 2-d convolutions. At stride 1 without a multiplier it is the forward of
    g with the flipped filters (kernels/common.py); otherwise dA_r = dY_r @ T^T is added into the windows."""
    if geom.stride == (1, 1) and geom.out_channels == geom.in_channels:
        adjoint, crops = input_gradient_geometry(geom)
        return forward(g[(slice(None), slice(None)) + crops], w[:, :, ::-1, ::-1], adjoint, seen=seen)
    geo = _Bands(geom)
    dx = np.empty(geom.x_shape, dtype=g.dtype)
    if geo.n == 0:
        return dx
    tt = np.ascontiguousarray(geo.bands(w).swapaxes(1, 2))            # (C, m*B, L*Bw)
    scratch = _scratch(geo, geo.m * geo.b, g.dtype, zero=True)

    def work(slot, block):
        c0, cc = block
        xb, yb = (a[:cc] for a in scratch[slot])
        _load_grad(geo, g, c0, cc, yb)
        xb[...] = 0
        for r in range(geo.r):
            geo.windows(xb, r)[..., :geo.kr] += np.matmul(yb[:, :, r::geo.r], tt[c0:c0 + cc, None, :, :geo.kr])
        if seen is not None:
            seen.append(nonfinite.finite(xb))
        rows = geo.window_rows(xb)                                    # (cc, nb, N, H, Bw)
        dst = dx[:, c0:c0 + cc]
        dst[...] = 0
        for jb in range(geo.nb):
            src, cols = geo.columns(jb)
            dst[:, :, :, src] += rows[:, jb, :, :, cols].swapaxes(0, 1)

    parallel.run(work, geo.blocks)
    return dx


def backward_weight(x, g, geom):
    """conv_backward_weight for depthwise 2-d convolutions: dT = sum_r A_r^T @ dY_r, read along the band."""
    geo = _Bands(geom)
    if geo.n == 0:
        return np.zeros(geom.w_shape, dtype=x.dtype)
    dt = np.zeros((geo.c, geo.k, geo.m * geo.b), dtype=x.dtype)
    scratch = _scratch(geo, geo.m * geo.b, x.dtype, zero=True)

    def work(slot, block):
        c0, cc = block
        xb, yb = (a[:cc] for a in scratch[slot])
        _load(geo, x, c0, cc, xb)
        _load_grad(geo, g, c0, cc, yb)
        for r in range(geo.r):
            a = geo.windows(xb, r)[..., :geo.kr].swapaxes(2, 3)                  # (cc, nb, KR, Q)
            dt[c0:c0 + cc, :geo.kr] += np.matmul(a, yb[:, :, r::geo.r]).sum(axis=1)

    parallel.run(work, geo.blocks)
    return geo.taps(dt)


def _wins(op, geom, precise):
    if supports(geom):
        return "a 2-d depthwise convolution: banded matmuls, one per channel (its GEMM lowering is a " \
               "matrix-vector product per channel)"


ALGORITHMS = (registry.Algorithm("depthwise", supports, forward, backward_input, backward_weight,
                                 rules=((10, _wins),), watched=True),)
