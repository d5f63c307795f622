"""A 1x1 convolution without padding as what it is: one matmul per image, no copy in and none out ('matmul').

With W = w as (O, C) and X_n = image n as (C, H*W) (a view of x itself at stride 1), per group

    forward           Y_n (O, P)  = W @ X_n                          written straight into the output
    backward_input    dX_n (C, P) = W^T @ G_n                        into dx itself at stride 1; else into the
                                                                     strided samples of a zero dx
    backward_weight   dW (O, C)   = sum_n G_n @ X_n^T                one gemm per image added in place (beta = 1)

A strided kernel reads every s-th sample: X_n is then one strided-slice copy of those samples (the output size may
also be smaller than the largest, as a transposed convolution's input gradient asks). A batch runs its images on
the kernel threads, each matmul single-threaded; one image is one matmul (parallel.matmul): on BLAS's own threads,
or split over the kernel threads where the caller holds BLAS at one thread (parallel.own_threads).

>>> from cnnlab.kernels.geometry import ConvGeometry
>>> x, w = np.arange(8.0).reshape(1, 2, 2, 2), np.array([[[[1.0]], [[10.0]]]])
>>> forward(x, w, ConvGeometry.of(x.shape, w.shape, (1, 1), ((0, 0), (0, 0)), (1, 1), 1))[0, 0].tolist()
[[40.0, 51.0], [62.0, 73.0]]
"""
import numpy as np

from . import parallel, registry, workspace
from .common import tap_window

MIN_POSITIONS = 128   # output positions per image from which one matmul per image beats 'nhwc''s chunks of images


def supports(geom):
    """A kernel of size 1 in every spatial dim, no padding."""
    return geom.n >= 1 and all(k == 1 for k in geom.kernel) and not any(b or a for b, a in geom.pads)


def _sampled(a, geom):
    """The samples of a (N, C, *S) that a 1x1 kernel reads: (N, C, *out_size), a view (its one tap's window)."""
    return tap_window(a, (0,) * geom.n, geom.out_size, geom.stride, geom.dilation)


def _dense(geom):
    """Whether the kernel reads every sample of the input (stride 1, the largest output)."""
    return geom.out_size == geom.in_size


def _flat(a):
    """a (N, C, *S) as (N, C, prod(S)): a view where a's spatial dims are contiguous, else one copy."""
    return a.reshape(a.shape[:2] + (-1,))


def _split(geom):
    """(groups, output channels per group, input channels per group)."""
    return geom.groups, geom.out_channels // geom.groups, geom.in_channels // geom.groups


def _items(geom, length):
    """(image, slice of range(length)) per block: whole images, unless the images do not share out evenly over the
    threads (batch 3 on 2 threads; batch 1 is one item, a matmul on BLAS's threads): then each image in pieces."""
    threads, batch = parallel.num_threads(), geom.batch
    pieces = threads if 1 < batch < 4 * threads and batch % threads else 1
    return [(n, slice(a, b)) for n in range(batch) for a, b in parallel.ranges(length, pieces)]


def forward(x, w, geom):
    """conv_forward of a 1x1 kernel: per image and group, W @ X_n written into the output. A strided kernel's
    samples are copied per image on the thread that multiplies them (a copy of the whole batch first would run on
    one core), except for one image split over the threads (one copy, then the split matmul)."""
    groups, og, cg = _split(geom)
    positions, items = geom.positions, _items(geom, geom.positions)
    sampled = _sampled(x, geom)                                      # (N, C, *out_size), a view
    per_image = not _dense(geom) and len(items) > 1 and all(cols.stop - cols.start == positions for _, cols in items)
    xs = None if per_image else _flat(sampled)                       # (N, C, P)
    wg = w.reshape(groups, og, cg)                                   # (G, Og, Cg)
    out = np.empty((geom.batch, geom.out_channels, positions), dtype=x.dtype)    # (N, O, P)

    def work(slot, item):
        n, cols = item
        if per_image:
            image = workspace.empty("conv1x1.x", (geom.in_channels, positions), x.dtype)        # (C, P)
            image.reshape((geom.in_channels,) + geom.out_size)[...] = sampled[n]
        else:
            image = xs[n]
        for k in range(groups):
            parallel.matmul(wg[k], image[k * cg:(k + 1) * cg, cols], out[n, k * og:(k + 1) * og, cols])

    parallel.run(work, items)
    return out.reshape(geom.y_shape)


def backward_input(g, w, geom):
    """conv_backward_input of a 1x1 kernel: per image and group, W^T @ G_n, written into dx (stride 1) or into
    its sampled positions (zero elsewhere)."""
    groups, og, cg = _split(geom)
    gs = _flat(g)                                                    # (N, O, P)
    wt = w.reshape(groups, og, cg).transpose(0, 2, 1)                # (G, Cg, Og), a transposed view
    dense = _dense(geom)
    dx = np.empty(geom.x_shape, dtype=g.dtype) if dense else np.zeros(geom.x_shape, dtype=g.dtype)
    target = _flat(dx) if dense else None                            # (N, C, P)
    sampled = None if dense else _sampled(dx, geom)                  # where a strided 1x1 writes dx

    def work(slot, item):                                           # item: image n, channels `rows` of each group
        n, rows = item
        size = rows.stop - rows.start
        tmp = None if dense else workspace.empty("conv1x1.dx", (size, gs.shape[2]), g.dtype)
        for k in range(groups):
            channels = slice(k * cg + rows.start, k * cg + rows.stop)
            dst = target[n, channels] if dense else tmp
            parallel.matmul(wt[k, rows], gs[n, k * og:(k + 1) * og], dst)
            if not dense:
                sampled[n, channels] = tmp.reshape((size,) + geom.out_size)

    parallel.run(work, _items(geom, cg))
    return dx


def backward_weight(x, g, geom):
    """conv_backward_weight of a 1x1 kernel: dW = sum over images of G_n @ X_n^T, one gemm each added in place
    (a partial sum per thread)."""
    groups, og, cg = _split(geom)
    xs, gs = _flat(_sampled(x, geom)), _flat(g)                      # (N, C, P), (N, O, P)
    parts = [None] * parallel.num_threads()

    def work(slot, item):
        n, cols = item
        if parts[slot] is None:
            parts[slot] = np.zeros((groups, og, cg), dtype=x.dtype)
        for k in range(groups):
            parallel.matmul(gs[n, k * og:(k + 1) * og, cols], xs[n, k * cg:(k + 1) * cg, cols].T, parts[slot][k],
                            beta=1.0)

    parallel.run(work, _items(geom, xs.shape[2]))
    dw = parallel.add_up(parts)
    return (np.zeros(geom.w_shape, dtype=x.dtype) if dw is None else dw).reshape(geom.w_shape)


def _claims(op, geom):
    """An unpadded 1x1 this algorithm takes: stride 1; a strided forward (each image's samples copied on its own
    thread); a strided gradient only on fewer images than threads (from one image per thread, 'stack' and 'nhwc'
    read the strided samples faster: 2 threads, ResNet-50 b8 and CIFAR downsamples 1.05-1.5x)."""
    return supports(geom) and (all(s == 1 for s in geom.stride) or op == "forward" or
                               geom.batch < parallel.num_threads())


def _wins_large_map(op, geom, precise):
    if _claims(op, geom) and geom.positions >= MIN_POSITIONS:
        return f"a 1x1 kernel without padding on at least {MIN_POSITIONS} output positions per image: one matmul " \
               "per image, on the data in place (strided: a copy of its samples)"


def _wins_few_rows(op, geom, precise):
    if _claims(op, geom):
        return "a 1x1 kernel without padding (a small map, but too few rows for 'nhwc'): one matmul per image"


ALGORITHMS = (registry.Algorithm("matmul", supports, forward, backward_input, backward_weight,
                                 rules=((69, _wins_large_map), (79, _wins_few_rows)), exact_forward=True,
                                 exact_input_gradient=True),)
