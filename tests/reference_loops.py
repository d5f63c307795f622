"""Plain-loop reference implementations, used only by the tests: slow, obvious, and independent of
cnnlab/kernels (no im2col, no matmul). Each follows the textbook definition one output value at a time."""
import itertools

import numpy as np


def zero_pad(x, pads):
    """x (N, C, *S) with explicit zeros: pads is one (before, after) pair per spatial dim."""
    return np.pad(x, ((0, 0), (0, 0)) + tuple(tuple(p) for p in pads))


def conv_loop(x, w, b=None, stride=1, dilation=1, groups=1):
    """N-d cross-correlation of an already padded x (N, C, *S) with w (O, C/groups, *K), one value at a time:

        out[n, o, p] = b[o] + sum_{c, k} w[o, c, k] * x[n, g*Cg + c, p*stride + k*dilation],  g = o // (O/groups)
    """
    n_sp = x.ndim - 2
    stride = (stride,) * n_sp if np.isscalar(stride) else tuple(stride)
    dilation = (dilation,) * n_sp if np.isscalar(dilation) else tuple(dilation)
    kernel = w.shape[2:]
    out_size = tuple((s - d * (k - 1) - 1) // st + 1 for s, k, st, d in zip(x.shape[2:], kernel, stride, dilation))
    cg, og = w.shape[1], w.shape[0] // groups
    out = np.zeros((x.shape[0], w.shape[0]) + out_size, dtype=x.dtype)
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            g = o // og
            for pos in itertools.product(*(range(s) for s in out_size)):
                total = 0.0
                for c in range(cg):
                    for k in itertools.product(*(range(kk) for kk in kernel)):
                        idx = tuple(p * st + kk * d for p, st, kk, d in zip(pos, stride, k, dilation))
                        total += w[(o, c) + k] * x[(n, g * cg + c) + idx]
                out[(n, o) + pos] = total + (b[o] if b is not None else 0.0)
    return out


def conv_transpose_loop(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    """N-d transposed convolution by scattering: every input value x[n, c, p] adds x * w[c, j, k] to the
    output at p*stride + k*dilation - padding_before (channel g*Og + j), which is the adjoint of conv_loop.

    padding: an int, a tuple of ints, or a tuple of (before, after) pairs.
    """
    n_sp = x.ndim - 2
    tup = lambda v: (v,) * n_sp if np.isscalar(v) else tuple(v)  # noqa: E731
    stride, dilation, output_padding = tup(stride), tup(dilation), tup(output_padding)
    pads = tuple((p, p) if np.isscalar(p) else tuple(p) for p in tup(padding))
    kernel = w.shape[2:]
    cg_in, og = w.shape[0] // groups, w.shape[1]
    full = tuple((i - 1) * s + d * (k - 1) + 1 + op
                 for i, s, d, k, op in zip(x.shape[2:], stride, dilation, kernel, output_padding))
    out = np.zeros((x.shape[0], og * groups) + full, dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            g = c // cg_in
            for pos in itertools.product(*(range(s) for s in x.shape[2:])):
                for k in itertools.product(*(range(kk) for kk in kernel)):
                    idx = tuple(p * st + kk * d for p, st, kk, d in zip(pos, stride, k, dilation))
                    for j in range(og):
                        out[(n, g * og + j) + idx] += x[(n, c) + pos] * w[(c, j) + k]
    crop = tuple(slice(b_, f - a) for (b_, a), f in zip(pads, full))
    out = out[(slice(None), slice(None)) + crop]
    if b is not None:
        out = out + b.reshape((-1,) + (1,) * n_sp)
    return out
