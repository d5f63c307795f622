"""Shift-and-accumulate GEMM: a convolution as one matmul per kernel offset, summed in place, with no im2col.

For a kernel offset k, the input values that output position p reads, x[c, p*s + k*d], form a shifted window of
the (padded) input. Split the padded input by stride phase, xph[phi][c, j] = xpad[c, phi + s*j], and that window
is one contiguous run of phase plane phi(k) = (k*d) mod s, starting at (k*d) // s, when the output grid is laid
out "flat" over the phase plane's rows (grid positions past the output row wrap into the next row: computed and
dropped). So, with W_k = w[:, :, k] (O, C),

    forward           Y (O, L) = sum_k W_k @ Xph[phi(k)][:, start_k : start_k + L]       (blas.gemm, beta = 1)
    backward_weight   dW_k = sum over images of G (O, L) @ Xph[phi(k)][:, start_k : start_k + L]^T
    backward_input    at stride 1 the forward of g with the flipped, transposed kernel; else
                      dXph[phi(k)][:, start_k : start_k + L] += W_k^T @ G, then the phases put back together

Every operand is a strided view that BLAS reads in place (kernels/blas.py); each matmul adds into the same
cache-sized block of Y, so the only copies are the phase split of the input and the crop of the output: about
2 passes over the data instead of the prod(K) + 1 of a column matrix. Blocks are (image, rows of the output)
with Y under BLOCK_BYTES, run on parallel threads (kernels/parallel.py). The offsets' matmuls have only C (per
group) as their inner dimension, so this suits many channels; few channels go to the GEMM lowering.

Stacked ('stack'): the same windows copied into one column matrix (G, prod(K) * Cg, L), each a
contiguous copy, and one matmul; its input gradient adds each offset's rows of W^T @ G back into its window,
again contiguous runs of the phase planes instead of the strided scatter of a column-to-image.
"""
import functools
import itertools

import numpy as np

from . import blas, parallel, registry, workspace
from ._shape import prod as _prod
from .common import input_gradient_as_forward

BLOCK_BYTES = 2**20   # bound on a block's output Y (O, rows * row)
IMAGE_BYTES = 1_250_000  # stride 1: bound on the output Y (O, m * plane) of a block of m whole images ...
IMAGE_MAX_CHANNELS = 64  # ... with at most this many input channels per group (two images per block of 128
                         # channels measured slower)
MIN_POSITIONS = 256    # stride 1: grid positions per image below which gemm's multi-image matmuls win ...
MAX_WASTE = 1.3        # ... and grid positions computed per output kept, at most (the flat grid's wrap columns)
STRIDED_MIN_POSITIONS = 512  # strided input gradients: output positions per image from which the per-offset
                             # matmuls beat 'stack''s one matmul and adds (28x28 outputs; CIFAR's 16x16 not)


def supports(geom):
    """Any geometry with at least one spatial dim (the selector decides where it pays)."""
    return geom.n >= 1


def _strided(geom):
    return any(s > 1 for s in geom.stride)


def _pointwise(geom):
    return all(k == 1 for k in geom.kernel)


def _strided_input_gradient(op, geom):
    return op == "backward_input" and _strided(geom) and not _pointwise(geom)


def _shift_wins_strided_input_gradient(op, geom, precise):
    if _strided_input_gradient(op, geom) and registry.wide(geom) and geom.positions >= STRIDED_MIN_POSITIONS:
        return "the input gradient of a strided convolution with many channels on a large map: each offset's " \
               "matmul adds into its window of the stride-phase planes (no column matrix to add back)"


def _stack_wins_strided_input_gradient(op, geom, precise):
    if _strided_input_gradient(op, geom):
        return "the input gradient of a strided convolution: contiguous adds into stride-phase planes (the GEMM " \
               "lowering's strided scatter is slower)"


def _stack_wins_strided_1x1(op, geom, precise):
    if _pointwise(geom) and _strided(geom) and geom.batch >= parallel.num_threads():
        return "a strided 1x1 kernel: one contiguous stride-phase plane is the matmul's operand"


def _shift_wins_1x1(op, geom, precise):
    if _pointwise(geom):
        return "a 1x1 kernel: the input is the matmul's operand as it is"


def _shift_wins_large_map(op, geom, precise):
    # not for the weight gradient: there the per-offset matmuls, with an inner dimension of C, lose to gemm's
    if op != "backward_weight" and not _strided(geom):
        out = geom.out_size
        grid = out[0] * _prod(geom.pad_shape[1:])
        if MIN_POSITIONS <= grid <= MAX_WASTE * _prod(out):
            return "stride 1 on a large feature map: one matmul per kernel offset, added in place (no column matrix)"


class _Phases:
    """Phases, the flat grid and each kernel offset's (phase, start) for one call."""

    def __init__(self, geom):
        self.spatial, self.kernel, self.stride = geom.in_size, geom.kernel, geom.stride
        self.padding, self.out_size, stride, dilation = geom.pads, geom.out_size, geom.stride, geom.dilation
        pad_shape = geom.pad_shape
        self.phase_shape = tuple(-(-p // s) for p, s in zip(pad_shape, stride))
        self.plane = tuple(_prod(self.phase_shape[i + 1:]) for i in range(len(stride)))
        self.row = self.plane[0]                                    # grid positions per output row
        self.taps = []                                              # (phase, start) per kernel offset
        for off in itertools.product(*(range(k) for k in self.kernel)):
            phase = tuple(k * d % s for k, d, s in zip(off, dilation, stride))
            start = sum(k * d // s * st for k, d, s, st in zip(off, dilation, stride, self.plane))
            self.taps.append((phase, start))
        self.phases = sorted({p for p, _ in self.taps})
        size = _prod(self.phase_shape)
        self.length = size + max(0, max(st for _, st in self.taps) + self.out_size[0] * self.row - size)
        self.all_phases = len(self.phases) == _prod(stride)

    def rows_per_block(self, width, itemsize):
        """Output rows per block so that a (width, rows * row) block stays under BLOCK_BYTES."""
        return int(max(1, min(self.out_size[0], BLOCK_BYTES // max(1, width * self.row * itemsize))))

    def blocks(self, n_batch, rows):
        return [(n, r0, min(rows, self.out_size[0] - r0)) for n in range(n_batch)
                for r0 in range(0, self.out_size[0], rows)]

    def phase_boxes(self):
        """Per used phase: (index in the phase planes, x slices) of the input samples it holds."""
        boxes = []
        for phase in self.phases:
            plane, src = [], []
            for s, p, st, (b, _), size in zip(self.spatial, phase, self.stride, self.padding, self.phase_shape):
                lo = max(0, -(-(b - p) // st))                       # first j with p + st*j - b >= 0
                hi = min(size, -(-(s + b - p) // st))               # past the last j with p + st*j - b < s
                plane.append(slice(lo, max(lo, hi)))
                src.append(slice(p + st * lo - b, p + st * max(lo, hi) - b, st))
            boxes.append((tuple(plane), tuple(src)))
        return boxes

    def load(self, x, buf):
        """buf (phases, C, length) = the phase planes of one padded image x (C, *S); padding is never written."""
        for i, (plane, src) in enumerate(self.phase_boxes()):
            planes = buf[i, :, :_prod(self.phase_shape)].reshape((buf.shape[1],) + self.phase_shape)
            planes[(slice(None),) + plane] = x[(slice(None),) + src]

    def unload(self, buf, dx):
        """The adjoint of load: dx (C, *S) = the input samples of the phase planes in buf."""
        if not self.all_phases:
            dx[...] = 0
        for i, (plane, src) in enumerate(self.phase_boxes()):
            planes = buf[i, :, :_prod(self.phase_shape)].reshape((buf.shape[1],) + self.phase_shape)
            dx[(slice(None),) + src] = planes[(slice(None),) + plane]

    def grid(self, buf, r):
        """buf (O, r*row) as (O, r, *O[1:]): the grid positions that are real outputs, a view."""
        v = buf.reshape((buf.shape[0], r) + self.phase_shape[1:])
        return v[(slice(None), slice(None)) + tuple(slice(0, o) for o in self.out_size[1:])]


def _offset_weights(w):
    """w (O, Cg, *K) as (prod(K), O, Cg), one matrix per kernel offset."""
    return np.ascontiguousarray(np.moveaxis(w.reshape(w.shape[:2] + (-1,)), 2, 0))


def _windows(geo, xb, r0, length):
    """Per kernel offset: its window (C, length) of the phase planes xb, for the output rows from r0."""
    return [xb[geo.phases.index(phase), :, r0 * geo.row + start:r0 * geo.row + start + length]
            for phase, start in geo.taps]


def _stack(windows, cols, groups):
    """cols (G, prod(K), Cg, L) = the windows, grouped: the column matrix, built by contiguous copies."""
    for i, win in enumerate(windows):
        cols[:, i] = win.reshape(groups, -1, win.shape[1])


def _stacked_weights(w, groups):
    """w (O, Cg, *K) as (G, Og, prod(K) * Cg): the rows of the stacked column matrix, offset-major."""
    o, cg = w.shape[:2]
    return np.ascontiguousarray(w.reshape(groups, o // groups, cg, -1).swapaxes(2, 3)).reshape(groups, o // groups,
                                                                                              -1)


def _scratch(geo, channels, width, rows, stacked, dtype, zero_width=False, planes="x"):
    """Per thread: the phase planes of one image, a (width, L) block buffer and, stacked, the column matrix;
    reused between calls (kernels/workspace.py). The planes named "x" are zero outside the samples that
    geo.load writes (their padding); zero_width: the block buffer is zero outside geo.grid's positions."""
    length = rows * geo.row
    layout = (geo.spatial, geo.stride, geo.padding, geo.phase_shape, tuple(geo.phases))
    slots = []
    for i in range(parallel.num_threads()):
        shape = (len(geo.phases), channels, geo.length)
        x = workspace.zeros(f"shift.x{i}", shape, dtype, layout) if planes == "x" else \
            workspace.empty(f"shift.{planes}{i}", shape, dtype)
        y = workspace.zeros(f"shift.g{i}", (width * length,), dtype, (geo.phase_shape, geo.out_size, length)) \
            if zero_width else workspace.empty(f"shift.y{i}", (width * length,), dtype)
        cols = workspace.empty(f"shift.cols{i}", (len(geo.taps) * channels * length if stacked else 0,), dtype)
        slots.append(dict(x=x, held=None, y=y, cols=cols))
    return slots


def _holding(geo, buf, x, n):
    """buf's phase planes, loaded with image n of x unless they already hold it."""
    if buf["held"] != n:
        geo.load(x[n], buf["x"])
        buf["held"] = n
    return buf["x"]


def _images_per_block(geo, width, n_batch, itemsize, channels):
    """Whole images per block at stride 1 (their padded planes laid end to end, so each kernel offset's window
    over all of them is still one run per channel: fewer, wider matmuls, for a short inner dimension `channels`);
    1 where that does not apply."""
    if any(s != 1 for s in geo.stride) or n_batch < 2 or channels > IMAGE_MAX_CHANNELS:
        return 1
    per_thread = -(-n_batch // parallel.num_threads())
    return int(max(1, min(per_thread, IMAGE_BYTES // max(1, width * _prod(geo.phase_shape) * itemsize))))


def _image_scratch(geo, channels, width, m, dtype, zero_width):
    """Per thread: m padded images end to end (C, m * plane + the largest start; zero where no image sample goes)
    and the (width, m, plane) block buffer (zero_width: zero outside the output positions)."""
    plane = _prod(geo.phase_shape)
    length = m * plane + max(start for _, start in geo.taps)
    slots = []
    for i in range(parallel.num_threads()):
        x = workspace.zeros(f"shift.m{i}", (channels, length), dtype, (geo.spatial, geo.padding, geo.phase_shape))
        y = workspace.zeros(f"shift.gm{i}", (width, m, plane), dtype, (geo.phase_shape, geo.out_size)) \
            if zero_width else workspace.empty(f"shift.ym{i}", (width, m, plane), dtype)
        slots.append(dict(x=x, y=y, held=None))
    return slots


def _load_images(geo, buf, x, n0, n):
    """buf["x"] holds images n0..n0+n of x (loaded unless it already does); returns it."""
    if buf["held"] != (n0, n):
        plane = _prod(geo.phase_shape)
        for i in range(n):
            geo.load(x[n0 + i], buf["x"][None, :, i * plane:])
        buf["held"] = (n0, n)
    return buf["x"]


def _image_grid(geo, y):
    """y (O, n, plane) as (O, n, *out_size): the positions that are real outputs, a view."""
    v = y.reshape(y.shape[:2] + geo.phase_shape)
    return v[(slice(None), slice(None)) + tuple(slice(0, o) for o in geo.out_size)]


def _accumulate(wk, windows, y, groups, og, cg):
    """y = sum over kernel offsets i of wk[i] @ windows[i], per group: one gemm each, added in place."""
    for i, win in enumerate(windows):
        for k in range(groups):
            blas.gemm(wk[i, k * og:(k + 1) * og], win[k * cg:(k + 1) * cg], y[k * og:(k + 1) * og],
                      beta=0.0 if i == 0 else 1.0)


def _image_windows(geo, xb, length):
    """The kernel offsets' windows of `length` flat positions in a block of whole padded images xb (C, ...)."""
    return [xb[:, start:start + length] for _, start in geo.taps]


def _forward_images(x, wk, geo, out, groups, m):
    """forward at stride 1, m whole images per block: per kernel offset one matmul over all their planes."""
    n_batch, channels, n_out = x.shape[0], x.shape[1], out.shape[1]
    og, cg, plane = n_out // groups, channels // groups, _prod(geo.phase_shape)
    slots = _image_scratch(geo, channels, n_out, m, x.dtype, zero_width=False)

    def work(slot, block):
        n0, n = block
        xb = _load_images(geo, slots[slot], x, n0, n)
        y = slots[slot]["y"][:, :n]
        _accumulate(wk, _image_windows(geo, xb, n * plane), y.reshape(n_out, n * plane), groups, og, cg)
        out[n0:n0 + n] = _image_grid(geo, y).swapaxes(0, 1)

    parallel.run(work, [(n0, min(m, n_batch - n0)) for n0 in range(0, n_batch, m)])
    return out


def forward(x, w, geom, stacked=False):
    """conv_forward: one matmul per kernel offset added in place, or (stacked) one matmul of the column matrix
    built from the offsets' contiguous windows."""
    geo, groups, out_size = _Phases(geom), geom.groups, geom.out_size
    n_batch, channels, n_out = x.shape[0], x.shape[1], w.shape[0]
    out = np.empty((n_batch, n_out) + out_size, dtype=x.dtype)
    og, cg = n_out // groups, channels // groups
    wk = _stacked_weights(w, groups) if stacked else _offset_weights(w)
    m = 1 if stacked else _images_per_block(geo, n_out, n_batch, x.itemsize, cg)
    if m > 1:
        return _forward_images(x, wk, geo, out, groups, m)
    rows = geo.rows_per_block(len(geo.taps) * channels if stacked else n_out, x.itemsize)
    slots = _scratch(geo, channels, n_out, rows, stacked, x.dtype)

    def work(slot, block):
        n, r0, r = block
        buf = slots[slot]
        y = buf["y"][:n_out * r * geo.row].reshape(n_out, -1)
        windows = _windows(geo, _holding(geo, buf, x, n), r0, y.shape[1])
        if stacked:
            cols = buf["cols"][:len(geo.taps) * channels * y.shape[1]].reshape(groups, len(geo.taps), cg, -1)
            _stack(windows, cols, groups)
            np.matmul(wk, cols.reshape(groups, -1, y.shape[1]), out=y.reshape(groups, og, -1))
        else:
            _accumulate(wk, windows, y, groups, og, cg)
        out[n, :, r0:r0 + r] = geo.grid(y, r)

    parallel.run(work, geo.blocks(n_batch, rows))
    return out


def backward_input(g, w, geom, stacked=False):
    """conv_backward_input: at stride 1 the forward of g with the flipped kernel (kernels/common.py); else the
    adjoint of each offset's matmul (stacked: of the column matrix's) added into the phase planes (one image per
    thread), which are then put back together."""
    if not _strided(geom):
        return forward(*input_gradient_as_forward(g, w, geom), stacked=stacked)
    geo, groups, x_shape = _Phases(geom), geom.groups, geom.x_shape
    n_batch, channels, n_out = x_shape[0], x_shape[1], w.shape[0]
    dx = np.empty(x_shape, dtype=g.dtype)
    og, cg = n_out // groups, channels // groups
    wk = _stacked_weights(w, groups).swapaxes(1, 2) if stacked else _offset_weights(w)
    rows = geo.rows_per_block(len(geo.taps) * channels if stacked else n_out, g.itemsize)
    slots = _scratch(geo, channels, n_out, rows, stacked, g.dtype, zero_width=True, planes="dx")

    def work(slot, n):
        buf = slots[slot]
        buf["x"][...] = 0
        for r0 in range(0, geo.out_size[0], rows):
            r = min(rows, geo.out_size[0] - r0)
            gb = buf["y"][:n_out * r * geo.row].reshape(n_out, -1)      # 0 on the grid's wrap positions
            geo.grid(gb, r)[...] = g[n, :, r0:r0 + r]
            windows = _windows(geo, buf["x"], r0, gb.shape[1])
            if stacked:
                cols = np.matmul(wk, gb.reshape(groups, og, -1),
                                 out=buf["cols"][:len(geo.taps) * channels * gb.shape[1]].reshape(
                                     groups, len(geo.taps) * cg, -1)).reshape(groups, len(geo.taps), cg, -1)
                for i, win in enumerate(windows):
                    win += cols[:, i].reshape(channels, -1)
                continue
            for i, win in enumerate(windows):
                for k in range(groups):
                    blas.gemm(wk[i, k * og:(k + 1) * og].T, gb[k * og:(k + 1) * og], win[k * cg:(k + 1) * cg],
                              beta=1.0)
        geo.unload(buf["x"], dx[n])

    parallel.run(work, range(n_batch))
    return dx


def backward_weight(x, g, geom, stacked=False):
    """conv_backward_weight: dW_k = sum over blocks of G @ window_k^T (stacked: G @ cols^T), per thread."""
    geo, groups, w_shape = _Phases(geom), geom.groups, geom.w_shape
    n_batch, channels, n_out = x.shape[0], x.shape[1], w_shape[0]
    og, cg, taps = n_out // groups, channels // groups, len(geo.taps)
    rows = geo.rows_per_block(taps * channels if stacked else n_out, x.itemsize)
    m = 1 if stacked else _images_per_block(geo, n_out, n_batch, x.itemsize, cg)
    slots = _image_scratch(geo, channels, n_out, m, x.dtype, zero_width=True) if m > 1 else \
        _scratch(geo, channels, n_out, rows, stacked, x.dtype, zero_width=True)
    for buf in slots:
        buf["dw"] = np.zeros((groups, og, taps * cg) if stacked else (taps, n_out, cg), dtype=x.dtype)

    def work(slot, block):
        n, r0, r = block
        buf = slots[slot]
        if m > 1:                                                         # images n..n+r, whole
            gb = buf["y"][:, :r]                                          # 0 off the output positions
            _image_grid(geo, gb)[...] = g[n:n + r].swapaxes(0, 1)
            gb = gb.reshape(n_out, -1)
            xb = _load_images(geo, buf, x, n, r)
            windows = _image_windows(geo, xb, gb.shape[1])
        else:
            gb = buf["y"][:n_out * r * geo.row].reshape(n_out, -1)      # 0 on the grid's wrap positions
            geo.grid(gb, r)[...] = g[n, :, r0:r0 + r]
            windows = _windows(geo, _holding(geo, buf, x, n), r0, gb.shape[1])
        if stacked:
            cols = buf["cols"][:taps * channels * gb.shape[1]].reshape(groups, taps, cg, -1)
            _stack(windows, cols, groups)
            buf["dw"] += np.matmul(gb.reshape(groups, og, -1), cols.reshape(groups, taps * cg, -1).swapaxes(1, 2))
            return
        for i, win in enumerate(windows):
            for k in range(groups):
                blas.gemm(gb[k * og:(k + 1) * og], win[k * cg:(k + 1) * cg].T, buf["dw"][i, k * og:(k + 1) * og],
                          beta=1.0)

    blocks = [(n0, 0, min(m, n_batch - n0)) for n0 in range(0, n_batch, m)] if m > 1 else geo.blocks(n_batch, rows)
    parallel.run(work, blocks)
    dw = sum(s["dw"] for s in slots)
    if stacked:                                                          # (G, Og, prod(K), Cg) -> (O, Cg, prod(K))
        return np.ascontiguousarray(dw.reshape(n_out, taps, cg).swapaxes(1, 2)).reshape(w_shape)
    return np.ascontiguousarray(np.moveaxis(dw, 0, 2)).reshape(w_shape)  # (prod(K), O, Cg) -> (O, Cg, prod(K))


ALGORITHMS = (
    registry.Algorithm("shift", supports, forward, backward_input, backward_weight,
                       rules=((41, _shift_wins_strided_input_gradient), (81, _shift_wins_1x1),
                              (91, _shift_wins_large_map)), exact_forward=True,
                       exact_input_gradient=True),
    registry.Algorithm("stack", supports, functools.partial(forward, stacked=True),
                       functools.partial(backward_input, stacked=True),
                       functools.partial(backward_weight, stacked=True),
                       rules=((42, _stack_wins_strided_input_gradient), (80, _stack_wins_strided_1x1)),
                       exact_forward=True, exact_input_gradient=True),
)
