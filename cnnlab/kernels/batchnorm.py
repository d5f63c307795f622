"""Batch-norm kernels: per-channel statistics, the affine output and the closed-form backward, in few passes.

Arrays are (N, C, L): batch, channels, and the flattened spatial dims (L = 1 for (N, C) inputs), C-contiguous.
einsum does the per-channel reductions without temporaries: 'ij->i' sums each (n, c) row and 'ij,ij->i' gives
each row's dot product of two arrays (one read of each, no product array). Both run single-threaded at memory
speed; NumPy's sum over axes (0, 2) is slower, and a BLAS matrix-vector product with a ones vector, fast on an
idle machine, slows down 30x when another process holds a core (its threads wait for each other). The row
results, (N, C), are summed over the batch in float64.

Elementwise work runs over blocks of whole samples of about BLOCK_BYTES, so that the second and later ops on
a block find it in cache: a pass over a 8 MB activation then costs one trip through memory, not three.

The statistics take one pass: sums of x - k and (x - k)^2 with k the first sample's per-channel mean, close to
the batch mean, so the shifted formula E[(x - k)^2] - E[x - k]^2 keeps the variance of data far from zero
(E[x^2] - E[x]^2 would lose it); a second pass for the mean first measured 6-10% slower.
"""
import numpy as np

from . import parallel
from .nonfinite import quiet

BLOCK_BYTES = 1 << 18
PLANE_MAX_L = 4096          # positions per channel from which a (C, 1) column broadcasts better than a plane
THREADED_BYTES = 8 << 20    # arrays from this size run blocks of THREADED_BLOCK_BYTES on the kernel threads:
THREADED_BLOCK_BYTES = 2 << 20  # smaller arrays gain nothing: the blocks' hand-offs cost as much as they save
AFFINE_THREADED_BYTES = 3 << 20  # the one-pass affine map pays on the threads from smaller arrays
FOLD_MAX_RATIO = 16.0       # |mean| / std up to which normalize() and train_backward() fold the mean into the
                            # shift: x * a then rounds within 16 float32 ulps of the result's scale (~1e-6 relative)


def _blocks(x3, block_bytes):
    """Slices over the batch dim, each about block_bytes of x3 (at least one sample)."""
    N = x3.shape[0]
    per = max(1, x3[:1].nbytes)
    step = max(1, block_bytes // per)
    return [slice(b, min(N, b + step)) for b in range(0, N, step)]


def _each(x3, fn, scratch=False, threaded_bytes=None):
    """fn(block slice, scratch array of the block's shape or None) for every block of x3; the blocks of an array
    of at least threaded_bytes (default THREADED_BYTES) are spread over the kernel threads (kernels/parallel.py),
    one scratch per thread."""
    least = THREADED_BYTES if threaded_bytes is None else threaded_bytes
    threads = parallel.num_threads() if x3.nbytes >= least else 1
    blocks = _blocks(x3, THREADED_BLOCK_BYTES if threads > 1 else BLOCK_BYTES)
    if not blocks:
        return
    shape = (blocks[0].stop - blocks[0].start,) + x3.shape[1:]
    bufs = [np.empty(shape, x3.dtype) if scratch else None for _ in range(min(threads, len(blocks)))]
    parallel.run(lambda slot, s: fn(s, None if bufs[slot] is None else bufs[slot][:s.stop - s.start]), blocks,
                 threads=threads)


def _rows(a3, b3=None):
    """Per-channel sums over n and L of a3 (or of a3 * b3, without the product array): (C,) in float64."""
    N, C, L = a3.shape
    if a3.size == 0:
        return np.zeros(C)
    rows = np.empty((N, C), a3.dtype)

    def block(s, _):
        a2 = a3[s].reshape(-1, L)
        r = np.einsum("ij->i", a2) if b3 is None else np.einsum("ij,ij->i", a2, b3[s].reshape(-1, L))
        rows[s] = r.reshape(-1, C)

    _each(a3, block)
    return rows.sum(axis=0, dtype=np.float64)


@quiet
def row_sums(a3):
    """sum over n and L of a3 per channel: (C,) in float64."""
    return _rows(a3)


@quiet
def row_dots(a3, b3):
    """sum over n and L of a3 * b3 per channel, without the product array: (C,) in float64."""
    return _rows(a3, b3)


def _plane(v, x3):
    """A per-channel vector spread over one sample, (C, L) in x3's dtype: it broadcasts against a (n, C, L)
    block along n only, which NumPy streams at full speed (a (C, 1) column, broadcast along L as well, runs
    its inner loop once per row and is ~1.7x slower). From PLANE_MAX_L positions the column is used: its
    rows are long, and a plane as large as a sample would double the memory read (benchmarks/NOTES.md)."""
    C, L = x3.shape[1:]
    col = np.asarray(v, dtype=np.float64).astype(x3.dtype).reshape(C, 1)
    return col if L == 1 or L >= PLANE_MAX_L else np.ascontiguousarray(np.broadcast_to(col, (C, L)))


@quiet
def train_forward(x3, weight, bias, eps):
    """Normalise with the batch statistics and apply the affine map: out = (x - mean) * (invstd * weight) + bias.

    Args: x3 (N, C, L); weight, bias: (C,) arrays or None.
    Returns: (out, mean, biased var, invstd), the statistics (C,) in float64.
    """
    N, C, L = x3.shape
    M = N * L
    # one pass over x: the sums of x - k and of (x - k)^2, k the first sample's mean per channel (near the
    # batch mean, so little cancels in var = E[(x - k)^2] - E[x - k]^2 even for data far from zero)
    k = row_sums(x3[:1]) / L
    k_p = _plane(k, x3)
    s1, s2 = np.empty((N, C), x3.dtype), np.empty((N, C), x3.dtype)

    def sums(s, tmp):  # x - k only ever held in cache
        cb2 = np.subtract(x3[s], k_p, out=tmp).reshape(-1, L)
        s1[s] = np.einsum("ij->i", cb2).reshape(-1, C)
        s2[s] = np.einsum("ij,ij->i", cb2, cb2).reshape(-1, C)

    _each(x3, sums, scratch=True)
    d = s1.sum(axis=0, dtype=np.float64) / M                    # mean - k
    mean = k + d
    var = np.maximum(s2.sum(axis=0, dtype=np.float64) / M - d * d, 0.0)
    invstd = 1.0 / np.sqrt(var + eps)
    return normalize(x3, mean, invstd, weight, bias), mean, var, invstd


def folds(center, invstd):
    """Whether every |center| * invstd is at most FOLD_MAX_RATIO: the per-channel affine maps of normalize() and
    train_backward() may then take x itself, with the center folded into their shift (one pass fewer).

    >>> folds(np.array([0.5, -2.0]), np.array([1.0, 1.0])), folds(np.array([1000.0]), np.array([1.0]))
    (True, False)
    """
    return bool(np.all(np.abs(center) * invstd <= FOLD_MAX_RATIO))


@quiet
def normalize(x3, center, invstd, weight, bias):
    """(x - center) * invstd * weight + bias per channel, into a new array. center, invstd: (C,) float64;
    weight, bias: (C,) arrays or None. Where every |center| * invstd is at most FOLD_MAX_RATIO (data near zero
    for its spread, as a network's activations are) it is folded into x * a + b, one pass fewer, which is
    PyTorch's own CPU form; else x - center comes first, which keeps the precision of data far from zero."""
    scale = invstd if weight is None else invstd * weight.astype(np.float64)
    if folds(center, invstd):
        shift = -center * scale if bias is None else bias.astype(np.float64) - center * scale
        return affine(x3, scale, shift)
    return affine(x3, scale, bias, center=center)


@quiet
def affine(x3, scale, shift, center=None):
    """(x - center) * scale + shift per channel, into a new array. scale: (C,); shift, center: (C,) or None.
    Subtracting the center first keeps the precision of data far from zero (x * scale - center * scale
    would cancel); without a center it is one multiply-add pass (normalize() chooses)."""
    out = np.empty_like(x3)
    scale_p = _plane(scale, x3)
    shift_p = None if shift is None else _plane(shift, x3)
    center_p = None if center is None else _plane(center, x3)

    def block(s, _):
        if center_p is None:
            ob = np.multiply(x3[s], scale_p, out=out[s])
        else:
            ob = np.subtract(x3[s], center_p, out=out[s])
            ob *= scale_p
        if shift_p is not None:
            ob += shift_p

    _each(x3, block, threaded_bytes=AFFINE_THREADED_BYTES)
    return out


@quiet
def train_backward(g3, x3, mean, invstd, weight, need_input, need_weight, need_bias, out=None):
    """Gradients of out = (x - mean) * invstd * weight + bias with batch statistics.

    With xhat = (x - mean) * invstd and M = N * L values per channel:
    dbias = sum(g), dweight = sum(g * xhat) = invstd * sum(g * (x - mean)), and
    dx = weight * invstd * (g - mean(g) - xhat * mean(g * xhat))
       = k * g + B * (x - mean) + D, with k = weight * invstd, B = -k * invstd * mean(g * xhat), D = -k * mean(g).
    out: where to write dx (may be g3 itself: each block of g3 is read before its dx is written), else new.
    Returns: (dx or None, dweight or None, dbias or None); the parameter gradients in float64, (C,).
    """
    N, C, L = g3.shape
    M = N * L
    # as in normalize(): data near zero for its spread takes sum(g * x) - mean * sum(g) and B * x + (D - B * mean),
    # no x - mean pass (a few float32 ulps more of the terms' scale); data far from zero keeps x - mean first
    fold = folds(mean, invstd)
    mean_p = None if fold else _plane(mean, x3)
    rows_g, rows_gx = np.empty((N, C), g3.dtype), np.empty((N, C), g3.dtype)

    def sums(s, tmp):  # each row's sum of g and of g * (x - mean) (or g * x), one read of g and x
        gb2 = g3[s].reshape(-1, L)
        cb2 = (x3[s] if fold else np.subtract(x3[s], mean_p, out=tmp)).reshape(-1, L)
        rows_g[s] = np.einsum("ij->i", gb2).reshape(-1, C)
        rows_gx[s] = np.einsum("ij,ij->i", gb2, cb2).reshape(-1, C)

    _each(g3, sums, scratch=not fold)
    sum_g = rows_g.sum(axis=0, dtype=np.float64)
    sum_gx = rows_gx.sum(axis=0, dtype=np.float64)
    # an inf in g: the folded inf * x - mean * inf is NaN where PyTorch's sum(g * (x - mean)) is inf
    if fold and not (np.isfinite(sum_g).all() and np.isfinite(sum_gx).all()):
        fold, mean_p = False, _plane(mean, x3)
        _each(g3, sums, scratch=True)
        sum_gx = rows_gx.sum(axis=0, dtype=np.float64)
    sum_gxhat = (sum_gx - mean * sum_g if fold else sum_gx) * invstd
    dx = None
    if need_input:
        k = invstd if weight is None else invstd * weight.astype(np.float64)
        k_p = _plane(k, g3)
        b = -k * invstd * sum_gxhat / M
        b_p = _plane(b, g3)
        d_p = _plane(-k * sum_g / M - (b * mean if fold else 0.0), g3)
        dx = np.empty_like(g3) if out is None else out

        def input_grad(s, tmp):
            if fold:
                cb = np.multiply(x3[s], b_p, out=tmp)
            else:
                cb = np.subtract(x3[s], mean_p, out=tmp)
                cb *= b_p
            db = np.multiply(g3[s], k_p, out=dx[s])
            db += cb
            db += d_p

        _each(g3, input_grad, scratch=True)
    return dx, (sum_gxhat if need_weight else None), (sum_g if need_bias else None)
