"""Layer norm over the channels of pixel columns as compiled loops (numba): ConvNeXt's fused block
(nn/functional/fused_block.py) where numba is installed.

For the columns a..b of image n of y (N, C, P), out[:, o:o + b - a] = (y - mean) / sqrt(biased var + eps) * weight
+ bias, mean and variance over the C channels of each column: three passes over the rows of C values (sum; centre
and sum of squares; scale), each vectorised along the row, instead of NumPy's seven. Compiled as jit/common.py says.
"""
import numpy as np

from .common import jit as _jit


@_jit
def layer_norm_columns(y, n, a, b, out, o, weight, bias, eps, mean, scale):
    """out[:, o:o + b - a] = the layer norm of y[n, :, a:b] over its C rows; mean and scale: scratch of >= b - a."""
    c_, w = y.shape[1], b - a
    m, s = mean[:w], scale[:w]
    for j in range(w):
        m[j] = 0
        s[j] = 0
    for c in range(c_):
        row = y[n, c, a:b]
        for j in range(w):
            m[j] += row[j]
    for j in range(w):
        m[j] = m[j] / c_
    for c in range(c_):
        row, dst = y[n, c, a:b], out[c, o:o + w]
        for j in range(w):
            d = row[j] - m[j]
            dst[j] = d
            s[j] += d * d
    for j in range(w):
        s[j] = 1 / np.sqrt(s[j] / c_ + eps)
    for c in range(c_):
        dst, wc, bc = out[c, o:o + w], weight[c], bias[c]
        for j in range(w):
            dst[j] = dst[j] * s[j] * wc + bc
