"""A convolution's inference epilogue as one compiled loop (numba): kernels/epilogue.py's blocks where the compiled
kernels are loaded.

out[r] = out[r] * scale[c] + shift[c] + residual[r], then clamped to [low, high], for the rows r = n*C + c of the
(N*C, P) output in [lo, hi): one pass over each row instead of NumPy's one pass per step. The steps in the layers'
order, each rounded as NumPy rounds it (compiled without fastmath: no fused multiply-add, no reassociation), so the
result is bit for bit kernels/epilogue.py's NumPy one, but for a zero's sign under both clamps (np.clip keeps -0.0,
these loops give +0.0 as np.maximum does). A None scale, shift or residual is left out (numba compiles
each combination apart). NaN passes both clamps (a comparison with NaN is false), as np.maximum and np.minimum's.
"""
from .common import jit as _jit


@_jit(fastmath=False)
def affine(out, scale, shift, residual, low, high, lo, hi):
    """out (R, P) in place for the rows [lo, hi); scale, shift (C,) or None, residual (R, P) or None."""
    s = t = low                                 # typed here; a step whose operand is None is compiled out
    for r in range(lo, hi):
        row = out[r]
        if scale is not None:
            s = scale[r % scale.size]
        if shift is not None:
            t = shift[r % shift.size]
        for j in range(row.size):
            v = row[j]
            if scale is not None:
                v = v * s
            if shift is not None:
                v = v + t
            if residual is not None:
                v = v + residual[r, j]
            v = low if v <= low else v          # -0.0 at a clamp of 0 becomes +0.0, as np.maximum makes it
            row[j] = high if v >= high else v
