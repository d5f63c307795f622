"""ReLU and its gradient over large arrays, in pieces on the kernel threads (kernels/parallel.py).

One core runs a pass over a large activation at about half the speed of two; below the thresholds the pieces'
hand-offs cost more than they save, so small arrays run in the calling thread (benchmarks/NOTES.md).

>>> import numpy as np
>>> relu(np.array([-1.0, 0.0, 2.0])).tolist()
[0.0, 0.0, 2.0]
>>> relu_grad(np.array([5.0, 6.0, 7.0]), np.array([0.0, 0.0, 2.0])).tolist()
[0.0, 0.0, 7.0]
"""
import numpy as np

from . import parallel

THREADED_BYTES = 8 << 20       # arrays from this size are split over the threads (relu) ...
GRAD_THREADED_BYTES = 3 << 20  # ... and its gradient from this size


def _pieces(fn, size):
    """fn(start, stop) over contiguous flat ranges covering [0, size), one per thread."""
    k = parallel.num_threads()
    parallel.run(lambda _, r: fn(*r), parallel.ranges(size, k), threads=k)


def relu(x, out=None):
    """max(x, 0) elementwise into out (a new array when None; out may be x itself). NaN stays NaN."""
    out = np.empty_like(x) if out is None else out
    if x.nbytes < THREADED_BYTES or not (x.flags.c_contiguous and out.flags.c_contiguous):
        return np.maximum(x, x.dtype.type(0), out=out)
    xf, of, zero = x.reshape(-1), out.reshape(-1), x.dtype.type(0)
    _pieces(lambda a, b: np.maximum(xf[a:b], zero, out=of[a:b]), x.size)
    return out


def relu_grad(g, out, into=None):
    """The gradient of relu: g where the output `out` is not 0 (a NaN output passes g, as PyTorch's
    `out <= 0 ? 0 : g`), else 0; written into `into` (may be g itself), a new array when None."""
    if g.shape != out.shape:                          # a broadcast gradient: a new array of the result's shape
        return np.multiply(g, out != 0)
    into = np.empty_like(g) if into is None else into
    if g.nbytes < GRAD_THREADED_BYTES or not (g.flags.c_contiguous and out.flags.c_contiguous and
                                               into.flags.c_contiguous):
        return np.multiply(g, out != 0, out=into)
    gf, of, df = g.reshape(-1), out.reshape(-1), into.reshape(-1)

    # a multiply by the mask (np.copyto(..., where=out == 0) measured 8x slower on half-zero outputs)
    _pieces(lambda a, b: np.multiply(gf[a:b], of[a:b] != 0, out=df[a:b]), g.size)
    return into
