"""Depthwise 2-d convolution as a sum over kernel taps, channels last ('depthwise_taps').

kernels/depthwise.py turns each channel's filter into a band matrix and makes one BLAS call per channel: on the
small maps of MobileNet and ConvNeXt (14x14, 7x7, and any strided map) those calls are mostly overhead, and the
band computes several times the multiply-adds. Here a block of output rows of one image is computed for all
channels at once, with the channels innermost:

    xp[r, v, c] = x[n, c, r0*sh + r - top, v - left]     (zero outside the image)           (rows, Wp, C)
    y[i, j, c]  = sum_{kh, kw} xp[i*sh + kh*dh, j*sw + kw*dw, c] * w[c, kh, kw]                (rows', OW, C)
    out[n, c, r0 + i, j] = y[i, j, c]

one np.einsum over a strided view of xp (no im2col): its inner loop multiplies and adds one contiguous run of C
channels per tap and output position in a single pass (NumPy has no fused multiply-add for two separate ufunc
calls, and einsum's sum of products is that loop). A channel multiplier m reads each input channel m times (a
stride-0 axis). Blocks of rows go to the kernel threads (kernels/parallel.py).

The weight gradient sums g times the same strided view (g laid out channels last). The input gradient at stride 1
is this forward of g with the flipped filters; a strided one is kernels/depthwise.py's.

The products formed are exactly the direct convolution's, padding zeros included (strided outputs read only the
taps they use), so inf and NaN come out as PyTorch's without a check (`exact_forward`).

>>> from cnnlab.kernels.geometry import ConvGeometry
>>> geom = ConvGeometry.of((1, 2, 3, 3), (2, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 2)
>>> forward(np.ones((1, 2, 3, 3)), np.ones((2, 1, 3, 3)), geom)[0, 1].tolist()
[[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]
"""
import numpy as np

from . import depthwise, parallel, registry, workspace
from .common import input_gradient_geometry, load_rows, overlap

BLOCK_BYTES = 2**18    # output bytes of a block of rows (its padded input about as much): stays in L2
THREADED_MACS = 2**20  # multiply-adds from which the blocks go to the kernel threads (below, the hand-off costs more)
MAX_TAP_POSITIONS = 4096  # forward and input gradient win where N * output positions * taps is at most this
MAX_WEIGHT_POSITIONS = 4096  # the weight gradient wins where N * output positions is at most this (NOTES.md)


def supports(geom):
    """The 'depthwise' algorithm's geometries: 2-d, one input channel per group (any multiplier)."""
    return depthwise.supports(geom)


class _Taps:
    """Index arithmetic of one call."""

    def __init__(self, geom, itemsize):
        self.n, self.c, self.h, self.w = geom.x_shape
        self.m, (self.kh, self.kw) = geom.out_channels // self.c, geom.kernel
        (self.sh, self.sw), (self.dh, self.dw) = geom.stride, geom.dilation
        (self.top, _), (self.left, _) = geom.pads
        self.oh, self.ow = geom.out_size
        self.span_h = (self.kh - 1) * self.dh + 1
        self.wp = (self.ow - 1) * self.sw + (self.kw - 1) * self.dw + 1             # padded columns read
        self.cols = overlap(0, self.wp, self.left, self.w)
        row_bytes = self.ow * self.c * self.m * itemsize
        rows = max(1, min(self.oh, BLOCK_BYTES // max(1, row_bytes)))
        macs = self.n * self.oh * self.ow * self.c * self.m * self.kh * self.kw
        self.threads = parallel.num_threads() if macs >= THREADED_MACS else 1
        # one image with fewer blocks than threads: split its rows so that every thread has a share
        rows = min(rows, -(-self.oh // self.threads)) if self.n == 1 else rows
        self.rb = rows
        self.blocks = [(i, r0) for i in range(self.n) for r0 in range(0, self.oh, rows)]
        self.rows_in = (rows - 1) * self.sh + self.span_h

    def weights(self, w):
        """w (C*m, 1, kh, kw) -> (kh, kw, C, m) contiguous, the taps' channel vectors."""
        return np.ascontiguousarray(w.reshape(self.c, self.m, self.kh, self.kw).transpose(2, 3, 0, 1))

    def load(self, x, image, r0, rb, buf):
        """buf (rows_in, wp, C) = the padded rows of `image` that output rows r0..r0+rb read, channels last."""
        load_rows(x, image, r0 * self.sh, (rb - 1) * self.sh + self.span_h, self.top, self.cols, buf)

    def view(self, buf, rb):
        """(rb, OW, kh, kw, C, m): the input value each tap meets, a strided view of buf (rows_in, wp, C)."""
        s = buf.strides
        return np.lib.stride_tricks.as_strided(
            buf, (rb, self.ow, self.kh, self.kw, self.c, self.m),
            (s[0] * self.sh, s[1] * self.sw, s[0] * self.dh, s[1] * self.dw, s[2], 0), writeable=False)

    def block(self, x, image, r0):
        """(rb, the view of the block's padded input, a scratch (rb, OW, C*m)) for output rows r0..r0+rb of image;
        without a multiplier the view's m axis (length 1) is dropped, so that einsum's inner loop runs over C."""
        rb = min(self.rb, self.oh - r0)
        buf = workspace.zeros("depthwise_taps.x", (self.rows_in, self.wp, self.c), x.dtype, layout=self.cols)
        scratch = workspace.empty("depthwise_taps.y", (self.rb, self.ow, self.c * self.m), x.dtype)[:rb]
        self.load(x, image, r0, rb, buf)
        v = self.view(buf, rb)
        return rb, (v[..., 0] if self.m == 1 else v), scratch

    def channels(self, a):
        """a (rows, OW, C*m) as einsum's operand: itself without a multiplier, else (rows, OW, C, m)."""
        return a if self.m == 1 else a.reshape(a.shape[:2] + (self.c, self.m))

    def spec(self, fmt):
        """The einsum subscripts fmt with {c} the channel labels: 'c', or 'cm' with a multiplier."""
        return fmt.format(c="c" if self.m == 1 else "cm")


def forward(x, w, geom):
    """conv_forward for depthwise 2-d convolutions (any stride, dilation, padding, multiplier)."""
    geo = _Taps(geom, x.dtype.itemsize)
    out = np.empty((geo.n, geo.c * geo.m) + geom.out_size, dtype=x.dtype)
    if geo.n == 0 or out.size == 0:
        return out
    taps = geo.weights(w)                                                          # (kh, kw, C, m)
    taps, spec = (taps[..., 0] if geo.m == 1 else taps), geo.spec("hwij{c},ij{c}->hw{c}")

    def work(slot, block):
        image, r0 = block
        rb, v, y = geo.block(x, image, r0)
        np.einsum(spec, v, taps, out=geo.channels(y))
        out[image, :, r0:r0 + rb] = y.transpose(2, 0, 1)

    parallel.run(work, geo.blocks, threads=geo.threads)
    return out


def backward_weight(x, g, geom):
    """conv_backward_weight: dw[c, kh, kw] = sum over the images and output positions of g times the input value
    the tap meets, per block of rows one np.einsum over the same strided view as the forward (with g laid out
    channels last), the blocks' sums added up per thread and then across the threads."""
    geo = _Taps(geom, x.dtype.itemsize)
    if geo.n == 0 or geo.oh * geo.ow == 0:
        return np.zeros(geom.w_shape, dtype=x.dtype)
    spec = geo.spec("hwij{c},hw{c}->ij{c}")
    sums = [None] * parallel.num_threads()

    def work(slot, block):
        image, r0 = block
        rb, v, gt = geo.block(x, image, r0)
        gt[...] = g[image, :, r0:r0 + rb].transpose(1, 2, 0)
        part = np.einsum(spec, v, geo.channels(gt))
        if sums[slot] is None:
            sums[slot] = part
        else:
            sums[slot] += part

    parallel.run(work, geo.blocks, threads=geo.threads)
    dw = parallel.add_up(sums).reshape(geo.kh, geo.kw, geo.c * geo.m)          # (kh, kw, C*m)
    return np.ascontiguousarray(dw.transpose(2, 0, 1)).reshape(geom.w_shape)


def _input_gradient_is_forward(geom):
    """Whether the input gradient is this algorithm's forward of g (stride 1, no channel multiplier)."""
    return geom.stride == (1, 1) and geom.out_channels == geom.in_channels


def backward_input(g, w, geom):
    """conv_backward_input: at stride 1 without a multiplier this forward of g with the flipped filters, else
    kernels/depthwise.py's."""
    if _input_gradient_is_forward(geom):
        adjoint, crops = input_gradient_geometry(geom)
        return forward(g[(slice(None), slice(None)) + crops], w[:, :, ::-1, ::-1], adjoint)
    return depthwise.backward_input(g, w, geom)


def _tap_positions(op, geom):
    """N * positions * taps of the sum this algorithm would compute for op (None where it would not)."""
    if op == "forward":
        size = geom.out_size
    elif op == "backward_input" and _input_gradient_is_forward(geom):
        size = geom.in_size                                           # the forward of g, one output per input
    else:
        return None
    return geom.batch * size[0] * size[1] * geom.kernel[0] * geom.kernel[1]


def _wins(op, geom, precise):
    if not supports(geom):
        return None
    if op == "backward_weight":
        if geom.batch * geom.out_size[0] * geom.out_size[1] <= MAX_WEIGHT_POSITIONS:
            return f"the weight gradient of a depthwise convolution with at most {MAX_WEIGHT_POSITIONS} output " \
                   "positions per channel: one sum of products for all channels, not a BLAS call per channel"
    elif (_tap_positions(op, geom) or MAX_TAP_POSITIONS + 1) <= MAX_TAP_POSITIONS:
        return f"a depthwise convolution with at most {MAX_TAP_POSITIONS} positions x taps per channel: one sum " \
               "over the taps for all channels (the band's BLAS call per channel costs more than its work)"


ALGORITHMS = (registry.Algorithm("depthwise_taps", supports, forward, backward_input, backward_weight,
                                 rules=((9, _wins),), exact_forward=True),)
