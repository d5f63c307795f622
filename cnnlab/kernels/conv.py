"""The algorithm behind every convolution: N-d GEMM lowering (im2col over kernel offsets + one matmul per group).

Pure array code, no autograd. Three functions cover convolution and its two adjoints, and so the transposed
convolution too (its forward is `conv_backward_input`, its backward `conv_forward` and `conv_backward_weight`):

    conv_forward(x, w, ...)            y[n, o, p]  = sum_{c, k} w[o, c, k] * xpad[n, g(o)*Cg + c, p*s + k*d]
    conv_backward_input(g, w, ...)     dx = adjoint of conv_forward in x (scatter of W^T g, "col2im")
    conv_backward_weight(x, g, ...)    dw[o, c, k] = sum_{n, p} g[n, o, p] * xpad[n, g(o)*Cg + c, p*s + k*d]

`padding` is a tuple of (before, after) zero-padding pairs, one per spatial dim. The output size is normally
floor((S + before + after - d*(k-1) - 1) / s) + 1; the backward functions take it from g's shape, and
conv_forward accepts a smaller `out_size` (the transposed conv's input gradient needs that when
output_padding >= stride). Inputs are float arrays of one dtype; the result keeps it (float32 stays float32).

Layout inside: the column matrix of a batch chunk is (C, *K, n, *grid), viewed as (G, Cg*prod(K), n*prod(grid)),
so each group is ONE matmul over the whole chunk (a batched matmul over groups when there are several); the grid
is the output positions, or at stride 1 the slightly larger "flat" grid of _Lowering. The batch is processed in
chunks so that the column matrix stays under COLUMN_BYTES.

>>> import numpy as np
>>> conv_forward(np.ones((1, 1, 4)), np.ones((1, 1, 3)), (1,), ((1, 1),), (1,), 1).tolist()
[[[2.0, 3.0, 3.0, 2.0]]]
"""
import itertools

import numpy as np

COLUMN_BYTES = 64 * 2**20  # bound on the column matrix of one batch chunk
FLAT_WASTE = 1.25          # the flat lowering may compute up to this many grid positions per output position


def _chunk_size(n_batch, per_sample_bytes):
    """How many samples fit in one column matrix of at most COLUMN_BYTES (at least 1)."""
    return int(max(1, min(n_batch, COLUMN_BYTES // max(per_sample_bytes, 1))))


def _pad(x, padding):
    """x (n, C, *S) with zeros added around its spatial dims; x itself when there is no padding."""
    if not any(b or a for b, a in padding):
        return x
    xp = np.zeros(x.shape[:2] + tuple(s + b + a for s, (b, a) in zip(x.shape[2:], padding)), dtype=x.dtype)
    xp[(slice(None), slice(None)) + tuple(slice(b, b + s) for s, (b, _) in zip(x.shape[2:], padding))] = x
    return xp


class _Lowering:
    """How one geometry is lowered to GEMM: which output positions the matmul computes (the grid) and how the
    column matrix (C, *K, n, *grid) is read from a padded chunk xp (n, C, *S).

    Strided: grid = out_size and cols[c, k, m, p] = xp[m, c, p*s + k*d], one strided copy of xp.
    Flat (every stride 1, 2-d and up, little waste): the grid is (O_0, *S[1:]), the padded input's own spatial
    layout, so each kernel offset reads ONE contiguous run of every (m, c) plane (long copies, long adds in
    col2im). Grid positions past out_size in the trailing dims wrap into the next row: the matmul computes them
    and from_grid drops them; to_grid gives them a zero gradient so they add nothing in the backward passes.
    """

    def __init__(self, channels, kernel, pad_shape, out_size, stride, dilation, itemsize):
        self.kernel, self.out_size, self.stride, self.dilation = tuple(kernel), tuple(out_size), stride, dilation
        flat_grid = (out_size[0],) + tuple(pad_shape[1:])
        self.flat = (len(kernel) > 1 and all(s == 1 for s in stride) and
                     np.prod(flat_grid) <= FLAT_WASTE * np.prod(out_size))
        self.grid = flat_grid if self.flat else self.out_size
        self.positions = int(np.prod(self.grid))
        self.per_sample = channels * int(np.prod(kernel)) * self.positions * itemsize
        # the flat grid's padded strides (in elements) and the length of the run each kernel offset reads
        self.plane = tuple(int(np.prod(pad_shape[i + 1:])) for i in range(len(pad_shape)))
        self.run = sum((o - 1) * st for o, st in zip(out_size, self.plane)) + 1
        self.starts = [sum(k * d * st for k, d, st in zip(k_off, dilation, self.plane))
                       for k_off in itertools.product(*(range(k) for k in kernel))]

    def im2col(self, xp):
        """The column matrix (C, *K, n, prod(grid)) of the padded chunk xp (n, C, *S)."""
        n, c = xp.shape[:2]
        if not self.flat:
            sn, sc, *ss = xp.strides
            view = np.lib.stride_tricks.as_strided(
                xp, shape=(c, *self.kernel, n, *self.out_size),
                strides=(sc, *(d * st for d, st in zip(self.dilation, ss)), sn,
                         *(s * st for s, st in zip(self.stride, ss))), writeable=False)
            return np.ascontiguousarray(view).reshape(view.shape[:-len(self.kernel)] + (-1,))
        xp = np.ascontiguousarray(xp)
        sn, sc, item = xp.strides[0], xp.strides[1], xp.itemsize
        view = np.lib.stride_tricks.as_strided(                     # (C, *K, n, run), in bounds by construction
            xp, shape=(c, *self.kernel, n, self.run),
            strides=(sc, *(d * st * item for d, st in zip(self.dilation, self.plane)), sn, item), writeable=False)
        cols = np.empty((c, *self.kernel, n, self.positions), dtype=xp.dtype)
        cols[..., :self.run] = view
        cols[..., self.run:] = 0  # wrap positions past the last row: never kept, but must be finite (0 * nan)
        return cols

    def col2im_add(self, cols, xp):
        """The adjoint of im2col: add cols (C, *K, n, prod(grid)) into the padded chunk xp (n, C, *S) in place.

        Windows of different kernel offsets overlap, so this loops over the prod(K) offsets (one add each).
        """
        c, n = cols.shape[0], cols.shape[-2]
        cols = cols.reshape(c, -1, n, self.positions)               # (C, prod(K), n, prod(grid))
        if self.flat:
            planes = xp.reshape(n, c, -1)                           # (n, C, prod(S)), a view: xp is fresh
            for i, start in enumerate(self.starts):
                planes[:, :, start:start + self.run] += cols[:, i, :, :self.run].swapaxes(0, 1)
            return
        for i, k_off in enumerate(itertools.product(*(range(k) for k in self.kernel))):
            window = tuple(slice(k * d, k * d + (o - 1) * s + 1, s)
                           for k, o, s, d in zip(k_off, self.out_size, self.stride, self.dilation))
            xp[(slice(None), slice(None)) + window] += \
                cols[:, i].reshape((c, n) + self.out_size).swapaxes(0, 1)  # (n, C, *O)

    def to_grid(self, g):
        """An output-gradient chunk (n, O, *out_size) as (O, n*prod(grid)), zero on positions outside out_size."""
        n, o = g.shape[:2]
        if not self.flat:
            return np.ascontiguousarray(g.swapaxes(0, 1)).reshape(o, -1)
        buf = np.zeros((o, n) + self.grid, dtype=g.dtype)
        buf[(slice(None), slice(None)) + tuple(slice(0, s) for s in self.out_size)] = g.swapaxes(0, 1)
        return buf.reshape(o, -1)

    def from_grid(self, y, n):
        """The matmul's result (O, n*prod(grid)) as a view (n, O, *out_size)."""
        y = y.reshape((-1, n) + self.grid)[(slice(None), slice(None)) + tuple(slice(0, s) for s in self.out_size)]
        return y.swapaxes(0, 1)


def _grouped_weight(w, groups):
    """w (O, Cg, *K) as (G, O/G, Cg*prod(K))."""
    return w.reshape(groups, w.shape[0] // groups, -1)


def _padded_shape(spatial, padding):
    return tuple(s + b + a for s, (b, a) in zip(spatial, padding))


def conv_forward(x, w, stride, padding, dilation, groups, out_size=None):
    """Cross-correlation of x (N, C, *S) with w (O, C/groups, *K): returns (N, O, *out_size).

    Args: stride, dilation: tuples of ints >= 1; padding: tuple of (before, after) pairs; groups: int.
    out_size (default: the largest that fits) may be smaller than that.
    """
    n_batch, n_out, kernel = x.shape[0], w.shape[0], w.shape[2:]
    pad_shape = _padded_shape(x.shape[2:], padding)
    if out_size is None:
        out_size = tuple((s - d * (k - 1) - 1) // st + 1 for s, k, st, d in zip(pad_shape, kernel, stride, dilation))
    low = _Lowering(x.shape[1], kernel, pad_shape, out_size, stride, dilation, x.itemsize)
    wg = _grouped_weight(w, groups)                                 # (G, Og, Cg*prod(K))
    out = np.empty((n_batch, n_out) + tuple(out_size), dtype=x.dtype)
    step = _chunk_size(n_batch, low.per_sample)
    for n0 in range(0, n_batch, step):
        n = min(step, n_batch - n0)
        cols = low.im2col(_pad(x[n0:n0 + n], padding))              # (C, *K, n, prod(grid))
        y = np.matmul(wg, cols.reshape(groups, wg.shape[2], -1))    # (G, Og, n*prod(grid))
        out[n0:n0 + n] = low.from_grid(y, n)                        # (n, O, *out_size)
    return out


def conv_backward_input(g, w, x_shape, stride, padding, dilation, groups):
    """d(sum(conv_forward(x) * g))/dx for an input of shape x_shape: returns (N, C, *S).

    conv_forward is y = W @ im2col(pad(x)) per group, so dx = crop(col2im(W^T @ g)): each output gradient is
    spread back over the input window it was computed from, weighted by the kernel.
    """
    n_batch, channels, kernel = x_shape[0], x_shape[1], w.shape[2:]
    pad_shape = _padded_shape(x_shape[2:], padding)
    low = _Lowering(channels, kernel, pad_shape, g.shape[2:], stride, dilation, g.itemsize)
    wt = _grouped_weight(w, groups).transpose(0, 2, 1)              # (G, Cg*prod(K), Og)
    crop = (slice(None), slice(None)) + tuple(slice(b, b + s) for s, (b, _) in zip(x_shape[2:], padding))
    dx = np.empty(x_shape, dtype=g.dtype)
    step = _chunk_size(n_batch, low.per_sample)
    for n0 in range(0, n_batch, step):
        n = min(step, n_batch - n0)
        gc = low.to_grid(g[n0:n0 + n]).reshape(groups, wt.shape[2], -1)  # (G, Og, n*prod(grid))
        # (G, Cg*prod(K), n*prod(grid)); with one output channel per group (depthwise) the product is an outer
        # product, which a broadcast multiply does ~3x faster than matmul's inner dimension of 1
        cols = wt * gc if wt.shape[2] == 1 else np.matmul(wt, gc)
        xp = np.zeros((n, channels) + pad_shape, dtype=g.dtype)
        low.col2im_add(cols.reshape(channels, -1, n, low.positions), xp)
        dx[n0:n0 + n] = xp[crop]
    return dx


def conv_backward_weight(x, g, w_shape, stride, padding, dilation, groups):
    """d(sum(conv_forward(x) * g))/dw: returns w_shape (O, C/groups, *K).

    y = W @ cols per group and chunk, so dW = sum over chunks of g @ cols^T (one matmul per group and chunk,
    the batch and the output positions together forming the contracted dimension).
    """
    n_batch, kernel = x.shape[0], tuple(w_shape[2:])
    low = _Lowering(x.shape[1], kernel, _padded_shape(x.shape[2:], padding), g.shape[2:], stride, dilation,
                    x.itemsize)
    dw = np.zeros((groups, w_shape[0] // groups, int(np.prod(w_shape[1:]))), dtype=x.dtype)  # (G, Og, Cg*prod(K))
    step = _chunk_size(n_batch, low.per_sample)
    for n0 in range(0, n_batch, step):
        n = min(step, n_batch - n0)
        cols = low.im2col(_pad(x[n0:n0 + n], padding)).reshape(groups, dw.shape[2], -1)  # (G, Cg*prod(K), n*P)
        gc = low.to_grid(g[n0:n0 + n]).reshape(groups, dw.shape[1], -1)  # (G, Og, n*prod(grid))
        dw += np.matmul(gc, cols.transpose(0, 2, 1))                # (G, Og, Cg*prod(K))
    return dw.reshape(w_shape)
