"""Depthwise 2-d forward on narrow maps: one matmul per channel over whole rows (the 'depthwise' algorithm's path
for maps at most `MAX_WIDTH` columns wide, kernels/depthwise.py).

On a narrow map the W-blocks of kernels/depthwise.py shrink to one block padded by the kernel's span, and its
residue classes leave one or two windows per class: thousands of tiny matmuls. Here each output row i of a
channel is the product of the kh input rows it reads, laid side by side (an im2row over H only), with a band
matrix spanning the whole width whose out-of-range taps are simply absent (the left and right padding costs
nothing):

    A[c, (n, i), (kh, v)] = x[n, c, i*sh + kh*dh - top, v]        (zero outside the image)    (C, N*OH, KH*W)
    T[c, (kh, v), j]      = w[c, kh, kw]  where v = j*sw + kw*dw - left                      (C, KH*W, OW)
    y[n, c, i, j]         = (A[c] @ T[c])[(n, i), j]

One batched matmul per block of channels (a BLAS call per channel, the images stacked in its rows), copied into
the output. The band computes W/kw-fold the multiply-adds of the convolution (zeros of T), so this wins on narrow
maps only.

>>> from cnnlab.kernels.geometry import ConvGeometry
>>> geom = ConvGeometry.of((1, 2, 3, 3), (2, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 2)
>>> applies(geom)
True
>>> forward(np.ones((1, 2, 3, 3)), np.ones((2, 1, 3, 3)), geom)[0, 1].tolist()
[[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]
"""
import numpy as np

from . import nonfinite, parallel

MAX_WIDTH = 16          # input columns up to which whole-row bands beat kernels/depthwise.py's W-blocks
SPANS = 4               # with several images, only up to this many kernel spans wide (its rows are KH copies of
                        # the input, the W-blocks' layout one: a 14-wide 3x3 at batch 8 measured slower)
BLOCK_BYTES = 2**19     # a block of channels holds about this many bytes of rows (A)
CHANNEL_BYTES = 2**22   # at most this many bytes of rows per channel (a tall narrow map: KH copies of a long input)


def applies(geom):
    """Whether this path computes geom's forward: one output channel per input channel, a narrow map."""
    width, span = geom.in_size[1], (geom.kernel[1] - 1) * geom.dilation[1] + 1
    rows = geom.batch * geom.out_size[0] * geom.kernel[0] * width * 8
    return geom.out_channels == geom.in_channels and width <= MAX_WIDTH and rows <= CHANNEL_BYTES and \
        (geom.batch == 1 or width <= SPANS * span)


class _Rows:
    """Index arithmetic of one call (names as in the module docstring)."""

    def __init__(self, geom):
        self.n, self.c, self.h, self.w = geom.x_shape
        self.kh, self.kw = geom.kernel
        (self.sh, self.sw), (self.dh, self.dw) = geom.stride, geom.dilation
        (self.top, _), (self.left, _) = geom.pads
        self.oh, self.ow = geom.out_size
        self.rows = max(self.top + self.h, (self.oh - 1) * self.sh + (self.kh - 1) * self.dh + 1)  # padded H
        j, kw = np.meshgrid(np.arange(self.ow), np.arange(self.kw), indexing="ij")
        v = j * self.sw + kw * self.dw - self.left
        keep = (v >= 0) & (v < self.w)
        self.select = (kw[keep], v[keep], j[keep])                      # T[c, kh, v, j] = w[c, kh, kw]
        per_channel = self.n * self.oh * (self.kh * self.w + self.ow) * 8
        self.cc = int(max(1, min(self.c, BLOCK_BYTES // per_channel, -(-self.c // parallel.num_threads()))))
        self.blocks = [(c0, min(self.cc, self.c - c0)) for c0 in range(0, self.c, self.cc)]

    def bands(self, w):
        """T (cc, KH*W, OW) of the filters w (cc, 1, kh, kw): (cc*KH, KW) @ S (KW, W*OW), S one-hot, one matmul (a
        non-finite w spreads NaN over its row of T, which the finiteness check then sends to kernels/nonfinite.py)."""
        s = np.zeros((self.kw, self.w, self.ow), dtype=w.dtype)
        s[self.select] = 1
        t = np.matmul(w.reshape(-1, self.kw), s.reshape(self.kw, -1))                # (cc*KH, W*OW)
        return t.reshape(w.shape[0], self.kh * self.w, self.ow)

    def load(self, x, c0, cc, xp, a):
        """a (cc, N, OH, KH, W) = the rows of channels c0..c0+cc that each output row reads, through xp (cc, N,
        rows, W), the channels with zero rows above and below (written by forward once)."""
        xp[:, :, self.top:self.top + self.h] = x[:, c0:c0 + cc].swapaxes(0, 1)
        s = xp.strides
        a[...] = np.lib.stride_tricks.as_strided(xp, a.shape, (s[0], s[1], self.sh * s[2], self.dh * s[2], s[3]),
                                                 writeable=False)


def forward(x, w, geom, seen=None):
    """kernels/depthwise.py's forward where `applies(geom)`; seen gets each block's finiteness."""
    geo = _Rows(geom)
    out = np.empty((geo.n, geo.c) + geom.out_size, dtype=x.dtype)
    if geo.n == 0:
        return out
    scratch = [(np.zeros((geo.cc, geo.n, geo.rows, geo.w), dtype=x.dtype),
                np.empty((geo.cc, geo.n, geo.oh, geo.kh, geo.w), dtype=x.dtype),
                np.empty((geo.cc, geo.n * geo.oh, geo.ow), dtype=x.dtype)) for _ in range(parallel.num_threads())]

    def work(slot, block):
        c0, cc = block
        xp, a, y = (b[:cc] for b in scratch[slot])
        geo.load(x, c0, cc, xp, a)
        t = geo.bands(w[c0:c0 + cc])                      # on the kernel threads, whose BLAS runs one thread
        np.matmul(a.reshape(cc, geo.n * geo.oh, -1), t, out=y)                       # (cc, N*OH, OW)
        if seen is not None:
            seen.append(nonfinite.finite(y))
        out[:, c0:c0 + cc] = y.reshape(cc, geo.n, geo.oh, geo.ow).swapaxes(0, 1)

    parallel.run(work, geo.blocks)
    return out
