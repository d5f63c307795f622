"""The GEMM lowering: a convolution as matmuls of column matrices, for every geometry (the selector's fallback).

The column matrix of a block of output rows is (C, *K, n, L), viewed as (G, Cg*prod(K), n*L), so each group is
ONE matmul (a batched matmul over groups). A block is a few whole images or some output rows of one image, sized
so that its column matrix stays under COLUMN_BYTES (cache-sized: the copy and the matmul then run from cache);
blocks run on parallel threads (kernels/parallel.py), each reusing its buffers. At stride 1 the grid of a block is
"flat": the output rows times the padded input's row length, so each kernel offset reads ONE contiguous run of
every (image, channel) plane; grid positions past the output (the wrap into the next row) are computed and
dropped (at most FLAT_WASTE of the work). The input gradient at stride 1 (with no more output than input
channels) is the forward convolution of g with the flipped, transposed kernel (kernels/common.py); otherwise it
is W^T @ g followed by the column-to-image scatter (one strided add per kernel offset).

>>> from cnnlab.kernels.geometry import ConvGeometry
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)                  # 2x2 windows, stride 2: the sum of each block
>>> forward(x, np.ones((1, 1, 2, 2)), ConvGeometry.of(x.shape, (1, 1, 2, 2), (2, 2), ((0, 0),) * 2, (1, 1), 1))[0, 0]
array([[10., 18.],
       [42., 50.]])
"""
import itertools

import numpy as np

from . import parallel, registry, workspace
from ._shape import prod as _prod
from .common import input_gradient_as_forward

COLUMN_BYTES = 2 * 2**20  # bound on the column matrix of one block (about the size of one core's L2 cache)
WEIGHT_COLUMN_BYTES = 8 * 2**20  # the same for the weight gradient, whose matmul sums over the block's positions:
                                 # a deeper sum runs faster (benchmarks/NOTES.md)
FLAT_WASTE = 1.25         # the flat lowering may compute up to this many grid positions per output position
MIN_POSITIONS = 1024      # columns per block of the column matrix, at least (where the batch has them)
SMALL_BYTES = 8 * 2**20   # column matrices of a call up to this size are built in the calling thread only
PIECE = 4096              # columns per matmul where the weight matrix of a group is tiny:
TINY = 1024               # at most this many entries (forward), or PIECE entries (weight gradient)


def _take(buf, shape):
    """The first prod(shape) elements of the reusable buffer buf, as a C-contiguous array of that shape."""
    return buf.reshape(-1)[:_prod(shape)].reshape(shape)


class _Lowering:
    """How one geometry is lowered to GEMM: the blocks, the grid a matmul computes, and the column matrix.

    Blocks: `nb` images at a time (the padded copy of a chunk of images), and inside it `rows` output rows
    (first spatial dim) at a time; a block's column matrix holds C*prod(K) x (n * rows * row) values, where
    `row` is the number of grid positions per output row.
    Strided: the grid is the output itself and cols[c, k, m, r, p] = xp[m, c, (r0 + r)*s + k*d, p*s + k*d].
    Flat (every stride 1, 2-d and up, little waste): the grid row is the padded input's row (S[1:]), so each
    kernel offset reads one contiguous run of every padded (image, channel) plane, flattened; the padded copy
    has `tail` extra zeros so the runs of the last rows stay in bounds.
    """

    def __init__(self, channels, kernel, pad_shape, out_size, stride, dilation, itemsize, flat=True,
                 waste=FLAT_WASTE, column_bytes=None):
        self.kernel, self.out_size, self.stride, self.dilation = tuple(kernel), tuple(out_size), stride, dilation
        self.pad_shape = tuple(pad_shape)
        flat_grid = (out_size[0],) + self.pad_shape[1:]
        self.flat = (flat and len(kernel) > 1 and all(s == 1 for s in stride) and
                     _prod(flat_grid) <= waste * _prod(out_size))
        self.grid = flat_grid if self.flat else self.out_size    # per image
        self.row = _prod(self.grid[1:])
        # strides (in elements) of the padded planes and each kernel offset's start in a flattened plane
        self.plane = tuple(_prod(self.pad_shape[i + 1:]) for i in range(len(pad_shape)))
        self.offsets = list(itertools.product(*(range(k) for k in kernel)))
        self.starts = [sum(k * d * st for k, d, st in zip(off, dilation, self.plane)) for off in self.offsets]
        self.tail = max(0, out_size[0] * self.plane[0] + max(self.starts) - _prod(self.pad_shape)) if self.flat \
            else 0
        per_row = channels * len(self.offsets) * self.row * itemsize
        self.per_image = per_row * out_size[0]
        # grid positions per block: the column matrix under COLUMN_BYTES, but at least MIN_POSITIONS columns
        # (a matmul with fewer runs BLAS far below its peak: ResNet's 7x7 and 4x4 feature maps)
        column_bytes = COLUMN_BYTES if column_bytes is None else column_bytes
        self.positions = max(1, column_bytes * self.row // per_row, min(MIN_POSITIONS, column_bytes))
        self.rows = int(min(out_size[0], max(1, self.positions // self.row)))

    def images_per_chunk(self, n_batch):
        return int(max(1, min(n_batch, self.positions // (self.row * self.out_size[0])))) \
            if self.rows == self.out_size[0] else 1

    def blocks(self, n_batch):
        """(n0, n, r0, r) per block: images n0..n0+n, output rows r0..r0+r; all rows of a chunk come in a row."""
        step = self.images_per_chunk(n_batch)
        for n0 in range(0, n_batch, step):
            for r0 in range(0, self.out_size[0], self.rows):
                yield n0, min(step, n_batch - n0), r0, min(self.rows, self.out_size[0] - r0)

    def padded_buffer(self, name, n, channels, dtype, padding=None):
        """A buffer for the padded copy of n images: (n, C, *S) (strided) or (n, C, prod(S) + tail) (flat), reused
        between calls (kernels/workspace.py); with `padding`, zero outside the interior for that padding (the
        caller writes only the interior), else its contents are undefined."""
        shape = (n, channels, _prod(self.pad_shape) + self.tail) if self.flat else (n, channels) + self.pad_shape
        if padding is None:
            return workspace.empty(name, shape, dtype)
        return workspace.zeros(name, shape, dtype, layout=(self.flat, self.pad_shape, tuple(padding)))

    def interior(self, buf, n, padding):
        """The view of buf (first n images) that the unpadded images fill."""
        buf = buf[:n]
        if self.flat:
            buf = buf[:, :, :_prod(self.pad_shape)].reshape(buf.shape[:2] + self.pad_shape)
        return buf[(slice(None), slice(None)) + tuple(slice(b, b + s - b - a)
                                                      for s, (b, a) in zip(self.pad_shape, padding))]

    def im2col(self, xp, r0, r, cols):
        """Fill cols (C, *K, n, r*row) with the columns of output rows r0..r0+r of the padded chunk xp."""
        n, c = xp.shape[:2]
        item = xp.itemsize
        if self.flat:
            src = xp[:, :, r0 * self.plane[0]:]
            view = np.lib.stride_tricks.as_strided(      # (C, *K, n, r*row), in bounds thanks to the tail
                src, shape=(c, *self.kernel, n, r * self.row),
                strides=(src.strides[1], *(d * st * item for d, st in zip(self.dilation, self.plane)),
                         src.strides[0], item), writeable=False)
            np.copyto(cols, view)
            return
        src = xp[:, :, r0 * self.stride[0]:]
        sn, sc, *ss = src.strides
        view = np.lib.stride_tricks.as_strided(          # (C, *K, n, r, *O[1:])
            src, shape=(c, *self.kernel, n, r, *self.out_size[1:]),
            strides=(sc, *(d * st for d, st in zip(self.dilation, ss)), sn,
                     *(s * st for s, st in zip(self.stride, ss))), writeable=False)
        np.copyto(cols.reshape(view.shape), view)

    def col2im_add(self, cols, xp, r0, r):
        """The adjoint of the strided im2col: add cols (C, *K, n, r*row) into the padded chunk xp (n, C, *S) in
        place, one strided add per kernel offset (windows of different offsets overlap)."""
        c, n = xp.shape[1], xp.shape[0]
        cols = cols.reshape(c, len(self.offsets), n, -1)              # (C, prod(K), n, r*row)
        for i, off in enumerate(self.offsets):
            window = (slice(r0 * self.stride[0] + off[0] * self.dilation[0],
                            (r0 + r - 1) * self.stride[0] + off[0] * self.dilation[0] + 1, self.stride[0]),) + \
                tuple(slice(k * d, k * d + (o - 1) * s + 1, s)
                      for k, o, s, d in zip(off[1:], self.out_size[1:], self.stride[1:], self.dilation[1:]))
            xp[(slice(None), slice(None)) + window] += \
                cols[:, i].reshape((c, n, r) + self.out_size[1:]).swapaxes(0, 1)   # (n, C, r, *O[1:])

    def col2im_add_flat(self, cols, xp, r0, r):
        """The adjoint of the flat im2col: add cols (C, *K, n, r*row) into the flat padded chunk xp
        (n, C, prod(S) + tail) in place, one add of contiguous runs per kernel offset. The grid's wrap columns
        of cols must be 0 (they land on other positions)."""
        c, n = xp.shape[1], xp.shape[0]
        cols = cols.reshape(c, len(self.offsets), n, r * self.row)    # (C, prod(K), n, r*row)
        base = r0 * self.plane[0]
        for i, start in enumerate(self.starts):
            xp[:, :, base + start:base + start + r * self.row] += cols[:, i].swapaxes(0, 1)

    def grid_view(self, buf, r):
        """buf (O, n, r*row) as (O, n, r, *O[1:]): the grid positions that are real outputs, a view."""
        v = buf.reshape(buf.shape[:2] + (r,) + self.grid[1:])
        return v[(Ellipsis,) + tuple(slice(0, s) for s in self.out_size[1:])]


def _grouped_weight(w, groups):
    """w (O, Cg, *K) as (G, O/G, Cg*prod(K))."""
    return w.reshape(groups, w.shape[0] // groups, -1)


def _threads(low, n_batch):
    """Threads for a lowering: 1 when a call's whole column matrix is small (thread start-up would dominate)."""
    return 1 if low.per_image * n_batch <= SMALL_BYTES else parallel.num_threads()


class _Slots:
    """Per-thread buffers of a GEMM lowering: the padded copy of an image chunk (and which chunk it holds),
    the column matrix, and one more block-sized buffer."""

    def __init__(self, low, n_batch, channels, other, dtype, padding, zero_other):
        step = low.images_per_chunk(n_batch)
        block = step * low.rows * low.row
        self.low, self.channels, self.dtype = low, channels, dtype
        self.threads = _threads(low, n_batch)
        # "other" zero_other: zero outside the grid positions that are real outputs (the flat grid's wrap)
        self.bufs = [dict(x=low.padded_buffer(f"conv.x{i}", step, channels, dtype, padding), held=None,
                          cols=workspace.empty(f"conv.cols{i}", (channels * len(low.offsets) * block,), dtype),
                          other=workspace.zeros(f"conv.g{i}", (other * block,), dtype, (low.grid, low.out_size))
                          if zero_other else workspace.empty(f"conv.y{i}", (other * block,), dtype))
                     for i in range(self.threads)]

    def padded(self, slot, x, n0, n, padding):
        """The padded copy of images n0..n0+n of x in this slot (copied unless it already holds them); x itself
        where no copy is needed (strided lowering, no padding)."""
        if not self.low.flat and not any(b or a for b, a in padding):
            return x[n0:n0 + n]
        buf = self.bufs[slot]
        if buf["held"] != (n0, n):
            self.low.interior(buf["x"], n, padding)[...] = x[n0:n0 + n]
            buf["held"] = (n0, n)
        return buf["x"][:n]

    def cols(self, slot, xp, r0, r):
        """The column matrix (C, *K, n, r*row) of output rows r0..r0+r of the padded chunk xp."""
        cols = _take(self.bufs[slot]["cols"], (self.channels,) + self.low.kernel + (xp.shape[0], r * self.low.row))
        self.low.im2col(xp, r0, r, cols)
        return cols


def forward(x, w, geom):
    """conv_forward by GEMM lowering (any geometry)."""
    n_batch, channels, n_out, kernel = x.shape[0], x.shape[1], w.shape[0], w.shape[2:]
    stride, padding, dilation, groups = geom.stride, geom.pads, geom.dilation, geom.groups
    pad_shape, out_size = geom.pad_shape, geom.out_size
    out = np.empty((n_batch, n_out) + out_size, dtype=x.dtype)
    if n_batch == 0:
        return out
    low = _Lowering(channels, kernel, pad_shape, out_size, stride, dilation, x.itemsize)
    wg = _grouped_weight(w, groups)                                   # (G, Og, Cg*prod(K))
    slots = _Slots(low, n_batch, channels, n_out, x.dtype, padding, zero_other=False)

    # a tiny weight matrix (LeNet conv1: 6 x 25) times a long column matrix runs 3x faster in pieces
    piece = PIECE if wg.shape[1] * wg.shape[2] <= TINY else None

    # a block of one image on the output grid itself (strided: no wrap columns) is written by its matmul straight
    # into the output's rows (a view with the image's row stride): no copy out of a scratch buffer
    direct = not low.flat and groups == 1 and piece is None

    def work(slot, block):
        n0, n, r0, r = block
        cols = slots.cols(slot, slots.padded(slot, x, n0, n, padding), r0, r).reshape(groups, wg.shape[2], -1)
        if direct and n == 1:
            row = low.row                                    # outputs per output row (grid == output here)
            parallel.matmul(wg[0], cols[0], out[n0].reshape(n_out, -1)[:, r0 * row:(r0 + r) * row])  # (O, r*row)
            return
        y = _take(slots.bufs[slot]["other"], (groups, wg.shape[1], n * r * low.row))
        if groups == 1 and piece is None:                             # split over the threads when alone
            parallel.matmul(wg[0], cols[0], y[0])
        else:
            step = piece or y.shape[2]
            for i in range(0, y.shape[2], step):
                np.matmul(wg, cols[:, :, i:i + step], out=y[:, :, i:i + step])
        out[n0:n0 + n, :, r0:r0 + r] = low.grid_view(y.reshape(n_out, n, -1), r).swapaxes(0, 1)

    parallel.run(work, list(low.blocks(n_batch)), threads=slots.threads)
    return out


def backward_input(g, w, geom):
    """conv_backward_input by GEMM lowering: at stride 1 with no more output than input channels, the forward
    of g with the flipped kernel; else W^T @ g and the column-to-image scatter, whose column matrix is the
    smaller one when the output channels outnumber the input channels (one chunk of whole images per thread)."""
    if all(s == 1 for s in geom.stride) and w.shape[0] <= geom.in_channels:
        return forward(*input_gradient_as_forward(g, w, geom))
    x_shape, kernel, groups, padding = geom.x_shape, w.shape[2:], geom.groups, geom.pads
    n_batch, channels, pad_shape = x_shape[0], x_shape[1], geom.pad_shape
    dx = np.empty(x_shape, dtype=g.dtype)
    if n_batch == 0:
        return dx
    # at stride 1 the flat grid (up to 1.5x the output: LeNet's 10x10 outputs of 14-wide rows) makes every
    # kernel offset's scatter one add of contiguous runs (2-3x faster than the strided scatter's short rows)
    low = _Lowering(channels, kernel, pad_shape, geom.out_size, geom.stride, geom.dilation, g.itemsize, waste=1.5)
    wt = _grouped_weight(w, groups).transpose(0, 2, 1)                # (G, Cg*prod(K), Og)
    step = low.images_per_chunk(n_batch)
    threads = _threads(low, n_batch)
    xbufs = [low.padded_buffer(f"conv.dx{i}", step, channels, g.dtype) for i in range(threads)]  # zeroed per chunk
    gbufs = [workspace.empty(f"conv.gx{i}", (w.shape[0] * step * low.rows * low.row if low.flat else 0,), g.dtype)
             for i in range(threads)]

    def work(slot, chunk):
        n0, n = chunk
        xp = xbufs[slot][:n]
        xp[...] = 0
        for r0 in range(0, low.out_size[0], low.rows):
            r = min(low.rows, low.out_size[0] - r0)
            if low.flat:                                                # g on the grid, 0 on the wrap columns
                gc = _take(gbufs[slot], (w.shape[0], n, r * low.row))
                gc[...] = 0
                low.grid_view(gc, r)[...] = g[n0:n0 + n, :, r0:r0 + r].swapaxes(0, 1)
                gc = gc.reshape(groups, wt.shape[2], -1)
            else:
                gc = np.ascontiguousarray(g[n0:n0 + n, :, r0:r0 + r].swapaxes(0, 1)).reshape(groups, wt.shape[2],
                                                                                             -1)
            # (G, Cg*prod(K), n*r*row); with one output channel per group the product is an outer product,
            # which a broadcast multiply does ~3x faster than matmul's inner dimension of 1
            if wt.shape[2] == 1:
                cols = wt * gc
            elif groups == 1:
                cols = parallel.matmul(wt[0], gc[0], np.empty((wt.shape[1], gc.shape[2]), g.dtype))[None]
            else:
                cols = np.matmul(wt, gc)
            (low.col2im_add_flat if low.flat else low.col2im_add)(cols, xp, r0, r)
        dx[n0:n0 + n] = low.interior(xp, n, padding)

    parallel.run(work, [(n0, min(step, n_batch - n0)) for n0 in range(0, n_batch, step)], threads=threads)
    return dx


def backward_weight(x, g, geom):
    """conv_backward_weight by GEMM lowering: dW = sum over blocks of g @ cols^T (one matmul per group)."""
    w_shape, groups, padding = geom.w_shape, geom.groups, geom.pads
    n_batch, channels, kernel, n_out = x.shape[0], x.shape[1], geom.kernel, w_shape[0]
    shape = (groups, n_out // groups, _prod(w_shape[1:]))                 # (G, Og, Cg*prod(K))
    if n_batch == 0:
        return np.zeros(w_shape, dtype=x.dtype)
    low = _Lowering(channels, kernel, geom.pad_shape, geom.out_size, geom.stride, geom.dilation, x.itemsize,
                    column_bytes=WEIGHT_COLUMN_BYTES)
    slots = _Slots(low, n_batch, channels, n_out, x.dtype, padding, zero_other=True)  # "other": g on the grid,
    dws = [np.zeros((groups, shape[2], shape[1]), dtype=x.dtype) for _ in slots.bufs]  # 0 outside the output
    # dW^T = cols @ G^T (G, Cg*prod(K), Og): OpenBLAS runs this orientation up to 1.6x faster than G @ cols^T
    # when Og is small; a tiny result (LeNet: 6 x 25) over a long inner dimension runs 2x faster in pieces
    piece = PIECE if shape[1] * shape[2] <= PIECE else None

    def work(slot, block):
        n0, n, r0, r = block
        cols = slots.cols(slot, slots.padded(slot, x, n0, n, padding), r0, r).reshape(groups, shape[2], -1)
        gc = _take(slots.bufs[slot]["other"], (n_out, n, r * low.row))
        low.grid_view(gc, r)[...] = g[n0:n0 + n, :, r0:r0 + r].swapaxes(0, 1)
        gc = gc.reshape(groups, shape[1], -1)
        if groups == 1 and piece is None:
            parallel.matmul(cols[0], gc[0].T, dws[slot][0], beta=1.0)
            return
        step = piece or gc.shape[2]
        for i in range(0, gc.shape[2], step):
            dws[slot] += np.matmul(cols[:, :, i:i + step], gc[:, :, i:i + step].swapaxes(1, 2))

    parallel.run(work, list(low.blocks(n_batch)), threads=slots.threads)
    return np.ascontiguousarray(parallel.add_up(dws).swapaxes(1, 2)).reshape(w_shape)


def _few_channels(op, geom, precise):
    if not registry.wide(geom):
        return f"fewer than {registry.MIN_CHANNELS} input channels per group: the column matrix makes one matmul " \
               "with a deep inner dimension"


def _otherwise(op, geom, precise):
    return "everything else (grouped convolutions on small maps, strided kernels larger than 1x1 on large ones, " \
           "weight gradients on large maps): one deep matmul per block of the column matrix"


ALGORITHMS = (registry.Algorithm("gemm", lambda geom: True, forward, backward_input, backward_weight,
                                 rules=((50, _few_channels), (100, _otherwise)), exact_forward=True,
                                 exact_input_gradient=True),)
