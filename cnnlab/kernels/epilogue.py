"""A convolution's inference epilogue, out = relu(out * scale + shift + residual) (or ReLU6's clamp to [0, max_val]),
as one pass over cache blocks.

Layer by layer, an eval-mode batch norm, the residual add and the ReLU after a convolution are each a pass over
the whole output in memory (and the add allocates a new map). Here each block of channel planes, small enough
for a core's cache, goes through every step while it is there, and the blocks run on the kernel threads
(kernels/parallel.py). Per channel: multiply, add the shift, add the residual, clamp at 0 (and at max_val), in
that order (the order of the layers). float32 or float64; NaN passes the clamps, as relu's and hardtanh's. Where
the compiled kernels are already loaded (kernels/compiled.py: a network with depthwise convolutions), a block is one
compiled pass (kernels/jit/epilogue.py) with the same result bit for bit (a zero's sign aside under both clamps).

>>> import numpy as np
>>> out = np.arange(-4.0, 4.0).reshape(1, 2, 2, 2)
>>> affine(out, scale=np.array([1.0, 2.0]), shift=np.array([0.5, 0.0]), relu=True)[0].tolist()
[[[0.0, 0.0], [0.0, 0.0]], [[0.0, 2.0], [4.0, 6.0]]]
"""
import numpy as np

from . import compiled, parallel

_JIT_DTYPES = (np.float32, np.float64)
BLOCK_BYTES = 1 << 20       # bytes of output per block: its operands stay in a core's L2 cache (2^17-2^21 measured)
THREADED_BYTES = 1 << 20    # outputs from this size are split over the threads (below, the hand-offs cost more),
                            # when they hold at least an image per thread (with fewer, the convolution ran on BLAS's
                            # own threads, which spin for a while after it: kernels/parallel.py)


def clamp_bounds(relu, max_val):
    """(low, high) of the clamp after the affine map: [0, max_val] for ReLU6, [0, inf] for ReLU, [-inf, inf] for none
    (the compiled loops' form of relu and max_val).

    >>> clamp_bounds(True, 6.0), clamp_bounds(False, None)
    ((0.0, 6.0), (-inf, inf))
    """
    return (0.0 if relu else -np.inf, np.inf if max_val is None else max_val)


def affine(out, scale=None, shift=None, residual=None, relu=False, max_val=None):
    """out = out * scale[c] + shift[c] + residual, then max(., 0) when relu and min(., max_val) when max_val is
    given, in place; returns the result.

    Args:
        out (ndarray): (N, C, *S), float32 or float64; overwritten (a non-contiguous one is copied first).
        scale, shift (ndarray or None): (C,) per-channel factor and offset of out's dtype (None: 1 and 0).
        residual (ndarray or None): out's shape and dtype, added after the shift.
        relu (bool, default False): clamp the result at 0.
        max_val (float, default None): clamp the result at max_val too (ReLU6: relu=True, max_val=6.0).
    """
    out = np.ascontiguousarray(out)
    N, C = out.shape[:2]
    P = out.size // max(1, N * C)
    o = out.reshape(N, C, P)                                                       # (N, C, P)
    r = None if residual is None else np.ascontiguousarray(residual).reshape(N, C, P)
    s = None if scale is None else scale.reshape(C, 1)
    t = None if shift is None else shift.reshape(C, 1)
    zero, top = out.dtype.type(0), None if max_val is None else out.dtype.type(max_val)
    rows = max(1, BLOCK_BYTES // max(1, P * out.itemsize))                        # channel planes per block

    jit = compiled.loaded("epilogue") if out.dtype in _JIT_DTYPES else None
    if jit is not None:
        o2, r2 = o.reshape(N * C, P), None if r is None else r.reshape(N * C, P)   # (N*C, P)
        low, high = (out.dtype.type(v) for v in clamp_bounds(relu, max_val))

    def block(_, item):
        n, c0, c1 = item
        if jit is not None:
            jit.affine(o2, scale, shift, r2, low, high, n * C + c0, n * C + c1)
            return
        b = o[n, c0:c1]                                                            # (c1 - c0, P)
        if s is not None:
            np.multiply(b, s[c0:c1], out=b)
        if t is not None:
            np.add(b, t[c0:c1], out=b)
        if r is not None:
            np.add(b, r[n, c0:c1], out=b)
        if relu and top is not None:
            np.clip(b, zero, top, out=b)     # one vector pass (max then min are two); keeps -0.0, NaN
        elif relu:
            np.maximum(b, zero, out=b)
        elif top is not None:
            np.minimum(b, top, out=b)

    items = [(n, c0, min(C, c0 + rows)) for n in range(N) for c0 in range(0, C, rows)]
    threaded = out.nbytes >= THREADED_BYTES and N >= parallel.num_threads()
    with np.errstate(all="ignore"):                          # inf and NaN come out silently, as PyTorch's
        parallel.run(block, items, threads=None if threaded else 1)
    return out
