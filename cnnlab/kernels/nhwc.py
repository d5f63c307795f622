"""Channels-last column matrix over a chunk of images: one large matmul per chunk, the batch in its rows.

For feature maps too small for one image to fill a matmul (ResNet's 8x8, 7x7 and 4x4 layers, CIFAR's 16x16),
and for strided kernels, the whole batch (or a chunk of images under CHUNK_BYTES) is lowered at once:

    xl    (n, *S', C)          the padded chunk, channels-last (one transposing copy of x)
    cols  (n, *O, *K, C)       its windows: each row of the column matrix (n*L, prod(K)*C) is prod(K) contiguous
                               runs of C values, so the copy moves whole runs (3-4x faster than the
                               channels-first column matrix, whose runs are one output row long)
    forward           Y (n*L, O) = cols @ Wl^T,   Wl = w as (O, prod(K)*C);  out = Y transposed to (n, O, *O)
    backward_weight   dWl (O, prod(K)*C) += G^T @ cols, G = g channels-last (n*L, O);  dw = dWl back to (O, C, *K)
    backward_input    at stride 1 the forward of g with the flipped, transposed kernel; else dcols = G @ Wl,
                      added back into xl one kernel offset at a time (contiguous runs of C), then transposed out

The matmuls have prod(K)*C as their inner dimension and n*L rows, so BLAS runs them near its peak. The chunks
run on parallel threads (kernels/parallel.py), each with its own buffers and single-threaded BLAS: copy in,
matmul, copy out in one core's cache. A batch too small to give every thread a chunk is one chunk whose copies
and matmul are split over the threads instead. groups == 1 only.

>>> from cnnlab.kernels.geometry import ConvGeometry
>>> x, w = np.ones((2, 1, 3, 3)), np.ones((1, 1, 2, 2))
>>> geom = ConvGeometry.of(x.shape, w.shape, (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
>>> forward(x, w, geom)[0, 0].tolist()
[[4.0, 4.0], [4.0, 4.0]]
>>> backward_input(np.ones((2, 1, 2, 2)), w, geom)[0, 0].tolist()
[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
"""
import itertools

import numpy as np

from . import parallel, registry, workspace
from ._shape import prod as _prod
from .common import cropped, input_gradient_geometry

CHUNK_BYTES = 8 * 2**20    # bound on one chunk's column matrix (n*L, prod(K)*C), kept between calls
MAX_POSITIONS = 256        # output positions per image up to which 'nhwc' (one matmul per chunk) wins
MIN_ROWS = 512             # rows of the batch's column matrix (N * output positions) from which 'nhwc' pays
DX_MAX_INPUT_POSITIONS = 512  # input positions per image from which 'stack' beats 'nhwc' for a strided dx


def _workspace(name, shape, dtype):
    """A reusable buffer of this shape and dtype (contents undefined), kept per calling thread
    (kernels/workspace.py): a fresh allocation of tens of MB costs page faults on first touch that measured as
    much as the copy into it."""
    return workspace.empty("nhwc." + name, shape, dtype)


def supports(geom):
    """Any geometry with at least one spatial dim and groups == 1."""
    return geom.n >= 1 and geom.groups == 1


def _wins_strided_input_gradient(op, geom, precise):
    if op == "backward_input" and any(s > 1 for s in geom.stride) and any(k > 1 for k in geom.kernel) and \
            geom.groups == 1 and registry.wide(geom) and _prod(geom.in_size) < DX_MAX_INPUT_POSITIONS and \
            registry.rows(geom) >= MIN_ROWS:
        return "the input gradient of a strided convolution on a small input: one matmul per chunk of images, " \
               "added back into a channels-last copy"


def _wins_small_output(op, geom, precise):
    if geom.groups == 1 and _prod(geom.out_size) <= MAX_POSITIONS and registry.rows(geom) >= MIN_ROWS:
        return f"a small output (at most {MAX_POSITIONS} positions per image): the channels-last column matrix of " \
               "a chunk of images, one matmul per chunk"


class _Plan:
    """The chunks of one call and its buffers: padded channels-last images, column matrix, matmul result."""

    def __init__(self, n_batch, channels, spatial, kernel, stride, padding, dilation, out_size, width, dtype):
        self.channels, self.spatial, self.kernel = channels, tuple(spatial), tuple(kernel)
        self.stride, self.padding, self.dilation, self.out_size = tuple(stride), tuple(padding), tuple(dilation), \
            tuple(out_size)
        self.pad_shape = tuple(s + b + a for s, (b, a) in zip(spatial, padding))
        self.positions = _prod(out_size)                          # L
        self.depth = _prod(kernel) * channels                     # prod(K) * C
        per_image = self.positions * self.depth * np.dtype(dtype).itemsize
        threads = parallel.num_threads()
        count = max(-(-n_batch * per_image // CHUNK_BYTES), 1)
        if n_batch >= threads:                                    # the same number of chunks for every thread
            count = -(-count // threads) * threads
        self.step = max(1, -(-n_batch // max(1, min(count, n_batch))))
        self.chunks = [(n0, min(self.step, n_batch - n0)) for n0 in range(0, n_batch, self.step)]
        # a 1x1 kernel without padding reads x itself (one transposing copy): no padded channels-last copy
        self.pointwise = all(k == 1 for k in kernel) and not any(b or a for b, a in padding)
        self.bufs = [dict(xl=_workspace(f"xl{i}", (0 if self.pointwise else self.step,) + self.pad_shape +
                                        (channels,), dtype),
                          cols=_workspace(f"cols{i}", (self.step * self.positions, self.depth), dtype),
                          y=_workspace(f"y{i}", (self.step * self.positions, width), dtype))
                     for i in range(min(threads, len(self.chunks)))]

    def interior(self, xl):
        """The view of xl (n, *S', C) that the unpadded images fill."""
        return xl[(slice(None),) + tuple(slice(b, b + s) for s, (b, _) in zip(self.spatial, self.padding))]

    def zero_border(self, xl):
        """Zero the padding of xl (n, *S', C): the slabs in front of and behind the interior, per spatial dim."""
        for i, (s, (b, a)) in enumerate(zip(self.spatial, self.padding)):
            lead = (slice(None),) * (i + 1)
            if b:
                xl[lead + (slice(0, b),)] = 0
            if a:
                xl[lead + (slice(b + s, None),)] = 0

    def windows(self, xl):
        """Every window of xl (n, *S', C) as a read-only view (n, *O, *K, C)."""
        sn, *ss, sc = xl.strides
        return np.lib.stride_tricks.as_strided(
            xl, shape=(xl.shape[0],) + self.out_size + self.kernel + (self.channels,),
            strides=(sn, *(s * st for s, st in zip(self.stride, ss)), *(d * st for d, st in zip(self.dilation, ss)),
                     sc), writeable=False)

    def offset_boxes(self):
        """Per kernel offset: (its index, the slices of xl's spatial dims its windows read)."""
        for i, off in enumerate(itertools.product(*(range(k) for k in self.kernel))):
            yield i, tuple(slice(k * d, k * d + (o - 1) * s + 1, s)
                           for k, d, o, s in zip(off, self.dilation, self.out_size, self.stride))

def _channels_last(a):
    """(n, C, *S) -> its (n, *S, C) view."""
    return np.moveaxis(a, 1, -1)


def _weight_rows(w):
    """w (O, C, *K) as Wl (O, prod(K)*C): kernel-offset-major, channel-minor, like the column matrix."""
    return _transposed_copy(np.moveaxis(w, 1, -1)).reshape(w.shape[0], -1)


def _transposed_copy(view):
    """A C-contiguous copy of a (transposed) view, its first axis split over the threads: a 512x512x3x3
    weight is 9.4 MB, which one core reorders in ~1 ms (~3 ms in a training step, read from memory)."""
    out = np.empty(view.shape, view.dtype)
    _copy(out, view, threads=min(parallel.num_threads(), view.size // 2**18))
    return out


def _copy(dst, src, threads=None):
    """dst[...] = src for arrays of the same shape, split along the first axis over the threads (by default
    all of them)."""
    parallel.run(lambda _, r: np.copyto(dst[r[0]:r[1]], src[r[0]:r[1]]), parallel.ranges(dst.shape[0], threads))


def _fill_columns(plan, buf, x, n0, n):
    """buf['cols'][:n*L] = the column matrix of images n0..n0+n of x (copies on parallel threads)."""
    cols = buf["cols"][:n * plan.positions].reshape((n,) + plan.out_size + plan.kernel + (plan.channels,))

    def work(slot, rng):
        a, b = rng
        src = _channels_last(x[n0 + a:n0 + b])                        # (n, *S, C), a view
        if plan.pointwise:                                             # the windows are x's (strided) positions
            np.copyto(cols[a:b], plan.windows(src))
            return
        xl = buf["xl"][a:b]
        plan.zero_border(xl)
        plan.interior(xl)[...] = src
        np.copyto(cols[a:b], plan.windows(xl))

    parallel.run(work, parallel.ranges(n))
    return buf["cols"][:n * plan.positions]


def forward(x, w, geom):
    """conv_forward: per chunk of images, the channels-last column matrix times the weight rows (one matmul)."""
    return _forward(x, lambda: _weight_rows(w), geom)


def _plan(geom, x, dtype):
    return _Plan(geom.batch, geom.in_channels, x.shape[2:], geom.kernel, geom.stride, geom.pads, geom.dilation,
                 geom.out_size, geom.out_channels, dtype)


def _forward(x, weight_rows, geom):
    """forward with the weight rows (O, prod(K)*C) made by weight_rows() (not called for an empty batch)."""
    n_batch, n_out, out_size = x.shape[0], geom.out_channels, geom.out_size
    out = np.empty((n_batch, n_out) + out_size, dtype=x.dtype)
    if n_batch == 0:
        return out
    plan = _plan(geom, x, x.dtype)
    wl = weight_rows()                                                 # (O, prod(K)*C)

    def work(slot, chunk):
        n0, n = chunk
        buf = plan.bufs[slot]
        cols = _fill_columns(plan, buf, x, n0, n)                      # (n*L, prod(K)*C)
        y = parallel.matmul(cols, wl.T, buf["y"][:n * plan.positions])  # (n*L, O)
        _copy(_channels_last(out[n0:n0 + n]), y.reshape((n,) + out_size + (n_out,)))

    parallel.run(work, plan.chunks)
    return out


def backward_weight(x, g, geom):
    """conv_backward_weight: dWl = sum over chunks of G^T @ cols, G the chunk's g channels-last (n*L, O)."""
    n_batch, n_out = x.shape[0], geom.out_channels
    if n_batch == 0:
        return np.zeros(geom.w_shape, dtype=x.dtype)
    plan = _plan(geom, x, x.dtype)
    # (O, prod(K)*C) per thread, set by its first gemm
    dwls = [_workspace(f"dwl{i}", (n_out, plan.depth), x.dtype) for i in range(len(plan.bufs))]
    started = [False] * len(dwls)

    def work(slot, chunk):
        n0, n = chunk
        buf = plan.bufs[slot]
        cols = _fill_columns(plan, buf, x, n0, n)
        gl = buf["y"][:n * plan.positions]
        _copy(gl.reshape((n,) + plan.out_size + (n_out,)), _channels_last(g[n0:n0 + n]))
        parallel.matmul(gl.T, cols, dwls[slot], beta=1.0 if started[slot] else 0.0)
        started[slot] = True

    parallel.run(work, plan.chunks)
    # the slots that ran (a nested call runs every chunk in slot 0), summed; then into a new array always (dwl is
    # a reused buffer), the (K, C) -> (C, K) transpose split over the threads (a 512x512x3x3 weight is 9.4 MB)
    dwl = parallel.add_up([d if done else None for d, done in zip(dwls, started)])
    return _transposed_copy(np.moveaxis(dwl.reshape((n_out,) + plan.kernel + (plan.channels,)), -1, 1))


def backward_input(g, w, geom):
    """conv_backward_input: at stride 1 the forward of g with the flipped kernel; else dcols = G @ Wl added back
    into the padded channels-last chunk one kernel offset at a time (image ranges on parallel threads)."""
    if all(s == 1 for s in geom.stride):
        adjoint, crops = input_gradient_geometry(geom)
        flip = (slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)
        return _forward(cropped(g, crops), lambda: _transposed_copy(np.moveaxis(w[flip], 0, -1)).reshape(
            w.shape[1], -1), adjoint)                                                   # (C, prod(K)*O)
    x_shape = geom.x_shape
    n_batch, n_out = x_shape[0], w.shape[0]
    dx = np.empty(x_shape, dtype=g.dtype)
    if n_batch == 0:
        return dx
    plan = _Plan(n_batch, x_shape[1], x_shape[2:], geom.kernel, geom.stride, geom.pads, geom.dilation, geom.out_size,
                 n_out, g.dtype)
    wl = _weight_rows(w)                                               # (O, prod(K)*C)
    boxes = list(plan.offset_boxes())

    def chunk_work(slot, chunk):
        n0, n = chunk
        buf = plan.bufs[slot]
        gl = buf["y"][:n * plan.positions]
        _copy(gl.reshape((n,) + plan.out_size + (n_out,)), _channels_last(g[n0:n0 + n]))
        dcols = parallel.matmul(gl, wl, buf["cols"][:n * plan.positions])  # (n*L, prod(K)*C)
        dcols = dcols.reshape((n,) + plan.out_size + (len(boxes), plan.channels))

        def work(_, rng):
            a, b = rng
            if plan.pointwise:                                         # dx is dcols at the strided positions
                dst = dx[n0 + a:n0 + b]
                if any(s > 1 or o != v for o, s, v in zip(plan.out_size, plan.stride, plan.spatial)):
                    dst[...] = 0
                _channels_last(dst)[(slice(None),) + boxes[0][1]] = dcols[a:b, ..., 0, :]
                return
            xl = buf["xl"][a:b]
            xl[...] = 0
            for i, box in boxes:
                xl[(slice(None),) + box] += dcols[a:b, ..., i, :]
            _channels_last(dx[n0 + a:n0 + b])[...] = plan.interior(xl)

        parallel.run(work, parallel.ranges(n))

    parallel.run(chunk_work, plan.chunks)
    return dx


ALGORITHMS = (registry.Algorithm("nhwc", supports, forward, backward_input, backward_weight,
                                 rules=((40, _wins_strided_input_gradient), (70, _wins_small_output)),
                                 exact_forward=True, exact_input_gradient=True),)
